// Tampering with the database files directly — deleting, altering, reordering and
// inserting records, rewriting the tree, the heads, the indexes, the purge point — is
// detected by Verify, which names the affected sequence numbers.
#include <gtest/gtest.h>

#include "records/record_cipher.h"
#include "records/record_codec.h"
#include "records/record_store.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

using testing::OpenRaw;
using testing::RawDb;
using testing::SampleRecord;
using testing::TestKeys;

constexpr int64_t kT0 = 1700000000000000;
constexpr uint64_t kRecords = 40;

class RecordTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Open();
    ASSERT_TRUE(store);
    for (uint64_t i = 0; i < kRecords; ++i) {
      Record r = SampleRecord(i % 5, i, kT0 + static_cast<int64_t>(i) * 1000);
      ASSERT_TRUE(store->Append(r).ok());
      records_.push_back(r);
      if (i == 19) {
        ASSERT_TRUE(store->SignTreeHead().ok());
      }
    }
    ASSERT_TRUE(store->SignTreeHead().ok());
    Result<std::vector<SignedTreeHead>> heads = store->TreeHeads();
    ASSERT_TRUE(heads.ok());
    heads_ = *heads;
    Result<VerifyReport> clean = store->Verify();
    ASSERT_TRUE(clean.ok());
    ASSERT_TRUE(clean->ok());
  }

  std::unique_ptr<RecordStore> Open(bool read_only = false) {
    RecordStoreOptions options = keys_.Options(dir_.Sub("records"), &clock_);
    options.read_only = read_only;
    Result<std::unique_ptr<RecordStore>> store = RecordStore::Open(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::unique_ptr<RawDb> Raw() {
    auto raw = OpenRaw(dir_.Sub("records"));
    EXPECT_TRUE(raw);
    return raw;
  }

  // Verifies read-only (a tampered store may refuse to open for writing).
  VerifyReport Verify(VerifyOptions options = {}) {
    auto store = Open(/*read_only=*/true);
    EXPECT_TRUE(store);
    Result<VerifyReport> report = store->Verify(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  std::string Value(RawDb& raw, uint64_t seq) {
    std::string v;
    EXPECT_TRUE(raw.db->Get(rocksdb::ReadOptions(), raw.records(), SequenceKey(seq), &v).ok());
    return v;
  }

  RecordCipher Cipher() {
    std::vector<std::pair<uint32_t, SecretBytes>> keys;
    keys.emplace_back(1, keys_.encryption_key.Clone());
    return std::move(RecordCipher::Create(std::move(keys))).value();
  }

  static std::string Describe(const VerifyReport& r) {
    std::string out;
    for (const Finding& f : r.findings) {
      out += std::string(FindingKindName(f.kind)) + " " + std::to_string(f.first_sequence) + "-" +
             std::to_string(f.last_sequence) + ": " + f.detail + "\n";
    }
    return out;
  }

  ipn::testing::TempDir dir_;
  TestKeys keys_;
  ManualClock clock_{kT0 + 3600000000};
  std::vector<Record> records_;
  std::vector<SignedTreeHead> heads_;
};

using Seqs = std::vector<uint64_t>;

TEST_F(RecordTamperTest, DeletedRecordIsNamed) {
  {
    auto raw = Raw();
    ASSERT_TRUE(raw->db->Delete(rocksdb::WriteOptions(), raw->records(), SequenceKey(7)).ok());
    ASSERT_TRUE(raw->db->Delete(rocksdb::WriteOptions(), raw->records(), SequenceKey(23)).ok());
  }
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.Sequences(FindingKind::kMissing), (Seqs{7, 23})) << Describe(report);
  // Nothing else is blamed: the tree and heads still agree, the index entries of the
  // missing records are not reported twice.
  EXPECT_EQ(report.findings.size(), 2u) << Describe(report);
}

TEST_F(RecordTamperTest, DeletedRecordAndAllItsTracesIsStillNamed) {
  {
    auto raw = Raw();
    const Record& r = records_[12];
    rocksdb::WriteBatch b;
    b.Delete(raw->records(), SequenceKey(12));
    b.Delete(raw->person(), PersonKey(r.record_symbol, r.time_unix_us, 12));
    b.Delete(raw->time(), TimeKey(r.time_unix_us, 12));
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kMissing), Seqs{12}) << Describe(report);
}

TEST_F(RecordTamperTest, TruncatedTailIsNamedFromTheSignedHead) {
  {
    auto raw = Raw();
    rocksdb::WriteBatch b;
    for (uint64_t seq = 36; seq < kRecords; ++seq) {
      const Record& r = records_[seq];
      b.Delete(raw->records(), SequenceKey(seq));
      b.Delete(raw->person(), PersonKey(r.record_symbol, r.time_unix_us, seq));
      b.Delete(raw->time(), TimeKey(r.time_unix_us, seq));
    }
    // …and make the log claim it only ever held 36 records.
    b.Put(raw->meta(), kMetaNextSequence, SequenceKey(36));
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kMissing), (Seqs{36, 37, 38, 39})) << Describe(report);
  // A store that lost signed records refuses to open for appending.
  RecordStoreOptions options = keys_.Options(dir_.Sub("records"), &clock_);
  EXPECT_EQ(RecordStore::Open(std::move(options)).status().code(), Status::Code::kCorruption);
}

