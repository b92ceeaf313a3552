// sd-daemon-runtime's native addon: the few syscalls Node.js does not expose.
//
// Rules: every function performs syscalls and reports the outcome; none decides
// anything. OS failures come back as a negative errno (never a JS exception);
// the TypeScript layer (runtime/src/native.ts) turns them into Errors with
// errno/code/syscall. Only wrong argument types throw, because those are bugs
// in our own TypeScript, not conditions a caller can meet.

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

// The kernel's limit on fds in one SCM_RIGHTS message (SCM_MAX_FD).
constexpr size_t kMaxFds = 253;

Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

// Calls a blocking syscall again while something interrupts it (a signal;
// under Node 22+, also an interruption with no signal delivered at all, seen
// right after spawnSync). For calls without a deadline only; close() is
// never restarted (Linux frees the fd anyway).
template <typename Call>
auto Restarting(Call call) -> decltype(call()) {
  decltype(call()) r;
  do {
    r = call();
  } while (r < 0 && errno == EINTR);
  return r;
}

// fstat as a raw syscall: glibc 2.33 made fstat an exported fstat64@GLIBC_2.33,
// which glibc 2.28 systems (RHEL 8, Debian 10) lack. The kernel's struct stat
// is glibc's on x86-64 and arm64 (older glibc passed it straight through).
int FstatRaw(int fd, struct stat* st) { return static_cast<int>(syscall(SYS_fstat, fd, st)); }

int64_t MonotonicMicros() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

// Copies the exact sun_path bytes chosen by TypeScript (a path with its
// trailing NUL, or an abstract name starting with NUL and no terminator) and
// returns the address length to pass to the kernel, or 0 when it cannot fit.
socklen_t FillUnixAddress(const Napi::Buffer<char>& path, sockaddr_un* sa) {
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  if (path.Length() == 0 || path.Length() > sizeof(sa->sun_path)) return 0;
  memcpy(sa->sun_path, path.Data(), path.Length());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.Length());
}

bool ReadFds(const Napi::Value& value, std::vector<int>* fds) {
  if (value.IsNull() || value.IsUndefined()) return true;
  if (!value.IsArray()) return false;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) return false;
    fds->push_back(item.As<Napi::Number>().Int32Value());
  }
  return true;
}

// The unbound SOCK_DGRAM socket notifications leave through, kept open
// between calls: creating and closing a socket costs more than the send
// itself (libsystemd pays it on every call). Every message still carries its
// destination address, so a manager that re-creates its socket at the same
// path receives the next message. One per JS environment (main thread and
// each worker), closed with it; CLOEXEC, so children never inherit it.
struct NotifySocket {
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
  // The SO_SNDTIMEO set on fd, in microseconds (0: a send may wait forever).
  int64_t send_timeout_us = 0;
  ~NotifySocket() {
    if (fd >= 0) close(fd);
  }
};

