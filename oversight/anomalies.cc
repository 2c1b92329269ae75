// The anomaly rules. The inquiries are pulled out of the records once, their agencies and
// record symbols interned to small numbers, and put in two orders — (agency, time) for
// volume, refusal_burst and off_hours, and (agency, person, time) for person_focus — so that
// every rule is one linear pass over contiguous groups. O(n log n); about a third of a
// second of processor time for a million records.
#include "oversight/anomalies.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "policy/jst_date.h"

namespace ipn::oversight {
namespace {

using records::Event;
using records::Record;

constexpr int64_t kMicrosPerMinute = 60'000'000;
constexpr int64_t kMicrosPerDay = 24 * 60 * kMicrosPerMinute;
constexpr int64_t kJstOffsetMicros = 9 * 60 * kMicrosPerMinute;
constexpr int kMinutesPerDay = 24 * 60;

// One inquiry, its agency and person interned.
struct Inquiry {
  uint32_t agency = 0;
  uint32_t person = 0;
  int64_t time = 0;
  uint64_t sequence = 0;
  bool refused = false;
};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

int64_t MinutesToMicros(int64_t minutes) {
  return std::clamp<int64_t>(minutes, 0, kMaxThresholdMinutes) * kMicrosPerMinute;
}

// `later - earlier` for later ≥ earlier, without signed overflow.
uint64_t Elapsed(int64_t earlier, int64_t later) {
  return static_cast<uint64_t>(later) - static_cast<uint64_t>(earlier);
}

// A UTC time as a JST calendar day number (days since 1970-01-01 JST) and minute of day.
struct JstTime {
  int64_t day = 0;
  int64_t micros_of_day = 0;
};

JstTime ToJst(int64_t unix_us) {
  JstTime t;
  t.day = FloorDiv(unix_us, kMicrosPerDay);
  t.micros_of_day = unix_us - t.day * kMicrosPerDay + kJstOffsetMicros;
  if (t.micros_of_day >= kMicrosPerDay) {
    t.micros_of_day -= kMicrosPerDay;
    ++t.day;
  }
  return t;
}

// The JST calendar day number `jst_day` as "YYYY-MM-DD".
std::string JstDate(int64_t jst_day) {
  return policy::JstDateOf(jst_day * kMicrosPerDay - kJstOffsetMicros);
}

std::string ClockTime(int64_t micros_of_day) {
  const int64_t seconds = micros_of_day / 1'000'000;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60));
  return buf;
}

// "2024-05-01 10:00:03" (JST).
std::string JstDateTime(int64_t unix_us) {
  const JstTime t = ToJst(unix_us);
  return JstDate(t.day) + " " + ClockTime(t.micros_of_day);
}

std::string MinuteOfDay(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d", minute / 60, minute % 60);
  return buf;
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

// The records' inquiries, with agency and person interned.
struct Inquiries {
  std::vector<std::string_view> agencies;  // by agency id
  std::vector<Inquiry> by_agency_time;     // sorted by (agency, time, sequence)
  std::vector<Inquiry> by_person_time;     // sorted by (agency, person, time, sequence)
};

// Numbers record symbols 0, 1, 2, … in order of first sight (open addressing: a flat table
// is several times faster than a node-based map at a million records).
class SymbolInterner {
 public:
  using Symbol = std::array<uint8_t, 32>;

  uint32_t Intern(const Symbol& symbol) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    const uint64_t hash = Hash(symbol);
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.symbol == nullptr) {
        slot = Slot{hash, &symbol, size_};
        return size_++;
      }
      if (slot.hash == hash && *slot.symbol == symbol) return slot.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const Symbol* symbol = nullptr;  // into the caller's records
    uint32_t id = 0;
  };

  static uint64_t Hash(const Symbol& symbol) {
    uint64_t words[4];
    std::memcpy(words, symbol.data(), sizeof(words));
    uint64_t h = words[0] ^ (words[1] * 0x9E3779B97F4A7C15ULL) ^
                 (words[2] * 0xC2B2AE3D27D4EB4FULL) ^ (words[3] * 0x165667B19E3779F9ULL);
    h ^= h >> 31;  // splitmix64's finaliser, so every bit reaches the low ones
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    return h;
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.symbol == nullptr) continue;
      size_t i = slot.hash & mask;
      while (slots_[i].symbol != nullptr) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;  // size a power of two, at most half full
  uint32_t size_ = 0;
};

