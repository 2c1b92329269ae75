// SoftHsm: SoftHSM2 tokens for one test, in its own directory. Writes a softhsm2.conf
// there and points SOFTHSM2_CONF at it (for this process and the processes it starts), and
// initialises tokens with Debian's softhsm2-util, as an operator would (docs/security.md).
#pragma once

#include <string>

#include "tests/support/temp_dir.h"
#include "token/softhsm_store.h"

namespace ipn::testing {

inline constexpr const char* kTestTokenPin = "4729";
inline constexpr const char* kTestSoPin = "90210";

class SoftHsm {
 public:
  // Must be made before the process first loads the SoftHSM2 module: it reads the
  // configuration once, at C_Initialize, so one SoftHsm per process (ctest runs every test
  // in its own process; run a test binary by hand with --gtest_filter on one test).
  explicit SoftHsm(const TempDir& dir);
  // Initialises a token labelled `label` with user PIN `pin`; false if softhsm2-util fails.
  bool InitToken(const std::string& label, const std::string& pin = kTestTokenPin) const;
  // The SOFTHSM2_CONF value, for the environment of a started process.
  const std::string& conf() const { return store_.conf(); }
  const std::string& token_dir() const { return store_.token_dir(); }

 private:
  token::SoftHsmStore store_;
};

}  // namespace ipn::testing