// The environment's notify socket, or -errno. A cached fd is used only while
// it is still the socket we opened: if other code closed it (and the number
// now belongs to something else), it is forgotten, never closed or written.
int AcquireNotifySocket(Napi::Env env) {
  NotifySocket* cached = env.GetInstanceData<NotifySocket>();
  if (cached == nullptr) {
    cached = new NotifySocket();
    env.SetInstanceData(cached);
  }
  struct stat st;
  if (cached->fd >= 0) {
    if (FstatRaw(cached->fd, &st) == 0 && st.st_dev == cached->dev && st.st_ino == cached->ino) return cached->fd;
    cached->fd = -1;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (FstatRaw(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  cached->fd = fd;
  cached->dev = st.st_dev;
  cached->ino = st.st_ino;
  cached->send_timeout_us = 0;
  return fd;
}

// How long a send on the notify socket may wait for room in the receiver's
// queue (SO_SNDTIMEO, set only when it changes); past it sendmsg fails EAGAIN.
int SetNotifySendTimeout(Napi::Env env, int fd, int64_t us) {
  NotifySocket* cached = env.GetInstanceData<NotifySocket>();
  if (cached->send_timeout_us == us) return 0;
  timeval timeout = {static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0) return -errno;
  cached->send_timeout_us = us;
  return 0;
}

// sendmsg on the notify socket within one total deadline (0: none). A send
// waiting under SO_SNDTIMEO fails EINTR on any interruption, even with
// SA_RESTART, so it is retried with SO_SNDTIMEO set to what is left; past the
// deadline the result is EAGAIN, as if nothing had interrupted it.
ssize_t SendWithin(Napi::Env env, int fd, const msghdr* mh, int64_t timeout_us) {
  const int64_t deadline = timeout_us > 0 ? MonotonicMicros() + timeout_us : 0;
  int64_t left = timeout_us > 0 ? timeout_us : 0;
  for (;;) {
    int err = SetNotifySendTimeout(env, fd, left);
    if (err < 0) {
      errno = -err;
      return -1;
    }
    ssize_t n = sendmsg(fd, mh, MSG_NOSIGNAL);
    if (n >= 0 || errno != EINTR) return n;
    if (deadline == 0) continue;
    left = deadline - MonotonicMicros();
    if (left <= 0) {
      errno = EAGAIN;
      return -1;
    }
  }
}

// sendmsg(sunPath: Buffer, data: Buffer, fds: number[] | null,
//         ucred: [pid, uid, gid] | null, sendTimeoutMs?: number): bytes sent | -errno
// Sent through the environment's notify socket (see NotifySocket); a full
// receiver queue is waited on for sendTimeoutMs (absent or 0: without limit).
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> fds;
  if (info.Length() < 4 || !info[0].IsBuffer() || !info[1].IsBuffer() || !ReadFds(info[2], &fds) ||
      !(info[3].IsNull() || info[3].IsUndefined() || info[3].IsArray()) ||
      !(info.Length() < 5 || info[4].IsUndefined() || info[4].IsNumber())) {
    Napi::TypeError::New(env, "sendmsg(sunPath: Buffer, data: Buffer, fds, ucred, sendTimeoutMs?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (fds.size() > kMaxFds) return Errno(env, EINVAL);

  sockaddr_un sa;
  socklen_t salen = FillUnixAddress(info[0].As<Napi::Buffer<char>>(), &sa);
  if (salen == 0) return Errno(env, EINVAL);

  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  iovec iov = {data.Data(), data.Length()};
  msghdr mh = {};
  mh.msg_name = &sa;
  mh.msg_namelen = salen;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;

  bool send_ucred = info[3].IsArray();
  size_t control_len = (send_ucred ? CMSG_SPACE(sizeof(ucred)) : 0) +
                       (fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size()));
  std::vector<char> control(control_len, 0);
  if (control_len > 0) {
    mh.msg_control = control.data();
    mh.msg_controllen = control_len;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&mh);
    if (send_ucred) {
      Napi::Array c = info[3].As<Napi::Array>();
      ucred uc;
      uc.pid = c.Get(0u).As<Napi::Number>().Int32Value();
      uc.uid = c.Get(1u).As<Napi::Number>().Uint32Value();
      uc.gid = c.Get(2u).As<Napi::Number>().Uint32Value();
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_CREDENTIALS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(ucred));
      memcpy(CMSG_DATA(cmsg), &uc, sizeof(uc));
      cmsg = CMSG_NXTHDR(&mh, cmsg);
    }
    if (!fds.empty()) {
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
  }

  int fd = AcquireNotifySocket(env);
  if (fd < 0) return Errno(env, -fd);
  int64_t timeout_ms = info.Length() >= 5 && info[4].IsNumber() ? info[4].As<Napi::Number>().Int64Value() : 0;
  ssize_t n = SendWithin(env, fd, &mh, timeout_ms < 0 ? 0 : timeout_ms * 1000);
  if (n < 0) return Errno(env, errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// bindDgram(sunPath: Buffer): fd | -errno
// A non-blocking AF_UNIX datagram socket bound to sunPath that receives the
// sender's credentials with every message (the fake service manager's end).
Napi::Value BindDgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "bindDgram(sunPath: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sockaddr_un sa;
  socklen_t salen = FillUnixAddress(info[0].As<Napi::Buffer<char>>(), &sa);
  if (salen == 0) return Errno(env, EINVAL);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Errno(env, errno);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&sa), salen) < 0) {
    int err = errno;
    close(fd);
    return Errno(env, err);
  }
  return Napi::Number::New(env, fd);
}

