// Fuzz target: the commission's pulled-set file (oversight/pulled_set.h: JSON lines of
// pulls, consistency proofs and records, read back by `ipn oversight verify`) and a signed
// tree head in its JSON form. A set that reads back writes out lines that read back to the
// same number of records.
#include <sstream>
#include <string>

#include "fuzz/fuzz_check.h"
#include "oversight/pulled_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ipn::fuzz::FuzzInput in(data, size);
  if (in.selector % 2 == 1) {
    (void)ipn::oversight::ParseTreeHeadJson(in.rest);
    return 0;
  }
  std::istringstream stream{std::string(in.rest)};
  auto set = ipn::oversight::ReadPulledSet(stream);
  if (!set.ok()) return 0;
  // Written back as `ipn oversight pull` writes it, it reads back the same.
  using namespace ipn::oversight;
  std::string out = PullLine(*set) + ConsistencyLine(*set);
  if (set->before) out += RecordLine(*set->before, "before");
  for (const PulledRecord& r : set->records) {
    out += RecordLine(r, r.matches_filter ? "record" : "context");
  }
  if (set->after) out += RecordLine(*set->after, "after");
  std::istringstream again_stream(out);
  auto again = ReadPulledSet(again_stream);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->records.size() == set->records.size());
  for (size_t i = 0; i < set->records.size(); ++i) {
    FUZZ_CHECK(again->records[i].record == set->records[i].record);
    FUZZ_CHECK(again->records[i].inclusion_path == set->records[i].inclusion_path);
  }
  FUZZ_CHECK(again->before.has_value() == set->before.has_value());
  FUZZ_CHECK(again->after.has_value() == set->after.has_value());
  return 0;
}
