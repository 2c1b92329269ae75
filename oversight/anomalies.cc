// The anomaly rules, each one linear pass over the contiguous groups of the inquiry index
// (oversight/inquiry_index.h). O(n log n); about a third of a second of processor time for
// a million records.
#include "oversight/anomalies.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <tuple>

#include "common/civil_time.h"
#include "oversight/inquiry_index.h"

namespace ipn::oversight {
namespace {

int64_t MinutesToMicros(int64_t minutes) {
  return std::clamp<int64_t>(minutes, 0, kMaxThresholdMinutes) * kMicrosPerMinute;
}

// `later - earlier` for later ≥ earlier, without signed overflow.
uint64_t Elapsed(int64_t earlier, int64_t later) {
  return static_cast<uint64_t>(later) - static_cast<uint64_t>(earlier);
}

// The JST calendar day number `jst_day` as "YYYY-MM-DD".
std::string JstDate(int64_t jst_day) {
  return FormatDate(CivilFromDays(jst_day));
}

std::string ClockTime(int64_t micros_of_day) {
  const int64_t seconds = micros_of_day / kMicrosPerSecond;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60));
  return buf;
}

// "2024-05-01 10:00:03" (JST).
std::string JstDateTime(int64_t unix_us) {
  const DayTime t = JstDayTime(unix_us);
  return JstDate(t.day) + " " + ClockTime(t.micros_of_day);
}

