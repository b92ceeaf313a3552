// sd-daemon-runtime's native addon: the few syscalls Node.js does not expose.
//
// Rules: every function performs syscalls and reports the outcome; none decides anything (what to keep, retry or refuse
// is TypeScript's, in runtime/src/). OS failures come back as a negative errno, never a JS exception; native.ts turns
// them into Errors with errno/code/syscall. Only wrong argument types throw, because those are bugs in our own
// TypeScript, not conditions a caller can meet.

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

#include <initializer_list>
#include <string>
#include <vector>

namespace {

// The kernel's limit on fds in one SCM_RIGHTS message (SCM_MAX_FD).
constexpr size_t kMaxFds = 253;

// What an argument must be. kFds: numbers, or null/undefined for none; kStrings: an array of strings; kOptionalArray: an
// array or null/undefined.
enum class Arg { kNumber, kBoolean, kString, kBuffer, kFunction, kFds, kStrings, kOptionalArray };

bool Is(const Napi::Value& v, Arg kind) {
  const bool none = v.IsNull() || v.IsUndefined();
  auto every = [&v](bool (Napi::Value::*test)() const) {
    if (!v.IsArray()) return false;
    Napi::Array array = v.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) {
      if (!(array.Get(i).*test)()) return false;
    }
    return true;
  };
  switch (kind) {
    case Arg::kNumber: return v.IsNumber();
    case Arg::kBoolean: return v.IsBoolean();
    case Arg::kString: return v.IsString();
    case Arg::kBuffer: return v.IsBuffer();
    case Arg::kFunction: return v.IsFunction();
    case Arg::kFds: return none || every(&Napi::Value::IsNumber);
    case Arg::kStrings: return every(&Napi::Value::IsString);
    case Arg::kOptionalArray: return none || v.IsArray();
  }
  return false;
}

