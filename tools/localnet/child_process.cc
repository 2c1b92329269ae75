// ChildProcess: fork/exec, readiness over a pipe, orderly stop.
#include "tools/localnet/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/file_util.h"

extern char** environ;

namespace ipn::localnet {

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept {
  *this = std::move(o);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) Stop();
    if (stdout_fd_ >= 0) close(stdout_fd_);
    pid_ = o.pid_;
    stdout_fd_ = o.stdout_fd_;
    exit_code_ = o.exit_code_;
    name_ = std::move(o.name_);
    stderr_path_ = std::move(o.stderr_path_);
    o.pid_ = -1;
    o.stdout_fd_ = -1;
  }
  return *this;
}

Result<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv,
                                         const std::map<std::string, std::string>& extra_env,
                                         const std::string& stderr_path) {
  if (argv.empty()) return Status::InvalidArgument("no program to start");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return Status::NotFound("program " + argv[0] + " is not executable (build it first)");
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Status::IoError("pipe failed");
  int err_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (err_fd < 0) {
    close(out[0]);
    close(out[1]);
    return Status::IoError("cannot open " + stderr_path + ": " + std::strerror(errno));
  }
  // Build argv and envp before fork (no allocation in the child).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (extra_env.count(key) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    close(err_fd);
    return Status::IoError("fork failed");
  }
  if (pid == 0) {
    // A child does not outlive what started it: when the starting thread's process dies
    // (a test killed at its timeout, a bench stopped with SIGKILL) the child is told to stop
    // (SIGTERM: it still shuts down cleanly), rather than left running on its ports and
    // directories. The check after it closes the race with a parent that died first.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    dup2(out[1], STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err_fd);
  for (auto& s : env_strings) std::fill(s.begin(), s.end(), '\0');
  ChildProcess child;
  child.pid_ = pid;
  child.stdout_fd_ = out[0];
  child.stderr_path_ = stderr_path;
  child.name_ = argv[0].substr(argv[0].find_last_of('/') + 1);
  return child;
}

std::string ChildProcess::StderrTail() const {
  Result<std::string> text = ReadFile(stderr_path_);
  if (!text.ok()) return "";
  std::string t = *text;
  if (t.size() > 600) t = t.substr(t.size() - 600);
  return t;
}

Result<std::map<std::string, std::string>> ChildProcess::WaitReady(
    std::chrono::milliseconds timeout) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status::DeadlineExceeded(name_ +
                                      " did not become ready in time; stderr: " + StderrTail());
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc <= 0) continue;
    char buf[512];
    ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) {
      int code = Reap(true);
      return Status::Unavailable(name_ + " exited (code " + std::to_string(code) +
                                 ") before it was ready; stderr: " + StderrTail());
    }
    line.append(buf, static_cast<size_t>(n));
  }
  line = line.substr(0, line.find('\n'));
  if (line.rfind("READY", 0) != 0) {
    return Status::Internal(name_ + " printed something else than READY: " + line);
  }
  std::map<std::string, std::string> fields;
  std::istringstream in(line.substr(5));
  std::string token;
  while (in >> token) {
    auto eq = token.find('=');
    if (eq != std::string::npos) fields[token.substr(0, eq)] = token.substr(eq + 1);
  }
  return fields;
}

int ChildProcess::Reap(bool block) {
  if (pid_ <= 0) return exit_code_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  return exit_code_;
}

Result<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    Reap(false);
    if (pid_ <= 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::DeadlineExceeded(name_ + " is still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, SIGTERM);
  Result<int> code = Wait(grace);
  if (code.ok()) return *code;
  Kill();
  return exit_code_;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap(true);
}

}  // namespace ipn::localnet
