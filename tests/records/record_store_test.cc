// RecordStore behaviour: appends (sync, batch, async, concurrent), every field round
// trip, history paging, time pulls, statistics, reopening, keys, tree heads and proofs,
// purge.
#include "records/record_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "records/key_file.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

using testing::SampleRecord;
using testing::Symbol;
using testing::TestKeys;

constexpr int64_t kT0 = 1700000000000000;  // 2023-11-14T22:13:20Z
constexpr int64_t kSecond = 1000000;

std::unique_ptr<RecordStore> MustOpen(RecordStoreOptions options) {
  Result<std::unique_ptr<RecordStore>> store = RecordStore::Open(std::move(options));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

class RecordStoreTest : public ::testing::Test {
 protected:
  ipn::testing::TempDir dir_;
  TestKeys keys_;
  ManualClock clock_{kT0};
  std::string path() const { return dir_.Sub("records"); }
  std::unique_ptr<RecordStore> Open() { return MustOpen(keys_.Options(path(), &clock_)); }
};

TEST_F(RecordStoreTest, EveryFieldRoundTripsThroughEveryQuery) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<Record> written;
  for (int e = 0; e < 8; ++e) {
    Record r = SampleRecord(9, e, kT0 + e * kSecond);
    r.event = static_cast<Event>(e);
    r.non_disclosure = e % 2 == 1;
    r.outcome = e == 1 ? "refused: the link (AG1000, B10, AG2000, I100) is not permitted" : "ok";
    ASSERT_TRUE(store->Append(r).ok());
    EXPECT_EQ(r.sequence, static_cast<uint64_t>(e));
    written.push_back(r);
  }
  for (const Record& r : written) {
    Result<Record> got = store->Get(r.sequence);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, r);
  }
  Result<RecordStore::HistoryPage> page = store->History(Symbol(9), 100, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(page->records[i], written[written.size() - 1 - i]);  // newest first
  }
  std::vector<Record> pulled;
  ASSERT_TRUE(store
                  ->Pull(kT0, kT0 + 100 * kSecond, "",
                         [&](const Record& r) {
                           pulled.push_back(r);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(pulled, written);
}

TEST_F(RecordStoreTest, AppendAssignsTheStoreTimeWhenNoneIsGiven) {
  auto store = Open();
  Record r = SampleRecord(1, 1);
  r.time_unix_us = 0;
  clock_.Set(kT0 + 777);
  ASSERT_TRUE(store->Append(r).ok());
  EXPECT_EQ(r.time_unix_us, kT0 + 777);
  EXPECT_EQ(store->Get(r.sequence)->time_unix_us, kT0 + 777);
}

TEST_F(RecordStoreTest, ConcurrentAppendsOfEveryKindGetDenseSequences) {
  auto store = Open();
  std::mutex mu;
  std::set<uint64_t> sequences;
  std::map<uint64_t, std::string> request_ids;
  auto note = [&](uint64_t seq, const std::string& id) {
    std::lock_guard lock(mu);
    EXPECT_TRUE(sequences.insert(seq).second) << "sequence " << seq << " assigned twice";
    request_ids[seq] = id;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        Record r = SampleRecord(t, i, kT0 + i);
        r.request_id = "sync-" + std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(store->Append(r).ok());
        note(r.sequence, r.request_id);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 30; ++i) {
      std::vector<Record> batch;
      for (int k = 0; k < 7; ++k) {
        batch.push_back(SampleRecord(7, i * 7 + k, kT0 + i));
        batch.back().request_id = "batch-" + std::to_string(i) + "-" + std::to_string(k);
      }
      ASSERT_TRUE(store->AppendBatch(batch).ok());
      for (int k = 1; k < 7; ++k) EXPECT_EQ(batch[k].sequence, batch[k - 1].sequence + 1);
      for (const Record& r : batch) note(r.sequence, r.request_id);
    }
  });
  threads.emplace_back([&] {
    std::mutex done_mu;
    std::condition_variable done_cv;
    int pending = 0;
    for (int i = 0; i < 300; ++i) {
      Record r = SampleRecord(8, i, kT0 + i);
      r.request_id = "async-" + std::to_string(i);
      std::string id = r.request_id;
      {
        std::lock_guard lock(done_mu);
        ++pending;
      }
      store->AppendAsync(std::move(r), [&, id](Status s, uint64_t seq) {
        EXPECT_TRUE(s.ok()) << s.ToString();
        note(seq, id);
        std::lock_guard lock(done_mu);
        --pending;
        done_cv.notify_all();
      });
    }
    std::unique_lock lock(done_mu);
    done_cv.wait(lock, [&] { return pending == 0; });
  });
  for (auto& t : threads) t.join();
  const uint64_t total = 3 * 100 + 30 * 7 + 300;
  ASSERT_EQ(sequences.size(), total);
  EXPECT_EQ(*sequences.begin(), 0u);
  EXPECT_EQ(*sequences.rbegin(), total - 1);
  EXPECT_EQ(store->Size(), total);
  for (const auto& [seq, id] : request_ids) {
    Result<Record> r = store->Get(seq);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->request_id, id);
  }
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->records_checked, total);
}