// The one argument check: false, with a TypeError naming `signature` pending, when info does not match kinds:
//   if (!Args(info, "flock(fd: number, operation: number)", {Arg::kNumber, Arg::kNumber})) return {};
bool Args(const Napi::CallbackInfo& info, const char* signature, std::initializer_list<Arg> kinds) {
  size_t i = 0;
  for (Arg kind : kinds) {
    if (!Is(info[i++], kind)) {  // info[i] past Length() is undefined
      Napi::TypeError::New(info.Env(), signature).ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

// A syscall's result for JS: r, or -errno when r < 0.
Napi::Value Result(Napi::Env env, long r) { return Napi::Number::New(env, r < 0 ? -errno : static_cast<double>(r)); }

// Calls a blocking syscall again while something interrupts it (a signal; under Node 22+, also an interruption with no
// signal delivered at all, seen right after spawnSync). For calls without a deadline only; close() is never restarted
// (Linux frees the fd anyway).
template <typename Call>
auto Restarting(Call call) -> decltype(call()) {
  decltype(call()) r;
  do r = call();
  while (r < 0 && errno == EINTR);
  return r;
}

int64_t MonotonicMicros() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

// Copies the exact sun_path bytes chosen by TypeScript (a path with its trailing NUL, or an abstract name starting with
// NUL and no terminator); returns the address length for the kernel, or 0 when it cannot fit.
socklen_t FillUnixAddress(const Napi::Value& value, sockaddr_un* sa) {
  Napi::Buffer<char> path = value.As<Napi::Buffer<char>>();
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  if (path.Length() == 0 || path.Length() > sizeof(sa->sun_path)) return 0;
  memcpy(sa->sun_path, path.Data(), path.Length());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.Length());
}

// The ints of an argument checked by Arg::kFds (none for null).
std::vector<int> Fds(const Napi::Value& value) {
  std::vector<int> fds;
  if (!value.IsArray()) return fds;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) fds.push_back(array.Get(i).As<Napi::Number>().Int32Value());
  return fds;
}

cmsghdr* PutControl(msghdr* mh, cmsghdr* cmsg, int type, const void* data, size_t size) {
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = type;
  cmsg->cmsg_len = CMSG_LEN(size);
  memcpy(CMSG_DATA(cmsg), data, size);
  return CMSG_NXTHDR(mh, cmsg);
}

int SetSendTimeout(int fd, int64_t us) {
  timeval timeout = {static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

// dgramSocket(): fd | -errno. An unbound AF_UNIX datagram socket (CLOEXEC) to send notifications through;
// runtime/src/notify-socket.ts decides how long it is kept.
Napi::Value DgramSocket(const Napi::CallbackInfo& info) { return Result(info.Env(), socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }

// setSendTimeout(fd, ms): 0 | -errno. SO_SNDTIMEO: how long a send may wait for room in the receiver's queue
// (0: forever); past it sendmsg fails EAGAIN.
Napi::Value SetSendTimeoutJs(const Napi::CallbackInfo& info) {
  if (!Args(info, "setSendTimeout(fd: number, ms: number)", {Arg::kNumber, Arg::kNumber})) return {};
  return Result(info.Env(), SetSendTimeout(Int(info, 0), std::max<int64_t>(info[1].As<Napi::Number>().Int64Value(), 0) * 1000));
}

// sendmsg on fd, whose SO_SNDTIMEO is timeout_us, within that total deadline (0: none). A send waiting under SO_SNDTIMEO
// fails EINTR on any interruption, even with SA_RESTART, so it is retried with SO_SNDTIMEO set to what is left (put back
// afterwards); past the deadline the result is EAGAIN, as if nothing had interrupted it.
ssize_t SendWithin(int fd, const msghdr* mh, int64_t timeout_us) {
  ssize_t n = sendmsg(fd, mh, MSG_NOSIGNAL);
  if (n >= 0 || errno != EINTR) return n;
  if (timeout_us == 0) return Restarting([&] { return sendmsg(fd, mh, MSG_NOSIGNAL); });
  const int64_t deadline = MonotonicMicros() + timeout_us;
  int err = EAGAIN;
  for (int64_t left; n < 0 && err == EAGAIN && (left = deadline - MonotonicMicros()) > 0;) {
    n = SetSendTimeout(fd, left) == 0 ? sendmsg(fd, mh, MSG_NOSIGNAL) : -1;
    err = n < 0 && errno != EINTR ? errno : EAGAIN;
  }
  SetSendTimeout(fd, timeout_us);
  errno = err;
  return n;
}

// sendmsg(fd, sunPath: Buffer, data: Buffer, fds: number[] | null, ucred: [pid, uid, gid] | null,
//         timeoutMs: number): bytes sent | -errno. One datagram to sunPath through fd (see SendWithin).
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, "sendmsg(fd: number, sunPath: Buffer, data: Buffer, fds, ucred, timeoutMs: number)",
            {Arg::kNumber, Arg::kBuffer, Arg::kBuffer, Arg::kFds, Arg::kOptionalArray, Arg::kNumber})) {
    return {};
  }
  std::vector<int> fds = Fds(info[3]);
  sockaddr_un sa;
  socklen_t salen = FillUnixAddress(info[1], &sa);
  if (fds.size() > kMaxFds || salen == 0) return Errno(env, EINVAL);
  Napi::Buffer<char> data = info[2].As<Napi::Buffer<char>>();
  iovec iov = {data.Data(), data.Length()};
  msghdr mh = {};
  mh.msg_name = &sa;
  mh.msg_namelen = salen;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  const bool send_ucred = info[4].IsArray();
  std::vector<char> control((send_ucred ? CMSG_SPACE(sizeof(ucred)) : 0) + (fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size())));
  if (!control.empty()) {
    mh.msg_control = control.data();
    mh.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&mh);
    if (send_ucred) {
      Napi::Array c = info[4].As<Napi::Array>();
      ucred uc = {c.Get(0u).As<Napi::Number>().Int32Value(), c.Get(1u).As<Napi::Number>().Uint32Value(), c.Get(2u).As<Napi::Number>().Uint32Value()};
      cmsg = PutControl(&mh, cmsg, SCM_CREDENTIALS, &uc, sizeof(uc));
    }
    if (!fds.empty()) PutControl(&mh, cmsg, SCM_RIGHTS, fds.data(), sizeof(int) * fds.size());
  }
  return Result(env, SendWithin(Int(info, 0), &mh, std::max<int64_t>(info[5].As<Napi::Number>().Int64Value(), 0) * 1000));
}

// bindDgram(sunPath: Buffer): fd | -errno. A non-blocking AF_UNIX datagram socket bound to sunPath that receives
// the sender's credentials with every message (the fake service manager's end).
Napi::Value BindDgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, "bindDgram(sunPath: Buffer)", {Arg::kBuffer})) return {};
  sockaddr_un sa;
  socklen_t salen = FillUnixAddress(info[0], &sa);
  if (salen == 0) return Errno(env, EINVAL);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
  if (fd < 0) return Errno(env, errno);
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), salen) < 0) {
    int err = errno;
    close(fd);
    return Errno(env, err);
  }
  return Napi::Number::New(env, fd);
}

