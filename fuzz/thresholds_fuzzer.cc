// Fuzz target: the oversight commission's anomaly-thresholds file
// (oversight/anomaly_thresholds.h), as an investigator edits it.
#include "fuzz/fuzz_check.h"
#include "oversight/anomaly_thresholds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ipn::oversight::ParseAnomalyThresholds(text);
  FUZZ_CHECK(parsed.ok() || !parsed.status().message().empty());
  return 0;
}
