// Hex and base32 (Crockford's, and RFC 4648's for one-time-code secrets) codecs.
#include "common/encoding.h"

#include <sodium.h>

#include <array>

namespace ipn {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase32Alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr char kRfc4648Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string Base32With(std::span<const uint8_t> bytes, const char* alphabet) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<int8_t, 256> MakeBase32Table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 32; ++i) {
    char c = kBase32Alphabet[i];
    t[static_cast<uint8_t>(c)] = static_cast<int8_t>(i);
    if (c >= 'A' && c <= 'Z') t[static_cast<uint8_t>(c - 'A' + 'a')] = static_cast<int8_t>(i);
  }
  return t;
}
constexpr auto kBase32Table = MakeBase32Table();

}  // namespace

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 15]);
  }
  return out;
}

Result<std::vector<uint8_t>> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return Status::InvalidArgument("hex text has an odd number of digits");
  std::vector<uint8_t> out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("hex text has a non-hex character");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base32Encode(std::span<const uint8_t> bytes) {
  return Base32With(bytes, kBase32Alphabet);
}

std::string Base32Rfc4648Encode(std::span<const uint8_t> bytes) {
  return Base32With(bytes, kRfc4648Alphabet);
}

Result<std::vector<uint8_t>> Base32Decode(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = kBase32Table[static_cast<uint8_t>(c)];
    if (v < 0) return Status::InvalidArgument("text has a character outside the base32 alphabet");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0)
    return Status::InvalidArgument("base32 text has a non-canonical ending");
  return out;
}

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::vector<uint8_t>> Base64UrlDecode(std::string_view text) {
  std::vector<uint8_t> out(text.size() * 3 / 4 + 3);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return Status::InvalidArgument("not base64url text");
  }
  out.resize(len);
  return out;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace ipn