// recvmsg(fd, maxBytes): { data, pid, uid, gid, fds, truncated, controlTruncated } | -errno
// Non-blocking; -EAGAIN when nothing is queued. Received fds are CLOEXEC.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, "recvmsg(fd: number, maxBytes: number)", {Arg::kNumber, Arg::kNumber})) return {};
  int fd = Int(info, 0);
  std::vector<char> buffer(std::max<size_t>(info[1].As<Napi::Number>().Uint32Value(), 1));
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
  out.Set("data", Napi::Buffer<char>::Copy(env, buffer.data(), std::min<size_t>(n, buffer.size())));
  out.Set("truncated", Napi::Boolean::New(env, (mh.msg_flags & MSG_TRUNC) != 0));
  out.Set("controlTruncated", Napi::Boolean::New(env, (mh.msg_flags & MSG_CTRUNC) != 0));
  ucred uc = {};
  bool has_ucred = false;
  Napi::Array fds = Napi::Array::New(env);
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
      memcpy(&uc, CMSG_DATA(c), sizeof(uc));
      has_ucred = true;
    } else if (c->cmsg_type == SCM_RIGHTS) {
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
        int received;
        memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.Set(fds.Length(), Napi::Number::New(env, received));
      }
    }
  }
  out.Set("pid", has_ucred ? Napi::Value(Napi::Number::New(env, uc.pid)) : env.Null());
  out.Set("uid", has_ucred ? Napi::Value(Napi::Number::New(env, uc.uid)) : env.Null());
  out.Set("gid", has_ucred ? Napi::Value(Napi::Number::New(env, uc.gid)) : env.Null());
  out.Set("fds", fds);
  return out;
}

// socketIno(fd): the socket's inode number (unique among live sockets) | -errno; -ENOTSOCK for anything else.
// Cheap enough to run before every send through a kept socket. fstat through the raw syscall: glibc before 2.33
// exports no fstat symbol, and the prebuild must load on 2.28.
Napi::Value SocketIno(const Napi::CallbackInfo& info) {
  if (!Args(info, "socketIno(fd: number)", {Arg::kNumber})) return {};
  struct stat st;
  if (syscall(SYS_fstat, Int(info, 0), &st) < 0) return Errno(info.Env(), errno);
  if (!S_ISSOCK(st.st_mode)) return Errno(info.Env(), ENOTSOCK);
  return Napi::Number::New(info.Env(), static_cast<double>(st.st_ino));
}

// socketInfo(fd): { type, domain, protocol, listening, family, address, port, path } | -errno
// -ENOTSOCK for anything that is not a socket.
Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, "socketInfo(fd: number)", {Arg::kNumber})) return {};
  int fd = Int(info, 0);
  Napi::Object out = Napi::Object::New(env);
  // SO_TYPE and SO_DOMAIN must answer; SO_PROTOCOL and SO_ACCEPTCONN read 0 where they cannot.
  for (auto [option, key] : {std::pair{SO_TYPE, "type"}, {SO_DOMAIN, "domain"}, {SO_PROTOCOL, "protocol"}, {SO_ACCEPTCONN, "listening"}}) {
    int value = 0;
    socklen_t len = sizeof(value);
    if (getsockopt(fd, SOL_SOCKET, option, &value, &len) < 0 && (option == SO_TYPE || option == SO_DOMAIN)) return Errno(env, errno);
    out.Set(key, option == SO_ACCEPTCONN ? Napi::Value(Napi::Boolean::New(env, value != 0)) : Napi::Number::New(env, value));
  }
  sockaddr_storage ss = {};
  socklen_t sslen = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sslen) < 0) return out;
  out.Set("family", Napi::Number::New(env, ss.ss_family));
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    char text[INET6_ADDRSTRLEN] = {0};
    inet_ntop(ss.ss_family, ss.ss_family == AF_INET ? static_cast<void*>(&in->sin_addr) : &in6->sin6_addr, text, sizeof(text));
    out.Set("address", Napi::String::New(env, text));
    out.Set("port", Napi::Number::New(env, ntohs(ss.ss_family == AF_INET ? in->sin_port : in6->sin6_port)));
  } else if (ss.ss_family == AF_UNIX) {  // raw sun_path bytes: TypeScript decides how to render abstract names
    size_t n = sslen > offsetof(sockaddr_un, sun_path) ? sslen - offsetof(sockaddr_un, sun_path) : 0;
    out.Set("path", Napi::Buffer<char>::Copy(env, reinterpret_cast<sockaddr_un*>(&ss)->sun_path, n));
  }
  return out;
}

