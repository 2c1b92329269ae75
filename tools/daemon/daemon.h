// What the daemons' thin mains share: signal flags (SIGTERM/SIGINT stop, SIGHUP
// reload), the passphrase from IPN_PASSPHRASE or a prompt, the log destination, and the
// readiness line a parent process waits for on stdout.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/logger.h"
#include "common/status.h"

namespace ipn::daemon {

struct Signals {
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
};
// Installs handlers that set the flags of `signals` (which must outlive the process).
void InstallSignalHandlers(Signals* signals);

// The variable `env_var` (then removed from the environment), else a prompt without echo
// on a terminal, else an error.
Result<std::string> ReadPassphrase(const std::string& prompt,
                                   const char* env_var = "IPN_PASSPHRASE");

// "-" or empty: stderr; otherwise append to the file.
Result<std::unique_ptr<Logger>> OpenLog(const std::string& path, const std::string& component);

// Prints one line "READY key=value ..." on stdout and flushes it.
void AnnounceReady(const std::string& fields);

}  // namespace ipn::daemon
