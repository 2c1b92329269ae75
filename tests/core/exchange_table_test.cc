// ExchangeTable: open exchanges, deadlines, and the duplicate guard's memory.
#include "core/exchange_table.h"

#include <gtest/gtest.h>

namespace ipn::core {
namespace {

Exchange Make(int64_t deadline) {
  Exchange x;
  x.inquirer = "MUN-131016";
  x.request_id = "r";
  x.deadline_us = deadline;
  return x;
}

TEST(ExchangeTableTest, RequestIdsAreScopedByInquirer) {
  EXPECT_NE(ExchangeTable::Key("A", "1"), ExchangeTable::Key("B", "1"));
  // The separator keeps ("AB","1") and ("A","B1") apart.
  EXPECT_NE(ExchangeTable::Key("AB", "1"), ExchangeTable::Key("A", "B1"));
}

TEST(ExchangeTableTest, OpenAndClosedIdsAreDuplicatesUntilForgotten) {
  ExchangeTable t(/*remember_us=*/1000);
  const std::string k = ExchangeTable::Key("A", "1");
  EXPECT_FALSE(t.Seen(k));
  t.Open(k, Make(500));
  EXPECT_TRUE(t.Seen(k));
  ASSERT_NE(t.Find(k), nullptr);
  t.Close(k, /*now_us=*/100);
  EXPECT_EQ(t.Find(k), nullptr);
  EXPECT_TRUE(t.Seen(k));
  t.Forget(1000);  // 100 + 1000 is not yet past
  EXPECT_TRUE(t.Seen(k));
  t.Forget(1101);
  EXPECT_FALSE(t.Seen(k));
}

TEST(ExchangeTableTest, OnlySilentExchangesPastTheirDeadlineExpire) {
  ExchangeTable t(1000);
  const std::string a = ExchangeTable::Key("A", "1"), b = ExchangeTable::Key("A", "2"),
                    c = ExchangeTable::Key("A", "3");
  t.Open(a, Make(100));
  t.Open(b, Make(100));
  t.Open(c, Make(300));
  t.Find(b)->outcome_recorded = true;  // the provider answered in time
  EXPECT_EQ(t.NextDeadline(), 100);
  EXPECT_EQ(t.Expired(99), std::vector<std::string>{});
  EXPECT_EQ(t.Expired(100), std::vector<std::string>{a});
  t.Close(a, 100);
  t.Forget(100);
  EXPECT_EQ(t.NextDeadline(), 300);
  EXPECT_EQ(t.Expired(1000), std::vector<std::string>{c});
}

}  // namespace
}  // namespace ipn::core
