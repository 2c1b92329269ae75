// RecordStore::TryAppendNow: on an idle store, a synced append on the caller's thread,
// in sequence with the pipeline's appends; on a busy store, nothing.
#include <gtest/gtest.h>

#include <future>

#include "records/record_store.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

using testing::SampleRecord;
using testing::TestKeys;

constexpr int64_t kT0 = 1700000000000000;

class AppendNowTest : public ::testing::Test {
 protected:
  std::unique_ptr<RecordStore> Open() {
    auto store = RecordStore::Open(keys_.Options(dir_.Sub("records"), &clock_));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  ipn::testing::TempDir dir_;
  TestKeys keys_;
  ManualClock clock_{kT0};
};

TEST_F(AppendNowTest, AnIdleStoreAppendsOnTheCallersThreadAndTheRecordsAreDurable) {
  auto store = Open();
  std::vector<Record> batch = {SampleRecord(1, 1), SampleRecord(1, 2)};
  auto now = store->TryAppendNow(batch);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_TRUE(*now);
  EXPECT_EQ(batch[0].sequence, 0u);
  EXPECT_EQ(batch[1].sequence, 1u);
  EXPECT_EQ(store->Size(), 2u) << "acknowledged when it returns";
  // The pipeline continues the same log.
  Record next = SampleRecord(2, 1);
  ASSERT_TRUE(store->Append(next).ok());
  EXPECT_EQ(next.sequence, 2u);
  store.reset();
  auto reopened = Open();
  ASSERT_EQ(reopened->Size(), 3u);
  auto r = reopened->Get(1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request_id, SampleRecord(1, 2).request_id);
  auto report = reopened->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->findings.size() << " findings";
}

TEST_F(AppendNowTest, ABusyStoreDeclinesAndChangesNothing) {
  auto store = Open();
  // Hold the pipeline busy: an async append whose acknowledgement we have not seen yet is
  // queued, prepared, written or syncing. Submit many so some are surely in flight.
  std::promise<void> all_done;
  std::atomic<int> remaining{200};
  for (int i = 0; i < 200; ++i) {
    store->AppendAsync(SampleRecord(3, static_cast<uint64_t>(i)), [&](Status s, uint64_t) {
      EXPECT_TRUE(s.ok());
      if (remaining.fetch_sub(1) == 1) all_done.set_value();
    });
  }
  std::vector<Record> batch = {SampleRecord(4, 1)};
  auto now = store->TryAppendNow(batch);
  ASSERT_TRUE(now.ok());
  if (!*now) {
    EXPECT_EQ(batch[0].request_id, SampleRecord(4, 1).request_id) << "left as it was";
  }
  all_done.get_future().wait();
  // Whatever happened, the log holds each record once, in one sequence.
  EXPECT_EQ(store->Size(), *now ? 201u : 200u);
  auto report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->findings.size() << " findings";
}

TEST_F(AppendNowTest, InvalidRecordsAreRefusedBeforeAnythingIsWritten) {
  auto store = Open();
  std::vector<Record> batch = {SampleRecord(1, 1)};
  batch[0].inquirer = std::string(65, 'x');
  auto now = store->TryAppendNow(batch);
  EXPECT_EQ(now.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->Size(), 0u);
}

}  // namespace
}  // namespace ipn::records

namespace ipn::records {
namespace {

// sync_wal = false (a replicated core's store, fed from etcd): appends are visible and
// survive a clean reopen; SyncWal makes them durable on demand; a read-only store refuses.
TEST(RecordStoreUnsyncedTest, AppendsWithoutSyncAndSyncsOnDemand) {
  ipn::testing::TempDir dir;
  testing::TestKeys keys;
  ManualClock clock{kT0};
  {
    RecordStoreOptions o = keys.Options(dir.Sub("records"), &clock);
    o.sync_wal = false;
    auto store = RecordStore::Open(std::move(o));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::vector<Record> batch = {testing::SampleRecord(1, 1), testing::SampleRecord(1, 2)};
    ASSERT_TRUE((*store)->AppendBatch(batch).ok());
    auto now = (*store)->TryAppendNow(batch);
    ASSERT_TRUE(now.ok());
    // The pipeline may still be finishing the first batch (busy): then through it.
    if (!*now) {
      ASSERT_TRUE((*store)->AppendBatch(batch).ok());
    }
    EXPECT_EQ((*store)->Size(), 4u);
    ASSERT_TRUE((*store)->SyncWal().ok());
  }
  RecordStoreOptions ro = keys.Options(dir.Sub("records"), &clock);
  ro.read_only = true;
  auto reopened = RecordStore::Open(std::move(ro));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Size(), 4u);
  EXPECT_EQ((*reopened)->SyncWal().code(), Status::Code::kFailedPrecondition);
  auto report = (*reopened)->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
}

}  // namespace
}  // namespace ipn::records