// fsType(fd): statfs f_type of the filesystem behind fd (e.g. mqueue, pidfs) | -errno
Napi::Value FsType(const Napi::CallbackInfo& info) {
  if (!Args(info, "fsType(fd: number)", {Arg::kNumber})) return {};
  struct statfs st;
  if (fstatfs(Int(info, 0), &st) < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), static_cast<double>(static_cast<unsigned long>(st.f_type)));
}

// setCloexec(fd, on): 0 | -errno
Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  if (!Args(info, "setCloexec(fd: number, on: boolean)", {Arg::kNumber, Arg::kBoolean})) return {};
  int fd = Int(info, 0), flags = fcntl(fd, F_GETFD);
  if (flags < 0) return Errno(info.Env(), errno);
  int wanted = info[1].As<Napi::Boolean>().Value() ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  return Result(info.Env(), wanted == flags ? 0 : fcntl(fd, F_SETFD, wanted));
}

// getCloexec(fd): 1 | 0 | -errno
Napi::Value GetCloexec(const Napi::CallbackInfo& info) {
  if (!Args(info, "getCloexec(fd: number)", {Arg::kNumber})) return {};
  int flags = fcntl(Int(info, 0), F_GETFD);
  return Result(info.Env(), flags < 0 ? flags : (flags & FD_CLOEXEC) ? 1 : 0);
}

// flock(fd, operation): 0 | -errno   (operation: LOCK_SH/LOCK_EX/LOCK_UN | LOCK_NB)
Napi::Value Flock(const Napi::CallbackInfo& info) {
  if (!Args(info, "flock(fd: number, operation: number)", {Arg::kNumber, Arg::kNumber})) return {};
  int fd = Int(info, 0), operation = Int(info, 1);
  return Result(info.Env(), Restarting([&] { return flock(fd, operation); }));
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
  if (!Args(info, "pidfdOpen(pid: number)", {Arg::kNumber})) return {};
#ifdef SYS_pidfd_open
  return Result(info.Env(), syscall(SYS_pidfd_open, Int(info, 0), 0));
#else
  return Errno(info.Env(), ENOSYS);
#endif
}

// dup2(oldFd, newFd): newFd | -errno. Puts another open file at a fixed fd number, which Node cannot do: a
// daemonized process hands its fds 1 and 2 over to /dev/null once it is ready. The new fd is not CLOEXEC.
Napi::Value Dup2(const Napi::CallbackInfo& info) {
  if (!Args(info, "dup2(oldFd: number, newFd: number)", {Arg::kNumber, Arg::kNumber})) return {};
  int old_fd = Int(info, 0), new_fd = Int(info, 1);
  return Result(info.Env(), Restarting([&] { return dup2(old_fd, new_fd); }));
}

// What spawnDaemon's forked processes do, prepared before fork: the parent has threads, so between fork and exec only
// syscalls are allowed (no malloc, no locks), and every byte they touch must already exist.
struct DaemonPlan {
  const char* file;
  char* const* argv;
  char* const* envp;
  const int* fds;  // fds[i] becomes fd i in the daemon; -1 leaves fd i closed
  int* work;       // scratch, one slot per fd
  int count;
  int report;      // write end of the pipe the parent reads ints from: -errno from either process, then the daemon's PID
};

// Writes one int (atomic: far below PIPE_BUF) and exits without running any atexit handler.
[[noreturn]] void ReportAndExit(int report, int value, int status) {
  [[maybe_unused]] ssize_t ignored = Restarting([&] { return write(report, &value, sizeof(value)); });
  _exit(status);
}

// The daemon, between vfork and execve. It shares the suspended intermediate's memory, so it writes only to
// plan.work, and never returns. Its exec error goes down the pipe, not through memory: qemu-user's vfork is a fork.
[[noreturn]] void ExecDaemon(const DaemonPlan& plan) {
  // Move every source sitting inside the target range (and not already in place) above it first, so no dup2 below
  // clobbers a source still needed.
  bool placed = true;
  for (int i = 0; i < plan.count && placed; i++) {
    int source = plan.fds[i];
    if (source >= 0 && source < plan.count && source != i) placed = (source = fcntl(source, F_DUPFD_CLOEXEC, plan.count)) >= 0;
    plan.work[i] = source;
  }
  for (int i = 0; i < plan.count && placed; i++) {
    int source = plan.work[i], flags;
    if (source < 0) close(i);
    else if (source == i) placed = (flags = fcntl(i, F_GETFD)) >= 0 && fcntl(i, F_SETFD, flags & ~FD_CLOEXEC) == 0;  // inherit it
    else placed = dup2(source, i) >= 0;
  }
  if (placed) {
    // The parent blocked every signal around fork; the daemon starts with none blocked (dispositions were reset to
    // default in the intermediate).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(plan.file, plan.argv, plan.envp);
  }
  ReportAndExit(plan.report, -errno, 127);
}

