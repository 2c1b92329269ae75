// Anomaly flags (不正兆候): each rule raises a flag on a scenario built to trigger it, with
// the exact records that raised it, and stays quiet on the near miss next to it (one under
// the threshold, just wider than the window, within the grace period). Also the thresholds
// file parser. (Office hours: office_hours_test.cc; the inquiry index: inquiry_index_test.cc.)
#include "oversight/anomalies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

#include "common/encoding.h"
#include "oversight/anomaly_thresholds.h"
#include "oversight/inquiry_index.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

using records::Event;
using records::Record;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kMay1Jst = 1'714'489'200 * kSecond;  // 2024-05-01 00:00 JST (04-30 15:00 UTC)
constexpr int64_t kMay1Utc = 1'714'521'600 * kSecond;  // 2024-05-01 00:00 UTC

// A time on 2024-05-`day` in JST.
int64_t Jst(int day, int hour, int minute, int second = 0) {
  return kMay1Jst + (day - 1) * kDay + hour * kHour + minute * kMinute + second * kSecond;
}

std::array<uint8_t, 32> Person(uint32_t n) {
  std::array<uint8_t, 32> symbol;
  symbol.fill(0xA5);
  for (int i = 0; i < 4; ++i) symbol[i] = static_cast<uint8_t>(n >> (8 * i));
  return symbol;
}

// Builds a pulled log; sequences are assigned in order of addition.
class Log {
 public:
  uint64_t Add(Event event, std::string inquirer, int64_t time, uint32_t person) {
    Record r;
    r.sequence = records_.size();
    r.time_unix_us = time;
    r.event = event;
    r.record_symbol = Person(person);
    r.inquirer = std::move(inquirer);
    r.provider = "P99";
    r.business = "B001";
    r.item = "I001";
    r.request_id = "req-" + std::to_string(r.sequence);
    r.outcome = event == Event::kInquiryRefused ? "not_permitted" : "ok";
    records_.push_back(r);
    return r.sequence;
  }
  uint64_t Inquiry(std::string inquirer, int64_t time, uint32_t person = 1) {
    return Add(Event::kInquiryAccepted, std::move(inquirer), time, person);
  }
  uint64_t Refusal(std::string inquirer, int64_t time, uint32_t person = 1) {
    return Add(Event::kInquiryRefused, std::move(inquirer), time, person);
  }
  // An aggregate refusal record as the core's refusal ledger writes it: filed under no
  // person, standing for `count` refusals.
  uint64_t Aggregate(std::string inquirer, int64_t time, uint64_t count) {
    const uint64_t seq = Add(Event::kInquiryRefused, std::move(inquirer), time, 0);
    records_.back().record_symbol = {};
    records_.back().outcome = "RATE_LIMITED count=" + std::to_string(count) +
                              " last=r9 from_us=" + std::to_string(time - 900'000) +
                              " to_us=" + std::to_string(time);
    return seq;
  }
  std::vector<Record>& records() { return records_; }

 private:
  std::vector<Record> records_;
};

std::vector<Anomaly> OfRule(const std::vector<Anomaly>& anomalies, std::string_view rule) {
  std::vector<Anomaly> out;
  for (const Anomaly& a : anomalies) {
    if (a.rule == rule) out.push_back(a);
  }
  return out;
}

std::vector<Anomaly> Find(Log& log, const std::map<std::string, OfficeHours>& hours = {},
                          const AnomalyThresholds& thresholds = {}) {
  return FindAnomalies(log.records(), hours, thresholds);
}

// ---- volume ----

TEST(AnomalyVolumeTest, FlagsABucketFarAboveTheAgencysBaseline) {
  Log log;
  uint32_t person = 0;
  for (int hour = 9; hour <= 12; ++hour) {  // baseline: 4 an hour
    for (int i = 0; i < 4; ++i) log.Inquiry("A01", Jst(1, hour, i * 10), ++person);
  }
  std::vector<uint64_t> heavy;
  for (int i = 0; i < 60; ++i) heavy.push_back(log.Inquiry("A01", Jst(1, 13, i), ++person));
  for (int i = 0; i < 60; ++i) log.Inquiry("B02", Jst(1, 13, i), ++person);  // no baseline

  std::vector<Anomaly> found = Find(log);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.rule, "volume");
  EXPECT_EQ(a.agency, "A01");
  EXPECT_EQ(a.count, 60u);
  EXPECT_DOUBLE_EQ(a.threshold, 20.0);  // 5 × 4
  EXPECT_EQ(a.from_unix_us, Jst(1, 13, 0));
  EXPECT_EQ(a.to_unix_us, Jst(1, 14, 0));
  EXPECT_EQ(a.sequences, heavy);
  EXPECT_NE(a.explanation.find("60 inquiries"), std::string::npos) << a.explanation;
  EXPECT_NE(a.explanation.find("baseline of 4"), std::string::npos) << a.explanation;
  EXPECT_NE(a.explanation.find("2024-05-01 13:00:00"), std::string::npos) << a.explanation;
}

