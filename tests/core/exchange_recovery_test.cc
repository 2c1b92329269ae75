// Exchange recovery: what a stopped core left open gets a definite end on record.
#include "core/exchange_recovery.h"

#include <gtest/gtest.h>

#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::core {
namespace {

using records::Event;
constexpr int64_t kT0 = 1'790'000'000'000'000;

records::Record Rec(const std::string& id, Event e, int64_t t, bool nd = false) {
  records::Record r;
  r.time_unix_us = t;
  r.event = e;
  r.record_symbol.fill(7);
  r.inquirer = "PEN-0001";
  r.provider = "MUN-131016";
  r.business = "np-benefit";
  r.item = "local-tax";
  r.request_id = id;
  r.outcome = "X";
  r.non_disclosure = nd;
  return r;
}

TEST(ExchangeRecoveryTest, EveryExchangeLeftOpenGetsOneClosingRecord) {
  ::ipn::testing::TempDir dir;
  records::testing::TestKeys keys;
  auto store = records::RecordStore::Open(keys.Options(dir.Sub("records")));
  ASSERT_TRUE(store.ok());
  std::vector<records::Record> log = {
      Rec("old", Event::kInquiryAccepted, kT0 - 100),  // before the window: not seen
      Rec("a", Event::kInquiryAccepted, kT0),
      Rec("a", Event::kForwarded, kT0),
      Rec("b", Event::kInquiryAccepted, kT0 + 1),
      Rec("b", Event::kForwarded, kT0 + 1),
      Rec("b", Event::kProvided, kT0 + 2, true),
      Rec("c", Event::kInquiryAccepted, kT0 + 3),
      Rec("c", Event::kProvided, kT0 + 4),
      Rec("c", Event::kReceived, kT0 + 5),
      Rec("d", Event::kInquiryAccepted, kT0 + 6),
      Rec("d", Event::kTimedOut, kT0 + 7),
      Rec("e", Event::kInquiryRefused, kT0 + 8),
      Rec("g", Event::kInquiryAccepted, kT0 + 9),
      Rec("g", Event::kReceived, kT0 + 10),
  };
  ASSERT_TRUE((*store)->AppendBatch(log).ok());
  auto closing = CloseInterruptedExchanges(**store, kT0, kT0 + 1000);
  ASSERT_TRUE(closing.ok()) << closing.status().ToString();
  ASSERT_EQ(closing->size(), 3u);
  const records::Record& a = (*closing)[0];
  EXPECT_EQ(a.request_id, "a");
  EXPECT_EQ(a.event, Event::kTimedOut);
  EXPECT_EQ(a.outcome, "CORE_RESTARTED");
  EXPECT_EQ(a.time_unix_us, kT0 + 1000);
  EXPECT_EQ(a.provider, "MUN-131016");
  EXPECT_EQ(a.record_symbol, log[1].record_symbol);
  const records::Record& b = (*closing)[1];
  EXPECT_EQ(b.request_id, "b");
  EXPECT_EQ(b.event, Event::kReceived);
  EXPECT_EQ(b.outcome, "NOT_CONFIRMED");
  EXPECT_TRUE(b.non_disclosure) << "the exchange's non-disclosure flag carries over";
  const records::Record& g = (*closing)[2];
  EXPECT_EQ(g.request_id, "g");
  EXPECT_EQ(g.event, Event::kTimedOut) << "a receipt without an outcome: no outcome came";
}

TEST(ExchangeRecoveryTest, AClosedLogNeedsNothing) {
  ::ipn::testing::TempDir dir;
  records::testing::TestKeys keys;
  auto store = records::RecordStore::Open(keys.Options(dir.Sub("records")));
  ASSERT_TRUE(store.ok());
  auto closing = CloseInterruptedExchanges(**store, 0, kT0);
  ASSERT_TRUE(closing.ok());
  EXPECT_TRUE(closing->empty());
}

}  // namespace
}  // namespace ipn::core

namespace ipn::core {
namespace {

// A replicated core resumes the open exchanges (FindOpenExchanges). One carried over
// several failovers in a row has its acceptance before the window and only a later record
// (its outcome, or a receipt) in it: found through the person's history, with its real
// acceptance. One that closed across the window's start, and a "not issued" refusal (whose
// event is a not-held one), are not open.
TEST(ExchangeRecoveryTest, AnExchangeWhoseAcceptanceIsOlderThanTheWindowIsFoundByItsLaterRecords) {
  ::ipn::testing::TempDir dir;
  records::testing::TestKeys keys;
  auto store = records::RecordStore::Open(keys.Options(dir.Sub("records")));
  ASSERT_TRUE(store.ok());
  records::Record refusal = Rec("n", Event::kNotHeld, kT0 + 5);
  refusal.outcome = "NOT_ISSUED_TO_PROVIDER";
  std::vector<records::Record> log = {
      Rec("h", Event::kInquiryAccepted, kT0 - 100),  // before the window
      Rec("i", Event::kInquiryAccepted, kT0 - 90),   // before the window
      Rec("j", Event::kInquiryAccepted, kT0 - 80),   // before the window, closed inside it
      Rec("j", Event::kProvided, kT0 - 70),
      Rec("a", Event::kInquiryAccepted, kT0),
      Rec("h", Event::kProvided, kT0 + 1, true),
      Rec("i", Event::kReceived, kT0 + 2),
      Rec("j", Event::kReceived, kT0 + 3),
      Rec("k", Event::kReceived, kT0 + 4),  // no acceptance anywhere: nothing open
      refusal,
  };
  ASSERT_TRUE((*store)->AppendBatch(log).ok());
  auto open = FindOpenExchanges(**store, kT0, kT0 + 1000);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_EQ(open->size(), 3u);
  // Oldest acceptance first: h, i, a.
  const OpenExchange& h = (*open)[0];
  EXPECT_EQ(h.opening.request_id, "h");
  EXPECT_EQ(h.opening.event, Event::kInquiryAccepted);
  EXPECT_EQ(h.opening.time_unix_us, kT0 - 100) << "its real acceptance";
  ASSERT_TRUE(h.outcome.has_value());
  EXPECT_EQ(*h.outcome, Event::kProvided);
  EXPECT_FALSE(h.has_receipt);
  EXPECT_TRUE(h.non_disclosure);
  const OpenExchange& i = (*open)[1];
  EXPECT_EQ(i.opening.request_id, "i");
  EXPECT_FALSE(i.outcome.has_value());
  EXPECT_TRUE(i.has_receipt);
  EXPECT_EQ((*open)[2].opening.request_id, "a");
  // The lone core closes the same three, each with the end it lacks.
  auto closing = CloseInterruptedExchanges(**store, kT0, kT0 + 1000);
  ASSERT_TRUE(closing.ok());
  ASSERT_EQ(closing->size(), 3u);
  EXPECT_EQ((*closing)[0].request_id, "h");
  EXPECT_EQ((*closing)[0].outcome, "NOT_CONFIRMED");
  EXPECT_EQ((*closing)[1].request_id, "i");
  EXPECT_EQ((*closing)[1].outcome, "CORE_RESTARTED");
}

}  // namespace
}  // namespace ipn::core
