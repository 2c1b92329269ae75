// DeskStore (oversight/desk_store.h): the desk's verified copy of the log. Pages staged and
// committed against signed heads give exactly the counts computed independently from the
// same records; a head that does not match (an altered, missing or reordered record, a
// rewritten log, another signer, a wrong size) is refused, recorded, and changes nothing;
// the copy survives a reopen, and nothing of a person is on disk in clear.
#include "oversight/desk_store.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/civil_time.h"
#include "records/merkle.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

using records::Event;
using records::Record;

constexpr int64_t kJan1Jst2026 = 1'767'193'200'000'000;  // 2026-01-01 00:00 JST

struct Keys {
  records::PublicKey pk{};
  SecretBytes sk{crypto_sign_SECRETKEYBYTES};
  Keys() { crypto_sign_keypair(pk.data(), sk.data()); }
};

SecretBytes DataKey(uint8_t fill) {
  SecretBytes k(32);
  std::memset(k.data(), fill, 32);
  return k;
}

// Record `n` of a deterministic log: exchanges of four records, every 7th inquiry refused,
// spread over the year (one record every ~6 hours), three inquirers.
Record Nth(uint64_t n) {
  Record r;
  r.sequence = n;
  r.time_unix_us = kJan1Jst2026 + static_cast<int64_t>(n) * 6 * kMicrosPerHour + 1;
  const uint64_t exchange = n / 4;
  r.record_symbol.fill(static_cast<uint8_t>(0xA0 + exchange % 13));
  r.inquirer = std::array<const char*, 3>{"PEN-0001", "MUN-131016", "HLW-0001"}[exchange % 3];
  r.provider = "MUN-131024";
  r.business = exchange % 2 ? "np-benefit" : "child-allowance";
  r.item = "local-tax";
  r.request_id = "DESKMARKER-" + std::to_string(exchange);
  if (exchange % 7 == 0) {
    r.event = n % 4 == 0 ? Event::kInquiryRefused : Event::kReceived;
    r.outcome = n % 4 == 0 ? "NOT_PERMITTED" : "";
  } else {
    r.event = std::array<Event, 4>{Event::kInquiryAccepted, Event::kForwarded, Event::kProvided,
                                   Event::kReceived}[n % 4];
  }
  return r;
}

std::vector<Record> Log(uint64_t begin, uint64_t end) {
  std::vector<Record> out;
  for (uint64_t n = begin; n < end; ++n) out.push_back(Nth(n));
  return out;
}

records::SignedTreeHead HeadOf(const std::vector<Record>& log, const Keys& keys,
                               int64_t at = 1'790'000'000'000'000) {
  records::CompactRange range;
  for (const Record& r : log) range.AppendLeaf(records::RecordLeafHash(r));
  return records::SignTreeHead(range.size(), range.Root(), at, keys.sk.span());
}

class DeskStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<DeskStore> OpenStore(uint8_t key_fill = 7, uint64_t max_staged = 1'000'000) {
    DeskStoreOptions o;
    o.dir = dir_.Sub("desk");
    o.data_key = DataKey(key_fill);
    o.records_key = keys_.pk;
    o.max_staged_records = max_staged;
    auto s = DeskStore::Open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Stages `records` in pages of `page`.
  static void StageAll(DeskStore& desk, const std::vector<Record>& records, size_t page = 100) {
    for (size_t at = 0; at < records.size(); at += page) {
      const size_t n = std::min(page, records.size() - at);
      ASSERT_TRUE(desk.Stage(std::span<const Record>(records).subspan(at, n)).ok());
    }
  }

  // The monthly counts computed independently: (month, inquirer, business, event, reason).
  static std::map<std::string, uint64_t> Expected(const std::vector<Record>& log, bool daily) {
    std::map<std::string, uint64_t> m;
    for (const Record& r : log) {
      const CivilDate d = CivilFromDays(JstDayTime(r.time_unix_us).day);
      m[(daily ? FormatDate(d) : FormatMonth(d)) + "|" + r.inquirer + "|" + r.business + "|" +
        r.item + "|" + records::EventName(r.event) + "|" + r.outcome]++;
    }
    return m;
  }

  static std::map<std::string, uint64_t> Counted(const std::vector<VolumeRow>& rows) {
    std::map<std::string, uint64_t> m;
    for (const VolumeRow& v : rows) {
      m[v.period + "|" + v.inquirer + "|" + v.business + "|" + v.item + "|" +
        records::EventName(v.event) + "|" + v.reason] += v.count;
    }
    return m;
  }