TEST(AnomalyVolumeTest, CountMustExceedFactorTimesBaselineAndReachTheMinimum) {
  Log log;
  uint32_t person = 0;
  // A01 and B02: baseline 12 an hour, so the limit is 60; A01 reaches it, B02 exceeds it.
  for (const std::string agency : {"A01", "B02"}) {
    for (int hour = 9; hour <= 11; ++hour) {
      for (int i = 0; i < 12; ++i) log.Inquiry(agency, Jst(1, hour, i * 4), ++person);
    }
  }
  for (int i = 0; i < 60; ++i) log.Inquiry("A01", Jst(1, 12, i), ++person);
  std::vector<uint64_t> b02_heavy;
  for (int i = 0; i < 61; ++i) {
    b02_heavy.push_back(log.Inquiry("B02", Jst(1, 12, 0, i * 59), ++person));
  }
  // C03: one inquiry, two empty hours, then 49 — far above a baseline of 1/3, but under 50.
  log.Inquiry("C03", Jst(1, 9, 0), ++person);
  for (int i = 0; i < 49; ++i) log.Inquiry("C03", Jst(1, 12, i), ++person);

  std::vector<Anomaly> found = OfRule(Find(log), "volume");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].agency, "B02");
  EXPECT_EQ(found[0].count, 61u);
  EXPECT_DOUBLE_EQ(found[0].threshold, 60.0);
  EXPECT_EQ(found[0].sequences, b02_heavy);
}

TEST(AnomalyVolumeTest, TooFewBaselineBucketsAreNotFlagged) {
  Log log;
  uint32_t person = 0;
  // A01: first bucket 10:00, heavy at 12:00 — two earlier buckets, three required.
  for (int i = 0; i < 4; ++i) log.Inquiry("A01", Jst(1, 10, i), ++person);
  for (int i = 0; i < 60; ++i) log.Inquiry("A01", Jst(1, 12, i), ++person);
  std::vector<Anomaly> found = Find(log);
  EXPECT_TRUE(OfRule(found, "volume").empty());

  AnomalyThresholds two_buckets;
  two_buckets.volume_min_baseline_buckets = 2;
  found = OfRule(Find(log, {}, two_buckets), "volume");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].agency, "A01");
  EXPECT_DOUBLE_EQ(found[0].threshold, 10.0);  // 5 × (4 + 0) / 2
}

TEST(AnomalyVolumeTest, EmptyBucketsCountAsZeroInTheBaseline) {
  Log log;
  uint32_t person = 0;
  // 4 at 10:00, nothing at 11:00 and 12:00, 60 at 13:00: baseline (4 + 0 + 0) / 3.
  for (int i = 0; i < 4; ++i) log.Inquiry("A01", Jst(1, 10, i), ++person);
  std::vector<uint64_t> heavy;
  for (int i = 0; i < 60; ++i) heavy.push_back(log.Inquiry("A01", Jst(1, 13, i), ++person));
  std::vector<Anomaly> found = OfRule(Find(log), "volume");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].threshold, 5.0 * 4.0 / 3.0, 1e-9);
  EXPECT_EQ(found[0].sequences, heavy);
}

// ---- refusal burst ----

