// SoftHSM2 tokens in a test's own directory.
#include "tests/support/softhsm.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>

namespace ipn::testing {

SoftHsm::SoftHsm(const TempDir& dir) {
  Result<token::SoftHsmStore> store = token::SoftHsmStore::Create(dir.Sub("softhsm"));
  if (!store.ok()) {
    std::fprintf(stderr, "SoftHsm: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  store_ = std::move(*store);
  store_.Activate();
  // The processes a test starts (ipn-core, ipn) load the module too: under the leak
  // checker, they ignore its known leak (softhsm.lsan) and nothing else.
  setenv("LSAN_OPTIONS", "suppressions=" IPN_SOFTHSM_LSAN_FILE, 1);
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string options = std::string(asan != nullptr ? asan : "") +
                              (asan != nullptr && *asan != '\0' ? ":" : "") +
                              "fast_unwind_on_malloc=0";
  setenv("ASAN_OPTIONS", options.c_str(), 1);
}

bool SoftHsm::InitToken(const std::string& label, const std::string& pin) const {
  return store_.InitToken(label, pin, kTestSoPin).ok();
}

}  // namespace ipn::testing