TEST_F(RecordStoreTest, InvalidRecordsAreRefusedAndChangeNothing) {
  auto store = Open();
  Record good = SampleRecord(1, 1, kT0);
  ASSERT_TRUE(store->Append(good).ok());
  Record bad = SampleRecord(1, 2, kT0);
  bad.inquirer.clear();
  EXPECT_EQ(store->Append(bad).code(), Status::Code::kInvalidArgument);
  std::vector<Record> batch = {SampleRecord(1, 3, kT0), bad};
  Status s = store->AppendBatch(batch);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("record 1 of the batch"), std::string::npos);
  Status async_status;
  store->AppendAsync(bad, [&](Status st, uint64_t) { async_status = st; });
  EXPECT_EQ(async_status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->Size(), 1u);
  EXPECT_TRUE(store->Verify()->ok());
}

TEST_F(RecordStoreTest, HistoryPagesNewestFirstAndOnlyThePersonsRecords) {
  auto store = Open();
  std::vector<Record> mine;
  for (int i = 0; i < 25; ++i) {
    Record r = SampleRecord(42, i, kT0 + (i % 5 == 0 ? 0 : i) * kSecond);  // some equal times
    ASSERT_TRUE(store->Append(r).ok());
    mine.push_back(r);
    Record other = SampleRecord(43 + i % 3, i, kT0 + i * kSecond);
    ASSERT_TRUE(store->Append(other).ok());
  }
  std::sort(mine.begin(), mine.end(), [](const Record& a, const Record& b) {
    return std::tie(a.time_unix_us, a.sequence) > std::tie(b.time_unix_us, b.sequence);
  });
  std::vector<Record> seen;
  std::string token;
  std::vector<size_t> page_sizes;
  do {
    Result<RecordStore::HistoryPage> page = store->History(Symbol(42), 10, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    page_sizes.push_back(page->records.size());
    seen.insert(seen.end(), page->records.begin(), page->records.end());
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(page_sizes, (std::vector<size_t>{10, 10, 5}));
  EXPECT_EQ(seen, mine);

  // Exactly one full page: no token for a next, empty page.
  Result<RecordStore::HistoryPage> all = store->History(Symbol(42), 25, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->records.size(), 25u);
  EXPECT_TRUE(all->next_page_token.empty());

  Result<RecordStore::HistoryPage> nobody = store->History(Symbol(999), 10, "");
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->records.empty());
  EXPECT_EQ(store->History(Symbol(42), 0, "").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->History(Symbol(42), 1001, "").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->History(Symbol(42), 10, "not-a-token!").status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(RecordStoreTest, PullStreamsATimeRangeFilteredByAgency) {
  auto store = Open();
  for (int i = 0; i < 60; ++i) {
    Record r = SampleRecord(i % 4, i, kT0 + i * kSecond);
    ASSERT_TRUE(store->Append(r).ok());
  }
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(store
                  ->Pull(kT0 + 10 * kSecond, kT0 + 40 * kSecond, "AG1001",
                         [&](const Record& r) {
                           EXPECT_TRUE(r.inquirer == "AG1001" || r.provider == "AG1001");
                           EXPECT_GE(r.time_unix_us, kT0 + 10 * kSecond);
                           EXPECT_LT(r.time_unix_us, kT0 + 40 * kSecond);
                           seqs.push_back(r.sequence);
                           return true;
                         })
                  .ok());
  std::vector<uint64_t> expected;
  for (uint64_t i = 10; i < 40; ++i) {
    if (i % 3 == 1) expected.push_back(i);  // inquirer AG1001; providers are AG2000…AG2004
  }
  EXPECT_EQ(seqs, expected);
  // Provider filter, and early stop.
  int count = 0;
  ASSERT_TRUE(store
                  ->Pull(kT0, kT0 + 60 * kSecond, "AG2003",
                         [&](const Record& r) {
                           EXPECT_EQ(r.provider, "AG2003");
                           return ++count < 5;
                         })
                  .ok());
  EXPECT_EQ(count, 5);
  EXPECT_EQ(store->Pull(kT0, kT0, "", [](const Record&) { return true; }).code(),
            Status::Code::kInvalidArgument);
}

TEST_F(RecordStoreTest, StatsCountByMonthAgencyBusinessAndOutcome) {
  auto store = Open();
  const int64_t jan = 1704067200000000;  // 2024-01-01T00:00:00Z
  const int64_t feb = 1706745600000000;  // 2024-02-01T00:00:00Z
  auto add = [&](int64_t t, const char* inq, const char* prov, Event e, const char* outcome) {
    Record r = SampleRecord(1, 1, t);
    r.inquirer = inq;
    r.provider = prov;
    r.business = "B1";
    r.event = e;
    r.outcome = outcome;
    ASSERT_TRUE(store->Append(r).ok());
  };
  add(jan + 5, "A", "P", Event::kProvided, "ok");
  add(jan + 6, "A", "P", Event::kProvided, "ok");
  add(feb - 1, "A", "P", Event::kInquiryRefused, "no link");
  add(feb, "A", "P", Event::kProvided, "ok");
  add(feb + 9, "C", "P", Event::kProvided, "ok");
  Result<std::vector<StatsRow>> rows = store->Stats(jan, feb + kSecond);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  auto row = [&](size_t i) {
    const StatsRow& r = (*rows)[i];
    return r.month + " " + r.inquirer + " " + r.provider + " " + r.business + " " +
           EventName(r.event) + " " + r.outcome + " " + std::to_string(r.count);
  };
  EXPECT_EQ(row(0), "2024-01 A P B1 inquiry_refused no link 1");
  EXPECT_EQ(row(1), "2024-01 A P B1 provided ok 2");
  EXPECT_EQ(row(2), "2024-02 A P B1 provided ok 1");
  EXPECT_EQ(row(3), "2024-02 C P B1 provided ok 1");
}

TEST_F(RecordStoreTest, ReopeningKeepsTheLogAndContinuesIt) {
  Hash root;
  {
    auto store = Open();
    for (int i = 0; i < 10; ++i) {
      Record r = SampleRecord(1, i, kT0 + i);
      ASSERT_TRUE(store->Append(r).ok());
    }
    root = *store->RootHash(10);
  }
  auto store = Open();
  EXPECT_EQ(store->Size(), 10u);
  EXPECT_EQ(*store->RootHash(10), root);
  // Closing signed a head for the unsigned records.
  Result<SignedTreeHead> head = store->LatestTreeHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->tree_size, 10u);
  EXPECT_EQ(head->root_hash, root);
  Record r = SampleRecord(1, 10, kT0 + 10);
  ASSERT_TRUE(store->Append(r).ok());
  EXPECT_EQ(r.sequence, 10u);
  Result<std::vector<Hash>> proof = store->ConsistencyProof(10, 11);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(VerifyConsistency(10, 11, root, *store->RootHash(11), *proof));
  EXPECT_TRUE(store->Verify()->ok());
}

TEST_F(RecordStoreTest, KeysAreCheckedAndRotatable) {
  {
    auto store = Open();
    Record r = SampleRecord(1, 1, kT0);
    ASSERT_TRUE(store->Append(r).ok());
  }
  // A different key under the same version is refused before anything is read.
  RecordStoreOptions wrong = keys_.Options(path(), &clock_);
  wrong.encryption_keys[0].second = SecretBytes::Random(32);
  EXPECT_EQ(RecordStore::Open(std::move(wrong)).status().code(), Status::Code::kFailedPrecondition);
  // Bad key shapes.
  RecordStoreOptions short_key = keys_.Options(path(), &clock_);
  short_key.encryption_keys[0].second = SecretBytes::Random(16);
  EXPECT_EQ(RecordStore::Open(std::move(short_key)).status().code(),
            Status::Code::kInvalidArgument);
  RecordStoreOptions no_keys = keys_.Options(path(), &clock_);
  no_keys.encryption_keys.clear();
  EXPECT_EQ(RecordStore::Open(std::move(no_keys)).status().code(), Status::Code::kInvalidArgument);

  // Rotation: version 2 seals new records, version 1 still opens old ones.
  SecretBytes v2 = SecretBytes::Random(32);
  {
    RecordStoreOptions rotated = keys_.Options(path(), &clock_);
    rotated.encryption_keys.emplace_back(2, v2.Clone());
    auto store = MustOpen(std::move(rotated));
    Record r = SampleRecord(1, 2, kT0 + 1);
    ASSERT_TRUE(store->Append(r).ok());
    EXPECT_TRUE(store->Get(0).ok());
    EXPECT_TRUE(store->Get(1).ok());
    EXPECT_TRUE(store->Verify()->ok());
  }
  // Without version 1, the old record cannot be read, and Verify says so.
  RecordStoreOptions only_v2 = keys_.Options(path(), &clock_);
  only_v2.encryption_keys.clear();
  only_v2.encryption_keys.emplace_back(2, v2.Clone());
  auto store = MustOpen(std::move(only_v2));
  EXPECT_EQ(store->Get(0).status().code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(store->Get(1).ok());
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->Sequences(FindingKind::kAltered), std::vector<uint64_t>{0});
}

TEST_F(RecordStoreTest, InclusionAndConsistencyProofsCheckOutAgainstSignedHeads) {
  auto store = Open();
  std::vector<Record> records;
  std::vector<SignedTreeHead> heads;
  for (int i = 0; i < 37; ++i) {
    Record r = SampleRecord(i % 6, i, kT0 + i);
    ASSERT_TRUE(store->Append(r).ok());
    records.push_back(r);
    if (i == 0 || i == 12 || i == 31 || i == 36) {
      clock_.Advance(kSecond);
      Result<SignedTreeHead> head = store->SignTreeHead();
      ASSERT_TRUE(head.ok());
      EXPECT_EQ(head->tree_size, static_cast<uint64_t>(i + 1));
      heads.push_back(*head);
    }
  }
  const PublicKey& pk = store->signing_public_key();
  for (const SignedTreeHead& head : heads) {
    ASSERT_TRUE(VerifyTreeHeadSignature(head, pk));
    for (uint64_t seq = 0; seq < head.tree_size; ++seq) {
      Result<std::vector<Hash>> proof = store->InclusionProof(seq, head.tree_size);
      ASSERT_TRUE(proof.ok());
      // An auditor holding only the record, the proof and the head.
      EXPECT_TRUE(VerifyInclusion(RecordLeafHash(records[seq]), seq, head.tree_size, *proof,
                                  head.root_hash));
      Record altered = records[seq];
      altered.outcome += "!";
      EXPECT_FALSE(
          VerifyInclusion(RecordLeafHash(altered), seq, head.tree_size, *proof, head.root_hash));
    }
  }
  for (size_t i = 0; i < heads.size(); ++i) {
    for (size_t j = i; j < heads.size(); ++j) {
      Result<std::vector<Hash>> proof =
          store->ConsistencyProof(heads[i].tree_size, heads[j].tree_size);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyConsistency(heads[i].tree_size, heads[j].tree_size, heads[i].root_hash,
                                    heads[j].root_hash, *proof));
    }
  }
  // A forged head: another root (signature then fails), or re-signed with another key.
  SignedTreeHead forged = heads[2];
  forged.root_hash[0] ^= 1;
  EXPECT_FALSE(VerifyTreeHeadSignature(forged, pk));
  Result<std::vector<Hash>> proof = store->InclusionProof(3, forged.tree_size);
  EXPECT_FALSE(
      VerifyInclusion(RecordLeafHash(records[3]), 3, forged.tree_size, *proof, forged.root_hash));
  Result<std::vector<Hash>> consistency =
      store->ConsistencyProof(heads[1].tree_size, forged.tree_size);
  EXPECT_FALSE(VerifyConsistency(heads[1].tree_size, forged.tree_size, heads[1].root_hash,
                                 forged.root_hash, *consistency));
  RecordKeys other = GenerateRecordKeys();
  SignedTreeHead resigned = SignTreeHead(forged.tree_size, forged.root_hash, forged.timestamp_us,
                                         other.signing_secret_key.span());
  EXPECT_FALSE(VerifyTreeHeadSignature(resigned, pk));

  // Stored heads and the latest.
  Result<std::vector<SignedTreeHead>> stored = store->TreeHeads();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, heads);
  EXPECT_EQ(*store->LatestTreeHead(), heads.back());
  EXPECT_EQ(store->InclusionProof(37, 37).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->InclusionProof(0, 38).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(RecordStoreTest, HeadsAreSignedAtTheRecordCadence) {
  RecordStoreOptions options = keys_.Options(path(), &clock_);
  options.tree_head_every_records = 10;
  auto store = MustOpen(std::move(options));
  std::vector<Record> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(SampleRecord(1, i, kT0 + i));
  ASSERT_TRUE(store->AppendBatch(batch).ok());
  // The background thread signs asynchronously; wait for it (bounded).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  Result<SignedTreeHead> head = store->LatestTreeHead();
  while (!(head.ok() && head->tree_size == 25) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    head = store->LatestTreeHead();
  }
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->tree_size, 25u);
  EXPECT_EQ(head->root_hash, *store->RootHash(25));
}

TEST_F(RecordStoreTest, PurgeDeletesOnlyExpiredRecordsAndKeepsTheTreeVerifiable) {
  RecordStoreOptions options = keys_.Options(path(), &clock_);
  options.retention_us = 30 * kMicrosPerDay;
  auto store = MustOpen(std::move(options));
  std::vector<Record> records;
  for (int day = 0; day < 10; ++day) {
    Record r = SampleRecord(day % 2, day, kT0 + day * kMicrosPerDay);
    ASSERT_TRUE(store->Append(r).ok());
    records.push_back(r);
  }
  Result<SignedTreeHead> head = store->SignTreeHead();
  ASSERT_TRUE(head.ok());
  Result<PurgeResult> none = store->Purge();  // nothing is 30 days old yet
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->purged, 0u);

  clock_.Set(kT0 + 30 * kMicrosPerDay + 4 * kMicrosPerDay + 1);  // days 0…4 have expired
  Result<PurgeResult> purged = store->Purge();
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(purged->purged, 5u);
  EXPECT_EQ(purged->first_retained, 5u);
  EXPECT_EQ(store->FirstRetained(), 5u);
  for (uint64_t seq = 0; seq < 5; ++seq) {
    EXPECT_EQ(store->Get(seq).status().code(), Status::Code::kNotFound);
  }
  for (uint64_t seq = 5; seq < 10; ++seq) EXPECT_EQ(*store->Get(seq), records[seq]);
  Result<RecordStore::HistoryPage> page = store->History(Symbol(0), 100, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 2u);  // days 6 and 8
  EXPECT_EQ(page->records[0].sequence, 8u);
  int pulled = 0;
  ASSERT_TRUE(store
                  ->Pull(0, kT0 + 100 * kMicrosPerDay, "",
                         [&](const Record&) {
                           ++pulled;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(pulled, 5);

  // The tree and the earlier head still verify, and so does a purged record's inclusion
  // (from its stored leaf hash, for whoever kept the record).
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->findings.empty() ? "" : report->findings[0].detail);
  EXPECT_EQ(report->first_retained, 5u);
  EXPECT_EQ(report->records_checked, 5u);
  ASSERT_TRUE(report->latest_head.has_value());
  EXPECT_EQ(report->latest_head->tree_size, 10u);
  Result<std::vector<Hash>> proof = store->InclusionProof(2, head->tree_size);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(
      VerifyInclusion(RecordLeafHash(records[2]), 2, head->tree_size, *proof, head->root_hash));

  // Appends continue; the purge point survives a reopen.
  Record r = SampleRecord(3, 10, clock_.NowMicros());
  ASSERT_TRUE(store->Append(r).ok());
  EXPECT_EQ(r.sequence, 10u);
  store.reset();
  store = Open();
  EXPECT_EQ(store->FirstRetained(), 5u);
  EXPECT_TRUE(store->Verify()->ok());
}

TEST_F(RecordStoreTest, VerifyRunsWhileAppendsContinue) {
  auto store = Open();
  std::vector<Record> batch;
  for (int i = 0; i < 2000; ++i) batch.push_back(SampleRecord(i % 50, i, kT0 + i));
  ASSERT_TRUE(store->AppendBatch(batch).ok());
  ASSERT_TRUE(store->SignTreeHead().ok());
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int i = 0; !stop; ++i) {
      Record r = SampleRecord(i % 7, i, kT0 + 5000 + i);
      ASSERT_TRUE(store->Append(r).ok());
      if (i % 50 == 0) {
        ASSERT_TRUE(store->SignTreeHead().ok());
      }
    }
  });
  for (int round = 0; round < 3; ++round) {
    Result<VerifyReport> report = store->Verify();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->findings[0].detail;
    EXPECT_GE(report->records_checked, 2000u);
  }
  stop = true;
  appender.join();
}