TEST(AnomalyRefusalBurstTest, FlagsRefusalsCrowdedIntoTheWindow) {
  Log log;
  std::vector<uint64_t> burst;
  log.Refusal("A01", Jst(1, 9, 52), 500);  // too early to share a window with 19 others
  for (int i = 0; i < 20; ++i) {
    burst.push_back(log.Refusal("A01", Jst(1, 10, 0, i * 10), i));
    log.Inquiry("A01", Jst(1, 10, 0, i * 10 + 5), i);  // accepted: not counted
    if (i < 5) log.Refusal("B02", Jst(1, 10, 0, i * 10), i);
  }
  log.Refusal("A01", Jst(1, 10, 15), 501);  // too late

  std::vector<Anomaly> found = OfRule(Find(log), "refusal_burst");
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.agency, "A01");
  EXPECT_EQ(a.count, 20u);
  EXPECT_DOUBLE_EQ(a.threshold, 20.0);
  EXPECT_EQ(a.from_unix_us, Jst(1, 10, 0, 0));
  EXPECT_EQ(a.to_unix_us, Jst(1, 10, 0, 190));
  EXPECT_EQ(a.sequences, burst);
  EXPECT_NE(a.explanation.find("20 inquiries refused"), std::string::npos) << a.explanation;
}

// Refusals the core aggregated (a flood held to its rate) count as many as they stand for,
// and, filed under no person, never make a person_focus flag.
TEST(AnomalyRefusalBurstTest, AnAggregateRefusalCountsAsTheRefusalsItStandsFor) {
  Log log;
  std::vector<uint64_t> aggregates;
  for (int i = 0; i < 12; ++i) aggregates.push_back(log.Aggregate("A01", Jst(1, 10, 0, i), 3));
  log.Aggregate("B02", Jst(1, 10, 0), 19);  // one short of the threshold
  const std::vector<Anomaly> all = Find(log);
  std::vector<Anomaly> found = OfRule(all, "refusal_burst");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].agency, "A01");
  EXPECT_EQ(found[0].count, 36u);
  EXPECT_EQ(found[0].sequences, aggregates);
  EXPECT_NE(found[0].explanation.find("36 inquiries refused"), std::string::npos)
      << found[0].explanation;
  EXPECT_TRUE(OfRule(all, "person_focus").empty());
  // Refusals because the core could not record (its disk was full) blame no agency.
  Log outage;
  outage.Aggregate("C03", Jst(1, 10, 0), 500);
  outage.records().back().outcome = "RECORDS_UNAVAILABLE count=500 last=r from_us=1 to_us=2";
  EXPECT_TRUE(Find(outage).empty());
  EXPECT_EQ(AggregateCount("RATE_LIMITED count=7 last=x from_us=1 to_us=2"), 7u);
  EXPECT_EQ(AggregateCount("not_permitted"), 1u);
  EXPECT_EQ(AggregateCount("MALFORMED count=0"), 1u);
  EXPECT_EQ(AggregateCount("MALFORMED count=x"), 1u);
}

TEST(AnomalyRefusalBurstTest, ALongBurstIsOneFlagAndAGapStartsAnother) {
  Log log;
  std::vector<uint64_t> long_burst, short_burst;
  for (int i = 0; i < 60; ++i) long_burst.push_back(log.Refusal("A01", Jst(1, 10, 0, i * 20), i));
  for (int i = 0; i < 20; ++i) short_burst.push_back(log.Refusal("A01", Jst(1, 12, 0, i * 10), i));
  for (int i = 0; i < 19; ++i) log.Refusal("A01", Jst(1, 14, 0, i), i);

  std::vector<Anomaly> found = OfRule(Find(log), "refusal_burst");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].count, 60u);
  EXPECT_EQ(found[0].sequences, long_burst);
  EXPECT_NE(found[0].explanation.find("up to 30 within 10 minutes"), std::string::npos)
      << found[0].explanation;
  EXPECT_EQ(found[1].count, 20u);
  EXPECT_EQ(found[1].sequences, short_burst);
}

