// The key ring opened by an operator command, with its operations log.
#include "tools/ipn/key_ring_session.h"

#include <filesystem>

#include "symbol/passphrase.h"

namespace ipn::cli {

std::unique_ptr<Logger> OperationsLog(const std::string& dir, const std::string& component) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return nullptr;
  auto logger = Logger::OpenFile(dir + "/operations.log", component);
  return logger.ok() ? std::move(logger).value() : nullptr;
}

Result<KeyRingSession> OpenKeyRingSession(const std::string& dir, const std::string& component) {
  auto passphrase = symbol::ReadPassphrase("Key ring passphrase: ");
  if (!passphrase.ok()) return passphrase.status();
  KeyRingSession session;
  session.log = OperationsLog(dir, component);
  symbol::SymbolServiceOptions options;
  options.logger = session.log.get();
  auto service = symbol::SymbolService::Open(dir, symbol::AsStringView(*passphrase), options);
  if (!service.ok()) return service.status();
  session.service = std::move(service).value();
  return session;
}

}  // namespace ipn::cli
