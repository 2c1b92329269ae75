// A deterministic quarter of records for the desk's tests (tests/oversight/desk_world.h).
#include "tests/oversight/desk_world.h"

#include <algorithm>
#include <random>

#include "common/civil_time.h"

namespace ipn::oversight::testing {
namespace {

using records::Event;
using records::Record;

constexpr int64_t kMinuteUs = 60'000'000;
constexpr int64_t kJstOffsetUs = 9 * 60 * kMinuteUs;

struct Link {
  const char* inquirer;
  const char* business;
  const char* provider;
  const char* item;
};
// Rows of the demo's permitted-link list (data/links.csv).
constexpr Link kLinks[] = {
    {"PEN-0001", "np-benefit", "MUN-131016", "local-tax"},
    {"PEN-0001", "np-premium-exemption", "MUN-271004", "public-assistance"},
    {"MUN-131016", "child-allowance", "MUN-271004", "local-tax"},
    {"INS-0001", "health-insurance-benefit", "MUN-401307", "local-tax"},
    {"PREF-130001", "public-assistance", "PEN-0001", "pension"},
};

int64_t JstTime(int64_t y, unsigned m, unsigned d, int hour, int minute) {
  return (DaysFromCivil({y, m, d}) * 1440 + hour * 60 + minute) * kMinuteUs - kJstOffsetUs;
}

std::array<uint8_t, 32> Person(uint64_t n) {
  std::array<uint8_t, 32> s{};
  std::mt19937_64 rng(n * 104'729 + 7);
  for (auto& b : s) b = static_cast<uint8_t>(rng());
  return s;
}

struct Exchange {
  int64_t start_us;
  const Link* link;
  uint64_t person;
  int kind;  // 0 provided, 1 not held, 2 refused, 3 provided sent twice
  std::string reason;
  bool planted = false;
  PlantedFlag* flag = nullptr;
};

// The exchange's records, in order, 50 ms apart.
void Emit(const Exchange& x, uint64_t request, std::vector<Record>* out,
          std::vector<std::pair<const Exchange*, size_t>>* firsts) {
  Record r;
  r.record_symbol = Person(x.person);
  r.inquirer = x.link->inquirer;
  r.provider = x.link->provider;
  r.business = x.link->business;
  r.item = x.link->item;
  r.request_id = "REQ-" + std::to_string(request);
  int64_t t = x.start_us;
  auto add = [&](Event e, const std::string& outcome) {
    r.event = e;
    r.outcome = outcome;
    r.time_unix_us = t;
    t += 50'000;
    out->push_back(r);
  };
  firsts->push_back({&x, out->size()});
  if (x.kind == 2) {
    add(Event::kInquiryRefused, x.reason);
    return;
  }
  add(Event::kInquiryAccepted, "ACCEPTED");
  add(Event::kForwarded, "FORWARDED");
  if (x.kind == 1) {
    add(Event::kNotHeld, "NOT_HELD");
  } else {
    add(Event::kProvided, "PROVIDED");
    if (x.kind == 3) add(Event::kProvided, "PROVIDED");
  }
  add(Event::kReceived, "ok");
}

}  // namespace

DeskWorld MakeDeskWorld(uint64_t seed) {
  DeskWorld w;
  w.volume = {"volume", "MUN-131016", {}};
  w.person_focus = {"person_focus", "PEN-0001", {}};
  w.off_hours = {"off_hours", "INS-0001", {}};
  std::mt19937_64 rng(seed);
  std::vector<Exchange> xs;
  uint64_t person = 1000;
  const int64_t first_day = DaysFromCivil({2026, 7, 1});
  const int64_t last_day = DaysFromCivil({2026, 9, 30});
  bool resent = false;
  for (int64_t day = first_day; day <= last_day; ++day) {
    const int weekday = static_cast<int>((day + 4) % 7);  // 1970-01-01 was a Thursday: 0 = Sunday
    if (weekday == 0 || weekday == 6) continue;
    const CivilDate date = CivilFromDays(day);
    for (const Link& link : kLinks) {
      const std::string agency = link.inquirer;
      if ((agency == "MUN-131016" && day == DaysFromCivil({2026, 9, 15})) ||
          (agency == "PEN-0001" && day == DaysFromCivil({2026, 9, 22})) ||
          (agency == "INS-0001" && day == DaysFromCivil({2026, 9, 26}))) {
        continue;
      }
      const int n = 2 + static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i) {
        Exchange x{JstTime(date.year, date.month, date.day, 10, 0) +
                       static_cast<int64_t>(rng() % (360 * 60)) * 1'000'000,
                   &link, person++, 0, ""};
        const uint64_t roll = rng() % 100;
        if (roll < 4) {
          x.kind = 2;
          x.reason = roll < 2 ? "NO_SUCH_LINK" : "RATE_LIMITED";
        } else if (roll < 12) {
          x.kind = 1;
        } else if (!resent && day > first_day + 20) {
          x.kind = 3;
          resent = true;
        }
        xs.push_back(x);
      }
    }
  }
  for (int i = 0; i < 80; ++i) {
    xs.push_back({JstTime(2026, 9, 15, 14, 0) + int64_t{i} * 45'000'000, &kLinks[2], person++, 0,
                  "", true, &w.volume});
  }
  const uint64_t focused = person++;
  for (int i = 0; i < 12; ++i) {
    xs.push_back({JstTime(2026, 9, 22, 11, 0) + i * 3 * kMinuteUs, &kLinks[0], focused, 0, "", true,
                  &w.person_focus});
  }
  for (int i = 0; i < 3; ++i) {
    xs.push_back({JstTime(2026, 9, 26, 2, 10) + i * kMinuteUs, &kLinks[3], person++, 0, "", true,
                  &w.off_hours});
  }
  std::stable_sort(xs.begin(), xs.end(),
                   [](const Exchange& a, const Exchange& b) { return a.start_us < b.start_us; });
  std::vector<Record> all;
  std::vector<std::pair<const Exchange*, size_t>> firsts;
  uint64_t request = 1;
  for (const Exchange& x : xs) Emit(x, request++, &all, &firsts);
  // Exchanges overlap little (records 50 ms apart): order every record by time.
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return all[a].time_unix_us < all[b].time_unix_us; });
  std::vector<uint64_t> sequence_of(all.size());
  for (size_t i = 0; i < order.size(); ++i) {
    sequence_of[order[i]] = i;
    w.records.push_back(all[order[i]]);
    w.records.back().sequence = i;
  }
  for (const auto& [x, index] : firsts) {
    if (x->flag != nullptr) x->flag->sequences.push_back(sequence_of[index]);
  }
  for (PlantedFlag* f : {&w.volume, &w.person_focus, &w.off_hours}) {
    std::sort(f->sequences.begin(), f->sequences.end());
  }
  return w;
}

std::vector<records::Record> MoreExchanges(int64_t after_unix_us, int count,
                                           uint64_t first_sequence) {
  std::vector<Record> out;
  std::vector<std::pair<const Exchange*, size_t>> firsts;
  std::vector<Exchange> xs;
  for (int i = 0; i < count; ++i) {
    xs.push_back(
        {after_unix_us + (i + 1) * kMinuteUs, &kLinks[i % 5], 900'000 + first_sequence + i, 0, ""});
  }
  for (size_t i = 0; i < xs.size(); ++i) Emit(xs[i], 500'000 + first_sequence + i, &out, &firsts);
  for (size_t i = 0; i < out.size(); ++i) out[i].sequence = first_sequence + i;
  return out;
}

}  // namespace ipn::oversight::testing