TEST(AnomalyRefusalBurstTest, NearMissesAreNotFlagged) {
  Log log;
  // A01: 19 refusals in three minutes, the 20th exactly ten minutes after the first (the
  // window is half-open, so no ten-minute window holds 20).
  for (int i = 0; i < 19; ++i) log.Refusal("A01", Jst(1, 10, 0, i * 10), i);
  log.Refusal("A01", Jst(1, 10, 10), 19);
  // B02: the same, the 20th one microsecond earlier — flagged.
  std::vector<uint64_t> b02;
  for (int i = 0; i < 19; ++i) b02.push_back(log.Refusal("B02", Jst(1, 10, 0, i * 10), i));
  b02.push_back(log.Refusal("B02", Jst(1, 10, 10) - 1, 19));
  // C03: 19 refusals in one minute.
  for (int i = 0; i < 19; ++i) log.Refusal("C03", Jst(1, 10, 0, i), i);

  std::vector<Anomaly> found = OfRule(Find(log), "refusal_burst");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].agency, "B02");
  EXPECT_EQ(found[0].sequences, b02);
}

// ---- person focus ----

TEST(AnomalyPersonFocusTest, FlagsOneAgencyAskingAboutOnePersonRepeatedly) {
  Log log;
  std::vector<uint64_t> focus;
  for (int i = 0; i < 10; ++i) {
    // Refused inquiries count too.
    focus.push_back(i % 4 == 0 ? log.Refusal("A01", Jst(1, 9, i * 5), 7)
                               : log.Inquiry("A01", Jst(1, 9, i * 5), 7));
    log.Inquiry("A01", Jst(1, 9, i * 5, 30), 100 + i);         // other people
    if (i < 5) log.Inquiry("B02", Jst(1, 9, i * 5), 7);        // another agency, same person
    log.Add(Event::kProvided, "A01", Jst(1, 9, i * 5, 1), 7);  // not an inquiry
  }

  std::vector<Anomaly> found = Find(log);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.rule, "person_focus");
  EXPECT_EQ(a.agency, "A01");
  EXPECT_EQ(a.count, 10u);
  EXPECT_DOUBLE_EQ(a.threshold, 10.0);
  EXPECT_EQ(a.from_unix_us, Jst(1, 9, 0));
  EXPECT_EQ(a.to_unix_us, Jst(1, 9, 45));
  EXPECT_EQ(a.sequences, focus);
  EXPECT_NE(a.explanation.find("10 inquiries about one person"), std::string::npos)
      << a.explanation;
  const std::array<uint8_t, 32> symbol = Person(7);
  EXPECT_EQ(a.explanation.find(HexEncode(symbol)), std::string::npos);
  EXPECT_EQ(a.explanation.find(std::string(symbol.begin(), symbol.end())), std::string::npos);
}

TEST(AnomalyPersonFocusTest, NearMissesAreNotFlagged) {
  Log log;
  // A01: nine about person 7 within 40 minutes, the tenth exactly an hour after the first.
  for (int i = 0; i < 9; ++i) log.Inquiry("A01", Jst(1, 9, i * 5), 7);
  log.Inquiry("A01", Jst(1, 10, 0), 7);
  // B02: nine about person 7 within ten minutes.
  for (int i = 0; i < 9; ++i) log.Inquiry("B02", Jst(1, 9, i), 7);
  // C03: ten within five minutes, each about a different person.
  for (int i = 0; i < 10; ++i) log.Inquiry("C03", Jst(1, 9, 0, i * 30), 200 + i);

  EXPECT_TRUE(Find(log).empty());

  log.Inquiry("B02", Jst(1, 9, 30), 7);  // the tenth for B02 within the hour
  std::vector<Anomaly> found = Find(log);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].agency, "B02");
  EXPECT_EQ(found[0].count, 10u);
}

// ---- off hours ----

