// The demo's copies and their import file (see the header).
#include "tools/ipn/broker/demo_copies.h"

#include "tools/ipn/broker/demo_scenarios.h"

namespace ipn::cli {
namespace {

constexpr const char* kMunicipality = "MUN-131016";

// One CSV field: quoted, its quotes doubled (contents hold commas: "household of 2, …").
std::string CsvField(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

demo::DatasetAnswer DemoCopy(const std::string& agency, size_t index, const std::string& item) {
  if (agency == kMunicipality && index == kResidentWithoutCopies) return {};
  return demo::DemoDataset(agency, "").AnswerFor(DemoPersonRef(index), item);
}

CopiesFile DemoCopiesCsv(const std::string& agency, size_t residents,
                         const std::set<std::string>& items, const std::string& as_of) {
  CopiesFile file;
  file.csv = "person,item,content,as_of,non_disclosure\n";
  for (size_t i = 0; i < residents; ++i) {
    for (const std::string& item : items) {
      const demo::DatasetAnswer copy = DemoCopy(agency, i, item);
      if (!copy.held) continue;
      file.csv += DemoPersonRef(i) + "," + item + "," + CsvField(copy.content) + "," + as_of + "," +
                  (copy.non_disclosure ? "true" : "false") + "\n";
      ++file.rows;
    }
  }
  return file;
}

}  // namespace ipn::cli
