// sd-daemon-runtime's native addon: the few syscalls Node.js does not expose.
//
// Rules: every function performs syscalls and reports the outcome; none decides anything (what to keep, retry or refuse
// is TypeScript's: native.ts and the modules it serves). Socket addresses and control messages are bytes socket-bytes.ts
// builds and reads; they pass through here untouched and the kernel checks them, so no limit is written here. OS failures
// come back as a negative errno, never a JS exception; only wrong argument types throw (bugs in our own TypeScript).

#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace {

enum class Arg { kNumber, kString, kBuffer, kFunction, kInt32Array };

// The one argument check: false, with a TypeError naming `signature` pending, when info does not match kinds.
bool Args(const Napi::CallbackInfo& info, const char* signature, std::initializer_list<Arg> kinds) {
  size_t i = 0;
  for (Arg kind : kinds) {
    const Napi::Value v = info[i++];  // past Length(): undefined
    bool ok = kind == Arg::kNumber ? v.IsNumber() : kind == Arg::kString ? v.IsString() : kind == Arg::kBuffer ? v.IsBuffer()
              : kind == Arg::kFunction ? v.IsFunction() : v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
    if (!ok) {
      Napi::TypeError::New(info.Env(), signature).ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

// Checked arguments and results: a syscall's result for JS is r, or -errno when r < 0.
int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
Napi::Buffer<char> Bytes(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Buffer<char>>(); }
Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }
Napi::Value Result(Napi::Env env, long r) { return Napi::Number::New(env, r < 0 ? -errno : static_cast<double>(r)); }

// Pointers to the NUL-terminated strings in bytes, then nullptr: an argv or envp for execve.
std::vector<char*> Strings(Napi::Buffer<char> bytes) {
  std::vector<char*> out;
  for (size_t i = 0; i < bytes.Length(); i += strlen(bytes.Data() + i) + 1) out.push_back(bytes.Data() + i);
  out.push_back(nullptr);
  return out;
}

Napi::Value Numbers(Napi::Env env, const std::vector<double>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); i++) out.Set(i, values[i]);
  return out;
}

// Calls a blocking syscall again while something interrupts it (a signal; under Node 22+, also an interruption with no
// signal delivered at all, seen right after spawnSync). For calls without a deadline; close() is never restarted.
template <typename Call>
auto Restarting(Call call) -> decltype(call()) {
  decltype(call()) r;
  do r = call();
  while (r < 0 && errno == EINTR);
  return r;
}

// A msghdr over one data buffer and a control buffer (empty: none).
msghdr Message(iovec* iov, Napi::Buffer<char> data, Napi::Buffer<char> control) {
  *iov = {data.Data(), data.Length()};
  msghdr mh = {};
  mh.msg_iov = iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.Length() > 0 ? control.Data() : nullptr;
  mh.msg_controllen = control.Length();
  return mh;
}

int SetSendTimeout(int fd, int64_t us) {
  timeval timeout = {static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

// dgramSocket(): fd | -errno. An unbound CLOEXEC AF_UNIX datagram socket to send through (notify-socket.ts keeps it).
Napi::Value DgramSocket(const Napi::CallbackInfo& info) { return Result(info.Env(), socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }

// SO_SNDTIMEO: how long a send may wait for room in the receiver's queue (0: forever) before it fails EAGAIN.
Napi::Value SetSendTimeoutJs(const Napi::CallbackInfo& info) {
  if (!Args(info, "setSendTimeout(fd: number, ms: number)", {Arg::kNumber, Arg::kNumber})) return {};
  return Result(info.Env(), SetSendTimeout(Int(info, 0), info[1].As<Napi::Number>().Int64Value() * 1000));
}

// sendmsg on fd, whose SO_SNDTIMEO is timeout_us, within that total deadline (0: none). A send waiting under SO_SNDTIMEO
// fails EINTR on any interruption, even with SA_RESTART, so it is retried with SO_SNDTIMEO set to what is left (put back
// afterwards); past the deadline the result is EAGAIN, as if nothing had interrupted it.
ssize_t SendWithin(int fd, const msghdr* mh, int64_t timeout_us) {
  ssize_t n = sendmsg(fd, mh, MSG_NOSIGNAL);
  if (n >= 0 || errno != EINTR) return n;
  if (timeout_us == 0) return Restarting([&] { return sendmsg(fd, mh, MSG_NOSIGNAL); });
  const int64_t deadline = static_cast<int64_t>(uv_hrtime() / 1000) + timeout_us;  // libuv's monotonic clock
  int err = EAGAIN;
  for (int64_t left; n < 0 && err == EAGAIN && (left = deadline - static_cast<int64_t>(uv_hrtime() / 1000)) > 0;) {
    n = SetSendTimeout(fd, left) == 0 ? sendmsg(fd, mh, MSG_NOSIGNAL) : -1;
    err = n < 0 && errno != EINTR ? errno : EAGAIN;
  }
  SetSendTimeout(fd, timeout_us);
  errno = err;
  return n;
}

// One datagram to sockaddr through fd (see SendWithin), with control messages unless control is empty: bytes | -errno.
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  auto kinds = {Arg::kNumber, Arg::kBuffer, Arg::kBuffer, Arg::kBuffer, Arg::kNumber};
  if (!Args(info, "sendmsg(fd: number, sockaddr: Buffer, data: Buffer, control: Buffer, timeoutMs: number)", kinds)) return {};
  Napi::Buffer<char> address = Bytes(info, 1);
  iovec iov;
  msghdr mh = Message(&iov, Bytes(info, 2), Bytes(info, 3));
  mh.msg_name = address.Data();
  mh.msg_namelen = static_cast<socklen_t>(address.Length());
  return Result(info.Env(), SendWithin(Int(info, 0), &mh, info[4].As<Napi::Number>().Int64Value() * 1000));
}

// A non-blocking AF_UNIX datagram socket bound to sockaddr, given each sender's credentials (a fake manager's end).
Napi::Value BindDgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, "bindDgram(sockaddr: Buffer)", {Arg::kBuffer})) return {};
  Napi::Buffer<char> address = Bytes(info, 0);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
  if (fd < 0) return Errno(env, errno);
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(address.Data()), static_cast<socklen_t>(address.Length())) < 0) {
    int err = errno;
    close(fd);
    return Errno(env, err);
  }
  return Napi::Number::New(env, fd);
}