  void ExpectCountsOf(DeskStore& desk, const std::vector<Record>& log) {
    auto months = desk.Volumes({Granularity::kMonth, "", "", ""});
    ASSERT_TRUE(months.ok()) << months.status().ToString();
    EXPECT_EQ(Counted(*months), Expected(log, false));
    auto days = desk.Volumes({Granularity::kDay, "", "", ""});
    ASSERT_TRUE(days.ok());
    EXPECT_EQ(Counted(*days), Expected(log, true));
  }

  ipn::testing::TempDir dir_;
  Keys keys_;
};

TEST_F(DeskStoreTest, CommittedPagesGiveExactlyTheIndependentCounts) {
  auto desk = OpenStore();
  ASSERT_NE(desk, nullptr);
  const std::vector<Record> log = Log(0, 1000);
  StageAll(*desk, log);
  EXPECT_EQ(desk->staged(), 1000u);
  EXPECT_EQ(desk->size(), 0u);  // staged is not visible
  ASSERT_TRUE(desk->Volumes({Granularity::kMonth, "", "", ""})->empty());
  ASSERT_TRUE(desk->Commit(HeadOf(log, keys_), 5).ok());
  EXPECT_EQ(desk->size(), 1000u);
  EXPECT_EQ(desk->staged(), 0u);
  ExpectCountsOf(*desk, log);
  // The records come back exactly, by sequence and by range.
  const std::vector<uint64_t> some = {0, 3, 999};
  auto got = desk->Records(some);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (std::vector<Record>{log[0], log[3], log[999]}));
  auto range = desk->Range(10, 20, 5);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, std::vector<Record>(log.begin() + 10, log.begin() + 15));
  EXPECT_EQ(desk->Records(std::vector<uint64_t>{1000}).status().code(), Status::Code::kNotFound);
}

TEST_F(DeskStoreTest, FiltersByPeriodAndInquirer) {
  auto desk = OpenStore();
  const std::vector<Record> log = Log(0, 1000);  // 250 days from 2026-01-01
  StageAll(*desk, log);
  ASSERT_TRUE(desk->Commit(HeadOf(log, keys_), 5).ok());
  auto march = desk->Volumes({Granularity::kDay, "2026-03-01", "2026-03-31", "PEN-0001"});
  ASSERT_TRUE(march.ok());
  std::vector<Record> expected;
  for (const Record& r : log) {
    const std::string day = JstDateOf(r.time_unix_us);
    if (day >= "2026-03-01" && day <= "2026-03-31" && r.inquirer == "PEN-0001") {
      expected.push_back(r);
    }
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Counted(*march), Expected(expected, true));
  auto q2 = desk->Volumes({Granularity::kMonth, "2026-04", "2026-06", ""});
  ASSERT_TRUE(q2.ok());
  for (const VolumeRow& v : *q2) EXPECT_TRUE(v.period >= "2026-04" && v.period <= "2026-06");
  uint64_t total = 0;
  for (const VolumeRow& v : *q2) total += v.count;
  EXPECT_EQ(total, std::count_if(log.begin(), log.end(), [](const Record& r) {
              const std::string m = JstDateOf(r.time_unix_us).substr(0, 7);
              return m >= "2026-04" && m <= "2026-06";
            }));
}

TEST_F(DeskStoreTest, GroupedViewsAddUpByTheirOneField) {
  auto desk = OpenStore();
  const std::vector<Record> log = Log(0, 1000);
  StageAll(*desk, log);
  ASSERT_TRUE(desk->Commit(HeadOf(log, keys_), 5).ok());
  for (GroupBy by : {GroupBy::kInquirer, GroupBy::kBusiness, GroupBy::kItem, GroupBy::kEvent}) {
    std::map<std::string, uint64_t> expected, got;
    auto key = [by](const std::string& period, const std::string& inquirer,
                    const std::string& business, const std::string& item, Event e,
                    const std::string& reason) {
      switch (by) {
        case GroupBy::kInquirer: return period + "|" + inquirer;
        case GroupBy::kBusiness: return period + "|" + business;
        case GroupBy::kItem: return period + "|" + item;
        default: return period + "|" + records::EventName(e) + "|" + reason;
      }
    };
    for (const Record& r : log) {
      expected[key(JstDateOf(r.time_unix_us), r.inquirer, r.business, r.item, r.event,
                   r.outcome)]++;
    }
    auto rows = desk->Volumes({Granularity::kDay, "", "", "", by});
    ASSERT_TRUE(rows.ok());
    for (const VolumeRow& v : *rows) {
      got[key(v.period, v.inquirer, v.business, v.item, v.event, v.reason)] += v.count;
      // Only the grouped field is named.
      EXPECT_EQ(v.inquirer.empty(), by != GroupBy::kInquirer);
      EXPECT_EQ(v.business.empty(), by != GroupBy::kBusiness);
    }
    EXPECT_EQ(got, expected) << static_cast<int>(by);
    EXPECT_EQ(rows->size(), expected.size());  // one row per period and group
  }
}

