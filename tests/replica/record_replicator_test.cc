// RecordReplicator: two sites' record stores fed from one etcd cluster hold the same log
// (same records under the same sequences, same tree heads); a failover hands the log on;
// the window is sealed, bound to its keys, and trimmed only below what every site applied.
#include "replica/record_replicator.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "tests/records/record_test_util.h"
#include "tests/replica/etcd_fixture.h"

namespace ipn::replica {
namespace {

using ipn::testing::EtcdFixture;
using records::Record;
using records::RecordStore;
using records::testing::SampleRecord;
using records::testing::TestKeys;
using namespace std::chrono_literals;

constexpr int64_t kT0 = 1'780'000'000'000'000;

struct Site {
  std::string name;
  std::unique_ptr<RecordStore> store;
  std::unique_ptr<Leadership> leadership;
  std::unique_ptr<RecordReplicator> replicator;
};

class RecordReplicatorTest : public EtcdFixture {
 protected:
  void SetUp() override {
    EtcdFixture::SetUp();
    if (HasFatalFailure()) return;
    for (const char* name : {"east", "west"}) Open(name);
  }

  void Open(const std::string& name, uint64_t max_window = 100'000) {
    Site& s = sites_[name];
    s.name = name;
    s.replicator.reset();
    s.store.reset();
    auto store = RecordStore::Open(keys_.Options(dir_.Sub("records-" + name), &clock_));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    s.store = std::move(*store);
    s.leadership = std::make_unique<Leadership>(etcd_.get(), &clock_,
                                                LeadershipOptions{"/ipn/leader", name, 1});
    ReplicatorOptions o;
    o.site = name;
    o.keys.emplace_back(1, keys_.encryption_key.Clone());
    o.read_page = 7;  // small pages: catching up crosses page boundaries
    o.max_window_entries = max_window;
    auto r = RecordReplicator::Create(etcd_.get(), s.store.get(), std::move(o));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    s.replicator = std::move(*r);
  }

  std::vector<Record> Batch(uint64_t n, size_t count) {
    std::vector<Record> out;
    for (size_t i = 0; i < count; ++i)
      out.push_back(SampleRecord(n, n * 10 + i, kT0 + n * 1000 + i));
    return out;
  }

  void Lead(Site& s) {
    Result<bool> led = s.leadership->Campaign();
    ASSERT_TRUE(led.ok()) << led.status().ToString();
    ASSERT_TRUE(*led);
    ASSERT_TRUE(s.replicator->PrepareToLead().ok());
  }

  // The leader's store takes its last batch after that batch's release (ApplyCommitted,
  // which the core calls once it has sent what waited): compare the logs after it.
  void ExpectSameLog(Site& a, Site& b) {
    ASSERT_TRUE(a.replicator->ApplyCommitted().ok());
    ASSERT_TRUE(b.replicator->ApplyCommitted().ok());
    ASSERT_EQ(a.store->Size(), b.store->Size());
    auto ra = a.store->RootHash(a.store->Size());
    auto rb = b.store->RootHash(b.store->Size());
    ASSERT_TRUE(ra.ok() && rb.ok());
    EXPECT_EQ(*ra, *rb);
    for (uint64_t s = 0; s < a.store->Size(); ++s) {
      auto x = a.store->Get(s);
      auto y = b.store->Get(s);
      ASSERT_TRUE(x.ok() && y.ok()) << s;
      EXPECT_EQ(*x, *y) << "record " << s;
    }
  }

