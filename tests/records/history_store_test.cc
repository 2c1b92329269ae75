// The record store's per-person histories (records/history_map.cc): what a v2 head commits
// to for each person is exactly the chain over that person's settling records in the log,
// disclosed and withheld apart, whether the map was kept since the store opened, saved
// beside a head and loaded at the next open, or taken again from records appended after
// the last saved head; a head's proofs stay valid while the log grows.
#include <gtest/gtest.h>

#include "records/person_map.h"
#include "records/record_store.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

using testing::SampleRecord;
using testing::Symbol;
using testing::TestKeys;

constexpr int64_t kT0 = 1700000000000000;

class CompleteHistoryStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<RecordStore> Open() {
    RecordStoreOptions o = keys_.Options(dir_.Sub("records"), &clock_);
    o.tree_head_every_records = 0;
    o.tree_head_every_us = 0;
    Result<std::unique_ptr<RecordStore>> store = RecordStore::Open(std::move(o));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Person p's n-th record: every event in turn, every third settling one withheld.
  void Append(RecordStore& store, uint64_t person, int count) {
    for (int i = 0; i < count; ++i) {
      Record r = SampleRecord(person, static_cast<uint64_t>(i), kT0 + i);
      r.event = static_cast<Event>(i % 8);
      r.non_disclosure = i % 3 == 0;
      ASSERT_TRUE(store.Append(r).ok());
    }
  }

  // The chains recomputed from the log itself, as of `tree_size`.
  std::pair<HistoryState, HistoryState> FromLog(RecordStore& store, uint64_t person,
                                                uint64_t tree_size) {
    std::vector<Hash> disclosed, withheld;
    for (uint64_t s = 0; s < tree_size; ++s) {
      Result<Record> r = store.Get(s);
      EXPECT_TRUE(r.ok());
      if (!r.ok() || r->record_symbol != Symbol(person)) continue;
      const HistoryKind kind = HistoryKindOf(*r);
      if (kind == HistoryKind::kDisclosed) disclosed.push_back(RecordLeafHash(*r));
      if (kind == HistoryKind::kWithheld) withheld.push_back(RecordLeafHash(*r));
    }
    return {ChainOf(disclosed), ChainOf(withheld)};
  }

  void ExpectCommitted(RecordStore& store, uint64_t person) {
    Result<RecordStore::HistoryProof> proof = store.ProveHistory(Symbol(person), store.Size());
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_EQ(proof->head.version, 2);
    ASSERT_TRUE(VerifyTreeHeadSignature(proof->head, store.signing_public_key()));
    Result<HistoryState> d = VerifyMapProof(proof->disclosed, proof->head.history.disclosed);
    Result<HistoryState> w = VerifyMapProof(proof->withheld, proof->head.history.withheld);
    ASSERT_TRUE(d.ok() && w.ok());
    const auto [want_d, want_w] = FromLog(store, person, proof->head.tree_size);
    EXPECT_EQ(*d, want_d) << "person " << person;
    EXPECT_EQ(*w, want_w) << "person " << person;
  }

  ipn::testing::TempDir dir_;
  TestKeys keys_;
  ManualClock clock_{kT0};
};

TEST_F(CompleteHistoryStoreTest, HeadsCommitToEachPersonsChainsAcrossReopens) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    Append(*store, 1, 20);
    Append(*store, 2, 7);
    ExpectCommitted(*store, 1);
    ExpectCommitted(*store, 2);
    ExpectCommitted(*store, 3);  // never recorded: count 0 in both maps
    Append(*store, 1, 5);        // after the head: the next head covers them
    ExpectCommitted(*store, 1);
  }  // closing signs a final head, saving the map beside it
  {
    auto store = Open();  // loaded from the saved map
    ASSERT_TRUE(store);
    Append(*store, 2, 9);
    ExpectCommitted(*store, 1);
    ExpectCommitted(*store, 2);
  }
}

TEST_F(CompleteHistoryStoreTest, AKeptHeadsProofsStayValidAsTheLogGrows) {
  auto store = Open();
  ASSERT_TRUE(store);
  Append(*store, 1, 16);
  Result<SignedTreeHead> head = store->SignTreeHead();
  ASSERT_TRUE(head.ok());
  Append(*store, 1, 16);
  Result<RecordStore::HistoryProof> old = store->ProveHistory(Symbol(1), 0, head->tree_size);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->head, *head);
  Result<HistoryState> d = VerifyMapProof(old->disclosed, head->history.disclosed);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, FromLog(*store, 1, head->tree_size).first);
  EXPECT_EQ(store->ProveHistory(Symbol(1), 0, head->tree_size + 1).status().code(),
            Status::Code::kNotFound);
}

}  // namespace
}  // namespace ipn::records
