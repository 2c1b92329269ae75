// Shared pieces of the daemons' mains.
#include "tools/daemon/daemon.h"

#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/secret.h"

namespace ipn::daemon {
namespace {
Signals* g_signals = nullptr;  // only the async-signal handlers reach it

extern "C" void OnSignal(int sig) {
  if (g_signals == nullptr) return;
  if (sig == SIGHUP) {
    g_signals->reload.store(true);
  } else {
    g_signals->stop.store(true);
  }
}
}  // namespace

void InstallSignalHandlers(Signals* signals) {
  g_signals = signals;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

Result<std::string> ReadPassphrase(const std::string& prompt, const char* env_var) {
  if (const char* env = std::getenv(env_var); env != nullptr) {
    std::string value(env);
    unsetenv(env_var);
    if (value.empty()) return Status::InvalidArgument(std::string(env_var) + " is empty");
    return value;
  }
  if (!isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(std::string("no passphrase: set ") + env_var +
                                   " or run on a terminal to be prompted");
  }
  std::fprintf(stderr, "%s", prompt.c_str());
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string value;
  std::getline(std::cin, value);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::fprintf(stderr, "\n");
  if (value.empty()) return Status::InvalidArgument("empty passphrase");
  return value;
}

Result<std::unique_ptr<Logger>> OpenLog(const std::string& path, const std::string& component) {
  if (path.empty() || path == "-") return Logger::Stderr(component);
  return Logger::OpenFile(path, component);
}

void AnnounceReady(const std::string& fields) {
  std::printf("READY %s\n", fields.c_str());
  std::fflush(stdout);
}

}  // namespace ipn::daemon
