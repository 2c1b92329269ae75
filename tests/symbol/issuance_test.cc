// The issuance file through the service: resident-code changes, concurrent issuance, and
// the privacy scan (nothing on disk or in the logs is a resident code or a symbol).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <latch>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/file_util.h"
#include "common/logger.h"
#include "symbol/issuance_file.h"
#include "symbol/presence_index.h"
#include "symbol/symbol_service.h"
#include "tests/support/temp_dir.h"
#include "tests/symbol/test_codes.h"

namespace ipn::symbol {
namespace {

using ipn::testing::TempDir;
using testing::FastOptions;
using testing::kPassphrase;

constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr const char* kIns = "INS-0001";

class IssuanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("core");
    ASSERT_TRUE(SymbolService::Create(dir_, kPassphrase, FastOptions()).ok());
    auto opened = SymbolService::Open(dir_, kPassphrase, FastOptions());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    service_ = std::move(opened).value();
  }
  TempDir tmp_;
  std::string dir_;
  std::unique_ptr<SymbolService> service_;
};

TEST_F(IssuanceTest, ResidentCodeChangeKeepsThePersonAndRetiresTheOldCode) {
  const std::string old_code = "49428595750", new_code = "27957422883", newer = "23015956917";
  auto at_mun = service_->Issue(old_code, kMun);
  auto at_pen = service_->Issue(old_code, kPen);
  ASSERT_TRUE(at_mun.ok() && at_pen.ok());

  ASSERT_TRUE(service_->ChangeResidentCode(old_code, new_code).ok());
  auto via_new = service_->Issue(new_code, kMun);
  ASSERT_TRUE(via_new.ok()) << via_new.status().ToString();
  EXPECT_EQ(*via_new, *at_mun) << "the person keeps their symbols";
  auto via_new_ins = service_->Issue(new_code, kIns);
  ASSERT_TRUE(via_new_ins.ok());
  auto t = service_->Translate(at_pen->bytes, kPen, kIns);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->provider_issued);
  EXPECT_EQ(t->provider_symbol, *via_new_ins);
  auto entries = service_->IssuanceOf(at_mun->bytes, kMun);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 3u) << "MUN once, PEN, INS";

  auto old_again = service_->Issue(old_code, kMun);
  ASSERT_FALSE(old_again.ok());
  EXPECT_EQ(old_again.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(old_again.status().message().find("replaced"), std::string::npos);
  EXPECT_FALSE(service_->Issue(old_code, "EDU-401307").ok());
  EXPECT_FALSE(service_->IssueBatch({old_code}, "EDU-401307")[0].ok());
  for (const auto& k : service_->ListKeys()) {
    EXPECT_NE(k.agency, "EDU-401307") << "a refused issuance must not create keys";
  }
  auto batch = service_->IssueBatch({old_code, new_code}, kPen);
  EXPECT_FALSE(batch[0].ok());
  ASSERT_TRUE(batch[1].ok());
  EXPECT_EQ(*batch[1], *at_pen);

  // Refusals: same code, replaced old code, new code already in use, malformed codes.
  EXPECT_EQ(service_->ChangeResidentCode(new_code, new_code).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(service_->ChangeResidentCode(old_code, newer).code(),
            Status::Code::kFailedPrecondition);
  EXPECT_EQ(service_->ChangeResidentCode(newer, new_code).code(),
            Status::Code::kFailedPrecondition);
  auto issued_person = testing::DistinctResidentCodes(1, 11)[0];
  ASSERT_TRUE(service_->Issue(issued_person, kMun).ok());
  Status in_use = service_->ChangeResidentCode(new_code, issued_person);
  EXPECT_EQ(in_use.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(in_use.message().find("already identifies"), std::string::npos);
  Status malformed = service_->ChangeResidentCode("49428595751", newer);
  EXPECT_EQ(malformed.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(malformed.message().find("old code"), std::string::npos);

  // A second change chains: the newest code still names the first person.
  ASSERT_TRUE(service_->ChangeResidentCode(new_code, newer).ok());
  EXPECT_FALSE(service_->Issue(new_code, kMun).ok());
  auto via_newer = service_->Issue(newer, kMun);
  ASSERT_TRUE(via_newer.ok());
  EXPECT_EQ(*via_newer, *at_mun);

  // And it is durable.
  service_.reset();
  auto reopened = SymbolService::Open(dir_, kPassphrase, FastOptions());
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Issue(newer, kPen), *at_pen);
  EXPECT_FALSE((*reopened)->Issue(old_code, kPen).ok());
}

TEST_F(IssuanceTest, ConcurrentIssuanceOfTheSamePersonYieldsOneEntry) {
  const auto codes = testing::DistinctResidentCodes(60, 5);
  // Two threads issue every person at MUN (in opposite orders), while two more issue
  // them at PEN and INS, so that rows are read and rewritten concurrently.
  std::vector<std::vector<AgencySymbol>> got(4, std::vector<AgencySymbol>(codes.size()));
  const char* agency_of[] = {kMun, kMun, kPen, kIns};
  std::latch start(4);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (size_t k = 0; k < codes.size(); ++k) {
        size_t i = t == 1 ? codes.size() - 1 - k : k;
        auto s = service_->Issue(codes[i], agency_of[t]);
        if (!s.ok()) {
          failures.fetch_add(1);
          continue;
        }
        got[static_cast<size_t>(t)][i] = *s;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(service_->ListKeys().size(), 3u) << "one key per agency despite the race";
  for (size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(got[0][i], got[1][i]);
    auto entries = service_->IssuanceOf(got[0][i].bytes, kMun);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    ASSERT_EQ(entries->size(), 3u) << "person " << i;
    std::set<std::string> agencies;
    for (const auto& e : *entries) agencies.insert(e.agency_code);
    EXPECT_EQ(agencies, (std::set<std::string>{kMun, kPen, kIns})) << "person " << i;
  }
}

TEST_F(IssuanceTest, ProviderIssuedIsTheSameWithAndWithoutTheInMemoryIndex) {
  const auto codes = testing::DistinctResidentCodes(40, 8);
  std::vector<AgencySymbol> at_mun;
  std::vector<bool> at_pen(codes.size(), false);
  for (size_t i = 0; i < codes.size(); ++i) {
    at_mun.push_back(*service_->Issue(codes[i], kMun));
    if (i % 2 == 0) {
      ASSERT_TRUE(service_->Issue(codes[i], kPen).ok());
      at_pen[i] = true;
    }
  }
  for (bool in_memory : {true, false}) {
    SCOPED_TRACE(in_memory ? "in memory" : "RocksDB lookups");
    service_.reset();
    SymbolServiceOptions options = FastOptions();
    options.issuance_index_in_memory = in_memory;
    auto opened = SymbolService::Open(dir_, kPassphrase, options);
    ASSERT_TRUE(opened.ok());
    service_ = std::move(opened).value();
    for (size_t i = 0; i < codes.size(); ++i) {
      auto t = service_->Translate(at_mun[i].bytes, kMun, kPen);
      ASSERT_TRUE(t.ok());
      EXPECT_EQ(t->provider_issued, at_pen[i]) << i;
    }
    // A new issuance is visible to the next translation at once.
    size_t fresh = in_memory ? 1 : 3;
    EXPECT_FALSE(service_->Translate(at_mun[fresh].bytes, kMun, kPen)->provider_issued);
    ASSERT_TRUE(service_->Issue(codes[fresh], kPen).ok());
    at_pen[fresh] = true;
    EXPECT_TRUE(service_->Translate(at_mun[fresh].bytes, kMun, kPen)->provider_issued);
  }
}

TEST(IssuancePresenceIndexTest, HoldsWhatWasInsertedAcrossGrowthAndThreads) {
  PresenceIndex index;
  std::mt19937_64 rng(3);
  std::vector<uint64_t> in(50000), out(50000);
  for (auto& v : in) v = rng();
  for (auto& v : out) v = rng();
  in[0] = 0;  // zero is a valid fingerprint too
  std::thread writer([&] {
    for (size_t i = 0; i < in.size() / 2; ++i) index.Insert(in[i]);
  });
  for (size_t i = in.size() / 2; i < in.size(); ++i) index.Insert(in[i]);
  writer.join();
  for (uint64_t v : in) index.Insert(v);  // duplicates change nothing
  EXPECT_EQ(index.size(), in.size());
  for (uint64_t v : in) {
    ASSERT_TRUE(index.Contains(v));
  }
  size_t false_hits = 0;
  for (uint64_t v : out) false_hits += index.Contains(v) ? 1 : 0;
  EXPECT_EQ(false_hits, 0u);
}

// Finds, in one pass per file, whether any of many byte strings (each >= 8 bytes) occurs.
class NeedleScanner {
 public:
  void Add(std::string needle) { needles_.push_back(std::move(needle)); }
  // Each (file, needle index) found.
  std::vector<std::pair<std::string, size_t>> Scan(const std::vector<std::string>& files) {
    std::unordered_multimap<uint64_t, size_t> by_prefix;
    by_prefix.reserve(needles_.size());
    for (size_t i = 0; i < needles_.size(); ++i) by_prefix.emplace(Prefix(needles_[i].data()), i);
    std::vector<std::pair<std::string, size_t>> hits;
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (size_t pos = 0; pos + 8 <= bytes.size(); ++pos) {
        auto [lo, hi] = by_prefix.equal_range(Prefix(bytes.data() + pos));
        for (auto it = lo; it != hi; ++it) {
          const std::string& n = needles_[it->second];
          if (bytes.compare(pos, n.size(), n) == 0) hits.emplace_back(file, it->second);
        }
      }
    }
    return hits;
  }
  size_t size() const { return needles_.size(); }

 private:
  static uint64_t Prefix(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  std::vector<std::string> needles_;
};

TEST(IssuancePrivacyTest, NoResidentCodeOrSymbolReachesTheDiskOrTheLogs) {
  TempDir tmp;
  const std::string dir = tmp.Sub("core"), log_dir = tmp.Sub("logs");
  ASSERT_TRUE(EnsureDirectory(log_dir).ok());
  auto logger = Logger::OpenFile(log_dir + "/symbol.log", "symbol");
  ASSERT_TRUE(logger.ok());
  (*logger)->set_min_level(Logger::Level::kDebug);
  SymbolServiceOptions options = FastOptions();
  options.logger = logger->get();
  ASSERT_TRUE(SymbolService::Create(dir, kPassphrase, options).ok());
  auto opened = SymbolService::Open(dir, kPassphrase, options);
  ASSERT_TRUE(opened.ok());
  auto service = std::move(opened).value();

  const auto codes = testing::DistinctResidentCodes(10000, 2024);
  NeedleScanner scanner;
  auto add_symbol = [&](const AgencySymbol& s) {
    scanner.Add(std::string(reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size()));
    std::string printable = s.ToPrintable();
    scanner.Add(printable);
    for (char& c : printable) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    scanner.Add(printable);
  };
  for (const auto& c : codes) scanner.Add(c);

  // Batches at two agencies, single issuances at a third, translations, a rotation with
  // re-issuance, and resident-code changes (whose new codes are needles too).
  std::vector<AgencySymbol> at_mun;
  for (const char* agency : {kMun, kPen}) {
    for (size_t from = 0; from < codes.size(); from += 2500) {
      std::vector<std::string> chunk(codes.begin() + static_cast<long>(from),
                                     codes.begin() + static_cast<long>(from + 2500));
      for (auto& r : service->IssueBatch(chunk, agency)) {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        add_symbol(*r);
        if (agency == kMun) at_mun.push_back(*r);
      }
    }
  }
  for (size_t i = 0; i < 200; ++i) {
    auto s = service->Issue(codes[i], kIns);
    ASSERT_TRUE(s.ok());
    add_symbol(*s);
  }
  for (size_t i = 0; i < 500; ++i) {
    auto t = service->Translate(at_mun[i].bytes, kMun, kPen);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(t->provider_issued);
    add_symbol(t->provider_symbol);
  }
  ASSERT_TRUE(service->RotateAgencyKey(kMun).ok());
  for (size_t i = 0; i < 100; ++i) {
    auto s = service->Issue(codes[i], kMun);
    ASSERT_TRUE(s.ok());
    add_symbol(*s);
  }
  const auto new_codes = testing::DistinctResidentCodes(50, 77);
  for (size_t i = 0; i < new_codes.size(); ++i) {
    scanner.Add(new_codes[i]);
    ASSERT_TRUE(service->ChangeResidentCode(codes[1000 + i], new_codes[i]).ok());
    auto s = service->Issue(new_codes[i], kPen);
    ASSERT_TRUE(s.ok());
    add_symbol(*s);
  }
  service.reset();
  logger->reset();

  std::vector<std::string> files = ipn::testing::ListFilesRecursively(dir);
  auto log_files = ipn::testing::ListFilesRecursively(log_dir);
  files.insert(files.end(), log_files.begin(), log_files.end());
  ASSERT_GE(files.size(), 4u);
  auto hits = scanner.Scan(files);
  for (const auto& [file, needle] : hits) {
    ADD_FAILURE() << file << " contains forbidden value #" << needle;
  }
  EXPECT_TRUE(hits.empty());
  EXPECT_GE(scanner.size(), 10000u + 3 * 20000u);

  // The scan itself finds what it should: a planted code and a planted printable symbol.
  const std::string canary = log_dir + "/canary";
  std::ofstream(canary) << "xx" << codes[1234] << "yy" << at_mun[7].ToPrintable();
  auto canary_hits = scanner.Scan({canary});
  EXPECT_GE(canary_hits.size(), 2u);
}

}  // namespace
}  // namespace ipn::symbol
