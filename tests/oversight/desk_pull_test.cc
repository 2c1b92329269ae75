// The desk's incremental pull (oversight/desk_puller.h) from the core's RecordAccess over a
// real store: the whole log first, then only what is new, page by page; a record rewritten
// in the core's store by an insider, or deleted from it, is refused at the next pull with
// a finding, and the desk's copy and counts stay as they were.
#include <gtest/gtest.h>
#include <sodium.h>

#include <functional>
#include <map>

#include "core/record_access.h"
#include "oversight/desk_puller.h"
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

constexpr int64_t kT0 = 1'770'000'000'000'000;

// The core's side in process: what the commission's node would relay.
class AccessSource : public RecordSource {
 public:
  explicit AccessSource(records::RecordStore* store)
      : access_(store, nullptr, nullptr, nullptr, nullptr) {}
  Result<v1::RecordPage> Query(const v1::RecordQuery& q) override {
    ++queries;
    first_sequences.push_back(q.page_token().empty() ? q.from_sequence() : UINT64_MAX);
    return access_.SequencePull(q);
  }
  int queries = 0;
  std::vector<uint64_t> first_sequences;  // from_sequence of each pull's first page

 private:
  core::RecordAccess access_;
};

class DeskPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenStore();
    DeskStoreOptions o;
    o.dir = dir_.Sub("desk");
    o.data_key = SecretBytes(32);
    randombytes_buf(o.data_key.data(), 32);
    o.records_key = records::SigningPublicKey(keys_.signing.signing_secret_key.span()).value();
    auto desk = DeskStore::Open(std::move(o));
    ASSERT_TRUE(desk.ok()) << desk.status().ToString();
    desk_ = std::move(*desk);
  }

  void OpenStore() {
    auto store = records::RecordStore::Open(keys_.Options(dir_.Sub("records")));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  void Append(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t k = appended_.size();
      Record r = SampleRecord(k % 17, k, kT0 + static_cast<int64_t>(k) * 60'000'000);
      ASSERT_TRUE(store_->Append(r).ok());
      r.sequence = k;
      appended_.push_back(r);
    }
  }

  // Monthly totals per (inquirer, event), computed from the records appended.
  static std::map<std::string, uint64_t> Totals(const std::vector<Record>& records) {
    std::map<std::string, uint64_t> m;
    for (const Record& r : records) m[r.inquirer + "|" + records::EventName(r.event)]++;
    return m;
  }
  std::map<std::string, uint64_t> DeskTotals() {
    std::map<std::string, uint64_t> m;
    auto rows = desk_->Volumes({Granularity::kMonth, "", "", ""});
    EXPECT_TRUE(rows.ok());
    for (const VolumeRow& v : *rows) m[v.inquirer + "|" + records::EventName(v.event)] += v.count;
    return m;
  }

  // Changes the core's store as an insider would, with it closed meanwhile (RocksDB admits
  // one process); it is open again afterwards, whatever happened.
  void Tamper(const std::function<void(records::testing::RawDb&)>& change) {
    store_.reset();
    if (auto raw = OpenRaw(dir_.Sub("records"))) {
      change(*raw);
    } else {
      ADD_FAILURE() << "cannot open the store's RocksDB";
    }
    OpenStore();
  }

  // An insider holding the records' encryption key rewrites record `seq`.
  void Rewrite(uint64_t seq) {
    Tamper([&](records::testing::RawDb& raw) {
      Record changed = appended_[seq];
      changed.outcome = "NO_SUCH_LINK";
      std::string body;
      records::AppendBody(changed, body);
      std::vector<std::pair<uint32_t, SecretBytes>> ks;
      ks.emplace_back(1, keys_.encryption_key.Clone());
      records::RecordCipher cipher =
          std::move(records::RecordCipher::Create(std::move(ks))).value();
      const std::string sealed =
          cipher.Seal(seq, changed.time_unix_us, changed.record_symbol, body);
      rocksdb::WriteBatch b;
      b.Put(raw.records(), records::SequenceKey(seq), sealed);
      ASSERT_TRUE(raw.db->Write(rocksdb::WriteOptions(), &b).ok());
    });
  }

  ipn::testing::TempDir dir_;
  TestKeys keys_;
  std::unique_ptr<records::RecordStore> store_;
  std::unique_ptr<DeskStore> desk_;
  std::vector<Record> appended_;
};