// recvmsg(fd, maxBytes): { data, pid, uid, gid, fds, truncated } | -errno
// Non-blocking; -EAGAIN when nothing is queued. Received fds are CLOEXEC.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "recvmsg(fd: number, maxBytes: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  size_t max = info[1].As<Napi::Number>().Uint32Value();
  std::vector<char> buffer(max > 0 ? max : 1);
  std::vector<char> control(CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds));
  iovec iov = {buffer.data(), buffer.size()};
  msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.data();
  mh.msg_controllen = control.size();
  ssize_t n = Restarting([&] { return recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC); });
  if (n < 0) return Errno(env, errno);

  Napi::Object out = Napi::Object::New(env);
  size_t kept = static_cast<size_t>(n) < buffer.size() ? static_cast<size_t>(n) : buffer.size();
  out.Set("data", Napi::Buffer<char>::Copy(env, buffer.data(), kept));
  out.Set("truncated", Napi::Boolean::New(env, (mh.msg_flags & MSG_TRUNC) != 0));
  out.Set("controlTruncated", Napi::Boolean::New(env, (mh.msg_flags & MSG_CTRUNC) != 0));
  Napi::Array fds = Napi::Array::New(env);
  out.Set("pid", env.Null());
  out.Set("uid", env.Null());
  out.Set("gid", env.Null());
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
      ucred uc;
      memcpy(&uc, CMSG_DATA(c), sizeof(uc));
      out.Set("pid", Napi::Number::New(env, uc.pid));
      out.Set("uid", Napi::Number::New(env, uc.uid));
      out.Set("gid", Napi::Number::New(env, uc.gid));
    } else if (c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int received;
        memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.Set(fds.Length(), Napi::Number::New(env, received));
      }
    }
  }
  out.Set("fds", fds);
  return out;
}

// socketInfo(fd): { type, domain, protocol, listening, family, address, port, path } | -errno
// -ENOTSOCK for anything that is not a socket.
Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "socketInfo(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int type = 0, domain = 0, protocol = 0, listening = 0;
  socklen_t len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return Errno(env, errno);
  len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) return Errno(env, errno);
  len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) < 0) protocol = 0;
  len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) listening = 0;

  Napi::Object out = Napi::Object::New(env);
  out.Set("type", Napi::Number::New(env, type));
  out.Set("domain", Napi::Number::New(env, domain));
  out.Set("protocol", Napi::Number::New(env, protocol));
  out.Set("listening", Napi::Boolean::New(env, listening != 0));

  sockaddr_storage ss;
  socklen_t sslen = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sslen) < 0) return out;
  out.Set("family", Napi::Number::New(env, ss.ss_family));
  char text[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    sockaddr_in* in = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    out.Set("address", Napi::String::New(env, text));
    out.Set("port", Napi::Number::New(env, ntohs(in->sin_port)));
  } else if (ss.ss_family == AF_INET6) {
    sockaddr_in6* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    out.Set("address", Napi::String::New(env, text));
    out.Set("port", Napi::Number::New(env, ntohs(in6->sin6_port)));
  } else if (ss.ss_family == AF_UNIX) {
    // Raw sun_path bytes; TypeScript decides how to render abstract names.
    sockaddr_un* un = reinterpret_cast<sockaddr_un*>(&ss);
    size_t n = sslen > offsetof(sockaddr_un, sun_path) ? sslen - offsetof(sockaddr_un, sun_path) : 0;
    out.Set("path", Napi::Buffer<char>::Copy(env, un->sun_path, n));
  }
  return out;
}

// fsType(fd): statfs f_type of the filesystem behind fd (e.g. mqueue, pidfs) | -errno
Napi::Value FsType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "fsType(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct statfs st;
  if (fstatfs(info[0].As<Napi::Number>().Int32Value(), &st) < 0) return Errno(env, errno);
  return Napi::Number::New(env, static_cast<double>(static_cast<unsigned long>(st.f_type)));
}

