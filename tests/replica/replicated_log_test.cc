// ReplicatedLog: keys in sequence order; appends, reads and trims against a real etcd
// cluster; the log through one member's loss and through the loss of the quorum.
#include "replica/replicated_log.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "replica/leadership.h"
#include "tests/replica/etcd_fixture.h"

namespace ipn::replica {
namespace {

using ipn::testing::EtcdFixture;
using namespace std::chrono_literals;

TEST(ReplicatedLogKeys, SortBySequenceAndRoundTrip) {
  ReplicatedLog log(nullptr, "/ipn/log/");
  EXPECT_EQ(log.KeyOf(7), "/ipn/log/00000000000000000007");
  EXPECT_LT(log.KeyOf(9), log.KeyOf(10));
  EXPECT_LT(log.KeyOf(99'999), log.KeyOf(100'000));
  for (uint64_t s : {uint64_t{0}, uint64_t{1}, uint64_t{123'456'789}, UINT64_MAX}) {
    EXPECT_EQ(log.SeqOf(log.KeyOf(s)), s);
  }
  EXPECT_EQ(log.SeqOf("/ipn/lox/00000000000000000007"), std::nullopt);
  EXPECT_EQ(log.SeqOf("/ipn/log/0000000000000000007"), std::nullopt);  // 19 digits
  EXPECT_EQ(log.SeqOf("/ipn/log/0000000000000000000x"), std::nullopt);
  EXPECT_EQ(log.SeqOf("/ipn/log/99999999999999999999"), std::nullopt);  // over 2^64-1
  EXPECT_EQ(PrefixEnd("/ipn/log/"), "/ipn/log0");
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "18446744073709551616"}) {
    EXPECT_EQ(ParseDecimal(bad), std::nullopt) << "'" << bad << "'";
  }
}

class ReplicatedLogTest : public EtcdFixture {
 protected:
  void SetUp() override {
    EtcdFixture::SetUp();
    if (HasFatalFailure()) return;
    leader_ = std::make_unique<Leadership>(etcd_.get(), &clock_,
                                           LeadershipOptions{"/ipn/leader", "east", 5});
    Result<bool> led = leader_->Campaign();
    ASSERT_TRUE(led.ok()) << led.status().ToString();
    ASSERT_TRUE(*led);
    log_ = std::make_unique<ReplicatedLog>(etcd_.get());
  }

  static std::string Batch(uint64_t seq) {
    return "batch-" + std::to_string(seq) + std::string(300, 'r');
  }

  void ExpectExactly(ReplicatedLog& log, uint64_t first, uint64_t last) {
    Result<std::vector<LogEntry>> all = log.Read(0, 0);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), last - first + 1);
    for (uint64_t s = first; s <= last; ++s) {
      EXPECT_EQ((*all)[s - first].seq, s);
      EXPECT_EQ((*all)[s - first].bytes, Batch(s));
    }
  }

  SystemClock clock_;
  std::unique_ptr<Leadership> leader_;
  std::unique_ptr<ReplicatedLog> log_;
};

TEST_F(ReplicatedLogTest, AppendsReadBackInOrder) {
  int64_t previous = 0;
  for (uint64_t s = 1; s <= 40; ++s) {
    Result<int64_t> rev = log_->Append(leader_->fence(), s, Batch(s));
    ASSERT_TRUE(rev.ok()) << rev.status().ToString();
    EXPECT_GT(*rev, previous);  // each append a later revision of the store
    previous = *rev;
  }
  ExpectExactly(*log_, 1, 40);
  Result<std::optional<uint64_t>> last = log_->Last();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 40u);
  Result<std::vector<LogEntry>> page = log_->Read(11, 5);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ(page->front().seq, 11u);
  EXPECT_EQ(page->back().seq, 15u);
}

TEST_F(ReplicatedLogTest, RepeatIsIdempotentAndOtherBytesAreRefused) {
  Result<int64_t> first = log_->Append(leader_->fence(), 1, Batch(1));
  ASSERT_TRUE(first.ok());
  Result<int64_t> again = log_->Append(leader_->fence(), 1, Batch(1));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *first);
  Result<int64_t> other = log_->Append(leader_->fence(), 1, "another batch");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Status::Code::kAlreadyExists);
  ExpectExactly(*log_, 1, 1);
}

TEST_F(ReplicatedLogTest, NoLeadershipNoAppend) {
  Result<int64_t> r = log_->Append(Fence{"/ipn/leader", 0}, 1, Batch(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  // A fence from another leadership (a revision the key does not have).
  r = log_->Append(Fence{"/ipn/leader", leader_->fence().revision + 1000}, 1, Batch(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  Result<std::optional<uint64_t>> last = log_->Last();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::nullopt);
}

TEST_F(ReplicatedLogTest, TrimKeepsOnlyTheWindow) {
  for (uint64_t s = 1; s <= 20; ++s) ASSERT_TRUE(log_->Append(leader_->fence(), s, Batch(s)).ok());
  Result<int64_t> trimmed = log_->Trim(15);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 14);
  ExpectExactly(*log_, 15, 20);
  Result<int64_t> none = log_->Trim(15);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
}

TEST_F(ReplicatedLogTest, OneMemberDownCommitsContinue) {
  for (uint64_t s = 1; s <= 10; ++s) ASSERT_TRUE(log_->Append(leader_->fence(), s, Batch(s)).ok());
  for (size_t killed = 0; killed < cluster_->size(); ++killed) {
    cluster_->Kill(killed);
    for (uint64_t s = 11 + 10 * killed; s <= 20 + 10 * killed; ++s) {
      Result<int64_t> r = log_->Append(leader_->fence(), s, Batch(s));
      ASSERT_TRUE(r.ok()) << "member " << killed << " down, entry " << s << ": "
                          << r.status().ToString();
      ASSERT_TRUE(leader_->Renew().ok());
    }
    ASSERT_TRUE(cluster_->Restart(killed).ok());
    ASSERT_TRUE(cluster_->WaitWritable(10s).ok());
  }
  ExpectExactly(*log_, 1, 40);
  // The member killed last caught up: a client of it alone reads the whole log.
  EtcdOptions o;
  o.endpoints = {cluster_->endpoints().back()};
  auto alone = EtcdClient::Connect(o);
  ASSERT_TRUE(alone.ok());
  ReplicatedLog via_one(alone->get());
  ExpectExactly(via_one, 1, 40);
}

TEST_F(ReplicatedLogTest, WithoutQuorumRefusesThenResumes) {
  for (uint64_t s = 1; s <= 5; ++s) ASSERT_TRUE(log_->Append(leader_->fence(), s, Batch(s)).ok());
  auto impatient = Client(1500ms);
  ReplicatedLog log(impatient.get());
  cluster_->Kill(0);
  cluster_->Kill(1);
  Result<int64_t> refused = log.Append(leader_->fence(), 6, Batch(6));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable) << refused.status().ToString();
  ASSERT_TRUE(cluster_->Restart(0).ok());
  ASSERT_TRUE(cluster_->Restart(1).ok());
  // Entry 6 may have reached the surviving member's raft log before the quorum went:
  // repeating the same append settles it either way, and nothing else is in.
  ASSERT_TRUE(WaitFor([&] { return log.Append(leader_->fence(), 6, Batch(6)).ok(); }, 20s));
  ExpectExactly(log, 1, 6);
}

}  // namespace
}  // namespace ipn::replica
