// The options every `ipn` command that uses a key in a PKCS#11 token shares (--token,
// --token-key, --module), and opening that token with its PIN (IPN_TOKEN_PIN or a prompt).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/key_custody.h"
#include "common/status.h"
#include "token/pkcs11_token.h"

namespace ipn::cli {

struct TokenKeyArgs {
  std::string module = token::kSoftHsmModule;
  std::string token;      // the token's label; empty: no token
  std::string key_label;  // the key's label in the token
};

// Adds --token, --token-key and --module; returns the --token option.
CLI::Option* AddTokenKeyOptions(CLI::App& cmd, TokenKeyArgs& args, const std::string& purpose);

// Opens the token (PIN from IPN_TOKEN_PIN or the terminal) and logs in.
Result<std::shared_ptr<token::Pkcs11Token>> OpenToken(const token::TokenAddress& address);

// Opens the token and the signing key args.key_label in it.
Result<std::unique_ptr<Ed25519Signer>> OpenTokenSigner(const TokenKeyArgs& args);

}  // namespace ipn::cli
