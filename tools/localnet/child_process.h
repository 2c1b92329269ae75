// ChildProcess: one daemon started for real (fork + exec), its stdout a pipe on which
// it announces "READY …", its stderr appended to a file. Stopped with SIGTERM (then
// SIGKILL if it lingers) when the object goes away, and sent SIGTERM by the kernel if the
// thread that started it ends first (PR_SET_PDEATHSIG): start children from a thread that
// lives as long as they should (the main thread, in the tools and tests).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::localnet {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (a path) with the current environment plus `extra_env`.
  static Result<ChildProcess> Start(const std::vector<std::string>& argv,
                                    const std::map<std::string, std::string>& extra_env,
                                    const std::string& stderr_path);

  // Waits for the "READY k=v …" line; returns the fields. If the process exits first,
  // the error carries its exit status and the tail of its stderr file.
  Result<std::map<std::string, std::string>> WaitReady(std::chrono::milliseconds timeout);

  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code (or 128+signal).
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // SIGKILL now (a crash), and reap.
  void Kill();
  // Waits for the process to exit on its own; returns its exit code (or 128+signal).
  Result<int> Wait(std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::string& name() const { return name_; }

 private:
  int Reap(bool block);
  std::string StderrTail() const;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int exit_code_ = -1;
  std::string name_;
  std::string stderr_path_;
};

}  // namespace ipn::localnet
