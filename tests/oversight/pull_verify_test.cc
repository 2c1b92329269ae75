// The commission's pull and verify: pages served by the core's RecordAccess from a real
// store, gathered into a PulledSet, written and read back as JSON lines, and checked by
// VerifyPulledSet — clean, and after the store's files were tampered with (a record
// deleted with its index entries, a record rewritten by an insider holding the
// encryption key), a reordered pull file, a forged head and a rewritten history.
#include <gtest/gtest.h>

#include <sstream>

#include "common/limits.h"
#include "core/record_access.h"
#include "oversight/pull_verifier.h"
#include "oversight/pulled_set.h"
#include "records/record_cipher.h"
#include "records/record_codec.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

using records::Record;
using records::testing::OpenRaw;
using records::testing::SampleRecord;
using records::testing::TestKeys;
using Seqs = std::vector<uint64_t>;

constexpr int64_t kT0 = 1760000000000000;
constexpr uint64_t kRecords = 60;
// The pulled range holds sequences 10..49.
constexpr int64_t kFrom = kT0 + 10 * 1000;
constexpr int64_t kTo = kT0 + 50 * 1000;

class PullVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Open();
    ASSERT_TRUE(store);
    for (uint64_t i = 0; i < kRecords; ++i) {
      Record r = SampleRecord(i % 4, i, kT0 + static_cast<int64_t>(i) * 1000);
      ASSERT_TRUE(store->Append(r).ok());
      records_.push_back(r);
    }
  }

  std::unique_ptr<records::RecordStore> Open() {
    auto store = records::RecordStore::Open(keys_.Options(dir_.Sub("records")));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Pulls [kFrom, kTo) page by page as `ipn oversight pull` does.
  PulledSet Pull(const std::string& agency = "", uint32_t page_size = 7) {
    auto store = Open();
    EXPECT_TRUE(store);
    core::RecordAccess service(store.get(), nullptr, nullptr, nullptr, nullptr);
    PulledSet set;
    set.from_unix_us = kFrom;
    set.to_unix_us = kTo;
    set.agency = agency;
    v1::RecordQuery q;
    q.set_from_unix_us(kFrom);
    q.set_to_unix_us(kTo);
    q.set_agency_code(agency);
    q.set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      Result<v1::RecordPage> page = service.Pull(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      Status added = AddPage(*page, &set);
      EXPECT_TRUE(added.ok()) << added.ToString();
      if (page->next_page_token().empty()) break;
      q.set_page_token(page->next_page_token());
    }
    return set;
  }

  static PulledSet RoundTrip(const PulledSet& set) {
    std::stringstream file;
    file << PullLine(set) << ConsistencyLine(set);
    if (set.before) file << RecordLine(*set.before, "before");
    for (const PulledRecord& r : set.records) {
      file << RecordLine(r, r.matches_filter ? "record" : "context");
    }
    if (set.after) file << RecordLine(*set.after, "after");
    Result<PulledSet> back = ReadPulledSet(file);
    EXPECT_TRUE(back.ok()) << back.status().ToString();
    return back.ok() ? *back : PulledSet{};
  }

  records::PublicKey Signer() {
    return records::SigningPublicKey(keys_.signing.signing_secret_key.span()).value();
  }

  static Seqs Of(const PullVerifyReport& r, const std::string& kind) {
    for (const PullFinding& f : r.findings) {
      if (f.kind == kind) return f.sequences;
    }
    return {};
  }

  static std::string Describe(const PullVerifyReport& r) {
    std::string out;
    for (const PullFinding& f : r.findings) out += f.kind + ": " + f.detail + "\n";
    return out;
  }

  records::RecordCipher Cipher() {
    std::vector<std::pair<uint32_t, SecretBytes>> keys;
    keys.emplace_back(1, keys_.encryption_key.Clone());
    return std::move(records::RecordCipher::Create(std::move(keys))).value();
  }

  ipn::testing::TempDir dir_;
  TestKeys keys_;
  std::vector<Record> records_;
};

TEST_F(PullVerifyTest, CleanPullVerifiesAndCoversTheRangeInLogOrder) {
  PulledSet set = RoundTrip(Pull());
  ASSERT_EQ(set.records.size(), 40u);
  EXPECT_EQ(set.records.front().record.sequence, 10u);
  EXPECT_EQ(set.records.back().record.sequence, 49u);
  ASSERT_TRUE(set.before && set.after);
  EXPECT_EQ(set.before->record.sequence, 9u);
  EXPECT_EQ(set.after->record.sequence, 50u);
  EXPECT_EQ(set.records[5].record, records_[15]);  // every field survives the file
  PullVerifyReport report = VerifyPulledSet(set, Signer());
  EXPECT_TRUE(report.ok()) << Describe(report);
  EXPECT_EQ(report.records_checked, 42u);
}

