// The request index (RecordStore::RequestIdUsed): the durable half of the core's duplicate
// guard. An id is used once a record opening an inquiry under it is durable; per
// inquirer; across reopening and encryption-key rotation; free again once purged; and
// the index holds no request id in clear.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/clock.h"
#include "records/record_store.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

using testing::SampleRecord;
using testing::TestKeys;

constexpr int64_t kT0 = 1'790'000'000'000'000;

Record Opening(const std::string& inquirer, const std::string& request_id, Event event,
               int64_t time_us = kT0) {
  Record r = SampleRecord(1, 1, time_us);
  r.event = event;
  r.inquirer = inquirer;
  r.request_id = request_id;
  return r;
}

class RequestIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<RecordStore> Open(RecordStoreOptions o) {
    auto store = RecordStore::Open(std::move(o));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<RecordStore> Open() { return Open(keys_.Options(dir_.Sub("records"), &clock_)); }
  bool Used(RecordStore& s, const std::string& inquirer, const std::string& id) {
    Result<bool> used = s.RequestIdUsed(inquirer, id);
    EXPECT_TRUE(used.ok()) << used.status().ToString();
    return used.ok() && *used;
  }

  ipn::testing::TempDir dir_;
  TestKeys keys_;
  ManualClock clock_{kT0};
};

TEST_F(RequestIndexTest, AnIdIsUsedOnceAnInquiryRecordUnderItIsDurablePerInquirer) {
  auto store = Open();
  EXPECT_FALSE(Used(*store, "PEN-0001", "r1"));
  Record accepted = Opening("PEN-0001", "r1", Event::kInquiryAccepted);
  Record refused = Opening("PEN-0001", "r2", Event::kInquiryRefused);
  Record not_held = Opening("PEN-0001", "r3", Event::kNotHeld);
  Record audit = Opening("PEN-0001", "r4", Event::kOperatorAction);
  Record received = Opening("PEN-0001", "r5", Event::kReceived);
  std::vector<Record> batch = {accepted, refused, not_held, audit, received};
  ASSERT_TRUE(store->AppendBatch(batch).ok());
  EXPECT_TRUE(Used(*store, "PEN-0001", "r1"));
  EXPECT_TRUE(Used(*store, "PEN-0001", "r2"));
  EXPECT_TRUE(Used(*store, "PEN-0001", "r3"));
  EXPECT_FALSE(Used(*store, "PEN-0001", "r4")) << "operator actions open no inquiry";
  EXPECT_FALSE(Used(*store, "PEN-0001", "r5")) << "a receipt opens no inquiry";
  EXPECT_FALSE(Used(*store, "MUN-131016", "r1")) << "request ids are per inquirer";
  EXPECT_FALSE(Used(*store, "PEN-000", "1r1")) << "(inquirer, id) pairs do not run together";
}

TEST_F(RequestIndexTest, UsedIdsSurviveReopeningAndKeyRotation) {
  {
    auto store = Open();
    Record r = Opening("PEN-0001", "r1", Event::kInquiryAccepted);
    ASSERT_TRUE(store->Append(r).ok());
  }
  {
    RecordStoreOptions rotated = keys_.Options(dir_.Sub("records"), &clock_);
    rotated.encryption_keys.emplace_back(2, SecretBytes::Random(32));  // v2 now seals
    auto store = Open(std::move(rotated));
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(Used(*store, "PEN-0001", "r1"));
    Record r = Opening("PEN-0001", "r2", Event::kInquiryRefused);
    ASSERT_TRUE(store->Append(r).ok());
  }
  RecordStoreOptions ro = keys_.Options(dir_.Sub("records"), &clock_);
  ro.read_only = true;
  auto store = Open(std::move(ro));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Used(*store, "PEN-0001", "r1"));
  EXPECT_TRUE(Used(*store, "PEN-0001", "r2"));
}

TEST_F(RequestIndexTest, APurgedRecordsIdIsFreeAgain) {
  RecordStoreOptions o = keys_.Options(dir_.Sub("records"), &clock_);
  o.retention_us = 30 * kMicrosPerDay;
  auto store = Open(std::move(o));
  Record old_one = Opening("PEN-0001", "old", Event::kInquiryAccepted, kT0);
  Record new_one = Opening("PEN-0001", "new", Event::kInquiryAccepted, kT0 + 10 * kMicrosPerDay);
  ASSERT_TRUE(store->Append(old_one).ok());
  ASSERT_TRUE(store->Append(new_one).ok());
  clock_.Set(kT0 + 30 * kMicrosPerDay + 1);
  Result<PurgeResult> purged = store->Purge();
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  ASSERT_EQ(purged->purged, 1u);
  EXPECT_FALSE(Used(*store, "PEN-0001", "old"));
  EXPECT_TRUE(Used(*store, "PEN-0001", "new"));
}

TEST_F(RequestIndexTest, NoRequestIdIsWrittenInClear) {
  const std::string id = "request-id-0123456789-marker";
  {
    auto store = Open();
    for (int i = 0; i < 200; ++i) {
      Record r = Opening("PEN-0001", id + std::to_string(i), Event::kInquiryAccepted);
      ASSERT_TRUE(store->Append(r).ok());
    }
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.Sub("records"))) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("request-id-0123456789"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace ipn::records
