// The copies (副本) the demo's agencies on the middle-server platform register (DESIGN.md
// §9): for each of the demo's residents, known to the agency by its internal person number
// (DemoPersonRef), and each item the agency provides under the permitted-link list, the
// demo dataset's value (about one person in ten holds nothing for an item; about a third
// of the public-assistance values are non-disclosure). The municipality registered no copy
// at all for one resident (kResidentWithoutCopies), so "not held" always shows. Written as
// the CSV `ipn-middle import` reads (docs/middle.md).
#pragma once

#include <cstddef>
#include <set>
#include <string>

#include "tools/ipn-agency/demo_dataset.h"

namespace ipn::cli {

// The resident (0-based: resident #2) the municipality holds no copy for.
inline constexpr size_t kResidentWithoutCopies = 1;

// `agency`'s copy of `item` for the demo's resident `index` (held false: none registered).
demo::DatasetAnswer DemoCopy(const std::string& agency, size_t index, const std::string& item);

struct CopiesFile {
  std::string csv;  // header and one row per copy (RFC 4180)
  size_t rows = 0;  // copies in it
};

// `agency`'s copies of `items` for residents 0 … residents-1, registered as of `as_of`
// (YYYY-MM-DD).
CopiesFile DemoCopiesCsv(const std::string& agency, size_t residents,
                         const std::set<std::string>& items, const std::string& as_of);

}  // namespace ipn::cli
