// Fuzz target: the resident code (住民票コード) parser. Whatever the bytes, Parse and
// CheckResidentCode agree, and an accepted code is 11 digits whose last is the check
// digit of the first ten.
#include <algorithm>
#include <span>

#include "fuzz/fuzz_check.h"
#include "symbol/resident_code.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto code = ipn::symbol::ResidentCode::Parse(text);
  const auto rule = ipn::symbol::CheckResidentCode(text);
  FUZZ_CHECK(code.ok() == (rule == ipn::symbol::ResidentCodeRule::kValid));
  FUZZ_CHECK(ipn::symbol::DescribeResidentCodeRule(rule) != nullptr);
  if (code.ok()) {
    FUZZ_CHECK(size == 11);
    FUZZ_CHECK(std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }));
    FUZZ_CHECK(ipn::symbol::ResidentCodeCheckDigit(std::span<const char, 10>(text.data(), 10)) ==
               text[10]);
  }
  return 0;
}
