// The key ring opened by an operator command, with its operations log.
#include "tools/ipn/key_ring_session.h"

#include <filesystem>

#include "symbol/passphrase.h"
#include "token/pkcs11_token.h"
#include "tools/ipn/token_options.h"

namespace ipn::cli {

std::unique_ptr<Logger> OperationsLog(const std::string& dir, const std::string& component) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return nullptr;
  auto logger = Logger::OpenFile(dir + "/operations.log", component);
  return logger.ok() ? std::move(logger).value() : nullptr;
}

Result<KeyRingSession> OpenKeyRingSession(const std::string& dir, const std::string& component) {
  KeyRingSession session;
  symbol::SymbolServiceOptions options;
  SecretBytes passphrase;
  auto protection =
      symbol::KeyRingFile::DescribeProtection(dir + "/" + symbol::SymbolService::kKeyRingFileName);
  if (protection.ok() && *protection != "passphrase") {
    auto locator = token::ParseKeyLocator(*protection);
    if (!locator.ok()) return locator.status();
    IPN_RETURN_IF_ERROR(token::CheckModule(*locator, token::ConfiguredModule()));
    auto opened = OpenToken(locator->address);
    if (!opened.ok()) return opened.status();
    auto wrapper = (*opened)->MakeWrapper(locator->object);
    if (!wrapper.ok()) return wrapper.status();
    session.wrapper = std::move(*wrapper);
    options.key_wrapper = session.wrapper.get();
  } else {
    // A missing or damaged file: SymbolService::Open says what is wrong.
    auto typed = symbol::ReadPassphrase("Key ring passphrase: ");
    if (!typed.ok()) return typed.status();
    passphrase = std::move(*typed);
  }
  session.log = OperationsLog(dir, component);
  options.logger = session.log.get();
  auto service = symbol::SymbolService::Open(dir, symbol::AsStringView(passphrase), options);
  if (!service.ok()) return service.status();
  session.service = std::move(service).value();
  return session;
}

}  // namespace ipn::cli