// setCloexec(fd, on): 0 | -errno
Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) {
    Napi::TypeError::New(env, "setCloexec(fd: number, on: boolean)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return Errno(env, errno);
  int wanted = info[1].As<Napi::Boolean>().Value() ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (wanted != flags && fcntl(fd, F_SETFD, wanted) < 0) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// getCloexec(fd): 1 | 0 | -errno
Napi::Value GetCloexec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "getCloexec(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int flags = fcntl(info[0].As<Napi::Number>().Int32Value(), F_GETFD);
  if (flags < 0) return Errno(env, errno);
  return Napi::Number::New(env, (flags & FD_CLOEXEC) ? 1 : 0);
}

// flock(fd, operation): 0 | -errno   (operation: LOCK_SH/LOCK_EX/LOCK_UN | LOCK_NB)
Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "flock(fd: number, operation: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value(), operation = info[1].As<Napi::Number>().Int32Value();
  int r = Restarting([&] { return flock(fd, operation); });
  if (r < 0) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// pipe(): [readFd, writeFd] | -errno   (both CLOEXEC)
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return Errno(env, errno);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// pidfdOpen(pid): fd | -errno   (-ENOSYS on kernels before 5.3)
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "pidfdOpen(pid: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#ifdef SYS_pidfd_open
  long fd = syscall(SYS_pidfd_open, info[0].As<Napi::Number>().Int32Value(), 0);
  if (fd < 0) return Errno(env, errno);
  return Napi::Number::New(env, static_cast<double>(fd));
#else
  return Errno(env, ENOSYS);
#endif
}

// dup2(oldFd, newFd): newFd | -errno
// Puts another open file at a fixed fd number, which Node cannot do: a
// daemonized process hands its fds 1 and 2 over to /dev/null once it is
// ready. The new fd is inherited across exec, as dup2 leaves it.
Napi::Value Dup2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "dup2(oldFd: number, newFd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int old_fd = info[0].As<Napi::Number>().Int32Value(), new_fd = info[1].As<Napi::Number>().Int32Value();
  int r = Restarting([&] { return dup2(old_fd, new_fd); });
  if (r < 0) return Errno(env, errno);
  return Napi::Number::New(env, r);
}

// What spawnDaemon's forked processes do, prepared before fork: the parent has
// threads, so between fork and exec only syscalls are allowed (no malloc, no
// locks), and every byte they touch must already exist.
struct DaemonPlan {
  const char* file;
  char* const* argv;
  char* const* envp;
  const int* fds;  // fds[i] becomes fd i in the daemon; -1 leaves fd i closed
  int* work;       // scratch, one slot per fd
  int count;
  int report;      // write end of the pipe the parent reads [kind, value] pairs from
};

enum : int { kReportPid = 1, kReportError = 2 };

[[noreturn]] void ReportAndExit(int report, int kind, int value, int status) {
  int message[2] = {kind, value};
  ssize_t ignored = Restarting([&] { return write(report, message, sizeof(message)); });
  (void)ignored;
  _exit(status);
}

// The daemon, between vfork and execve. It shares the suspended
// intermediate's memory, so it writes only to plan.work and never returns.
[[noreturn]] void ExecDaemon(const DaemonPlan& plan) {
  // Move every source sitting inside the target range (and not already in
  // place) above it first, so no dup2 below clobbers a source still needed.
  for (int i = 0; i < plan.count; i++) {
    int source = plan.fds[i];
    if (source >= 0 && source < plan.count && source != i) {
      source = fcntl(source, F_DUPFD_CLOEXEC, plan.count);
      if (source < 0) ReportAndExit(plan.report, kReportError, errno, 127);
    }
    plan.work[i] = source;
  }
  for (int i = 0; i < plan.count; i++) {
    int source = plan.work[i];
    if (source < 0) {
      close(i);
    } else if (source == i) {
      // Already in place: only switch inheritance on.
      int flags = fcntl(i, F_GETFD);
      if (flags < 0 || fcntl(i, F_SETFD, flags & ~FD_CLOEXEC) < 0) ReportAndExit(plan.report, kReportError, errno, 127);
    } else if (dup2(source, i) < 0) {
      ReportAndExit(plan.report, kReportError, errno, 127);
    }
  }
  // The parent blocked every signal around fork; the daemon starts with none
  // blocked (dispositions were reset to default in the intermediate).
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(plan.file, plan.argv, plan.envp);
  ReportAndExit(plan.report, kReportError, errno, 127);
}