TEST_F(DeskStoreTest, IncrementalHeadsExtendTheSameLog) {
  auto desk = OpenStore();
  const std::vector<Record> log = Log(0, 600);
  StageAll(*desk, std::vector<Record>(log.begin(), log.begin() + 250));
  ASSERT_TRUE(desk->Commit(HeadOf({log.begin(), log.begin() + 250}, keys_, 100), 1).ok());
  StageAll(*desk, std::vector<Record>(log.begin() + 250, log.end()), 64);
  ASSERT_TRUE(desk->Commit(HeadOf(log, keys_, 200), 2).ok());
  ExpectCountsOf(*desk, log);
  auto heads = desk->Heads();
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 2u);
  EXPECT_EQ((*heads)[0].head.tree_size, 250u);
  EXPECT_EQ((*heads)[0].committed_unix_us, 1);
  EXPECT_EQ((*heads)[1].head.tree_size, 600u);
  EXPECT_TRUE(desk->Findings()->empty());
}

// Each lie: nothing visible changes, nothing stays staged, and the finding says why.
TEST_F(DeskStoreTest, AHeadThatDoesNotMatchIsRefusedAndChangesNothing) {
  auto desk = OpenStore();
  const std::vector<Record> log = Log(0, 400);
  const std::vector<Record> first(log.begin(), log.begin() + 200);
  StageAll(*desk, first);
  ASSERT_TRUE(desk->Commit(HeadOf(first, keys_), 1).ok());
  const std::vector<Record> rest(log.begin() + 200, log.end());
  const auto before = desk->Volumes({Granularity::kDay, "", "", ""});

  struct Lie {
    const char* kind;
    std::vector<Record> staged;
    records::SignedTreeHead head;
  };
  std::vector<Lie> lies;
  std::vector<Record> altered = rest;
  altered[17].outcome = "changed";
  lies.push_back({"inconsistent", altered, HeadOf(log, keys_)});
  std::vector<Record> reordered = rest;
  std::swap(reordered[3].time_unix_us, reordered[4].time_unix_us);
  std::swap(reordered[3].event, reordered[4].event);
  lies.push_back({"inconsistent", reordered, HeadOf(log, keys_)});
  std::vector<Record> rewritten = log;  // a record before the desk's size changed
  rewritten[5].request_id = "rewritten";
  lies.push_back({"inconsistent", rest, HeadOf(rewritten, keys_)});
  Keys other;
  lies.push_back({"bad_signature", rest, HeadOf(log, other)});
  lies.push_back(
      {"not_contiguous", std::vector<Record>(rest.begin(), rest.end() - 1), HeadOf(log, keys_)});
  // A refusal like the one before it (same kind, same head size) is recorded once.
  size_t recorded = 0;
  std::string last;
  for (size_t i = 0; i < lies.size(); ++i) {
    SCOPED_TRACE(lies[i].kind);
    StageAll(*desk, lies[i].staged);
    Status s = desk->Commit(lies[i].head, 10 + static_cast<int64_t>(i));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Status::Code::kCorruption);
    EXPECT_NE(s.message().find("the head of size " + std::to_string(lies[i].head.tree_size)),
              std::string::npos)
        << s.message();
    EXPECT_EQ(desk->size(), 200u);
    EXPECT_EQ(desk->staged(), 0u);
    EXPECT_EQ(*desk->head(), HeadOf(first, keys_));
    EXPECT_EQ(Counted(*desk->Volumes({Granularity::kDay, "", "", ""})), Counted(*before));
    auto findings = desk->Findings();
    ASSERT_TRUE(findings.ok());
    const std::string what =
        lies[i].kind + std::string("/") + std::to_string(lies[i].head.tree_size);
    if (what != last) {
      ++recorded;
      last = what;
      EXPECT_EQ(findings->back().found_unix_us, 10 + static_cast<int64_t>(i));
    }
    ASSERT_EQ(findings->size(), recorded);
    EXPECT_EQ(findings->back().kind, lies[i].kind);
    EXPECT_EQ(findings->back().head_size, lies[i].head.tree_size);
    EXPECT_EQ(desk->Range(200, 400, 500)->size(), 0u);  // nothing of the lie is readable
  }
  // The same refusal again (a desk polling a lying core): recorded once.
  StageAll(*desk, rest);
  ASSERT_FALSE(desk->Commit(HeadOf(log, other), 50).ok());
  StageAll(*desk, rest);
  ASSERT_FALSE(desk->Commit(HeadOf(log, other), 51).ok());
  EXPECT_EQ(recorded, 3u);  // inconsistent (three lies in a row), bad_signature, not_contiguous
  EXPECT_EQ(desk->Findings()->size(), recorded + 1);
  // The honest pull still goes through afterwards.
  StageAll(*desk, rest);
  ASSERT_TRUE(desk->Commit(HeadOf(log, keys_), 99).ok());
  ExpectCountsOf(*desk, log);
}

