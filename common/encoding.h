// Text encodings of binary values: lowercase hex, and Crockford base32 (no I, L, O, U;
// URL-safe, case-insensitive on input) used for printable symbols.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ipn {

std::string HexEncode(std::span<const uint8_t> bytes);
Result<std::vector<uint8_t>> HexDecode(std::string_view text);

// Encodes without padding; the output length is ceil(8 * size / 5).
std::string Base32Encode(std::span<const uint8_t> bytes);
// RFC 4648 base32 (A–Z, 2–7), without padding: what authenticator apps read (otpauth://).
std::string Base32Rfc4648Encode(std::span<const uint8_t> bytes);
// Accepts upper or lower case; rejects any character outside the alphabet, and
// trailing bits that are not zero (so every value has exactly one spelling).
Result<std::vector<uint8_t>> Base32Decode(std::string_view text);

// RFC 4648 §5 base64url without padding (sodium_bin2base64, URLSAFE_NO_PADDING); decoding
// rejects padding, whitespace and any other character.
std::string Base64UrlEncode(std::span<const uint8_t> bytes);
Result<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);

// One CSV field (RFC 4180): as is, or in double quotes (inner quotes doubled) when it
// holds a comma, a quote or a line break.
std::string CsvField(std::string_view s);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace ipn
