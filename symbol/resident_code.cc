// Resident code validation: the one implementation of the check-digit rule.
#include "symbol/resident_code.h"

#include <string>

#include "common/secret.h"

namespace ipn::symbol {
namespace {

bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

// UTF-8 of U+FF10..U+FF19 (full-width 0..9) is EF BC 90..99.
bool IsFullWidthDigitAt(std::string_view text, size_t i) {
  return i + 2 < text.size() && static_cast<uint8_t>(text[i]) == 0xEF &&
         static_cast<uint8_t>(text[i + 1]) == 0xBC && static_cast<uint8_t>(text[i + 2]) >= 0x90 &&
         static_cast<uint8_t>(text[i + 2]) <= 0x99;
}

}  // namespace

char ResidentCodeCheckDigit(std::span<const char, 10> first_ten) {
  static constexpr int kWeights[10] = {2, 3, 4, 5, 6, 7, 2, 3, 4, 5};
  int sum = 0;
  for (int n = 0; n < 10; ++n) {
    // n = 0 is the rightmost of the first ten digits (the spec's n = 1).
    sum += (first_ten[static_cast<size_t>(9 - n)] - '0') * kWeights[n];
  }
  int r = sum % 11;
  int check = r <= 1 ? 0 : 11 - r;
  return static_cast<char>('0' + check);
}

ResidentCodeRule CheckResidentCode(std::string_view text) {
  if (text.empty()) return ResidentCodeRule::kEmpty;
  bool full_width = false;
  bool other = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsAsciiDigit(text[i])) continue;
    if (IsFullWidthDigitAt(text, i)) {
      full_width = true;
      i += 2;
      continue;
    }
    other = true;
  }
  if (full_width) return ResidentCodeRule::kFullWidthDigit;
  if (other) return ResidentCodeRule::kNonDigit;
  if (text.size() != ResidentCode::kLength) return ResidentCodeRule::kWrongLength;
  if (ResidentCodeCheckDigit(std::span<const char, 10>(text.data(), 10)) != text[10]) {
    return ResidentCodeRule::kBadCheckDigit;
  }
  return ResidentCodeRule::kValid;
}

const char* DescribeResidentCodeRule(ResidentCodeRule rule) {
  switch (rule) {
    case ResidentCodeRule::kValid: return "resident code is valid";
    case ResidentCodeRule::kEmpty: return "resident code is empty";
    case ResidentCodeRule::kFullWidthDigit:
      return "resident code contains full-width digits; use the ASCII digits 0-9";
    case ResidentCodeRule::kNonDigit:
      return "resident code contains a character that is not a digit 0-9";
    case ResidentCodeRule::kWrongLength: return "resident code must be exactly 11 digits";
    case ResidentCodeRule::kBadCheckDigit:
      return "resident code check digit does not match (mistyped or not a resident code)";
  }
  return "resident code is invalid";
}

Result<ResidentCode> ResidentCode::Parse(std::string_view text) {
  ResidentCodeRule rule = CheckResidentCode(text);
  if (rule != ResidentCodeRule::kValid) {
    return Status::InvalidArgument(DescribeResidentCodeRule(rule));
  }
  ResidentCode code;
  for (size_t i = 0; i < kLength; ++i) code.digits_[i] = static_cast<uint8_t>(text[i]);
  code.wiped_ = false;
  return code;
}

ResidentCode::ResidentCode(ResidentCode&& other) noexcept
    : digits_(other.digits_), wiped_(other.wiped_) {
  other.Wipe();
}

ResidentCode& ResidentCode::operator=(ResidentCode&& other) noexcept {
  if (this != &other) {
    digits_ = other.digits_;
    wiped_ = other.wiped_;
    other.Wipe();
  }
  return *this;
}

ResidentCode::~ResidentCode() {
  Wipe();
}

std::span<const uint8_t> ResidentCode::digits() const {
  if (wiped_) return {};
  return {digits_.data(), digits_.size()};
}

void ResidentCode::Wipe() {
  ipn::Wipe(digits_.data(), digits_.size());
  wiped_ = true;
}

}  // namespace ipn::symbol
