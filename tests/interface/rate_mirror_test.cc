// RateMirror: the node's copy of its agency's token bucket.
#include "interface/rate_mirror.h"

#include <gtest/gtest.h>

namespace ipn::interface {
namespace {

TEST(RateMirrorTest, HoldsToTheRateAfterTheBurstAndSaysWhenToRetry) {
  RateMirror m;
  int64_t retry = 0;
  EXPECT_TRUE(m.TryTake(0, &retry)) << "off until the core's Welcome";
  m.Set(/*rate=*/10, /*burst=*/2, /*now=*/1'000'000);
  EXPECT_TRUE(m.TryTake(1'000'000, &retry));
  EXPECT_TRUE(m.TryTake(1'000'000, &retry));
  EXPECT_FALSE(m.TryTake(1'000'000, &retry));
  EXPECT_EQ(retry, 1'100'001) << "one token every 100 ms";
  EXPECT_FALSE(m.TryTake(1'099'999, &retry));
  EXPECT_TRUE(m.TryTake(1'100'001, &retry));
  EXPECT_FALSE(m.TryTake(1'100'001, &retry));
}

TEST(RateMirrorTest, ANewRateStartsAFullBucketAndZeroTurnsItOff) {
  RateMirror m;
  int64_t retry = 0;
  m.Set(1, 1, 0);
  EXPECT_TRUE(m.TryTake(0, &retry));
  EXPECT_FALSE(m.TryTake(0, &retry));
  m.Set(1, 1, 0);  // the same Welcome again changes nothing
  EXPECT_FALSE(m.TryTake(0, &retry));
  m.Set(2, 3, 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(m.TryTake(0, &retry));
  EXPECT_FALSE(m.TryTake(0, &retry));
  m.Set(0, 0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(m.TryTake(0, &retry));
}

}  // namespace
}  // namespace ipn::interface
