// RecordStore metadata (PutMeta, GetMeta): put and get, absent names, replacement,
// durability across a reopen, read-only stores, names that are refused, and that a
// name cannot reach the store's own state keys.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "records/record_store.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

using testing::SampleRecord;
using testing::TestKeys;

class RecordStoreMetaTest : public ::testing::Test {
 protected:
  std::unique_ptr<RecordStore> Open(bool read_only = false) {
    RecordStoreOptions o = keys_.Options(dir_.Sub("records"));
    o.read_only = read_only;
    Result<std::unique_ptr<RecordStore>> store = RecordStore::Open(std::move(o));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  ipn::testing::TempDir dir_;
  TestKeys keys_;
};

TEST_F(RecordStoreMetaTest, PutThenGetReturnsTheValueAndAbsentIsNotFound) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Result<std::string> absent = store->GetMeta("key_ring_summary");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), Status::Code::kNotFound);

  ASSERT_TRUE(store->PutMeta("key_ring_summary", "MUN-131016@v1:active").ok());
  Result<std::string> got = store->GetMeta("key_ring_summary");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "MUN-131016@v1:active");

  ASSERT_TRUE(store->PutMeta("key_ring_summary", "").ok());  // replaced, empty allowed
  got = store->GetMeta("key_ring_summary");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "");
  EXPECT_EQ(store->GetMeta("other").status().code(), Status::Code::kNotFound);
}

TEST_F(RecordStoreMetaTest, AValueSurvivesReopeningAndIsReadableReadOnly) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    Record r = SampleRecord(1, 1);
    ASSERT_TRUE(store->Append(r).ok());
    ASSERT_TRUE(store->PutMeta("a.b_c9", std::string("x\0y", 3)).ok());
  }
  {
    auto store = Open(/*read_only=*/true);
    ASSERT_NE(store, nullptr);
    Result<std::string> got = store->GetMeta("a.b_c9");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, std::string("x\0y", 3));
    EXPECT_EQ(store->Size(), 1u);
    Status put = store->PutMeta("a.b_c9", "z");
    EXPECT_EQ(put.code(), Status::Code::kFailedPrecondition);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Result<std::string> got = store->GetMeta("a.b_c9");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::string("x\0y", 3));
  // The store's own state is untouched by its user's metadata.
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok());
}

TEST_F(RecordStoreMetaTest, NamesOutsideTheAlphabetAreRefused) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (const std::string& bad :
       {std::string(), std::string("../next_sequence"), std::string("keycheck/x"),
        std::string("Upper"), std::string(129, 'a')}) {
    EXPECT_EQ(store->PutMeta(bad, "v").code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(store->GetMeta(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
  // "format" is the store's own marker's key, but a user's "format" is another key: the
  // store still opens after it is written.
  ASSERT_TRUE(store->PutMeta("format", "999").ok());
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  Result<std::string> got = store->GetMeta("format");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "999");
  EXPECT_EQ(store->PutMeta("big", std::string((64 << 10) + 1, 'v')).code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace ipn::records
