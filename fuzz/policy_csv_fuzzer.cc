// Fuzz target: the policy source (docs/policy.md) — the CSV reader alone (selector 0), or
// the compiler with the fuzzer's text as one of the four files (selector 1-4: agencies,
// businesses, items, links) and a small consistent cut of the demo policy as the others
// (two agencies, one business, one item, one link: the whole demo costs ten times as
// much per input). A source that compiles gives a bundle that Policy::FromBundleBytes
// accepts.
#include <sstream>
#include <string>

#include "fuzz/fuzz_check.h"
#include "ipn/v1/policy.pb.h"
#include "policy/compiler.h"
#include "policy/csv.h"
#include "policy/demo_policy.h"
#include "policy/policy.h"

namespace {

// The header and the rows of `text` that start with one of `keep`.
std::string Cut(const std::string& text, std::initializer_list<std::string_view> keep) {
  std::istringstream in(text);
  std::string out, line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    bool kept = header;
    for (std::string_view k : keep) kept = kept || line.starts_with(k);
    if (kept) out += line + "\n";
    header = false;
  }
  return out;
}

ipn::policy::PolicySource SmallSource() {
  ipn::policy::PolicySource demo = ipn::policy::DemoPolicySource();
  ipn::policy::PolicySource small;
  small.files["agencies.csv"] = Cut(demo.files["agencies.csv"], {"PEN-0001,", "MUN-131016,"});
  small.files["businesses.csv"] = Cut(demo.files["businesses.csv"], {"np-benefit,"});
  small.files["items.csv"] = Cut(demo.files["items.csv"], {"local-tax,"});
  small.files["links.csv"] =
      Cut(demo.files["links.csv"], {"pension-service,np-benefit,municipality,local-tax,"});
  return small;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ipn::policy::PolicySource kDemo = SmallSource();
  static const char* kFiles[] = {"agencies.csv", "businesses.csv", "items.csv", "links.csv"};
  const ipn::fuzz::FuzzInput in(data, size);
  const int mode = in.selector % 5;
  if (mode == 0) {
    auto table = ipn::policy::ParseCsv(in.rest, "fuzz.csv");
    if (table.ok()) {
      FUZZ_CHECK(table->records.size() == table->lines.size());
      for (const auto& row : table->records) FUZZ_CHECK(row.size() == table->header.size());
    }
    return 0;
  }
  ipn::policy::PolicySource source = kDemo;
  source.files[kFiles[mode - 1]] = std::string(in.rest);
  auto bundle = ipn::policy::CompilePolicy(source, 1);
  if (!bundle.ok()) return 0;
  ipn::v1::SignedPolicyBundle file;
  FUZZ_CHECK(file.ParseFromArray(bundle->data(), static_cast<int>(bundle->size())));
  const std::string& inner = file.bundle();
  auto policy = ipn::policy::Policy::FromBundleBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(inner.data()), inner.size()));
  FUZZ_CHECK(policy.ok());
  return 0;
}
