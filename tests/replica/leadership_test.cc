// Leadership against a real etcd cluster: one leader at a time, and a leader whose lease
// ran out (a paused core) can append nothing though it still believes it leads.
#include "replica/leadership.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "replica/replicated_log.h"
#include "tests/replica/etcd_fixture.h"

namespace ipn::replica {
namespace {

using ipn::testing::EtcdFixture;
using namespace std::chrono_literals;

class LeadershipTest : public EtcdFixture {
 protected:
  LeadershipOptions Site(const std::string& id) { return LeadershipOptions{"/ipn/leader", id, 1}; }

  SystemClock clock_;
};

TEST_F(LeadershipTest, OneLeaderAtATime) {
  Leadership east(etcd_.get(), &clock_, Site("east"));
  Leadership west(etcd_.get(), &clock_, Site("west"));
  Result<bool> e = east.Campaign();
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(*e);
  EXPECT_TRUE(east.Leading());
  Result<bool> w = west.Campaign();
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(*w);
  EXPECT_FALSE(west.Leading());
  EXPECT_EQ(west.leader(), "east");
  EXPECT_EQ(west.fence().revision, 0);
  // Campaigning again changes nothing.
  ASSERT_TRUE(east.Campaign().ok());
  ASSERT_TRUE(west.Campaign().ok());
  EXPECT_FALSE(west.Leading());
}

TEST_F(LeadershipTest, ResignHandsOver) {
  Leadership east(etcd_.get(), &clock_, Site("east"));
  Leadership west(etcd_.get(), &clock_, Site("west"));
  ASSERT_TRUE(*east.Campaign());
  ASSERT_FALSE(*west.Campaign());
  ASSERT_TRUE(east.Resign().ok());
  EXPECT_FALSE(east.Leading());
  Result<bool> w = west.Campaign();
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(*w);
  EXPECT_NE(west.fence().revision, 0);
}

TEST_F(LeadershipTest, RenewedLeadershipOutlivesItsTtl) {
  Leadership east(etcd_.get(), &clock_, Site("east"));
  Leadership west(etcd_.get(), &clock_, Site("west"));
  ASSERT_TRUE(*east.Campaign());
  // Three TTLs pass with renewals: east still leads, west cannot take over.
  const auto end = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(east.Renew().ok());
    ASSERT_FALSE(*west.Campaign());
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(east.Leading());
  ReplicatedLog log(etcd_.get());
  EXPECT_TRUE(log.Append(east.fence(), 1, "b1").ok());
}

TEST_F(LeadershipTest, LapsedLeaderIsFencedOut) {
  Leadership east(etcd_.get(), &clock_, Site("east"));
  Leadership west(etcd_.get(), &clock_, Site("west"));
  ReplicatedLog log(etcd_.get());
  ASSERT_TRUE(*east.Campaign());
  ASSERT_TRUE(log.Append(east.fence(), 1, "east-1").ok());
  const Fence stale = east.fence();
  // East stops renewing (a paused process): west takes over once etcd expires the lease.
  ASSERT_TRUE(WaitFor(
      [&] {
        Result<bool> w = west.Campaign();
        if (w.ok() && !*w) (void)west.Renew();  // keep west's own lease while it waits
        return w.ok() && *w;
      },
      10s));
  EXPECT_FALSE(east.Leading());  // its own estimate ran out too
  // East resumes and tries to append with the fence it still holds: refused.
  Result<int64_t> late = log.Append(stale, 2, "east-2");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), Status::Code::kFailedPrecondition) << late.status().ToString();
  // Its renewal tells it the lease is gone.
  Status renew = east.Renew();
  EXPECT_EQ(renew.code(), Status::Code::kFailedPrecondition) << renew.ToString();
  ASSERT_TRUE(log.Append(west.fence(), 2, "west-2").ok());
  Result<std::vector<LogEntry>> all = log.Read(0, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].bytes, "east-1");
  EXPECT_EQ((*all)[1].bytes, "west-2");
}

TEST_F(LeadershipTest, OwnEstimateEndsWithTheLease) {
  ManualClock manual(1'000'000'000'000);
  Leadership east(etcd_.get(), &manual, Site("east"));
  ASSERT_TRUE(*east.Campaign());
  EXPECT_TRUE(east.Leading());
  manual.Advance(999'999);
  EXPECT_TRUE(east.Leading());
  manual.Advance(1);  // one TTL after the grant was asked for
  EXPECT_FALSE(east.Leading());
  ASSERT_TRUE(east.Renew().ok());
  EXPECT_TRUE(east.Leading());
}

}  // namespace
}  // namespace ipn::replica
