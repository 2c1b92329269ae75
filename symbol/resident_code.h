// ResidentCode: a validated resident code (住民票コード), 11 ASCII digits whose last is a
// modulus-11 check digit. It is personal data: it is held in a buffer that is wiped
// (sodium_memzero) when the object is wiped or destroyed, and it never appears in an
// error message, a log or a file. Parse errors name the rule that failed, not the input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"

namespace ipn::symbol {

// The rule a candidate resident code breaks, in the order they are checked.
enum class ResidentCodeRule {
  kValid,
  kEmpty,           // no characters at all
  kFullWidthDigit,  // a full-width digit (U+FF10..U+FF19) where an ASCII digit belongs
  kNonDigit,        // any other character that is not an ASCII digit 0-9
  kWrongLength,     // digits only, but not exactly 11 of them
  kBadCheckDigit,   // 11 digits whose last is not the check digit of the first 10
};

// Which rule `text` breaks (kValid if none). Reads `text` only; keeps no copy.
ResidentCodeRule CheckResidentCode(std::string_view text);

// A sentence for operators saying what is wrong, e.g. "resident code must be exactly 11
// digits". Never contains the code itself.
const char* DescribeResidentCodeRule(ResidentCodeRule rule);

// The check digit ('0'..'9') of the first 10 digits of a resident code: number the digits
// n = 1 (rightmost) .. 10 (leftmost), weights 2,3,4,5,6,7,2,3,4,5; r = sum mod 11;
// check = 0 if r <= 1 else 11 - r. `first_ten` must be 10 ASCII digits.
char ResidentCodeCheckDigit(std::span<const char, 10> first_ten);

class ResidentCode {
 public:
  static constexpr size_t kLength = 11;

  // Validates `text` (exactly 11 ASCII digits, correct check digit; no whitespace).
  // On failure the InvalidArgument status names the rule; the input is not echoed.
  static Result<ResidentCode> Parse(std::string_view text);

  ResidentCode(ResidentCode&& other) noexcept;
  ResidentCode& operator=(ResidentCode&& other) noexcept;
  ResidentCode(const ResidentCode&) = delete;
  ResidentCode& operator=(const ResidentCode&) = delete;
  ~ResidentCode();

  // The 11 ASCII digits; empty after Wipe().
  std::span<const uint8_t> digits() const;
  bool wiped() const { return wiped_; }
  // Overwrites the digits with zeros (sodium_memzero). Idempotent.
  void Wipe();

 private:
  ResidentCode() = default;
  std::array<uint8_t, kLength> digits_{};
  bool wiped_ = true;
};

}  // namespace ipn::symbol
