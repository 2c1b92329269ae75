// AnomalyThresholds: the numbers that decide when the oversight commission's anomaly rules
// (不正兆候, see anomalies.h) raise a flag, and the thresholds file that overrides them:
//
//   # comments and blank lines are ignored
//   volume_factor = 8
//   refusal_min_count = 30
//
// One `key = value` a line; the keys are exactly the field names below; every value must
// be positive; keys left out keep their defaults.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ipn::oversight {

struct AnomalyThresholds {
  // volume: an agency's inquiries in one bucket far above its own baseline (the mean of its
  // earlier buckets in the data, empty ones counting as zero).
  int64_t volume_bucket_minutes = 60;
  int volume_min_baseline_buckets = 3;  // fewer earlier buckets than this: no baseline yet
  double volume_factor = 5.0;           // flag when count > factor × max(baseline, 1)
  uint64_t volume_min_count = 50;       // … and count ≥ this
  // refusal burst: refusals of one agency's inquiries within a sliding window.
  int64_t refusal_window_minutes = 10;
  uint64_t refusal_min_count = 20;
  // person focus: inquiries by one agency about one person (record symbol) within a sliding
  // window.
  int64_t person_window_minutes = 60;
  uint64_t person_min_count = 10;
  // off hours: inquiries outside the agency's declared office hours, with a grace period at
  // each end; counted per JST calendar day.
  int64_t off_hours_grace_minutes = 30;
  uint64_t off_hours_min_count = 1;

  bool operator==(const AnomalyThresholds&) const = default;
};

// Minutes fields accept at most this (100 years), so that microsecond arithmetic cannot
// overflow.
inline constexpr int64_t kMaxThresholdMinutes = 100LL * 365 * 24 * 60;

// Parses a thresholds file's text. An unknown key, a key given twice, a line that is not
// `key = value`, a bad number or a value that is not positive (or a minutes value above
// kMaxThresholdMinutes) is InvalidArgument naming the line.
Result<AnomalyThresholds> ParseAnomalyThresholds(std::string_view text);

// Reads and parses the thresholds file at `path`; errors are prefixed with the path.
Result<AnomalyThresholds> LoadAnomalyThresholds(const std::string& path);

}  // namespace ipn::oversight