TEST_F(RecordStoreTest, ReadOnlyStoresServeQueriesButRefuseWrites) {
  {
    auto store = Open();
    Record r = SampleRecord(1, 1, kT0);
    ASSERT_TRUE(store->Append(r).ok());
  }
  RecordStoreOptions options = keys_.Options(path(), &clock_);
  options.read_only = true;
  auto store = MustOpen(std::move(options));
  EXPECT_TRUE(store->Get(0).ok());
  EXPECT_TRUE(store->Verify()->ok());
  Record r = SampleRecord(1, 2, kT0);
  EXPECT_EQ(store->Append(r).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(store->SignTreeHead().status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(store->Purge().status().code(), Status::Code::kFailedPrecondition);

  RecordStoreOptions missing = keys_.Options(dir_.Sub("nowhere"), &clock_);
  missing.read_only = true;
  EXPECT_EQ(RecordStore::Open(std::move(missing)).status().code(), Status::Code::kNotFound);
}

TEST_F(RecordStoreTest, TheStoreCannotBeOpenedTwice) {
  auto store = Open();
  Result<std::unique_ptr<RecordStore>> second = RecordStore::Open(keys_.Options(path(), &clock_));
  EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
}

TEST(RecordKeyFileTest, RoundTripsAndNeverOverwrites) {
  ipn::testing::TempDir dir;
  RecordKeys keys = GenerateRecordKeys();
  keys.encryption_keys.emplace_back(7, SecretBytes::Random(32));
  const std::string path = dir.Sub("records.keys");
  ASSERT_TRUE(WriteKeyFile(path, keys).ok());
  EXPECT_EQ(WriteKeyFile(path, keys).code(), Status::Code::kAlreadyExists);
  bool permissive = true;
  Result<RecordKeys> read = ReadKeyFile(path, &permissive);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(permissive);
  ASSERT_EQ(read->encryption_keys.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(read->encryption_keys[i].first, keys.encryption_keys[i].first);
    EXPECT_EQ(std::vector<uint8_t>(read->encryption_keys[i].second.span().begin(),
                                   read->encryption_keys[i].second.span().end()),
              std::vector<uint8_t>(keys.encryption_keys[i].second.span().begin(),
                                   keys.encryption_keys[i].second.span().end()));
  }
  EXPECT_TRUE(SigningPublicKey(read->signing_secret_key.span()).ok());

  for (const char* bad :
       {"not json", "{\"format\": \"other\"}",
        "{\"format\": \"ipn-records-keys/v1\", \"encryption_keys\": []}",
        "{\"format\": \"ipn-records-keys/v1\", \"encryption_keys\": "
        "[{\"version\": 1, \"key\": \"abcd\"}], \"signing_secret_key\": \"00\"}"}) {
    const std::string bad_path = dir.Sub("bad.keys");
    std::remove(bad_path.c_str());
    ASSERT_TRUE(WriteFileAtomic(bad_path, std::string(bad)).ok());
    EXPECT_EQ(ReadKeyFile(bad_path).status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ReadKeyFile(dir.Sub("absent.keys")).status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace ipn::records