Inquiries CollectInquiries(std::span<const Record> records) {
  Inquiries out;
  std::unordered_map<std::string_view, uint32_t> agency_ids;
  SymbolInterner people;
  std::vector<Inquiry> inquiries;
  inquiries.reserve(records.size());
  std::string_view last_agency;
  uint32_t last_agency_id = 0;
  for (const Record& r : records) {
    if (r.event != Event::kInquiryAccepted && r.event != Event::kInquiryRefused) continue;
    if (inquiries.empty() || r.inquirer != last_agency) {
      auto [agency, is_new] =
          agency_ids.try_emplace(r.inquirer, static_cast<uint32_t>(out.agencies.size()));
      if (is_new) out.agencies.push_back(agency->first);
      last_agency = agency->first;
      last_agency_id = agency->second;
    }
    Inquiry& q = inquiries.emplace_back();
    q.agency = last_agency_id;
    q.person = people.Intern(r.record_symbol);
    q.time = r.time_unix_us;
    q.sequence = r.sequence;
    q.refused = r.event == Event::kInquiryRefused;
  }

  // Counting sort by agency, then each agency's inquiries by time; a stable sort by person
  // within each agency keeps each person's inquiries in time order.
  std::vector<size_t> agency_start(out.agencies.size() + 1, 0);
  for (const Inquiry& q : inquiries) ++agency_start[q.agency + 1];
  for (size_t a = 1; a < agency_start.size(); ++a) agency_start[a] += agency_start[a - 1];
  out.by_agency_time.resize(inquiries.size());
  {
    std::vector<size_t> next(agency_start.begin(), agency_start.end() - 1);
    for (const Inquiry& q : inquiries) out.by_agency_time[next[q.agency]++] = q;
  }
  inquiries = std::vector<Inquiry>();
  const auto slice = [&](std::vector<Inquiry>& v, size_t a) {
    return std::span<Inquiry>(v).subspan(agency_start[a], agency_start[a + 1] - agency_start[a]);
  };
  for (size_t a = 0; a < out.agencies.size(); ++a) {
    std::span<Inquiry> agency = slice(out.by_agency_time, a);
    std::sort(agency.begin(), agency.end(), [](const Inquiry& x, const Inquiry& y) {
      return x.time != y.time ? x.time < y.time : x.sequence < y.sequence;
    });
  }
  out.by_person_time = out.by_agency_time;
  for (size_t a = 0; a < out.agencies.size(); ++a) {
    std::span<Inquiry> agency = slice(out.by_person_time, a);
    std::stable_sort(agency.begin(), agency.end(),
                     [](const Inquiry& x, const Inquiry& y) { return x.person < y.person; });
  }
  return out;
}

// Calls `visit(group)` for each maximal range of `sorted` on which `same` holds pairwise.
template <typename Same, typename Visit>
void ForEachGroup(std::span<const Inquiry> sorted, Same same, Visit visit) {
  size_t begin = 0;
  while (begin < sorted.size()) {
    size_t end = begin + 1;
    while (end < sorted.size() && same(sorted[begin], sorted[end])) ++end;
    visit(sorted.subspan(begin, end - begin));
    begin = end;
  }
}

bool SameAgency(const Inquiry& a, const Inquiry& b) {
  return a.agency == b.agency;
}
bool SameAgencyAndPerson(const Inquiry& a, const Inquiry& b) {
  return a.agency == b.agency && a.person == b.person;
}

