// TOTP (see totp.h).
#include "middle/totp.h"

#include <sodium.h>

#include "common/big_endian.h"
#include "common/encoding.h"

namespace ipn::middle {

std::string TotpCode(std::span<const uint8_t> secret, uint64_t step) {
  uint8_t counter[8];
  PutBigEndian64(step, counter);
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, secret.data(), secret.size());
  crypto_auth_hmacsha256_update(&state, counter, sizeof(counter));
  crypto_auth_hmacsha256_final(&state, mac);
  sodium_memzero(&state, sizeof(state));
  // RFC 4226 §5.3 dynamic truncation.
  const size_t offset = mac[sizeof(mac) - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  sodium_memzero(mac, sizeof(mac));
  std::string code = std::to_string(binary % 1'000'000);
  return std::string(6 - code.size(), '0') + code;
}

std::optional<uint64_t> VerifyTotp(std::span<const uint8_t> secret, std::string_view code,
                                   int64_t now_unix_s, uint64_t after_step) {
  if (code.size() != 6 || now_unix_s < kTotpStepSeconds) return std::nullopt;
  const uint64_t now = static_cast<uint64_t>(now_unix_s / kTotpStepSeconds);
  std::optional<uint64_t> found;
  // Every candidate is computed and compared, whichever matches: no timing says which.
  for (uint64_t step = now - 1; step <= now + 1; ++step) {
    const std::string expected = TotpCode(secret, step);
    const bool same = sodium_memcmp(expected.data(), code.data(), 6) == 0;
    if (same && step > after_step && !found) found = step;
  }
  return found;
}

// common's Crockford encoding groups the bits the same way; only the alphabet differs.
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kRfc4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string Base32(std::span<const uint8_t> bytes) {
  std::string out = Base32Encode(bytes);
  for (char& c : out) c = kRfc4648[kCrockford.find(c)];
  return out;
}

Result<std::vector<uint8_t>> FromBase32(std::string_view text) {
  std::string crockford(text);
  for (char& c : crockford) {
    const size_t at = kRfc4648.find(c);
    if (at == std::string_view::npos) {
      return Status::InvalidArgument("base32 (RFC 4648) is A-Z and 2-7 only");
    }
    c = kCrockford[at];
  }
  return Base32Decode(crockford);
}

std::string TotpUri(std::string_view issuer, std::string_view account,
                    std::span<const uint8_t> secret) {
  // Issuer and account are agency codes and staff names of A-Z a-z 0-9 - _ . only
  // (Accounts checks them), so nothing here needs percent-encoding.
  return "otpauth://totp/" + std::string(issuer) + ":" + std::string(account) +
         "?secret=" + Base32(secret) + "&issuer=" + std::string(issuer) +
         "&algorithm=SHA256&digits=6&period=30";
}

}  // namespace ipn::middle
