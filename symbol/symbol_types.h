// The symbol values: the linkage symbol (core-internal, one per person), the agency
// symbol (one per person and agency, handed to that agency) and the record symbol (one
// per person, the key of provision records). See docs/symbols.md for the constructions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ipn::symbol {

// 連携用符号: the core's own identifier of a person. Never leaves the core and never
// reaches a disk in clear; wiped (sodium_memzero) when destroyed. Move-only.
class LinkageSymbol {
 public:
  static constexpr size_t kSize = 32;
  LinkageSymbol() = default;
  LinkageSymbol(LinkageSymbol&& other) noexcept;
  LinkageSymbol& operator=(LinkageSymbol&& other) noexcept;
  LinkageSymbol(const LinkageSymbol&) = delete;
  LinkageSymbol& operator=(const LinkageSymbol&) = delete;
  ~LinkageSymbol();

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  std::span<const uint8_t, kSize> span() const { return std::span<const uint8_t, kSize>(bytes_); }
  // Constant-time comparison.
  bool Equals(const LinkageSymbol& other) const;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

// 機関別符号: key version (u16 big-endian) || tag (16 bytes) || ciphertext (32 bytes).
struct AgencySymbol {
  static constexpr size_t kSize = 50;
  static constexpr size_t kPrintableSize = 80;  // Crockford base32 of the 50 bytes

  std::array<uint8_t, kSize> bytes{};

  uint16_t key_version() const;
  // 80 characters of Crockford base32 (0-9 A-Z without I L O U): URL-safe, fixed length.
  std::string ToPrintable() const;
  // Accepts the printable form in either case. Checks the form only (length, alphabet,
  // key version not 0), not that the symbol is genuine: only the core's keys can tell.
  static Result<AgencySymbol> FromPrintable(std::string_view text);
  static Result<AgencySymbol> FromBinary(std::span<const uint8_t> bytes);

  bool operator==(const AgencySymbol& other) const = default;
};

// 情報提供等記録用符号: keyed BLAKE2b of the linkage symbol; one-way.
struct RecordSymbol {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};
  bool operator==(const RecordSymbol& other) const = default;
};

}  // namespace ipn::symbol
