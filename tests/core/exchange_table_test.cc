// ExchangeTable and Exchange: open exchanges by id, deadlines, the duplicate guard's
// memory, and one exchange's transitions.
#include "core/exchange_table.h"

#include <gtest/gtest.h>

namespace ipn::core {
namespace {

// An exchange whose receipt deadline is 400 µs after its deadline.
Exchange Make(const std::string& id, const std::string& request_id, int64_t deadline,
              int64_t accepted = 0) {
  ExchangeFacts f;
  f.inquirer = "MUN-131016";
  f.provider = "PEN-0001";
  f.request_id = request_id;
  return Exchange(id, f, accepted, deadline, deadline + 400);
}

TEST(ExchangeTableTest, RequestIdsAreScopedByInquirer) {
  EXPECT_NE(ExchangeTable::Key("A", "1"), ExchangeTable::Key("B", "1"));
  // The separator keeps ("AB","1") and ("A","B1") apart.
  EXPECT_NE(ExchangeTable::Key("AB", "1"), ExchangeTable::Key("A", "B1"));
}

TEST(ExchangeTableTest, AnOpenRequestIdIsADuplicateHoweverLongItStaysOpen) {
  ExchangeTable t(/*remember_us=*/1000);
  const std::string k = ExchangeTable::Key("MUN-131016", "r");
  EXPECT_FALSE(t.Seen(k));
  t.Open(Make("x1", "r", 500));
  EXPECT_TRUE(t.Seen(k));
  t.Forget(1'000'000);
  EXPECT_TRUE(t.Seen(k));
  ASSERT_NE(t.Find("x1"), nullptr);
  EXPECT_EQ(t.Find("r"), nullptr) << "found by exchange id only";
}

TEST(ExchangeTableTest, AClosedRequestIdIsRememberedForTheWindowFromItsClose) {
  ExchangeTable t(/*remember_us=*/1000);
  const std::string k = ExchangeTable::Key("MUN-131016", "r");
  t.RememberUsed(k, 0);  // as the broker does on arrival
  t.Open(Make("x1", "r", 500));
  t.Close("x1", /*now_us=*/400);
  EXPECT_EQ(t.Find("x1"), nullptr);
  t.Forget(1400);  // 400 + 1000 is not yet past
  EXPECT_TRUE(t.Seen(k));
  t.Forget(1401);
  EXPECT_FALSE(t.Seen(k));
}

TEST(ExchangeTableTest, SilentExchangesAreDueAtTheirDeadlineAnsweredOnesAtTheirReceiptDeadline) {
  ExchangeTable t(1000);
  t.Open(Make("a", "1", 100));
  t.Open(Make("b", "2", 100));
  t.Open(Make("c", "3", 300));
  t.Find("b")->SetOutcome(v1::OUTCOME_PROVIDED, false);  // the provider answered in time
  EXPECT_EQ(t.NextDeadline(), 100);
  EXPECT_EQ(t.Expired(99), std::vector<std::string>{});
  EXPECT_EQ(t.Expired(100), std::vector<std::string>{"a"});
  t.Close("a", 100);
  t.Forget(100);
  EXPECT_EQ(t.NextDeadline(), 300);
  EXPECT_EQ(t.Expired(499), std::vector<std::string>{"c"});
  EXPECT_EQ(t.Expired(500), (std::vector<std::string>{"c", "b"}));
  t.Find("b")->SetReceipt();  // closed by both events: due no more
  EXPECT_EQ(t.Expired(1000), std::vector<std::string>{"c"});
}

TEST(ExchangeTest, ClosesOnOutcomeAndReceiptInEitherOrderEachOnce) {
  Exchange x = Make("x1", "r", 100);
  EXPECT_FALSE(x.closed());
  EXPECT_TRUE(x.SetReceipt());
  EXPECT_FALSE(x.SetReceipt());
  EXPECT_FALSE(x.closed());
  EXPECT_TRUE(x.SetOutcome(v1::OUTCOME_NOT_HELD, true));
  EXPECT_FALSE(x.SetOutcome(v1::OUTCOME_PROVIDED, false));
  EXPECT_TRUE(x.closed());
  EXPECT_EQ(x.outcome(), v1::OUTCOME_NOT_HELD);
  EXPECT_TRUE(x.non_disclosure());
}

TEST(ExchangeTest, AnyOutcomeButProvidedNotHeldOrTimedOutIsAFailure) {
  Exchange x = Make("x1", "r", 100);
  EXPECT_TRUE(x.SetOutcome(v1::OUTCOME_REFUSED, false));
  EXPECT_EQ(x.outcome(), v1::OUTCOME_FAILED);
}

TEST(ExchangeTest, ItsRecordsCarryItsFacts) {
  Exchange x = Make("x1", "r", 100);
  x.SetOutcome(v1::OUTCOME_PROVIDED, true);
  records::Record r = x.MakeRecord(records::Event::kProvided, "PROVIDED", 77);
  EXPECT_EQ(r.time_unix_us, 77);
  EXPECT_EQ(r.inquirer, "MUN-131016");
  EXPECT_EQ(r.provider, "PEN-0001");
  EXPECT_EQ(r.request_id, "r");
  EXPECT_EQ(r.outcome, "PROVIDED");
  EXPECT_TRUE(r.non_disclosure);
}

}  // namespace
}  // namespace ipn::core
