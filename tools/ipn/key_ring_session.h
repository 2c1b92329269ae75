// The key ring opened by an operator command (`ipn keys`, `ipn symbol`): the passphrase
// from IPN_PASSPHRASE or a prompt, and the operations log kept beside the key ring.
#pragma once

#include <memory>
#include <string>

#include "common/logger.h"
#include "common/status.h"
#include "symbol/symbol_service.h"

namespace ipn::cli {

// DIR/operations.log as `component`, or null when DIR is not a directory or the log
// cannot be opened (the command still runs; the service logs nowhere).
std::unique_ptr<Logger> OperationsLog(const std::string& dir, const std::string& component);

struct KeyRingSession {
  std::unique_ptr<Logger> log;  // declared first: outlives the service that logs to it
  std::unique_ptr<symbol::SymbolService> service;
};

Result<KeyRingSession> OpenKeyRingSession(const std::string& dir, const std::string& component);

}  // namespace ipn::cli
