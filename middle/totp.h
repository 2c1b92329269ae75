// TOTP (RFC 6238) for the middle server's second factor: six digits from HMAC-SHA-256
// (libsodium's crypto_auth_hmacsha256) over 30-second steps. SHA-256 rather than the
// SHA-1 many apps default to, because libsodium has no SHA-1 and no home-made hash is
// allowed; the enrolment URI says `algorithm=SHA256`, which current authenticator apps
// honour. A code is accepted for the step before, this one and the one after (clock
// drift), and never twice: the caller keeps the last step used (Verify's `after_step`).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ipn::middle {

inline constexpr int64_t kTotpStepSeconds = 30;

// The code for `step` (unix seconds / 30), six digits with leading zeros.
std::string TotpCode(std::span<const uint8_t> secret, uint64_t step);

// The step whose code `code` is, among now-1 .. now+1 and later than `after_step`;
// nullopt when none (wrong, expired, or already used). Constant-time compares.
std::optional<uint64_t> VerifyTotp(std::span<const uint8_t> secret, std::string_view code,
                                   int64_t now_unix_s, uint64_t after_step);

// RFC 4648 base32 without padding (what authenticator apps take).
std::string Base32(std::span<const uint8_t> bytes);

// Its inverse (upper case only); InvalidArgument for anything else.
Result<std::vector<uint8_t>> FromBase32(std::string_view text);

// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA256&digits=6&period=30
std::string TotpUri(std::string_view issuer, std::string_view account,
                    std::span<const uint8_t> secret);

}  // namespace ipn::middle