// The intermediate: a forked copy of this Node process that only makes
// syscalls. It starts a new session, forks the daemon (which is therefore in
// that session but not its leader, so it can never acquire a controlling
// terminal), reports the daemon's PID once it has exec'd, and exits.
[[noreturn]] void RunIntermediate(DaemonPlan plan) {
  // Node's signal handlers were copied too: put every disposition back to
  // default while signals are still blocked, so none of them can run here.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, nullptr);  // EINVAL for KILL, STOP and libc's own: fine
  if (setsid() < 0) ReportAndExit(plan.report, kReportError, errno, 1);
  if (plan.report < plan.count) {
    // The daemon's dup2s must not land on the report pipe.
    int moved = fcntl(plan.report, F_DUPFD_CLOEXEC, plan.count);
    if (moved < 0) ReportAndExit(plan.report, kReportError, errno, 1);
    plan.report = moved;
  }
  // vfork: no atfork handlers run, and it returns only once the daemon has
  // exec'd (or failed to), so the PID reported below is of a running program.
  pid_t pid = vfork();
  if (pid == 0) ExecDaemon(plan);
  if (pid < 0) ReportAndExit(plan.report, kReportError, errno, 1);
  ReportAndExit(plan.report, kReportPid, pid, 0);
}

// spawnDaemon(file: string, argv: string[], envp: string[], fds: number[]): pid | -errno
// The double fork of daemon(7), which child_process cannot do (its detached
// child calls setsid and is a session leader): fork, setsid, fork again, exec.
// fds[i] becomes fd i of the daemon (-1: closed); every other fd follows its
// CLOEXEC flag. Signal dispositions and the mask start at their defaults.
// Returns the daemon's PID once it has exec'd; the intermediate is reaped
// here, so the daemon's parent is the nearest subreaper or init. The first
// fork is libc's fork(), as libuv's own spawn uses, so atfork handlers run in
// the intermediate (libuv re-creates its signal pipe there, CLOEXEC).
// Why not child_process with a tiny intermediate program: /bin/sh cannot set
// argv[0], and a second Node start-up would cost tens of milliseconds.
Napi::Value SpawnDaemon(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsArray()) {
    Napi::TypeError::New(env, "spawnDaemon(file: string, argv: string[], envp: string[], fds: number[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> strings[2];
  std::vector<char*> pointers[2];
  for (int k = 0; k < 2; k++) {
    Napi::Array array = info[1 + k].As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) {
      Napi::Value item = array.Get(i);
      if (!item.IsString()) {
        Napi::TypeError::New(env, "spawnDaemon: argv and envp hold strings").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      strings[k].push_back(item.As<Napi::String>().Utf8Value());
    }
    for (std::string& s : strings[k]) pointers[k].push_back(&s[0]);
    pointers[k].push_back(nullptr);
  }
  std::vector<int> fds;
  if (!ReadFds(info[3], &fds)) {
    Napi::TypeError::New(env, "spawnDaemon: fds holds numbers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<int> work(fds.size() + 1);

  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return Errno(env, errno);
  DaemonPlan plan = {file.c_str(), pointers[0].data(), pointers[1].data(), fds.data(), work.data(),
                     static_cast<int>(fds.size()), report[1]};

  // sigprocmask, not pthread_sigmask (pthread_sigmask@GLIBC_2.32 is missing
  // from older glibc): on Linux it sets the calling thread's mask only, which
  // is exactly what is wanted around fork.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t child = fork();
  if (child == 0) RunIntermediate(plan);
  int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  close(report[1]);
  if (child < 0) {
    close(report[0]);
    return Errno(env, fork_errno);
  }

  // EOF comes when the intermediate has exited and the daemon has exec'd
  // (its copy is CLOEXEC): at most two [kind, value] pairs arrive.
  int messages[4] = {0, 0, 0, 0};
  size_t got = 0;
  while (got < sizeof(messages)) {
    ssize_t n = Restarting([&] { return read(report[0], reinterpret_cast<char*>(messages) + got, sizeof(messages) - got); });
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(report[0]);
  int status;
  Restarting([&] { return waitpid(child, &status, 0); });

  pid_t daemon = 0;
  int error = 0;
  for (size_t i = 0; i + 1 < got / sizeof(int); i += 2) {
    if (messages[i] == kReportPid) daemon = messages[i + 1];
    else if (messages[i] == kReportError && error == 0) error = messages[i + 1];
  }
  if (error != 0) return Errno(env, error);
  if (daemon <= 0) return Errno(env, ECHILD);  // the intermediate died without a word
  return Napi::Number::New(env, daemon);
}

// A readability watch on an fd in the libuv loop, for sockets Node cannot wrap
// (AF_UNIX datagram). new FdWatcher(fd, callback(status)); watcher.close().
class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "FdWatcher", {InstanceMethod("close", &FdWatcher::Close)});
  }

  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new FdWatcher(fd: number, callback: Function)").ThrowAsJavaScriptException();
      return;
    }
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    handle_ = new uv_poll_t;
    handle_->data = this;
    int r = uv_poll_init(loop, handle_, info[0].As<Napi::Number>().Int32Value());
    if (r == 0) r = uv_poll_start(handle_, UV_READABLE, &FdWatcher::OnEvent);
    if (r != 0) {
      delete handle_;
      handle_ = nullptr;
      Napi::Error error = Napi::Error::New(env, uv_strerror(r));
      error.Set("errno", Napi::Number::New(env, r));
      error.ThrowAsJavaScriptException();
      return;
    }
    // Keep the JS object alive while the loop can call back into it.
    Ref();
  }

  ~FdWatcher() override { Stop(); }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int /*events*/) {
    FdWatcher* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->callback_.Env();
    Napi::HandleScope scope(env);
    self->callback_.MakeCallback(env.Global(), {Napi::Number::New(env, status)});
  }

  void Stop() {
    if (handle_ == nullptr) return;
    handle_->data = nullptr;
    uv_poll_stop(handle_);
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) {
      Stop();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::FunctionReference callback_;
  uv_poll_t* handle_ = nullptr;
};