// The intermediate: a forked copy of this Node process that only makes syscalls. It starts a new session, forks the
// daemon (which is therefore in that session but not its leader, so it can never acquire a controlling terminal),
// reports the daemon's PID once it has exec'd, and exits.
[[noreturn]] void RunIntermediate(DaemonPlan plan) {
  // Node's signal handlers were copied too: put every disposition back to default while signals are still blocked,
  // so none of them can run here.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, nullptr);  // EINVAL for KILL, STOP and libc's own: fine
  if (setsid() < 0) ReportAndExit(plan.report, -errno, 1);
  if (plan.report < plan.count) {  // the daemon's dup2s must not land on the report pipe
    int moved = fcntl(plan.report, F_DUPFD_CLOEXEC, plan.count);
    if (moved < 0) ReportAndExit(plan.report, -errno, 1);
    plan.report = moved;
  }
  // vfork: no atfork handlers run, and it returns only once the daemon has exec'd (or failed to), so the PID reported
  // below is of a running program.
  pid_t pid = vfork();
  if (pid == 0) ExecDaemon(plan);
  ReportAndExit(plan.report, pid < 0 ? -errno : pid, pid < 0 ? 1 : 0);
}

// spawnDaemon(file: string, argv: string[], envp: string[], fds: number[]): pid | -errno
// The double fork of daemon(7), which child_process cannot do (its detached child calls setsid and is a session
// leader): fork, setsid, fork again, exec. fds[i] becomes fd i of the daemon (-1: closed); every other fd follows its
// CLOEXEC flag. Signal dispositions and the mask start at their defaults. Returns the daemon's PID once it has exec'd;
// the intermediate is reaped here, so the daemon's parent is the nearest subreaper or init. The first fork is libc's
// fork(), as libuv's own spawn uses, so atfork handlers run in the intermediate (libuv re-creates its signal pipe
// there, CLOEXEC). Why not child_process with a tiny intermediate program: /bin/sh cannot set argv[0], and a second
// Node start-up would cost tens of milliseconds.
Napi::Value SpawnDaemon(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, "spawnDaemon(file: string, argv: string[], envp: string[], fds: number[])",
            {Arg::kString, Arg::kStrings, Arg::kStrings, Arg::kFds})) {
    return {};
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> strings[2];
  std::vector<char*> pointers[2];
  for (int k = 0; k < 2; k++) {
    Napi::Array array = info[1 + k].As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) strings[k].push_back(array.Get(i).As<Napi::String>().Utf8Value());
    for (std::string& s : strings[k]) pointers[k].push_back(&s[0]);
    pointers[k].push_back(nullptr);
  }
  std::vector<int> fds = Fds(info[3]);
  std::vector<int> work(fds.size() + 1);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return Errno(env, errno);
  DaemonPlan plan = {file.c_str(), pointers[0].data(), pointers[1].data(), fds.data(), work.data(), static_cast<int>(fds.size()), report[1]};

  // sigprocmask, not pthread_sigmask (pthread_sigmask@GLIBC_2.32 is missing from older glibc): on Linux it sets the
  // calling thread's mask only, which is exactly what is wanted around fork.
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
  // EOF comes once the intermediate has exited and the daemon has exec'd (its copy is CLOEXEC) or died: at most two
  // ints, the daemon's -errno and the intermediate's PID or -errno. Any error wins; nothing at all means a silent death.
  int reported = -ECHILD, value;
  bool failed = false;
  while (Restarting([&] { return read(report[0], &value, sizeof(value)); }) == sizeof(value)) {
    if (!failed) reported = value;
    failed = failed || value < 0;
  }
  close(report[0]);
  int status;
  Restarting([&] { return waitpid(child, &status, 0); });
  return Napi::Number::New(env, reported);
}