TEST(AnomalyOffHoursTest, FlagsInquiriesOutsideHoursAndGrace) {
  Log log;
  const std::map<std::string, OfficeHours> hours = {{"A01", {8 * 60 + 30, 17 * 60 + 15}}};
  std::vector<uint64_t> off;
  off.push_back(log.Inquiry("A01", Jst(1, 7, 59, 59), 1));  // before 08:00 (08:30 − 30)
  log.Inquiry("A01", Jst(1, 8, 0), 2);                      // within the grace period
  log.Inquiry("A01", Jst(1, 12, 0), 3);
  log.Inquiry("A01", Jst(1, 17, 44, 59), 4);             // within the grace period
  off.push_back(log.Inquiry("A01", Jst(1, 17, 45), 5));  // 17:15 + 30
  off.push_back(log.Refusal("A01", Jst(1, 23, 0), 6));   // refused inquiries count
  log.Inquiry("B02", Jst(1, 3, 0), 7);                   // no declared hours

  std::vector<Anomaly> found = Find(log, hours);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.rule, "off_hours");
  EXPECT_EQ(a.agency, "A01");
  EXPECT_EQ(a.count, 3u);
  EXPECT_DOUBLE_EQ(a.threshold, 1.0);
  EXPECT_EQ(a.from_unix_us, Jst(1, 0, 0));
  EXPECT_EQ(a.to_unix_us, Jst(2, 0, 0));
  EXPECT_EQ(a.sequences, off);
  EXPECT_NE(a.explanation.find("08:30-17:15"), std::string::npos) << a.explanation;
  EXPECT_NE(a.explanation.find("2024-05-01"), std::string::npos) << a.explanation;
}

TEST(AnomalyOffHoursTest, NearMissesAreNotFlagged) {
  Log log;
  std::map<std::string, OfficeHours> hours = {{"A01", {8 * 60 + 30, 17 * 60 + 15}},
                                              {"B02", {0, 24 * 60}}};
  log.Inquiry("A01", Jst(1, 8, 0), 1);
  log.Inquiry("A01", Jst(1, 17, 44, 59), 2);
  log.Inquiry("B02", Jst(1, 0, 0), 3);
  log.Inquiry("B02", Jst(1, 23, 59, 59), 4);
  EXPECT_TRUE(Find(log, hours).empty());

  // Without grace, the same inquiries by A01 are off hours.
  AnomalyThresholds no_grace;
  no_grace.off_hours_grace_minutes = 0;
  std::vector<Anomaly> found = Find(log, hours, no_grace);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].sequences, (std::vector<uint64_t>{0, 1}));

  // Fewer off-hours inquiries in the day than the minimum.
  AnomalyThresholds at_least_three = no_grace;
  at_least_three.off_hours_min_count = 3;
  EXPECT_TRUE(Find(log, hours, at_least_three).empty());
}

TEST(AnomalyOffHoursTest, GroupsByJstDayAcrossTheUtcDayBoundary) {
  Log log;
  const std::map<std::string, OfficeHours> hours = {{"A01", {9 * 60, 17 * 60}}};
  // Office with grace: 08:30-17:30 JST = 23:30-08:30 UTC.
  const uint64_t early = log.Inquiry("A01", kMay1Utc - 1 * kHour, 1);  // 05-01 08:00 JST
  log.Inquiry("A01", kMay1Utc, 2);                                     // 05-01 09:00 JST
  const uint64_t late = log.Inquiry("A01", kMay1Utc + 14 * kHour, 3);  // 05-01 23:00 JST
  const uint64_t after_midnight =
      log.Inquiry("A01", kMay1Utc + 15 * kHour, 4);  // 05-02 00:00 JST, same UTC day as `late`

  std::vector<Anomaly> found = Find(log, hours);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].from_unix_us, kMay1Utc - 9 * kHour);
  EXPECT_EQ(found[0].to_unix_us, kMay1Utc + 15 * kHour);
  EXPECT_EQ(found[0].sequences, (std::vector<uint64_t>{early, late}));
  EXPECT_NE(found[0].explanation.find("on 2024-05-01"), std::string::npos) << found[0].explanation;
  EXPECT_EQ(found[1].from_unix_us, kMay1Utc + 15 * kHour);
  EXPECT_EQ(found[1].sequences, (std::vector<uint64_t>{after_midnight}));
  EXPECT_NE(found[1].explanation.find("on 2024-05-02"), std::string::npos) << found[1].explanation;
}

// ---- every rule ----

