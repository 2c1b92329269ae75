// The operator passphrase that unlocks the key ring: from the IPN_PASSPHRASE environment
// variable when set (scripts, tests), otherwise typed at the terminal with echo off. Used
// by `ipn keys`, `ipn symbol` and the core daemon alike.
#pragma once

#include <string_view>

#include "common/secret.h"
#include "common/status.h"

namespace ipn::symbol {

inline constexpr const char* kPassphraseEnv = "IPN_PASSPHRASE";

// Returns the passphrase (without a trailing newline) in locked memory. With `confirm`, a
// typed passphrase is asked twice and must match. Fails with FailedPrecondition when the
// variable is unset and standard input is not a terminal.
Result<SecretBytes> ReadPassphrase(std::string_view prompt, bool confirm = false,
                                   const char* env_var = kPassphraseEnv);

// Reads one line typed at the terminal with echo off (also used for resident codes typed
// by an operator). The line ends are dropped.
Result<SecretBytes> ReadHiddenLine(std::string_view prompt);

inline std::string_view AsStringView(const SecretBytes& s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

}  // namespace ipn::symbol