std::vector<uint64_t> SortedSequences(std::span<const Inquiry> inquiries) {
  std::vector<uint64_t> sequences;
  sequences.reserve(inquiries.size());
  for (const Inquiry& q : inquiries) sequences.push_back(q.sequence);
  std::sort(sequences.begin(), sequences.end());
  return sequences;
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
  for (size_t right = 0; right < group.size(); ++right) {
    while (Elapsed(group[left].time, group[right].time) >= window) ++left;
    const uint64_t in_window = right - left + 1;
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
  RuleRunner(const Inquiries& inquiries, const std::map<std::string, OfficeHours>& hours,
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
      const uint64_t count = end - begin;
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
    a.count = run.last - run.first + 1;
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
      if (off_hours.size() >= needed) {
        Anomaly& a = Add("off_hours", off_hours.front());
        a.from_unix_us = day * kMicrosPerDay - kJstOffsetMicros;
        a.to_unix_us = a.from_unix_us + kMicrosPerDay;
        a.count = off_hours.size();
        a.threshold = static_cast<double>(needed);
        a.sequences = SortedSequences(off_hours);
        const std::string first = ClockTime(ToJst(off_hours.front().time).micros_of_day);
        const std::string last = ClockTime(ToJst(off_hours.back().time).micros_of_day);
        const std::string times =
            a.count == 1 ? "at " + first : "the first at " + first + " and the last at " + last;
        a.explanation = "Agency " + a.agency + " made " + Count(a.count, "inquiry", "inquiries") +
                        " outside its office hours of " + MinuteOfDay(office.open_minute) + "-" +
                        MinuteOfDay(office.close_minute) + " JST (with " + Minutes(grace) +
                        " of grace) on " + JstDate(day) + ", " + times + " JST (threshold " +
                        std::to_string(needed) + ").";
      }
      off_hours.clear();
    };
    for (const Inquiry& q : group) {
      const JstTime t = ToJst(q.time);
      const int64_t minute = t.micros_of_day / kMicrosPerMinute;
      if (minute >= earliest && minute < latest) continue;
      if (!off_hours.empty() && t.day != day) flush();
      day = t.day;
      off_hours.push_back(q);
    }
    flush();
  }

  const Inquiries& inquiries_;
  const std::map<std::string, OfficeHours>& hours_;
  const AnomalyThresholds& thresholds_;
  std::vector<Anomaly> found_;
};

bool ParseTwoDigits(std::string_view text, int* out) {
  if (text.size() != 2 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return false;
  }
  *out = (text[0] - '0') * 10 + (text[1] - '0');
  return true;
}

// "HH:MM" → minute of the day, 0..1440 (24:00 included; the caller decides where it fits).
bool ParseClock(std::string_view text, int* minute) {
  int h = 0, m = 0;
  if (text.size() != 5 || text[2] != ':' || !ParseTwoDigits(text.substr(0, 2), &h) ||
      !ParseTwoDigits(text.substr(3, 2), &m) || m > 59 || h > 24 || (h == 24 && m != 0)) {
    return false;
  }
  *minute = h * 60 + m;
  return true;
}

}  // namespace

Result<OfficeHours> ParseOfficeHours(std::string_view text) {
  const auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("office hours \"" + std::string(text.substr(0, 32)) + "\" " +
                                   std::string(why));
  };
  OfficeHours hours;
  if (text.size() != 11 || text[5] != '-' || !ParseClock(text.substr(0, 5), &hours.open_minute) ||
      !ParseClock(text.substr(6, 5), &hours.close_minute)) {
    return invalid("are not of the form HH:MM-HH:MM (00:00 to 24:00)");
  }
  if (hours.open_minute >= kMinutesPerDay) return invalid("open at 24:00");
  if (hours.open_minute >= hours.close_minute) return invalid("do not open before they close");
  return hours;
}

std::vector<Anomaly> FindAnomalies(std::span<const records::Record> records,
                                   const std::map<std::string, OfficeHours>& hours,
                                   const AnomalyThresholds& thresholds) {
  const Inquiries inquiries = CollectInquiries(records);
  return RuleRunner(inquiries, hours, thresholds).RunAll();
}

}  // namespace ipn::oversight