TEST(AnomalyRulesTest, OperatorActionsAndLaterEventsAreIgnored) {
  Log log;
  const std::map<std::string, OfficeHours> hours = {{"A01", {9 * 60, 17 * 60}}};
  // Enough operator actions by A01 to trip every rule, were they inquiries.
  for (int hour = 0; hour < 4; ++hour) {
    for (int i = 0; i < 4; ++i) {
      log.Add(Event::kOperatorAction, "A01", Jst(1, hour, i), 0);
      log.records().back().record_symbol = records::kAuditRecordSymbol;
    }
  }
  for (int i = 0; i < 100; ++i) {
    log.Add(Event::kOperatorAction, "A01", Jst(1, 4, 0, i), 0);
    log.records().back().record_symbol = records::kAuditRecordSymbol;
    log.records().back().outcome = "refused: not permitted";
  }
  for (Event e : {Event::kForwarded, Event::kProvided, Event::kNotHeld, Event::kFailed,
                  Event::kTimedOut, Event::kReceived}) {
    for (int i = 0; i < 30; ++i) log.Add(e, "A01", Jst(1, 3, 0, i), 5);
  }
  EXPECT_TRUE(Find(log, hours).empty());

  const uint64_t inquiry = log.Inquiry("A01", Jst(1, 3, 0), 5);
  std::vector<Anomaly> found = Find(log, hours);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "off_hours");
  EXPECT_EQ(found[0].sequences, (std::vector<uint64_t>{inquiry}));
}

TEST(AnomalyRulesTest, ResultIsSortedAndIndependentOfInputOrder) {
  Log log;
  const std::map<std::string, OfficeHours> hours = {{"A01", {9 * 60, 17 * 60}},
                                                    {"B02", {9 * 60, 17 * 60}}};
  log.Inquiry("B02", Jst(1, 2, 0), 1);  // off hours, day 05-01
  log.Inquiry("A01", Jst(1, 2, 0), 1);  // off hours, day 05-01
  for (int i = 0; i < 20; ++i) log.Refusal("B02", Jst(1, 10, 0, i), 300 + i);
  for (int i = 0; i < 10; ++i) log.Inquiry("A01", Jst(1, 11, i), 9);
  for (int i = 0; i < 10; ++i) log.Inquiry("A01", Jst(2, 11, i), 9);

  const std::vector<Anomaly> found = Find(log, hours);
  std::vector<std::tuple<int64_t, std::string, std::string>> keys;
  for (const Anomaly& a : found) keys.emplace_back(a.from_unix_us, a.rule, a.agency);
  const std::vector<std::tuple<int64_t, std::string, std::string>> expected = {
      {Jst(1, 0, 0), "off_hours", "A01"},      {Jst(1, 0, 0), "off_hours", "B02"},
      {Jst(1, 10, 0), "refusal_burst", "B02"}, {Jst(1, 11, 0), "person_focus", "A01"},
      {Jst(2, 11, 0), "person_focus", "A01"},
  };
  EXPECT_EQ(keys, expected);
  for (const Anomaly& a : found) {
    EXPECT_TRUE(std::is_sorted(a.sequences.begin(), a.sequences.end())) << a.rule;
  }

  std::mt19937 rng(42);
  std::shuffle(log.records().begin(), log.records().end(), rng);
  EXPECT_EQ(Find(log, hours), found);
}

// ---- thresholds file ----

