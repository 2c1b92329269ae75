// RefusalLedger: refusals filed under no person, one aggregate record per agency, reason
// and interval, with the count, the interval and the first and last request ids.
#include "core/refusal_ledger.h"

#include <gtest/gtest.h>

namespace ipn::core {
namespace {

TEST(RefusalLedgerTest, CountsPerAgencyAndReasonAndIsDueAfterTheInterval) {
  RefusalLedger ledger(1'000);
  ledger.Add("PEN-0001", "RATE_LIMITED", "r1", 100);
  ledger.Add("PEN-0001", "RATE_LIMITED", "r2", 200);
  ledger.Add("PEN-0001", "MALFORMED", "m1", 300);
  ledger.Add("MUN-131016", "RATE_LIMITED", "q1", 400);
  EXPECT_EQ(ledger.open(), 3u);
  EXPECT_EQ(ledger.NextDue(), 1'100);
  EXPECT_TRUE(ledger.TakeDue(1'099).empty());
  std::vector<RefusalTally> due = ledger.TakeDue(1'100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].agency, "PEN-0001");
  EXPECT_EQ(due[0].reason, "RATE_LIMITED");
  EXPECT_EQ(due[0].count, 2u);
  EXPECT_EQ(due[0].first_us, 100);
  EXPECT_EQ(due[0].last_us, 200);
  EXPECT_EQ(due[0].first_request_id, "r1");
  EXPECT_EQ(due[0].last_request_id, "r2");
  EXPECT_EQ(ledger.NextDue(), 1'300);
  // Everything, in time order, at shutdown.
  std::vector<RefusalTally> rest = ledger.TakeDue(0, /*all=*/true);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].reason, "MALFORMED");
  EXPECT_EQ(rest[1].agency, "MUN-131016");
  EXPECT_EQ(ledger.open(), 0u);
  EXPECT_FALSE(ledger.NextDue().has_value());
}

TEST(RefusalLedgerTest, AnAggregateIsOneRecordFiledUnderNoOne) {
  RefusalTally t{"PEN-0001", "RATE_LIMITED", 999, 1'000, 2'000, "t1", "t999"};
  const records::Record r = t.ToRecord();
  EXPECT_EQ(r.event, records::Event::kInquiryRefused);
  EXPECT_EQ(r.record_symbol, (std::array<uint8_t, 32>{}));
  EXPECT_EQ(r.inquirer, "PEN-0001");
  EXPECT_EQ(r.request_id, "t1");
  EXPECT_EQ(r.time_unix_us, 2'000);
  EXPECT_EQ(r.outcome, "RATE_LIMITED count=999 last=t999 from_us=1000 to_us=2000");
  EXPECT_TRUE(records::ValidateRecord(r).ok());
}

TEST(RefusalLedgerTest, UnrecordableRequestIdsAreMadeFit) {
  RefusalTally t{"PEN-0001", "MALFORMED", 1, 1, 1, std::string("bad\x01\xff", 5), "x"};
  const records::Record r = t.ToRecord();
  EXPECT_TRUE(records::ValidateRecord(r).ok()) << r.request_id;
}

}  // namespace
}  // namespace ipn::core