// recvmsg(fd, data: Buffer, control: Buffer): [bytes, controlBytes, flags] | -errno. Non-blocking (-EAGAIN when nothing
// is queued); received fds are CLOEXEC. bytes is the datagram's full length (MSG_TRUNC), even when data held less.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  if (!Args(info, "recvmsg(fd: number, data: Buffer, control: Buffer)", {Arg::kNumber, Arg::kBuffer, Arg::kBuffer})) return {};
  int fd = Int(info, 0);
  iovec iov;
  msghdr mh = Message(&iov, Bytes(info, 1), Bytes(info, 2));
  ssize_t n = Restarting([&] { return recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC); });
  if (n < 0) return Errno(info.Env(), errno);
  return Numbers(info.Env(), {static_cast<double>(n), static_cast<double>(mh.msg_controllen), static_cast<double>(mh.msg_flags)});
}

// socketIno(fd): the socket's inode number (unique among live sockets) | -errno (-ENOTSOCK for other files). Run before
// every send through a kept socket: a raw fstat here costs half of fs.fstatSync's Stats (glibc < 2.33 has no fstat).
Napi::Value SocketIno(const Napi::CallbackInfo& info) {
  if (!Args(info, "socketIno(fd: number)", {Arg::kNumber})) return {};
  struct stat st;
  if (syscall(SYS_fstat, Int(info, 0), &st) < 0) return Errno(info.Env(), errno);
  return S_ISSOCK(st.st_mode) ? Napi::Number::New(info.Env(), static_cast<double>(st.st_ino)) : Errno(info.Env(), ENOTSOCK);
}

Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  if (!Args(info, "getsockopt(fd: number, level: number, option: number)", {Arg::kNumber, Arg::kNumber, Arg::kNumber})) return {};
  int value = 0;
  socklen_t len = sizeof(value);
  int r = getsockopt(Int(info, 0), Int(info, 1), Int(info, 2), &value, &len);
  return r < 0 ? Errno(info.Env(), errno) : Napi::Number::New(info.Env(), value);
}

// getsockname(fd, sockaddr: Buffer): the address's length (may exceed the buffer's) | -errno. socket-bytes.ts reads it.
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  if (!Args(info, "getsockname(fd: number, sockaddr: Buffer)", {Arg::kNumber, Arg::kBuffer})) return {};
  Napi::Buffer<char> address = Bytes(info, 1);
  socklen_t len = static_cast<socklen_t>(address.Length());
  int r = getsockname(Int(info, 0), reinterpret_cast<sockaddr*>(address.Data()), &len);
  return Result(info.Env(), r < 0 ? r : len);
}

// fsType(fd): statfs f_type of the filesystem behind fd (e.g. mqueue, pidfs) | -errno
Napi::Value FsType(const Napi::CallbackInfo& info) {
  if (!Args(info, "fsType(fd: number)", {Arg::kNumber})) return {};
  struct statfs st;
  if (fstatfs(Int(info, 0), &st) < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), static_cast<double>(static_cast<unsigned long>(st.f_type)));
}

