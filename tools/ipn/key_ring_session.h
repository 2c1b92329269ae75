// The key ring opened by an operator command (`ipn keys`, `ipn symbol`, `ipn token`): with
// the passphrase from IPN_PASSPHRASE or a prompt, or, when its header names a PKCS#11
// token, with that token and its PIN (IPN_TOKEN_PIN or a prompt); and the operations log
// kept beside the key ring.
#pragma once

#include <memory>
#include <string>

#include "common/key_custody.h"
#include "common/logger.h"
#include "common/status.h"
#include "symbol/symbol_service.h"

namespace ipn::cli {

// DIR/operations.log as `component`, or null when DIR is not a directory or the log
// cannot be opened (the command still runs; the service logs nowhere).
std::unique_ptr<Logger> OperationsLog(const std::string& dir, const std::string& component);

struct KeyRingSession {
  std::unique_ptr<Logger> log;          // declared first: outlives the service that logs to it
  std::unique_ptr<KeyWrapper> wrapper;  // the token's KEK, for a token-protected ring
  std::unique_ptr<symbol::SymbolService> service;
};

Result<KeyRingSession> OpenKeyRingSession(const std::string& dir, const std::string& component);

}  // namespace ipn::cli