TEST_F(RecordTamperTest, TruncationWithTheHeadsDeletedIsCaughtByAnAuditorsHeads) {
  {
    auto raw = Raw();
    rocksdb::WriteBatch b;
    for (uint64_t seq = 30; seq < kRecords; ++seq) b.Delete(raw->records(), SequenceKey(seq));
    b.Put(raw->meta(), kMetaNextSequence, SequenceKey(30));
    b.DeleteRange(raw->heads(), std::string(16, '\0'), std::string(17, '\xff'));
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  VerifyOptions options;
  options.known_heads = heads_;  // what the commission kept
  VerifyReport report = Verify(options);
  Seqs expected;
  for (uint64_t s = 30; s < kRecords; ++s) expected.push_back(s);
  EXPECT_EQ(report.Sequences(FindingKind::kMissing), expected) << Describe(report);
}

TEST_F(RecordTamperTest, AlteredRecordIsNamed) {
  {
    auto raw = Raw();
    std::string v = Value(*raw, 5);
    v[v.size() - 20] ^= 0x01;  // one bit of ciphertext
    ASSERT_TRUE(raw->db->Put(rocksdb::WriteOptions(), raw->records(), SequenceKey(5), v).ok());
    std::string w = Value(*raw, 31);
    w[10] ^= 0x40;  // the clear record symbol
    ASSERT_TRUE(raw->db->Put(rocksdb::WriteOptions(), raw->records(), SequenceKey(31), w).ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kAltered), (Seqs{5, 31})) << Describe(report);
  EXPECT_EQ(report.Sequences(FindingKind::kTreeHead), Seqs{}) << Describe(report);
}

TEST_F(RecordTamperTest, ReorderedRecordsAreNamed) {
  {
    auto raw = Raw();
    std::string a = Value(*raw, 3), b = Value(*raw, 9);
    rocksdb::WriteBatch batch;
    batch.Put(raw->records(), SequenceKey(3), b);
    batch.Put(raw->records(), SequenceKey(9), a);
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &batch).ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kMisplaced), (Seqs{3, 9})) << Describe(report);
  bool names_origin = false;
  for (const Finding& f : report.findings) {
    if (f.first_sequence == 3 && f.detail.find("sequence 9") != std::string::npos)
      names_origin = true;
  }
  EXPECT_TRUE(names_origin) << Describe(report);
}

TEST_F(RecordTamperTest, InsertedRecordsAreNamed) {
  {
    auto raw = Raw();
    // A copy of a genuine record placed after the end of the log, and one re-sealed by
    // someone holding the encryption key.
    ASSERT_TRUE(
        raw->db->Put(rocksdb::WriteOptions(), raw->records(), SequenceKey(kRecords), Value(*raw, 4))
            .ok());
    Record forged = SampleRecord(1, 99, kT0 + 99);
    std::string body;
    AppendBody(forged, body);
    std::string sealed =
        Cipher().Seal(kRecords + 1, forged.time_unix_us, forged.record_symbol, body);
    ASSERT_TRUE(
        raw->db->Put(rocksdb::WriteOptions(), raw->records(), SequenceKey(kRecords + 1), sealed)
            .ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kInserted), (Seqs{kRecords, kRecords + 1}))
      << Describe(report);
  // Appending on top of an inserted record is refused.
  RecordStoreOptions options = keys_.Options(dir_.Sub("records"), &clock_);
  EXPECT_EQ(RecordStore::Open(std::move(options)).status().code(), Status::Code::kCorruption);
}