// fcntl for the commands that take and return an int and never block (F_GETFD, F_SETFD, F_ADD_SEALS).
Napi::Value Fcntl(const Napi::CallbackInfo& info) {
  if (!Args(info, "fcntl(fd: number, command: number, arg: number)", {Arg::kNumber, Arg::kNumber, Arg::kNumber})) return {};
  return Result(info.Env(), fcntl(Int(info, 0), Int(info, 1), Int(info, 2)));
}

Napi::Value Flock(const Napi::CallbackInfo& info) {
  if (!Args(info, "flock(fd: number, operation: number)", {Arg::kNumber, Arg::kNumber})) return {};
  int fd = Int(info, 0), operation = Int(info, 1);
  return Result(info.Env(), Restarting([&] { return flock(fd, operation); }));
}

// pipe(): [readFd, writeFd] | -errno   (both CLOEXEC)
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return Errno(info.Env(), errno);
  return Numbers(info.Env(), {static_cast<double>(fds[0]), static_cast<double>(fds[1])});
}

// pidfdOpen(pid): fd | -errno (-ENOSYS before Linux 5.3). Its number is the same on every architecture; headers older
// than 5.3 (RHEL 8's) lack the name.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  if (!Args(info, "pidfdOpen(pid: number)", {Arg::kNumber})) return {};
  return Result(info.Env(), syscall(SYS_pidfd_open, Int(info, 0), 0));
}

// Puts an open file at a fixed fd number, not CLOEXEC (a daemon's fds 1 and 2 go to /dev/null once it is ready).
Napi::Value Dup2(const Napi::CallbackInfo& info) {
  if (!Args(info, "dup2(oldFd: number, newFd: number)", {Arg::kNumber, Arg::kNumber})) return {};
  int old_fd = Int(info, 0), new_fd = Int(info, 1);
  return Result(info.Env(), Restarting([&] { return dup2(old_fd, new_fd); }));
}

// memfdCreate(name): fd | -errno. A CLOEXEC memfd that accepts seals (journal.ts sends large records as one). A raw
// syscall: glibc wraps memfd_create only since 2.27 (musl since 1.1.20).
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  if (!Args(info, "memfdCreate(name: string)", {Arg::kString})) return {};
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Result(info.Env(), syscall(SYS_memfd_create, name.c_str(), 0x0001U | 0x0002U));  // MFD_CLOEXEC | MFD_ALLOW_SEALING
}

// What spawnDaemon's forked processes do, prepared before fork: the parent has threads, so between fork and exec only
// async-signal-safe syscalls are allowed (no malloc, no locks), and every byte they touch must already exist.
struct DaemonPlan {
  const char* file;
  char* const* argv;
  char* const* envp;
  int* fds;    // fds[i] becomes fd i in the daemon (-1: closed); the daemon rewrites it in the intermediate's copy
  int count;
  int report;  // write end of the pipe the parent reads ints from: -errno from either process, or the daemon's PID
};

// Writes one int (atomic: far below PIPE_BUF) and exits without running any atexit handler.
[[noreturn]] void ReportAndExit(int report, int value, int status) {
  [[maybe_unused]] ssize_t ignored = Restarting([&] { return write(report, &value, sizeof(value)); });
  _exit(status);
}

// The daemon, between vfork and execve. It shares the suspended intermediate's memory, so it writes only to
// plan.fds, and never returns. Its exec error goes down the pipe, not through memory: qemu-user's vfork is a fork.
[[noreturn]] void ExecDaemon(const DaemonPlan& plan) {
  // Sources inside the target range (and not in place) move above it first, so no dup2 below clobbers one still needed.
  bool placed = true;
  for (int i = 0; i < plan.count && placed; i++) {
    int source = plan.fds[i];
    if (source >= 0 && source < plan.count && source != i) placed = (source = fcntl(source, F_DUPFD_CLOEXEC, plan.count)) >= 0;
    plan.fds[i] = source;
  }
  for (int i = 0; i < plan.count && placed; i++) {
    int source = plan.fds[i], flags;
    if (source < 0) close(i);
    else if (source == i) placed = (flags = fcntl(i, F_GETFD)) >= 0 && fcntl(i, F_SETFD, flags & ~FD_CLOEXEC) == 0;  // inherit it
    else placed = dup2(source, i) >= 0;
  }
  if (placed) {  // the parent blocked every signal around fork: the daemon starts with none blocked
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(plan.file, plan.argv, plan.envp);
  }
  ReportAndExit(plan.report, -errno, 127);
}

