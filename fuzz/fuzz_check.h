// What the fuzz targets share: FUZZ_CHECK, an invariant that must hold for every input
// (a failure aborts, so libFuzzer keeps the input as a crash), and FuzzInput, which
// splits the fuzzer's bytes into a selector and the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace ipn::fuzz {

struct FuzzInput {
  FuzzInput(const uint8_t* data, size_t size)
      : selector(size > 0 ? data[0] : 0),
        rest(size > 0 ? reinterpret_cast<const char*>(data) + 1 : "", size > 0 ? size - 1 : 0) {}
  uint8_t selector;
  std::string_view rest;
};

}  // namespace ipn::fuzz
