// Anomaly flags (不正兆候): rules the oversight commission runs over the provision records
// it pulls, each pointing an investigator at the records that look wrong — an agency
// inquiring far more than it usually does (volume), many of its inquiries refused in a short
// time (refusal_burst), many inquiries about one person in a short time (person_focus), and
// inquiries outside its declared office hours (off_hours). A flag is a lead, not a finding.
//
// An inquiry is the first record of an exchange (kInquiryAccepted or kInquiryRefused),
// attributed to its inquirer; every other event, operator actions included, is ignored.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "oversight/anomaly_thresholds.h"
#include "oversight/office_hours.h"
#include "records/record.h"

namespace ipn::oversight {

struct Anomaly {
  std::string rule;    // "volume", "refusal_burst", "person_focus", "off_hours"
  std::string agency;  // the inquiring agency
  // The window that raised it. volume: the bucket [from, to); off_hours: the JST calendar
  // day [from, to); refusal_burst and person_focus: the times of the run's first and last
  // records (both inclusive).
  int64_t from_unix_us = 0;
  int64_t to_unix_us = 0;
  // What was counted. volume: inquiries in the bucket; off_hours: off-hours inquiries that
  // day; refusal_burst and person_focus: the records in the run (its densest window may
  // hold fewer; the explanation gives both).
  uint64_t count = 0;
  // What it was compared with. volume: factor × max(baseline, 1); the others: the rule's
  // min_count.
  double threshold = 0;
  std::string explanation;          // one English sentence with the numbers; no record symbols
  std::vector<uint64_t> sequences;  // every record that raised it, ascending

  bool operator==(const Anomaly&) const = default;
};

// Runs every rule over `records` (in any order) and returns the flags sorted by
// (from_unix_us, rule, agency). `hours` maps agency code → declared office hours; the
// off_hours rule skips agencies absent from it. A rule whose window or bucket is not
// positive is skipped. O(n log n) in the number of records.
//
// volume: bucket = floor(time / volume_bucket_minutes). A bucket of an agency with at least
//   volume_min_baseline_buckets earlier buckets since the agency's first one (empty ones
//   counting as zero) is flagged when count ≥ volume_min_count and
//   count > volume_factor × max(mean of the earlier buckets, 1).
// refusal_burst (refusals by agency) and person_focus (inquiries by agency and record
//   symbol): a window is a half-open span [t, t + window); a run is a maximal set of
//   records linked by windows that each hold at least min_count of them and share a record
//   with the next. One flag per run, with all its records.
// off_hours: an inquiry whose JST minute of day lies outside
//   [open - grace, close + grace) is off hours; one flag per agency per JST calendar day
//   with at least off_hours_min_count of them.
std::vector<Anomaly> FindAnomalies(std::span<const records::Record> records,
                                   const std::map<std::string, OfficeHours>& hours,
                                   const AnomalyThresholds& thresholds);

}  // namespace ipn::oversight