TEST_F(DeskStoreTest, PagesMustContinueTheLogAndStagingIsBounded) {
  auto desk = OpenStore(7, 150);
  const std::vector<Record> log = Log(0, 300);
  ASSERT_TRUE(desk->Stage(std::span<const Record>(log).subspan(0, 100)).ok());
  // A gap, a repeat: refused, nothing of the page staged.
  EXPECT_EQ(desk->Stage(std::span<const Record>(log).subspan(101, 10)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(desk->Stage(std::span<const Record>(log).subspan(99, 10)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(desk->staged(), 100u);
  // Over the bound (150 without a head).
  EXPECT_EQ(desk->Stage(std::span<const Record>(log).subspan(100, 51)).code(),
            Status::Code::kResourceExhausted);
  ASSERT_TRUE(desk->Stage(std::span<const Record>(log).subspan(100, 50)).ok());
  ASSERT_TRUE(desk->Commit(HeadOf({log.begin(), log.begin() + 150}, keys_), 1).ok());
  // A commit frees the bound.
  ASSERT_TRUE(desk->Stage(std::span<const Record>(log).subspan(150, 150)).ok());
  ASSERT_TRUE(desk->DropStaged().ok());
  EXPECT_EQ(desk->staged(), 0u);
  EXPECT_EQ(desk->size(), 150u);
}

TEST_F(DeskStoreTest, AReopenKeepsTheVerifiedCopyAndDropsWhatWasStaged) {
  const std::vector<Record> log = Log(0, 500);
  {
    auto desk = OpenStore();
    StageAll(*desk, std::vector<Record>(log.begin(), log.begin() + 300));
    ASSERT_TRUE(desk->Commit(HeadOf({log.begin(), log.begin() + 300}, keys_), 1).ok());
    StageAll(*desk, std::vector<Record>(log.begin() + 300, log.begin() + 400));  // never committed
  }
  auto desk = OpenStore();
  ASSERT_NE(desk, nullptr);
  EXPECT_EQ(desk->size(), 300u);
  EXPECT_EQ(desk->staged(), 0u);
  EXPECT_EQ(desk->head()->tree_size, 300u);
  ExpectCountsOf(*desk, {log.begin(), log.begin() + 300});
  StageAll(*desk, std::vector<Record>(log.begin() + 300, log.end()));
  ASSERT_TRUE(desk->Commit(HeadOf(log, keys_), 2).ok());
  ExpectCountsOf(*desk, log);
  EXPECT_EQ(desk->Heads()->size(), 2u);
}

TEST_F(DeskStoreTest, NoRequestIdOrPersonIsOnDiskInClearAndAnotherKeyOpensNothing) {
  const std::vector<Record> log = Log(0, 400);
  {
    auto desk = OpenStore();
    StageAll(*desk, log);
    ASSERT_TRUE(desk->Commit(HeadOf(log, keys_), 1).ok());
  }
  const std::string symbol(32, static_cast<char>(0xA5));
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Sub("desk"))) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(bytes.find("DESKMARKER"), std::string::npos) << e.path();
    EXPECT_EQ(bytes.find(symbol), std::string::npos) << e.path();
  }
  auto other = OpenStore(8);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->size(), 400u);  // the counts and heads are not secret
  EXPECT_EQ(other->Records(std::vector<uint64_t>{0}).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace ipn::oversight