TEST_F(PullVerifyTest, AgencyFilterMarksRecordsButKeepsTheRangeProvable) {
  PulledSet set = RoundTrip(Pull("AG1001"));
  size_t matching = 0;
  for (const PulledRecord& r : set.records) {
    const bool match = r.record.inquirer == "AG1001" || r.record.provider == "AG1001";
    EXPECT_EQ(r.matches_filter, match) << r.record.sequence;
    matching += match ? 1 : 0;
  }
  EXPECT_GT(matching, 0u);
  EXPECT_LT(matching, set.records.size());
  EXPECT_TRUE(VerifyPulledSet(set, Signer()).ok());
}

TEST_F(PullVerifyTest, RecordDeletedWithItsIndexEntriesIsReportedMissing) {
  {
    auto raw = OpenRaw(dir_.Sub("records"));
    ASSERT_TRUE(raw);
    for (uint64_t seq : {uint64_t{23}, uint64_t{50}}) {  // one inside, the one after the range
      const Record& r = records_[seq];
      rocksdb::WriteBatch b;
      b.Delete(raw->records(), records::SequenceKey(seq));
      b.Delete(raw->person(), records::PersonKey(r.record_symbol, r.time_unix_us, seq));
      b.Delete(raw->time(), records::TimeKey(r.time_unix_us, seq));
      ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
    }
  }
  PullVerifyReport report = VerifyPulledSet(RoundTrip(Pull()), Signer());
  EXPECT_EQ(Of(report, "missing"), (Seqs{23, 50})) << Describe(report);
  EXPECT_EQ(report.findings.size(), 1u) << Describe(report);
}

TEST_F(PullVerifyTest, InsiderRewriteWithTheEncryptionKeyIsReportedAltered) {
  {
    auto raw = OpenRaw(dir_.Sub("records"));
    ASSERT_TRUE(raw);
    Record changed = records_[31];
    changed.outcome = "NO_SUCH_LINK";  // pretend it was refused
    std::string body;
    records::AppendBody(changed, body);
    std::string sealed = Cipher().Seal(31, changed.time_unix_us, changed.record_symbol, body);
    rocksdb::WriteBatch b;
    b.Put(raw->records(), records::SequenceKey(31), sealed);
    b.Put(raw->person(), records::PersonKey(changed.record_symbol, changed.time_unix_us, 31),
          sealed);
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  PullVerifyReport report = VerifyPulledSet(RoundTrip(Pull()), Signer());
  EXPECT_EQ(Of(report, "altered"), Seqs{31}) << Describe(report);
  EXPECT_EQ(report.findings.size(), 1u) << Describe(report);
}

TEST_F(PullVerifyTest, EditedPullFileIsCaught) {
  PulledSet set = Pull();
  PulledSet reordered = set;
  std::swap(reordered.records[3], reordered.records[4]);  // sequences 13 and 14
  EXPECT_EQ(Of(VerifyPulledSet(reordered, Signer()), "reordered"), (Seqs{13, 14}));

  PulledSet edited = set;
  edited.records[7].record.inquirer = "AG9999";  // sequence 17
  EXPECT_EQ(Of(VerifyPulledSet(edited, Signer()), "altered"), Seqs{17});

  PulledSet dropped = set;
  dropped.records.erase(dropped.records.begin() + 20);  // sequence 30
  EXPECT_EQ(Of(VerifyPulledSet(dropped, Signer()), "missing"), Seqs{30});

  PulledSet truncated = set;  // the record before the range and the first two cut off
  truncated.before.reset();
  truncated.records.erase(truncated.records.begin(), truncated.records.begin() + 2);
  EXPECT_EQ(Of(VerifyPulledSet(truncated, Signer()), "unbounded"), Seqs{12});

  PulledSet filtered = Pull("AG1001");
  filtered.records[0].matches_filter = !filtered.records[0].matches_filter;  // sequence 10
  EXPECT_EQ(Of(VerifyPulledSet(filtered, Signer()), "misfiltered"), Seqs{10});

  PulledSet duplicated = set;
  duplicated.records.push_back(set.records[2]);
  EXPECT_FALSE(Of(VerifyPulledSet(duplicated, Signer()), "duplicate").empty());
}

TEST_F(PullVerifyTest, ForgedOrForeignHeadIsRefused) {
  PulledSet set = Pull();
  PulledSet forged = set;
  forged.head.root_hash[0] ^= 1;
  PullVerifyReport report = VerifyPulledSet(forged, Signer());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.findings[0].kind, "bad_head");

  // A head signed by someone else's key is refused when the commission pins the core's.
  records::RecordKeys other = records::GenerateRecordKeys();
  records::SignedTreeHead foreign =
      records::SignTreeHead(set.head.tree_size, set.head.root_hash, set.head.timestamp_us,
                            other.signing_secret_key.span());
  PulledSet resigned = set;
  resigned.head = foreign;
  EXPECT_EQ(VerifyPulledSet(resigned, Signer()).findings.at(0).kind, "bad_head");
}

