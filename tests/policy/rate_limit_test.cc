// Per-agency token buckets, alone and through PolicyStore::CheckAndCharge, on a ManualClock.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/clock.h"
#include "policy/rate_limiter.h"
#include "tests/policy/policy_test_util.h"

namespace ipn::policy {
namespace {

using testing::Contains;

constexpr int64_t kSecond = 1'000'000;

TEST(RateLimitTest, BucketStartsFullAndRefillsAtTheRate) {
  ManualClock clock(testing::JstNoon("2025-04-01"));
  RateLimiter limiter;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("A", 2, 3, clock.NowMicros())) << i;
  EXPECT_FALSE(limiter.TryAcquire("A", 2, 3, clock.NowMicros()));
  clock.Advance(kSecond / 4);  // half a token
  EXPECT_FALSE(limiter.TryAcquire("A", 2, 3, clock.NowMicros()));
  clock.Advance(kSecond / 4);  // one token
  EXPECT_TRUE(limiter.TryAcquire("A", 2, 3, clock.NowMicros()));
  EXPECT_FALSE(limiter.TryAcquire("A", 2, 3, clock.NowMicros()));
  clock.Advance(60 * kSecond);  // refills only up to the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("A", 2, 3, clock.NowMicros()));
  EXPECT_FALSE(limiter.TryAcquire("A", 2, 3, clock.NowMicros()));
  // Another agency has its own bucket.
  EXPECT_TRUE(limiter.TryAcquire("B", 2, 3, clock.NowMicros()));
}

TEST(RateLimitTest, TimeGoingBackwardsRefillsNothing) {
  ManualClock clock(100 * kSecond);
  RateLimiter limiter;
  EXPECT_TRUE(limiter.TryAcquire("A", 1, 1, clock.NowMicros()));
  clock.Set(50 * kSecond);
  EXPECT_FALSE(limiter.TryAcquire("A", 1, 1, clock.NowMicros()));
  clock.Set(100 * kSecond + kSecond / 2);
  EXPECT_FALSE(limiter.TryAcquire("A", 1, 1, clock.NowMicros()));
  clock.Set(101 * kSecond);
  EXPECT_TRUE(limiter.TryAcquire("A", 1, 1, clock.NowMicros()));
}

TEST(RateLimitTest, ASmallerBurstAppliesAtOnce) {
  RateLimiter limiter;
  EXPECT_TRUE(limiter.TryAcquire("A", 1, 10, 0));  // 9 left
  EXPECT_TRUE(limiter.TryAcquire("A", 1, 2, 0));   // capped to 2, then 1 left
  EXPECT_TRUE(limiter.TryAcquire("A", 1, 2, 0));
  EXPECT_FALSE(limiter.TryAcquire("A", 1, 2, 0));
}

TEST(RateLimitTest, ConcurrentCallersGetExactlyTheBurst) {
  RateLimiter limiter;
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.TryAcquire("A", 0.001, 1500, 7 * kSecond)) granted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 1500);
}

class RateLimitStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgencyOverride limited;
    limited.rate_per_second = 1;
    limited.burst = 2;
    ASSERT_TRUE(store_.Load(testing::DemoBundle(admin_, 1, {{"MUN-131016", limited}})).ok());
  }
  Decision Ask(const char* inquirer = "MUN-131016", const char* item = "pension") {
    return store_.CheckAndCharge(inquirer, "ltc-insurance", "PEN-0001", item, clock_.NowMicros());
  }
  AdminKeyPair admin_ = GenerateAdminKeyPair();
  PolicyStore store_{admin_.public_key};
  ManualClock clock_{testing::JstNoon("2025-04-01")};
};

TEST_F(RateLimitStoreTest, AnAllowedInquiryOverTheLimitIsRateLimited) {
  EXPECT_TRUE(Ask().allowed);
  EXPECT_TRUE(Ask().allowed);
  Decision third = Ask();
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.reason, DenyReason::kRateLimited);
  EXPECT_EQ(third.row, -1);
  EXPECT_TRUE(Contains(third.Explain(),
                       "inquirer MUN-131016 is over its rate limit (1 per "
                       "second, burst 2); policy version 1"))
      << third.Explain();
  // Others are not affected.
  EXPECT_TRUE(Ask("MUN-271004").allowed);
  clock_.Advance(kSecond);
  EXPECT_TRUE(Ask().allowed);
  EXPECT_EQ(Ask().reason, DenyReason::kRateLimited);
}

TEST_F(RateLimitStoreTest, DeniedInquiriesCostTokensButKeepTheirReason) {
  Decision d1 = Ask("MUN-131016", "no-such-item");
  Decision d2 = Ask("MUN-131016", "no-such-item");
  Decision d3 = Ask("MUN-131016", "no-such-item");  // bucket empty, reason unchanged
  for (const Decision& d : {d1, d2, d3}) EXPECT_EQ(d.reason, DenyReason::kUnknownItem);
  EXPECT_EQ(Ask().reason, DenyReason::kRateLimited);
  // Unknown inquirers are refused without a bucket.
  EXPECT_EQ(Ask("MUN-999999").reason, DenyReason::kUnknownInquirer);
}

TEST_F(RateLimitStoreTest, AReloadDoesNotRefillTheBucket) {
  EXPECT_TRUE(Ask().allowed);
  EXPECT_TRUE(Ask().allowed);
  AgencyOverride limited;
  limited.rate_per_second = 1;
  limited.burst = 2;
  ASSERT_TRUE(store_.Load(testing::DemoBundle(admin_, 2, {{"MUN-131016", limited}})).ok());
  Decision d = Ask();
  EXPECT_EQ(d.reason, DenyReason::kRateLimited);
  EXPECT_EQ(d.policy_version, 2u);
}

}  // namespace
}  // namespace ipn::policy