TEST_F(RecordTamperTest, InsiderRewriteWithTheEncryptionKeyIsCaughtByTheTree) {
  {
    auto raw = Raw();
    Record changed = records_[6];
    changed.outcome = "provided";  // rewrite history
    std::string body;
    AppendBody(changed, body);
    std::string sealed = Cipher().Seal(6, changed.time_unix_us, changed.record_symbol, body);
    rocksdb::WriteBatch b;
    b.Put(raw->records(), SequenceKey(6), sealed);
    b.Put(raw->person(), PersonKey(changed.record_symbol, changed.time_unix_us, 6), sealed);
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kAltered), Seqs{6}) << Describe(report);

  // Rewriting the stored leaf hash as well moves the blame to the tree and the heads.
  {
    auto raw = Raw();
    Record changed = records_[6];
    changed.outcome = "provided";
    Hash leaf = RecordLeafHash(changed);
    ASSERT_TRUE(raw->db
                    ->Put(rocksdb::WriteOptions(), raw->tree(), NodeKey(0, 6),
                          rocksdb::Slice(reinterpret_cast<const char*>(leaf.data()), 32))
                    .ok());
  }
  report = Verify();
  EXPECT_FALSE(report.ok());
  bool tree_blamed = false, heads_blamed = false;
  for (const Finding& f : report.findings) {
    if (f.kind == FindingKind::kTreeNode && f.first_sequence <= 6 && 6 <= f.last_sequence) {
      tree_blamed = true;
    }
    if (f.kind == FindingKind::kTreeHead && f.first_sequence <= 6 && 6 <= f.last_sequence) {
      heads_blamed = true;
    }
  }
  EXPECT_TRUE(tree_blamed) << Describe(report);
  EXPECT_TRUE(heads_blamed) << Describe(report);
  EXPECT_EQ(report.Sequences(FindingKind::kAltered), Seqs{}) << Describe(report);
}

TEST_F(RecordTamperTest, IndexTamperingIsNamed) {
  {
    auto raw = Raw();
    const Record& r8 = records_[8];
    const Record& r17 = records_[17];
    std::string v17;
    ASSERT_TRUE(raw->db
                    ->Get(rocksdb::ReadOptions(), raw->person(),
                          PersonKey(r17.record_symbol, r17.time_unix_us, 17), &v17)
                    .ok());
    rocksdb::WriteBatch b;
    // Hide record 8 from its person's history.
    b.Delete(raw->person(), PersonKey(r8.record_symbol, r8.time_unix_us, 8));
    // Move record 17 into another person's history.
    b.Delete(raw->person(), PersonKey(r17.record_symbol, r17.time_unix_us, 17));
    b.Put(raw->person(), PersonKey(testing::Symbol(77), r17.time_unix_us, 17), v17);
    // Hide record 25 from time pulls.
    b.Delete(raw->time(), TimeKey(records_[25].time_unix_us, 25));
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kIndexMismatch), (Seqs{8, 17, 25})) << Describe(report);
  // The records themselves are intact.
  EXPECT_EQ(report.Sequences(FindingKind::kAltered), Seqs{});
  // And the moved entry is refused by History rather than shown to the wrong person.
  auto store = Open(true);
  EXPECT_EQ(store->History(testing::Symbol(77), 10, "").status().code(), Status::Code::kCorruption);
}

TEST_F(RecordTamperTest, ForgedHeadsAndPurgePointsAreNamed) {
  {
    auto raw = Raw();
    // A head with a different root, its signature copied from the real one.
    SignedTreeHead forged = heads_.back();
    forged.root_hash[0] ^= 1;
    forged.timestamp_us += 1;
    ASSERT_TRUE(raw->db
                    ->Put(rocksdb::WriteOptions(), raw->heads(),
                          HeadKey(forged.tree_size, forged.timestamp_us), EncodeTreeHead(forged))
                    .ok());
  }
  VerifyReport report = Verify();
  EXPECT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].kind, FindingKind::kTreeHead);

  {
    // Deleting the oldest records and claiming they were purged.
    auto raw = Raw();
    rocksdb::WriteBatch b;
    for (uint64_t seq = 0; seq < 3; ++seq) b.Delete(raw->records(), SequenceKey(seq));
    std::string statement(1 + 8 + 8 + 8 + 32 + 64, '\0');
    statement[0] = 1;
    PutBigEndian64(3, statement.data() + 1);
    b.Put(raw->meta(), kMetaPurge, statement);
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  report = Verify();
  EXPECT_EQ(report.Sequences(FindingKind::kPurge), (Seqs{0, 1, 2})) << Describe(report);
}

}  // namespace
}  // namespace ipn::records
