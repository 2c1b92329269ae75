// Test helpers for the symbol tests: valid resident codes from a seeded generator, and a
// service directory opened with the fast (test-only) key derivation.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "symbol/resident_code.h"
#include "symbol/symbol_service.h"

namespace ipn::symbol::testing {

inline constexpr const char* kPassphrase = "correct horse battery staple";

// `n` distinct valid resident codes, the same for the same seed.
inline std::vector<std::string> DistinctResidentCodes(size_t n, uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> digit(0, 9);
  std::unordered_set<std::string> seen;
  std::vector<std::string> codes;
  codes.reserve(n);
  while (codes.size() < n) {
    std::string code(11, '0');
    for (int i = 0; i < 10; ++i) code[static_cast<size_t>(i)] = static_cast<char>('0' + digit(rng));
    code[10] = ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10));
    if (seen.insert(code).second) codes.push_back(code);
  }
  return codes;
}

inline SymbolServiceOptions FastOptions() {
  SymbolServiceOptions options;
  options.kdf = KdfStrength::kMinimumForTests;
  options.block_cache_bytes = 8 << 20;
  return options;
}

}  // namespace ipn::symbol::testing