TEST_F(PullVerifyTest, RewrittenHistoryIsInconsistentWithTheCommissionsEarlierHead) {
  PulledSet set = Pull();
  auto store = Open();
  // The commission's earlier head, over the first 30 records as they were.
  Result<records::Hash> root30 = store->RootHash(30);
  ASSERT_TRUE(root30.ok());
  core::RecordAccess service(store.get(), nullptr, nullptr, nullptr, nullptr);
  Result<v1::TreeHeadResponse> fresh = service.TreeHead(30);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  set.previous_head =
      records::SignTreeHead(30, *root30, kT0, keys_.signing.signing_secret_key.span());
  set.consistency_path.clear();
  for (const std::string& h : fresh->consistency_path()) {
    records::Hash hash;
    std::copy(h.begin(), h.end(), hash.begin());
    set.consistency_path.push_back(hash);
  }
  // Consistency proofs are checked against the pull's head: make the fresh head the pull's.
  Result<records::SignedTreeHead> head = FromView(fresh->head());
  ASSERT_TRUE(head.ok());
  PulledSet consistent = set;
  consistent.head = *head;
  consistent.records.clear();
  consistent.before.reset();
  consistent.after.reset();
  EXPECT_TRUE(VerifyPulledSet(consistent, Signer()).ok())
      << Describe(VerifyPulledSet(consistent, Signer()));

  // Had the first 30 records been different, no proof would connect the heads.
  records::Hash other_root = *root30;
  other_root[5] ^= 0x40;
  consistent.previous_head =
      records::SignTreeHead(30, other_root, kT0, keys_.signing.signing_secret_key.span());
  EXPECT_EQ(VerifyPulledSet(consistent, Signer()).findings.at(0).kind, "inconsistent_head");
}

TEST_F(PullVerifyTest, MalformedPullFilesAreRefusedWithTheLine) {
  std::stringstream no_pull("{\"type\":\"record\"}\n");
  EXPECT_NE(ReadPulledSet(no_pull).status().message().find("line 1"), std::string::npos);
  std::stringstream garbage(PullLine(Pull()) + "not json\n");
  EXPECT_NE(ReadPulledSet(garbage).status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace ipn::oversight

namespace ipn::oversight {
namespace {

// A page ends at limits::kMaxPullPageBytes even when its page size allows more, and the
// pull of many such pages still verifies whole.
TEST(PullPageBytes, APageEndsAtItsByteLimitAndTheWholePullStillVerifies) {
  ::ipn::testing::TempDir dir;
  records::testing::TestKeys keys;
  auto store = records::RecordStore::Open(keys.Options(dir.Sub("records")));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  constexpr uint64_t kMany = 2'000;
  std::vector<Record> batch;
  for (uint64_t i = 0; i < kMany; ++i) {
    batch.push_back(SampleRecord(i % 7, i, kT0 + static_cast<int64_t>(i) * 1000));
    batch.back().outcome = std::string(300, 'o');  // long outcomes: few records fill a page
  }
  ASSERT_TRUE((*store)->AppendBatch(batch).ok());
  core::RecordAccess access(store->get(), nullptr, nullptr, nullptr, nullptr);
  PulledSet set;
  set.from_unix_us = kT0;
  set.to_unix_us = kT0 + static_cast<int64_t>(kMany) * 1000;
  v1::RecordQuery q;
  q.set_from_unix_us(set.from_unix_us);
  q.set_to_unix_us(set.to_unix_us);
  q.set_page_size(1000);
  int pages = 0;
  for (; pages < 100; ++pages) {
    Result<v1::RecordPage> page = access.Pull(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    // The last record may take a page past the limit, by at most its own size.
    EXPECT_LT(page->records_size(), 1000);
    EXPECT_LT(page->ByteSizeLong(), limits::kMaxPullPageBytes + 4096);
    ASSERT_TRUE(AddPage(*page, &set).ok());
    if (page->next_page_token().empty()) break;
    q.set_page_token(page->next_page_token());
  }
  EXPECT_GT(pages, 2);
  ASSERT_EQ(set.records.size(), kMany);
  const PullVerifyReport report = VerifyPulledSet(
      set, records::SigningPublicKey(keys.signing.signing_secret_key.span()).value());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.records_checked, kMany);
}

}  // namespace
}  // namespace ipn::oversight
