// Fuzz target: the agency symbol (機関別符号) as it arrives from outside — printable form
// (selector even) or the 50 wire bytes (odd) — and its opening under a key. The form
// round-trips exactly (printable in upper case), and a symbol the fuzzer makes never
// opens: only the core's key can make one that does.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "fuzz/fuzz_check.h"
#include "symbol/derivation.h"
#include "symbol/symbol_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ipn::symbol::AgencySymbol;
  const ipn::fuzz::FuzzInput in(data, size);
  ipn::Result<AgencySymbol> symbol = ipn::Status::InvalidArgument("none");
  if (in.selector % 2 == 0) {
    symbol = AgencySymbol::FromPrintable(in.rest);
    if (symbol.ok()) {
      std::string upper(in.rest);
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      FUZZ_CHECK(symbol->ToPrintable() == upper);
    }
  } else {
    symbol = AgencySymbol::FromBinary(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(in.rest.data()), in.rest.size()));
    if (symbol.ok()) {
      FUZZ_CHECK(in.rest.size() == AgencySymbol::kSize);
      auto again = AgencySymbol::FromPrintable(symbol->ToPrintable());
      FUZZ_CHECK(again.ok() && *again == *symbol);
    }
  }
  if (!symbol.ok()) return 0;
  FUZZ_CHECK(symbol->key_version() != 0);
  static const std::array<uint8_t, ipn::symbol::kAgencyKeySize> kKey = [] {
    std::array<uint8_t, ipn::symbol::kAgencyKeySize> k{};
    k.fill(0x5a);
    return k;
  }();
  ipn::symbol::LinkageSymbol out;
  FUZZ_CHECK(!ipn::symbol::OpenAgencySymbol(kKey, "MUN-131016", *symbol, &out));
  return 0;
}
