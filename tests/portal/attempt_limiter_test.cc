// The portal's attempt limits without a server: a burst, then one attempt per refill
// period, with the exact "try again at" moment; keys independent of each other; a refused
// attempt costs nothing; the table of keys bounded.
#include "portal/attempt_limiter.h"

#include <gtest/gtest.h>

namespace ipn::portal {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000'000;

TEST(AttemptLimiterTest, ABurstThenOneAttemptPerRefillWithTheExactRetryMoment) {
  ManualClock clock(kT0);
  AttemptLimiter limiter({3, 10'000'000, 100}, &clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Attempt("a").allowed) << i;
  AttemptDecision refused = limiter.Attempt("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.first_refusal);
  EXPECT_EQ(refused.retry_at_unix_us, kT0 + 10'000'000);
  // Refused attempts take nothing: the moment does not move, and only the first of a run
  // is flagged (the one the portal logs).
  AttemptDecision again = limiter.Attempt("a");
  EXPECT_FALSE(again.allowed);
  EXPECT_FALSE(again.first_refusal);
  EXPECT_EQ(again.retry_at_unix_us, kT0 + 10'000'000);
  clock.Set(kT0 + 10'000'000 - 1);
  EXPECT_FALSE(limiter.Attempt("a").allowed);
  clock.Set(kT0 + 10'000'000);
  EXPECT_TRUE(limiter.Attempt("a").allowed);
  AttemptDecision next = limiter.Attempt("a");
  EXPECT_FALSE(next.allowed);
  EXPECT_TRUE(next.first_refusal);
  EXPECT_EQ(next.retry_at_unix_us, kT0 + 20'000'000);
  // Idle long enough, the whole burst is back (and not more).
  clock.Advance(1'000'000'000);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Attempt("a").allowed) << i;
  EXPECT_FALSE(limiter.Attempt("a").allowed);
}

TEST(AttemptLimiterTest, KeysAreLimitedIndependently) {
  ManualClock clock(kT0);
  AttemptLimiter limiter({1, 60'000'000, 100}, &clock);
  EXPECT_TRUE(limiter.Attempt("client-1").allowed);
  EXPECT_FALSE(limiter.Attempt("client-1").allowed);
  EXPECT_TRUE(limiter.Attempt("client-2").allowed);
  EXPECT_EQ(limiter.keys(), 2u);
}

TEST(AttemptLimiterTest, TheTableOfKeysIsBoundedLeastRecentlyUsedFirst) {
  ManualClock clock(kT0);
  AttemptLimiter limiter({1, 60'000'000, 3}, &clock);
  EXPECT_TRUE(limiter.Attempt("k1").allowed);
  EXPECT_TRUE(limiter.Attempt("k2").allowed);
  EXPECT_TRUE(limiter.Attempt("k3").allowed);
  EXPECT_FALSE(limiter.Attempt("k1").allowed);  // k1 is now the most recently used
  for (int i = 0; i < 1000; ++i) limiter.Attempt("flood-" + std::to_string(i));
  EXPECT_EQ(limiter.keys(), 3u);
  // The flood pushed everything else out; a flood key just used is still held.
  EXPECT_FALSE(limiter.Attempt("flood-999").allowed);
}

}  // namespace
}  // namespace ipn::portal