  SystemClock clock_;
  TestKeys keys_;
  std::map<std::string, Site> sites_;
};

TEST_F(RecordReplicatorTest, FollowerHoldsTheLeadersLog) {
  Site& east = sites_["east"];
  Site& west = sites_["west"];
  Lead(east);
  uint64_t total = 0;
  for (uint64_t n = 1; n <= 30; ++n) {
    std::vector<Record> batch = Batch(n, 1 + n % 4);
    total += batch.size();
    Status s = east.replicator->Commit(east.leadership->fence(), batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(batch.back().sequence, total - 1);
  }
  ASSERT_TRUE(east.replicator->ApplyCommitted().ok());
  EXPECT_EQ(east.store->Size(), total);
  Result<uint64_t> applied = west.replicator->CatchUp();
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, 30u);
  EXPECT_EQ(west.replicator->applied(), 30u);
  ExpectSameLog(east, west);
  // Signed heads at equal sizes commit to the same tree.
  auto he = east.store->SignTreeHead();
  auto hw = west.store->SignTreeHead();
  ASSERT_TRUE(he.ok() && hw.ok());
  EXPECT_EQ(he->tree_size, hw->tree_size);
  EXPECT_EQ(he->root_hash, hw->root_hash);
  // Nothing new: nothing applied.
  applied = west.replicator->CatchUp();
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0u);
}

// A batch counts once etcd holds it on a majority: Commit returns then, and the core sends
// what waited for it before its own store takes the batch (ApplyCommitted), which keeps
// the local append off the decision's path. Nothing sees the store out of step: the next
// commit, a report of how far this store is, and a catch-up each apply it first.
TEST_F(RecordReplicatorTest, ACommittedBatchIsAcknowledgedBeforeTheLeadersStoreTakesIt) {
  Site& east = sites_["east"];
  Site& west = sites_["west"];
  Lead(east);
  std::vector<Record> first = Batch(1, 3);
  Status s = east.replicator->Commit(east.leadership->fence(), first);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(first.back().sequence, 2u);
  EXPECT_EQ(east.store->Size(), 0u);
  EXPECT_EQ(east.replicator->applied(), 0u);
  // Committed: the other site applies it already.
  Result<uint64_t> applied = west.replicator->CatchUp();
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, 1u);
  EXPECT_EQ(west.store->Size(), 3u);
  // The next commit takes the waiting batch in first, so the sequences go on from it.
  std::vector<Record> second = Batch(2, 2);
  s = east.replicator->Commit(east.leadership->fence(), second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(east.store->Size(), 3u);
  EXPECT_EQ(second.front().sequence, 3u);
  EXPECT_EQ(east.replicator->applied(), 1u);
  // A report of how far this store is never names a batch it lacks.
  s = east.replicator->PublishApplied();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(east.store->Size(), 5u);
  EXPECT_EQ(east.replicator->applied(), 2u);
  Result<std::optional<KeyValue>> reported = etcd_->Get("/ipn/applied/east");
  ASSERT_TRUE(reported.ok() && reported->has_value());
  EXPECT_EQ((*reported)->value, "2");
  // Nothing waits now: applying again changes nothing.
  ASSERT_TRUE(east.replicator->ApplyCommitted().ok());
  EXPECT_EQ(east.store->Size(), 5u);
  ASSERT_TRUE(west.replicator->CatchUp().ok());
  ExpectSameLog(east, west);
}

TEST_F(RecordReplicatorTest, FailoverHandsTheLogOn) {
  Site& east = sites_["east"];
  Site& west = sites_["west"];
  Lead(east);
  for (uint64_t n = 1; n <= 5; ++n) {
    auto b = Batch(n, 3);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  const Fence stale = east.leadership->fence();
  ASSERT_TRUE(east.leadership->Resign().ok());
  // West had applied nothing; leading, it first takes in all east committed.
  Lead(west);
  EXPECT_EQ(west.store->Size(), 15u);
  for (uint64_t n = 6; n <= 9; ++n) {
    auto b = Batch(n, 2);
    ASSERT_TRUE(west.replicator->Commit(west.leadership->fence(), b).ok());
  }
  // East, still believing it leads, is refused: nothing of it reaches etcd or its store.
  auto late = Batch(99, 2);
  Status refused = east.replicator->Commit(stale, late);
  EXPECT_EQ(refused.code(), Status::Code::kFailedPrecondition) << refused.ToString();
  EXPECT_EQ(east.store->Size(), 15u);
  ASSERT_TRUE(east.replicator->CatchUp().ok());
  ExpectSameLog(east, west);
  EXPECT_EQ(east.store->Size(), 23u);
}

TEST_F(RecordReplicatorTest, RestartedReplicaResumesWhereItsStoreIs) {
  Site& east = sites_["east"];
  Lead(east);
  for (uint64_t n = 1; n <= 10; ++n) {
    auto b = Batch(n, 2);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  ASSERT_TRUE(sites_["west"].replicator->CatchUp().ok());
  // West restarts (a new replicator over its store): it re-reads the window, finds every
  // batch already in its store (checked leaf by leaf at each batch's end), appends none.
  Open("west");
  Site& west = sites_["west"];
  Result<uint64_t> again = west.replicator->CatchUp();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(west.store->Size(), 20u);
  for (uint64_t n = 11; n <= 12; ++n) {
    auto b = Batch(n, 2);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  ASSERT_TRUE(west.replicator->CatchUp().ok());
  ExpectSameLog(east, west);
}

TEST_F(RecordReplicatorTest, RestartResumesAfterTheKeptPositionEvenPastATrim) {
  Site& east = sites_["east"];
  Lead(east);
  for (uint64_t n = 1; n <= 6; ++n) {
    auto b = Batch(n, 1);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  ASSERT_TRUE(sites_["west"].replicator->CatchUp().ok());
  ASSERT_TRUE(sites_["west"].replicator->PublishApplied().ok());
  ASSERT_TRUE(east.replicator->PublishApplied().ok());
  Result<int64_t> trimmed = east.replicator->Trim({"east", "west"});
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 5);  // only entry 6 is left in etcd
  // West restarts: its store says it applied entry 6, so it reads from entry 7 on, and
  // the trimmed entries 1..5 are no gap for it.
  Open("west");
  Site& west = sites_["west"];
  EXPECT_EQ(west.replicator->applied(), 6u);
  auto b = Batch(7, 3);
  ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  Result<uint64_t> caught = west.replicator->CatchUp();
  ASSERT_TRUE(caught.ok()) << caught.status().ToString();
  EXPECT_EQ(*caught, 1u);
  EXPECT_EQ(west.store->Size(), 9u);
  ExpectSameLog(east, west);
}

// A store fed before sites kept their applied position has records and no position: it
// starts where the window starts, as it did then, each batch checked against the store.
TEST_F(RecordReplicatorTest, AStoreFromBeforePositionsWereKeptStartsAtTheWindow) {
  Site& east = sites_["east"];
  Lead(east);
  for (uint64_t n = 1; n <= 6; ++n) {
    auto b = Batch(n, 1);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  ASSERT_TRUE(sites_["west"].replicator->CatchUp().ok());  // never published: no position
  ASSERT_TRUE(east.replicator->PublishApplied().ok());
  Result<int64_t> trimmed = east.replicator->Trim({"east"});
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 5);
  Open("west");
  Site& west = sites_["west"];
  EXPECT_EQ(west.replicator->applied(), 0u);
  auto b = Batch(7, 2);
  ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  Result<uint64_t> caught = west.replicator->CatchUp();
  ASSERT_TRUE(caught.ok()) << caught.status().ToString();
  EXPECT_EQ(west.replicator->applied(), 7u);
  ExpectSameLog(east, west);
}

TEST_F(RecordReplicatorTest, TrimKeepsWhatAnySiteLacks) {
  Site& east = sites_["east"];
  Site& west = sites_["west"];
  Lead(east);
  for (uint64_t n = 1; n <= 10; ++n) {
    auto b = Batch(n, 1);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  ASSERT_TRUE(east.replicator->PublishApplied().ok());
  Result<int64_t> trimmed = east.replicator->Trim({"east", "west"});
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 0);  // west never reported: the window stays whole
  ASSERT_TRUE(west.replicator->CatchUp().ok());
  ASSERT_TRUE(west.replicator->PublishApplied().ok());
  trimmed = east.replicator->Trim({"east", "west"});
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 9);  // entries 1..9 go; entry 10, the last, stays
  ReplicatedLog log(etcd_.get());
  auto left = log.Read(0, 0);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().seq, 10u);
  // A new site with an empty store cannot start from a trimmed window: a clear refusal.
  Open("north");
  Result<uint64_t> behind = sites_["north"].replicator->CatchUp();
  ASSERT_FALSE(behind.ok());
  EXPECT_EQ(behind.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(behind.status().message().find("fell behind the window"), std::string::npos);
  EXPECT_EQ(sites_["north"].store->Size(), 0u);
  // The leader continues after the trim at the next entry number.
  auto b = Batch(11, 1);
  ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  ASSERT_TRUE(west.replicator->CatchUp().ok());
  ExpectSameLog(east, west);
}

TEST_F(RecordReplicatorTest, WindowIsBoundedEvenWhenASiteLags) {
  Open("east", 5);
  Site& east = sites_["east"];
  Lead(east);
  for (uint64_t n = 1; n <= 12; ++n) {
    auto b = Batch(n, 1);
    ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  }
  ASSERT_TRUE(east.replicator->PublishApplied().ok());
  // West never reported: without a bound the window would wait for it forever.
  Result<int64_t> trimmed = east.replicator->Trim({"east", "west"});
  ASSERT_TRUE(trimmed.ok()) << trimmed.status().ToString();
  EXPECT_EQ(*trimmed, 6);  // entries 1..6 go; 7..12 (the newest and 5 behind it) stay
  ReplicatedLog log(etcd_.get());
  auto left = log.Read(0, 0);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 6u);
  EXPECT_EQ(left->front().seq, 7u);
  // West is then told clearly that it must be restored, and applies nothing.
  Result<uint64_t> behind = sites_["west"].replicator->CatchUp();
  ASSERT_FALSE(behind.ok());
  EXPECT_NE(behind.status().message().find("fell behind the window"), std::string::npos);
  EXPECT_EQ(sites_["west"].store->Size(), 0u);
}

TEST_F(RecordReplicatorTest, WindowIsSealedAndBoundToItsPlace) {
  Site& east = sites_["east"];
  Lead(east);
  auto b = Batch(1, 2);
  const std::string inquirer = b[0].inquirer;
  const std::string request = b[0].request_id;
  ASSERT_TRUE(east.replicator->Commit(east.leadership->fence(), b).ok());
  ReplicatedLog log(etcd_.get());
  auto entries = log.Read(0, 0);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  const std::string& sealed = entries->front().bytes;
  EXPECT_EQ(sealed.find(request), std::string::npos);
  EXPECT_EQ(sealed.find(inquirer), std::string::npos);
  // Opens where it is; not at another entry's key; not after a flipped bit.
  EXPECT_TRUE(east.replicator->Open(log.KeyOf(1), sealed).ok());
  auto moved = east.replicator->Open(log.KeyOf(2), sealed);
  EXPECT_EQ(moved.status().code(), Status::Code::kCorruption);
  std::string flipped = sealed;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_EQ(east.replicator->Open(log.KeyOf(1), flipped).status().code(),
            Status::Code::kCorruption);
  // A replica with other records keys cannot open it.
  ReplicatorOptions o;
  o.site = "stranger";
  o.keys.emplace_back(1, SecretBytes::Random(32));
  auto stranger = RecordReplicator::Create(etcd_.get(), east.store.get(), std::move(o));
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ((*stranger)->Open(log.KeyOf(1), sealed).status().code(), Status::Code::kCorruption);
  // And etcd's files on disk hold no record field either.
  EXPECT_TRUE(ipn::testing::FilesContaining(dir_.path() + "/east", request).empty());
  EXPECT_TRUE(ipn::testing::FilesContaining(dir_.path() + "/west", request).empty());
}

TEST_F(RecordReplicatorTest, InvalidRecordsNeverReachTheLog) {
  Site& east = sites_["east"];
  Lead(east);
  auto b = Batch(1, 2);
  b[1].inquirer = "";  // every record names its inquirer
  Status s = east.replicator->Commit(east.leadership->fence(), b);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  auto untimed = Batch(2, 1);
  untimed[0].time_unix_us = 0;
  EXPECT_EQ(east.replicator->Commit(east.leadership->fence(), untimed).code(),
            Status::Code::kInvalidArgument);
  ReplicatedLog log(etcd_.get());
  auto last = log.Last();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::nullopt);
  EXPECT_EQ(east.store->Size(), 0u);
}

}  // namespace
}  // namespace ipn::replica