TEST_F(DeskPullTest, TheWholeLogFirstThenOnlyWhatIsNew) {
  Append(2500);
  AccessSource source(store_.get());
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  DeskPullOptions o;
  o.page_size = 300;
  o.progress = [&](uint64_t staged, uint64_t total) { progress.emplace_back(staged, total); };
  Result<PullRound> first = PullOnce(source, *desk_, 1, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->added, 2500u);
  EXPECT_EQ(first->head_size, 2500u);
  EXPECT_EQ(first->pages, 9u);  // ceil(2500 / 300)
  ASSERT_EQ(progress.size(), 9u);
  EXPECT_EQ(progress.front(), std::make_pair(uint64_t{300}, uint64_t{2500}));
  EXPECT_EQ(progress.back(), std::make_pair(uint64_t{2500}, uint64_t{2500}));
  EXPECT_EQ(desk_->size(), 2500u);
  EXPECT_EQ(DeskTotals(), Totals(appended_));
  auto back = desk_->Range(0, 2500, 5000);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, appended_);

  Append(700);
  source.first_sequences.clear();
  Result<PullRound> second = PullOnce(source, *desk_, 2, o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->added, 700u);
  EXPECT_EQ(second->pages, 3u);  // only the new records were asked for
  EXPECT_EQ(source.first_sequences.front(), 2500u);
  EXPECT_EQ(DeskTotals(), Totals(appended_));
  EXPECT_EQ(desk_->Heads()->size(), 2u);

  // Nothing new: one page, no commit.
  Result<PullRound> third = PullOnce(source, *desk_, 3, o);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->added, 0u);
  EXPECT_EQ(desk_->Heads()->size(), 2u);
  EXPECT_TRUE(desk_->Findings()->empty());
}

TEST_F(DeskPullTest, ARecordRewrittenInTheCoresStoreIsRefusedAndTheFiguresStay) {
  Append(1000);
  AccessSource source(store_.get());
  DeskPullOptions o;
  o.page_size = 256;
  ASSERT_TRUE(PullOnce(source, *desk_, 1, o).ok());
  const auto before = DeskTotals();
  Append(500);
  Rewrite(1234);
  AccessSource reopened(store_.get());
  Result<PullRound> round = PullOnce(reopened, *desk_, 2, o);
  ASSERT_FALSE(round.ok());
  EXPECT_EQ(round.status().code(), Status::Code::kCorruption) << round.status().ToString();
  EXPECT_EQ(desk_->size(), 1000u);
  EXPECT_EQ(desk_->staged(), 0u);
  EXPECT_EQ(DeskTotals(), before);
  auto findings = desk_->Findings();
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ(findings->front().kind, "inconsistent");
  EXPECT_EQ(findings->front().head_size, 1500u);
  EXPECT_EQ(findings->front().found_unix_us, 2);
}

TEST_F(DeskPullTest, ARecordDeletedFromTheCoresStoreIsAGapRefusedWithAFinding) {
  Append(600);
  AccessSource source(store_.get());
  DeskPullOptions o;
  o.page_size = 100;
  ASSERT_TRUE(PullOnce(source, *desk_, 1, o).ok());
  Append(300);
  Tamper([](records::testing::RawDb& raw) {
    ASSERT_TRUE(
        raw.db->Delete(rocksdb::WriteOptions(), raw.records(), records::SequenceKey(777)).ok());
  });
  AccessSource reopened(store_.get());
  Result<PullRound> round = PullOnce(reopened, *desk_, 5, o);
  ASSERT_FALSE(round.ok());
  EXPECT_EQ(round.status().code(), Status::Code::kCorruption) << round.status().ToString();
  EXPECT_NE(round.status().message().find("777"), std::string::npos) << round.status().message();
  EXPECT_EQ(desk_->size(), 600u);
  EXPECT_EQ(desk_->staged(), 0u);
  ASSERT_EQ(desk_->Findings()->size(), 1u);
  EXPECT_EQ(desk_->Findings()->front().kind, "not_contiguous");
}

TEST_F(DeskPullTest, TheCoreRefusesABadSequencePull) {
  Append(10);
  core::RecordAccess access(store_.get(), nullptr, nullptr, nullptr, nullptr);
  v1::RecordQuery q;
  q.set_from_sequence(11);
  EXPECT_EQ(access.SequencePull(q).status().code(), Status::Code::kInvalidArgument);
  q.set_from_sequence(0);
  q.set_from_unix_us(5);
  EXPECT_EQ(access.SequencePull(q).status().code(), Status::Code::kInvalidArgument);
  q.clear_from_unix_us();
  q.set_page_size(1001);
  EXPECT_EQ(access.SequencePull(q).status().code(), Status::Code::kInvalidArgument);
  q.set_page_size(4);
  auto page = access.SequencePull(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 4);
  EXPECT_EQ(page->records(0).record_symbol().size(), 32u);
  EXPECT_EQ(page->records(0).inclusion_path_size(), 0);  // the desk needs none
  EXPECT_FALSE(page->next_page_token().empty());
}

}  // namespace
}  // namespace ipn::oversight