TEST(AnomalyThresholdsTest, ParsesAFileWithCommentsAndBlankLines) {
  Result<AnomalyThresholds> parsed = ParseAnomalyThresholds(
      "# the commission's thresholds\n"
      "\n"
      "volume_factor = 2.5\n"
      "  refusal_min_count=30   # raised after review\r\n"
      "\t\n"
      "person_window_minutes = 120\n"
      "volume_min_baseline_buckets = 24\n"
      "off_hours_grace_minutes = 15");  // no final newline
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  AnomalyThresholds expected;
  expected.volume_factor = 2.5;
  expected.refusal_min_count = 30;
  expected.person_window_minutes = 120;
  expected.volume_min_baseline_buckets = 24;
  expected.off_hours_grace_minutes = 15;
  EXPECT_EQ(*parsed, expected);

  Result<AnomalyThresholds> empty = ParseAnomalyThresholds("# nothing set\n\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, AnomalyThresholds{});
}

TEST(AnomalyThresholdsTest, EveryKeyIsAccepted) {
  Result<AnomalyThresholds> parsed = ParseAnomalyThresholds(
      "volume_bucket_minutes = 1\nvolume_min_baseline_buckets = 2\nvolume_factor = 3\n"
      "volume_min_count = 4\nrefusal_window_minutes = 5\nrefusal_min_count = 6\n"
      "person_window_minutes = 7\nperson_min_count = 8\noff_hours_grace_minutes = 9\n"
      "off_hours_min_count = 10\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->volume_bucket_minutes, 1);
  EXPECT_EQ(parsed->volume_min_baseline_buckets, 2);
  EXPECT_DOUBLE_EQ(parsed->volume_factor, 3.0);
  EXPECT_EQ(parsed->volume_min_count, 4u);
  EXPECT_EQ(parsed->refusal_window_minutes, 5);
  EXPECT_EQ(parsed->refusal_min_count, 6u);
  EXPECT_EQ(parsed->person_window_minutes, 7);
  EXPECT_EQ(parsed->person_min_count, 8u);
  EXPECT_EQ(parsed->off_hours_grace_minutes, 9);
  EXPECT_EQ(parsed->off_hours_min_count, 10u);
}

void ExpectLineError(std::string_view text, std::string_view line, std::string_view mention) {
  Result<AnomalyThresholds> parsed = ParseAnomalyThresholds(text);
  ASSERT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(line), std::string::npos) << parsed.status().ToString();
  EXPECT_NE(parsed.status().message().find(mention), std::string::npos)
      << parsed.status().ToString();
}

TEST(AnomalyThresholdsTest, UnknownKeyNamesTheLine) {
  ExpectLineError("# ok\nvolume_factor = 3\nvolume_facter = 4\n", "line 3", "volume_facter");
  ExpectLineError("Volume_Factor = 4\n", "line 1", "Volume_Factor");
}

TEST(AnomalyThresholdsTest, BadNumbersNameTheLine) {
  ExpectLineError("volume_min_count = 5x\n", "line 1", "volume_min_count");
  ExpectLineError("\nrefusal_min_count = twenty\n", "line 2", "refusal_min_count");
  ExpectLineError("person_min_count =\n", "line 1", "person_min_count");
  ExpectLineError("volume_bucket_minutes = 1.5\n", "line 1", "volume_bucket_minutes");
  ExpectLineError("volume_factor = 2.5.1\n", "line 1", "volume_factor");
  ExpectLineError("volume_factor = inf\n", "line 1", "volume_factor");
  ExpectLineError("volume_factor = nan\n", "line 1", "volume_factor");
  ExpectLineError("person_min_count = 99999999999999999999\n", "line 1", "out of range");
  ExpectLineError("volume_min_baseline_buckets = 3000000000\n", "line 1", "out of range");
  ExpectLineError("refusal_window_minutes = 100000000000\n", "line 1", "out of range");
}

TEST(AnomalyThresholdsTest, NonPositiveValuesNameTheLine) {
  ExpectLineError("refusal_min_count = 0\n", "line 1", "positive");
  ExpectLineError("# x\n\nperson_window_minutes = -5\n", "line 3", "positive");
  ExpectLineError("volume_factor = 0.0\n", "line 1", "positive");
  ExpectLineError("volume_factor = -1\n", "line 1", "positive");
  ExpectLineError("off_hours_grace_minutes = 0\n", "line 1", "positive");
}

TEST(AnomalyThresholdsTest, MalformedLinesAndRepeatsNameTheLine) {
  ExpectLineError("volume_factor 5\n", "line 1", "key = value");
  ExpectLineError("volume_factor = 5\nvolume_factor = 6\n", "line 2", "twice");
  ExpectLineError("= 5\n", "line 1", "unknown key");
}

TEST(AnomalyThresholdsTest, LoadsAFileAndNamesItOnError) {
  testing::TempDir dir;
  const std::string good = dir.Sub("thresholds.conf");
  std::ofstream(good) << "person_min_count = 4\n";
  Result<AnomalyThresholds> loaded = LoadAnomalyThresholds(good);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->person_min_count, 4u);

  const std::string bad = dir.Sub("bad.conf");
  std::ofstream(bad) << "person_min_count = 4\nperson_max_count = 5\n";
  loaded = LoadAnomalyThresholds(bad);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find(bad), std::string::npos);
  EXPECT_NE(loaded.status().message().find("line 2"), std::string::npos);

  EXPECT_FALSE(LoadAnomalyThresholds(dir.Sub("missing.conf")).ok());
}

}  // namespace
}  // namespace ipn::oversight
