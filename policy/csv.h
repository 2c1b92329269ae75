// A small RFC 4180 CSV reader for the policy source files: a header row, then records.
// Quoted fields may hold commas, quotes ("") and newlines; unquoted fields are trimmed of
// spaces and tabs; blank lines and lines starting with '#' are skipped; a UTF-8 byte-order
// mark is ignored; CRLF and LF both end a line. Text must be valid UTF-8.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ipn::policy {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> records;  // each has header.size() fields
  std::vector<int> lines;                         // line number where each record starts
};

// `file_name` only prefixes error messages ("links.csv line 7: ...").
Result<CsvTable> ParseCsv(std::string_view text, std::string_view file_name);

}  // namespace ipn::policy