// A readability watch on an fd in the libuv loop, for sockets Node cannot wrap (AF_UNIX datagram). new FdWatcher(fd,
// callback(status)); watcher.close(). The JS object is kept alive (Ref) while the loop can call back into it.
class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    if (!Args(info, "new FdWatcher(fd: number, callback: Function)", {Arg::kNumber, Arg::kFunction})) return;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    handle_ = new uv_poll_t;
    handle_->data = this;
    int r = uv_poll_init(loop, handle_, Int(info, 0));
    if (r == 0) r = uv_poll_start(handle_, UV_READABLE, &FdWatcher::OnEvent);
    if (r != 0) {
      delete handle_;
      handle_ = nullptr;
      Napi::Error error = Napi::Error::New(env, uv_strerror(r));
      error.Set("errno", Napi::Number::New(env, r));
      error.ThrowAsJavaScriptException();
      return;
    }
    Ref();
  }

  ~FdWatcher() override { Stop(); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Stop()) Unref();
    return info.Env().Undefined();
  }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr) return;
    Napi::HandleScope scope(self->Env());
    self->callback_.MakeCallback(self->Env().Global(), {Napi::Number::New(self->Env(), status)});
  }

  // Stops watching; false when already stopped. libuv frees the handle later.
  bool Stop() {
    if (handle_ == nullptr) return false;
    handle_->data = nullptr;
    uv_poll_stop(handle_);
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
    return true;
  }

  Napi::FunctionReference callback_;
  uv_poll_t* handle_ = nullptr;
};

// ---- Journal: large records travel as a sealed memfd (Node has no memfd_create
// or F_ADD_SEALS). The record's bytes are written from TypeScript with
// fs.writeSync and the fd is sent with sendmsg (SCM_RIGHTS).

// memfdCreate(name: string): fd | -errno
// A CLOEXEC memfd that accepts seals. A raw syscall, so the prebuild needs no
// glibc symbol newer than 2.28 (and musl builds need no wrapper either).
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  if (!Args(info, "memfdCreate(name: string)", {Arg::kString})) return {};
#ifdef SYS_memfd_create
  std::string name = info[0].As<Napi::String>().Utf8Value();
  // MFD_CLOEXEC | MFD_ALLOW_SEALING, spelled out: older headers lack the names.
  return Result(info.Env(), syscall(SYS_memfd_create, name.c_str(), 0x0001U | 0x0002U));
#else
  return Errno(info.Env(), ENOSYS);
#endif
}

// addSeals(fd: number, seals: number): 0 | -errno   (fcntl F_ADD_SEALS: F_LINUX_SPECIFIC_BASE + 9 everywhere)
Napi::Value AddSeals(const Napi::CallbackInfo& info) {
  if (!Args(info, "addSeals(fd: number, seals: number)", {Arg::kNumber, Arg::kNumber})) return {};
  return Result(info.Env(), fcntl(Int(info, 0), 1024 + 9, Int(info, 1)));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (auto [name, function] : {std::pair{"dgramSocket", DgramSocket}, {"socketIno", SocketIno}, {"setSendTimeout", SetSendTimeoutJs}, {"sendmsg", SendMsg},
                                {"bindDgram", BindDgram}, {"recvmsg", RecvMsg}, {"socketInfo", SocketInfo}, {"fsType", FsType},
                                {"setCloexec", SetCloexec}, {"getCloexec", GetCloexec}, {"flock", Flock}, {"pipe", Pipe},
                                {"pidfdOpen", PidfdOpen}, {"dup2", Dup2}, {"spawnDaemon", SpawnDaemon},
                                {"memfdCreate", MemfdCreate}, {"addSeals", AddSeals}}) {
    exports.Set(name, Napi::Function::New(env, function, name));
  }
  exports.Set("FdWatcher", FdWatcher::DefineClass(env, "FdWatcher", {FdWatcher::InstanceMethod("close", &FdWatcher::Close)}));
  Napi::Object constants = Napi::Object::New(env);
  // F_SEAL_* as linux/fcntl.h defines them: older headers lack the names.
  for (auto [name, value] : {std::pair{"LOCK_SH", LOCK_SH}, {"LOCK_EX", LOCK_EX}, {"LOCK_UN", LOCK_UN}, {"LOCK_NB", LOCK_NB},
                             {"F_SEAL_SEAL", 0x0001}, {"F_SEAL_SHRINK", 0x0002}, {"F_SEAL_GROW", 0x0004}, {"F_SEAL_WRITE", 0x0008}}) {
    constants.Set(name, Napi::Number::New(env, value));
  }
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_daemon_native, Init)