// The intermediate, a forked copy of this Node process making only syscalls: a new session, the daemon forked in it (not
// its leader, so it can never acquire a controlling terminal), the daemon's PID reported once it has exec'd.
[[noreturn]] void RunIntermediate(DaemonPlan plan) {
  // Node's signal handlers were copied too: back to default while signals are still blocked, so none can run here.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, nullptr);  // EINVAL for KILL, STOP and libc's own: fine
  if (setsid() < 0) ReportAndExit(plan.report, -errno, 1);
  if (plan.report < plan.count) {  // the daemon's dup2s must not land on the report pipe
    int moved = fcntl(plan.report, F_DUPFD_CLOEXEC, plan.count);
    if (moved < 0) ReportAndExit(plan.report, -errno, 1);
    plan.report = moved;
  }
  // vfork: no atfork handlers run, and it returns once the daemon has exec'd (or failed to): the PID is of a running program.
  pid_t pid = vfork();
  if (pid == 0) ExecDaemon(plan);
  ReportAndExit(plan.report, pid < 0 ? -errno : pid, pid < 0 ? 1 : 0);
}

// spawnDaemon(file, argv, envp: NUL-terminated strings, fds: Int32Array): [ints the two processes reported] | -errno
// daemon(7)'s double fork, which child_process cannot do (its detached child is a session leader): fork, setsid, fork,
// exec. fds[i] becomes the daemon's fd i (-1: closed), other fds follow their CLOEXEC flag, signals start at defaults.
// Returns once the daemon has exec'd; the intermediate is reaped here, so the daemon's parent is the nearest subreaper
// or init. The first fork is libc's, as libuv's spawn uses, so atfork handlers run (libuv re-creates its signal pipe,
// CLOEXEC). Not child_process with a tiny intermediate: /bin/sh cannot set argv[0]; a second Node start costs tens of ms.
Napi::Value SpawnDaemon(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto kinds = {Arg::kString, Arg::kBuffer, Arg::kBuffer, Arg::kInt32Array};
  if (!Args(info, "spawnDaemon(file: string, argv: Buffer, envp: Buffer, fds: Int32Array)", kinds)) return {};
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<char*> argv = Strings(Bytes(info, 1)), envp = Strings(Bytes(info, 2));
  Napi::Int32Array fds = info[3].As<Napi::Int32Array>();
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return Errno(env, errno);
  DaemonPlan plan = {file.c_str(), argv.data(), envp.data(), fds.Data(), static_cast<int>(fds.ElementLength()), report[1]};
  // sigprocmask, as pthread_sigmask is in libc only from glibc 2.32: on Linux both set the calling thread's mask alone.
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
  // ints, the daemon's -errno and the intermediate's PID or -errno, in that order.
  std::vector<double> reported;
  int value, status;
  while (Restarting([&] { return read(report[0], &value, sizeof(value)); }) == sizeof(value)) reported.push_back(value);
  close(report[0]);
  Restarting([&] { return waitpid(child, &status, 0); });
  return Numbers(env, reported);
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
    if (r != 0) delete std::exchange(handle_, nullptr);  // never registered with the loop
    else if ((r = uv_poll_start(handle_, UV_READABLE, &FdWatcher::OnEvent)) != 0) Stop();
    if (r != 0) {
      Napi::Error error = Napi::Error::New(env, uv_strerror(r));
      error.Set("errno", Napi::Number::New(env, r));
      error.ThrowAsJavaScriptException();
      return;
    }
    Ref();
  }

  ~FdWatcher() override { Stop(); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Stop()) Unref();  // the loop can no longer call back: let the JS object go
    return info.Env().Undefined();
  }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<FdWatcher*>(handle->data);  // uv_close (in Stop) ends the calls before self goes
    Napi::HandleScope scope(self->Env());
    self->callback_.MakeCallback(self->Env().Global(), {Napi::Number::New(self->Env(), status)});
  }

  // Stops watching (uv_close stops the poll at once, and frees the handle later); false when already stopped.
  bool Stop() {
    if (handle_ == nullptr) return false;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
    return true;
  }

  Napi::FunctionReference callback_;
  uv_poll_t* handle_ = nullptr;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (auto [name, function] : {std::pair{"dgramSocket", DgramSocket}, {"setSendTimeout", SetSendTimeoutJs}, {"sendmsg", SendMsg},
                                {"bindDgram", BindDgram}, {"recvmsg", RecvMsg}, {"socketIno", SocketIno}, {"getsockopt", GetSockOpt},
                                {"getsockname", GetSockName}, {"fsType", FsType}, {"fcntl", Fcntl}, {"flock", Flock}, {"pipe", Pipe},
                                {"pidfdOpen", PidfdOpen}, {"dup2", Dup2}, {"memfdCreate", MemfdCreate}, {"spawnDaemon", SpawnDaemon}}) {
    exports.Set(name, Napi::Function::New(env, function, name));
  }
  exports.Set("FdWatcher", FdWatcher::DefineClass(env, "FdWatcher", {FdWatcher::InstanceMethod("close", &FdWatcher::Close)}));
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_daemon_native, Init)