// ---- Journal: large records travel as a sealed memfd (Node has no memfd_create
// or F_ADD_SEALS). The record's bytes are written from TypeScript with
// fs.writeSync and the fd is sent with the existing sendmsg (SCM_RIGHTS).

// memfdCreate(name: string): fd | -errno
// A CLOEXEC memfd that accepts seals. A raw syscall, so the prebuild needs no
// glibc symbol newer than 2.28 (and musl builds need no wrapper either).
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "memfdCreate(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#ifdef SYS_memfd_create
  std::string name = info[0].As<Napi::String>().Utf8Value();
  // MFD_CLOEXEC | MFD_ALLOW_SEALING, spelled out: older headers lack the names.
  long fd = syscall(SYS_memfd_create, name.c_str(), 0x0001U | 0x0002U);
  if (fd < 0) return Errno(env, errno);
  return Napi::Number::New(env, static_cast<double>(fd));
#else
  return Errno(env, ENOSYS);
#endif
}

// addSeals(fd: number, seals: number): 0 | -errno   (fcntl F_ADD_SEALS)
Napi::Value AddSeals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "addSeals(fd: number, seals: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // F_ADD_SEALS is F_LINUX_SPECIFIC_BASE (1024) + 9 on every architecture.
  if (fcntl(info[0].As<Napi::Number>().Int32Value(), 1024 + 9, info[1].As<Napi::Number>().Int32Value()) < 0) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sendmsg", Napi::Function::New(env, SendMsg));
  exports.Set("bindDgram", Napi::Function::New(env, BindDgram));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsg));
  exports.Set("socketInfo", Napi::Function::New(env, SocketInfo));
  exports.Set("fsType", Napi::Function::New(env, FsType));
  exports.Set("setCloexec", Napi::Function::New(env, SetCloexec));
  exports.Set("getCloexec", Napi::Function::New(env, GetCloexec));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("dup2", Napi::Function::New(env, Dup2));
  exports.Set("spawnDaemon", Napi::Function::New(env, SpawnDaemon));
  exports.Set("FdWatcher", FdWatcher::Init(env));
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate));
  exports.Set("addSeals", Napi::Function::New(env, AddSeals));

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("LOCK_SH", Napi::Number::New(env, LOCK_SH));
  constants.Set("LOCK_EX", Napi::Number::New(env, LOCK_EX));
  constants.Set("LOCK_UN", Napi::Number::New(env, LOCK_UN));
  constants.Set("LOCK_NB", Napi::Number::New(env, LOCK_NB));
  constants.Set("SUN_PATH_MAX", Napi::Number::New(env, sizeof(sockaddr_un::sun_path)));
  // F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE (linux/fcntl.h).
  constants.Set("F_SEAL_SEAL", Napi::Number::New(env, 0x0001));
  constants.Set("F_SEAL_SHRINK", Napi::Number::New(env, 0x0002));
  constants.Set("F_SEAL_GROW", Napi::Number::New(env, 0x0004));
  constants.Set("F_SEAL_WRITE", Napi::Number::New(env, 0x0008));
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_daemon_native, Init)
