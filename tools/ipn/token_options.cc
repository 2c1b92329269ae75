// Token options and opening a token with its PIN, shared by the `ipn` commands.
#include "tools/ipn/token_options.h"

#include "symbol/passphrase.h"

namespace ipn::cli {

CLI::Option* AddTokenKeyOptions(CLI::App& cmd, TokenKeyArgs& args, const std::string& purpose) {
  auto* token = cmd.add_option("--token", args.token,
                               "Label of the PKCS#11 token whose key signs " + purpose +
                                   " (PIN from IPN_TOKEN_PIN or asked)");
  cmd.add_option("--token-key", args.key_label, "Label of the key in the token")->needs(token);
  cmd.add_option("--module", args.module, "PKCS#11 module")->capture_default_str();
  return token;
}

Result<std::shared_ptr<token::Pkcs11Token>> OpenToken(const token::TokenAddress& address) {
  auto pin =
      symbol::ReadPassphrase("PIN for token " + address.token + ": ", false, token::kTokenPinEnv);
  if (!pin.ok()) return pin.status().WithContext("token PIN");
  return token::Pkcs11Token::Open(address, symbol::AsStringView(*pin));
}

Result<std::unique_ptr<Ed25519Signer>> OpenTokenSigner(const TokenKeyArgs& args) {
  if (args.key_label.empty()) return Status::InvalidArgument("--token needs --token-key LABEL");
  auto opened = OpenToken({args.module, args.token});
  if (!opened.ok()) return opened.status();
  return (*opened)->MakeSigner(args.key_label);
}

}  // namespace ipn::cli
