// PulledSet: what the oversight commission keeps of one pull from the core — the signed
// tree head the pull belongs to, every record of the time range in log order with its
// inclusion proof, the records just outside the range (so a record deleted at an edge
// still shows as a gap), and optionally the consistency proof from the commission's
// previous head. Stored as JSON lines (one object per line; docs/oversight.md), which
// is what `ipn oversight pull` writes and `ipn oversight verify` reads.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "records/record.h"
#include "records/tree_head.h"

namespace ipn::oversight {

struct PulledRecord {
  records::Record record;
  std::vector<records::Hash> inclusion_path;
  bool matches_filter = true;  // false: in the range, kept only to prove completeness
};

struct PulledSet {
  int64_t from_unix_us = 0, to_unix_us = 0;
  std::string agency;  // the filter, empty for all
  records::SignedTreeHead head;
  std::vector<PulledRecord> records;                     // in file order
  std::optional<PulledRecord> before, after;             // just outside the range
  std::optional<records::SignedTreeHead> previous_head;  // the commission's earlier head
  std::vector<records::Hash> consistency_path;           // previous_head -> head
};

// Wire conversions.
Result<records::SignedTreeHead> FromView(const v1::SignedTreeHeadView& view);
Result<PulledRecord> FromView(const v1::ProvisionRecordView& view);
// Adds one page of a pull (the head of the first page becomes the set's head; later pages
// must carry the same head).
Status AddPage(const v1::RecordPage& page, PulledSet* set);

// JSON lines: a "pull" line (range, filter, head), an optional "consistency" line, then
// "before", "record"/"context" and "after" lines. Each line is written as it is known so
// a long pull streams.
std::string PullLine(const PulledSet& set);
std::string ConsistencyLine(const PulledSet& set);
std::string RecordLine(const PulledRecord& r, const char* type);
Result<PulledSet> ReadPulledSet(std::istream& in);

// A head as one JSON object (what `--save-head` writes and `--previous-head` reads).
std::string TreeHeadJson(const records::SignedTreeHead& head);
Result<records::SignedTreeHead> ParseTreeHeadJson(std::string_view text);

// CSV (for spreadsheets; no proofs, so not verifiable): a header row, then the records
// that match the filter.
std::string CsvHeader();
std::string CsvRow(const records::Record& r);

}  // namespace ipn::oversight