// Up to two decimals, trailing zeros dropped: "5", "12.33", "0.5".
std::string Number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Count(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string Minutes(int64_t n) {
  return Count(static_cast<uint64_t>(n), "minute", "minutes");
}

// A run of a sliding-window rule: group[first..last], and the most records any one window
// of it held.
struct Run {
  size_t first = 0;
  size_t last = 0;
  uint64_t peak = 0;
};

// `group` is sorted by time. A window [t, t + window_us) holding at least `min_count`
// records qualifies; qualifying windows that share a record join one run.
std::vector<Run> FindRuns(std::span<const Inquiry> group, int64_t window_us, uint64_t min_count) {
  std::vector<Run> runs;
  if (window_us <= 0) return runs;
  const uint64_t needed = std::max<uint64_t>(min_count, 1);
  const auto window = static_cast<uint64_t>(window_us);
  size_t left = 0;
  uint64_t in_window = 0;  // the weight of group[left..right]
  for (size_t right = 0; right < group.size(); ++right) {
    in_window += group[right].weight;
    while (Elapsed(group[left].time, group[right].time) >= window)
      in_window -= group[left++].weight;
    if (in_window < needed) continue;
    if (!runs.empty() && left <= runs.back().last) {
      runs.back().last = right;
      runs.back().peak = std::max(runs.back().peak, in_window);
    } else {
      runs.push_back(Run{left, right, in_window});
    }
  }
  return runs;
}

class RuleRunner {
 public:
  RuleRunner(const InquiryIndex& inquiries, const std::map<std::string, OfficeHours>& hours,
             const AnomalyThresholds& thresholds)
      : inquiries_(inquiries), hours_(hours), thresholds_(thresholds) {}

  std::vector<Anomaly> RunAll() {
    ForEachGroup(inquiries_.by_agency_time, SameAgency, [&](std::span<const Inquiry> group) {
      Volume(group);
      RefusalBursts(group);
      OffHours(group);
    });
    ForEachGroup(inquiries_.by_person_time, SameAgencyAndPerson,
                 [&](std::span<const Inquiry> group) { PersonFocus(group); });
    std::sort(found_.begin(), found_.end(), [](const Anomaly& a, const Anomaly& b) {
      return std::tie(a.from_unix_us, a.rule, a.agency, a.to_unix_us, a.sequences) <
             std::tie(b.from_unix_us, b.rule, b.agency, b.to_unix_us, b.sequences);
    });
    return std::move(found_);
  }

 private:
  Anomaly& Add(std::string rule, const Inquiry& first) {
    Anomaly& a = found_.emplace_back();
    a.rule = std::move(rule);
    a.agency = std::string(inquiries_.agencies[first.agency]);
    return a;
  }

  // `group`: one agency's inquiries, by time.
  void Volume(std::span<const Inquiry> group) {
    const int64_t bucket_us = MinutesToMicros(thresholds_.volume_bucket_minutes);
    if (bucket_us <= 0) return;
    const int64_t first_bucket = FloorDiv(group.front().time, bucket_us);
    uint64_t earlier_total = 0;
    size_t begin = 0;
    while (begin < group.size()) {
      const int64_t bucket = FloorDiv(group[begin].time, bucket_us);
      size_t end = begin + 1;
      while (end < group.size() && FloorDiv(group[end].time, bucket_us) == bucket) ++end;
      const uint64_t count = Weight(group.subspan(begin, end - begin));
      const int64_t earlier_buckets = bucket - first_bucket;
      if (earlier_buckets >= thresholds_.volume_min_baseline_buckets) {
        const double baseline = earlier_buckets == 0 ? 0.0
                                                     : static_cast<double>(earlier_total) /
                                                           static_cast<double>(earlier_buckets);
        const double limit = thresholds_.volume_factor * std::max(baseline, 1.0);
        if (count >= thresholds_.volume_min_count && static_cast<double>(count) > limit) {
          Anomaly& a = Add("volume", group[begin]);
          a.from_unix_us = bucket * bucket_us;
          a.to_unix_us = a.from_unix_us + bucket_us;
          a.count = count;
          a.threshold = limit;
          a.sequences = SortedSequences(group.subspan(begin, end - begin));
          a.explanation =
              "Agency " + a.agency + " made " + Count(count, "inquiry", "inquiries") + " between " +
              JstDateTime(a.from_unix_us) + " and " + JstDateTime(a.to_unix_us) +
              " JST, more than " + Number(thresholds_.volume_factor) + " times its baseline of " +
              Number(baseline) + (baseline < 1.0 ? " (taken as 1)" : "") + " per " +
              Minutes(thresholds_.volume_bucket_minutes) + " over the " +
              Count(static_cast<uint64_t>(earlier_buckets), "earlier bucket", "earlier buckets") +
              " (threshold " + Number(limit) + ").";
        }
      }
      earlier_total += count;
      begin = end;
    }
  }

  // `group`: one agency's inquiries, by time.
  void RefusalBursts(std::span<const Inquiry> group) {
    std::vector<Inquiry> refusals;
    for (const Inquiry& q : group) {
      if (q.refused) refusals.push_back(q);
    }
    const int64_t minutes = thresholds_.refusal_window_minutes;
    const uint64_t min_count = thresholds_.refusal_min_count;
    for (const Run& run : FindRuns(refusals, MinutesToMicros(minutes), min_count)) {
      Anomaly& a = AddRun("refusal_burst", refusals, run, min_count);
      a.explanation = "Agency " + a.agency + " had " + Count(a.count, "inquiry", "inquiries") +
                      " refused from " + JstDateTime(a.from_unix_us) + " to " +
                      JstDateTime(a.to_unix_us) + " JST, up to " + std::to_string(run.peak) +
                      " within " + Minutes(minutes) + " (threshold " + std::to_string(min_count) +
                      ").";
    }
  }

  // `group`: one agency's inquiries about one person, by time.
  void PersonFocus(std::span<const Inquiry> group) {
    const int64_t minutes = thresholds_.person_window_minutes;
    const uint64_t min_count = thresholds_.person_min_count;
    for (const Run& run : FindRuns(group, MinutesToMicros(minutes), min_count)) {
      Anomaly& a = AddRun("person_focus", group, run, min_count);
      a.explanation = "Agency " + a.agency + " made " + Count(a.count, "inquiry", "inquiries") +
                      " about one person from " + JstDateTime(a.from_unix_us) + " to " +
                      JstDateTime(a.to_unix_us) + " JST, up to " + std::to_string(run.peak) +
                      " within " + Minutes(minutes) + " (threshold " + std::to_string(min_count) +
                      ").";
    }
  }

  Anomaly& AddRun(std::string rule, std::span<const Inquiry> group, const Run& run,
                  uint64_t min_count) {
    Anomaly& a = Add(std::move(rule), group[run.first]);
    a.from_unix_us = group[run.first].time;
    a.to_unix_us = group[run.last].time;
    a.count = Weight(group.subspan(run.first, run.last - run.first + 1));
    a.threshold = static_cast<double>(min_count);
    a.sequences = SortedSequences(group.subspan(run.first, run.last - run.first + 1));
    return a;
  }

  // `group`: one agency's inquiries, by time.
  void OffHours(std::span<const Inquiry> group) {
    const auto declared = hours_.find(std::string(inquiries_.agencies[group.front().agency]));
    if (declared == hours_.end()) return;
    const OfficeHours& office = declared->second;
    const int64_t grace =
        std::clamp<int64_t>(thresholds_.off_hours_grace_minutes, 0, kMaxThresholdMinutes);
    const int64_t earliest = office.open_minute - grace;  // minutes of the JST day
    const int64_t latest = office.close_minute + grace;   // exclusive
    const uint64_t needed = std::max<uint64_t>(thresholds_.off_hours_min_count, 1);

    std::vector<Inquiry> off_hours;  // of the JST day `day`
    int64_t day = 0;
    const auto flush = [&] {
      if (Weight(off_hours) >= needed) {
        Anomaly& a = Add("off_hours", off_hours.front());
        a.from_unix_us = JstDayStart(day);
        a.to_unix_us = a.from_unix_us + kMicrosPerDay;
        a.count = Weight(off_hours);
        a.threshold = static_cast<double>(needed);
        a.sequences = SortedSequences(off_hours);
        const std::string first = ClockTime(JstDayTime(off_hours.front().time).micros_of_day);
        const std::string last = ClockTime(JstDayTime(off_hours.back().time).micros_of_day);
        const std::string times =
            a.count == 1 ? "at " + first : "the first at " + first + " and the last at " + last;
        a.explanation = "Agency " + a.agency + " made " + Count(a.count, "inquiry", "inquiries") +
                        " outside its office hours of " + FormatOfficeHours(office) +
                        " JST (with " + Minutes(grace) + " of grace) on " + JstDate(day) + ", " +
                        times + " JST (threshold " + std::to_string(needed) + ").";
      }
      off_hours.clear();
    };
    for (const Inquiry& q : group) {
      const DayTime t = JstDayTime(q.time);
      const int64_t minute = t.micros_of_day / kMicrosPerMinute;
      if (minute >= earliest && minute < latest) continue;
      if (!off_hours.empty() && t.day != day) flush();
      day = t.day;
      off_hours.push_back(q);
    }
    flush();
  }

  const InquiryIndex& inquiries_;
  const std::map<std::string, OfficeHours>& hours_;
  const AnomalyThresholds& thresholds_;
  std::vector<Anomaly> found_;
};

}  // namespace

std::vector<Anomaly> FindAnomalies(std::span<const records::Record> records,
                                   const std::map<std::string, OfficeHours>& hours,
                                   const AnomalyThresholds& thresholds) {
  const InquiryIndex inquiries = IndexInquiries(records);
  return RuleRunner(inquiries, hours, thresholds).RunAll();
}

}  // namespace ipn::oversight
