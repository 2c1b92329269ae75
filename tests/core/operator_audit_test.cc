// The core records operator actions done offline: a key rotation between two starts of
// the core (with `ipn keys rotate`, i.e. SymbolService::RotateAgencyKey on its key ring)
// shows up, at the next start, as a key_change audit record in the provision-record log.
#include "core/operator_audit.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/curve_keys.h"
#include "common/file_util.h"
#include "core/core_router.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "records/audit_record.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"
#include "tests/support/temp_dir.h"

namespace ipn::core {
namespace {

constexpr char kPassphrase[] = "operator audit test passphrase";

class OperatorAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("core");
    ASSERT_TRUE(EnsureDirectory(data_).ok());
    ASSERT_TRUE(CurveKeyPair::Generate().SaveFile(data_ + "/core.key").ok());
    admin_ = policy::GenerateAdminKeyPair();
    auto bundle = policy::BuildDemoBundle({}, 1, admin_.secret_key.span());
    ASSERT_TRUE(bundle.ok());
    ASSERT_TRUE(WriteFileAtomic(data_ + "/bundle.ipnp", *bundle).ok());
    ASSERT_TRUE(symbol::SymbolService::Create(data_ + "/symbols", kPassphrase, Options()).ok());
  }

  static symbol::SymbolServiceOptions Options() {
    symbol::SymbolServiceOptions o;
    o.kdf = symbol::KdfStrength::kMinimumForTests;
    return o;
  }

  // Opens the core (which records its start), then closes it.
  void StartAndStopCore() {
    CoreOptions o;
    o.data_dir = data_;
    o.bind_endpoint = "tcp://127.0.0.1:*";
    o.key_ring_passphrase = kPassphrase;
    o.fast_kdf = true;
    o.key_file = data_ + "/core.key";
    o.policy_bundle_file = data_ + "/bundle.ipnp";
    o.admin_public_key = admin_.public_key;
    o.logger = log_.get();
    auto core = CoreRouter::Open(std::move(o));
    ASSERT_TRUE(core.ok()) << core.status().ToString();
  }

  // The core's record store, opened with the keys of its key ring (`open`: the key ring
  // when the test holds it open already; it admits one opener at a time).
  std::unique_ptr<records::RecordStore> OpenStore(bool read_only,
                                                  symbol::SymbolService* open = nullptr) {
    std::unique_ptr<symbol::SymbolService> own;
    if (open == nullptr) {
      auto symbols = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, Options());
      EXPECT_TRUE(symbols.ok()) << symbols.status().ToString();
      if (!symbols.ok()) return nullptr;
      own = std::move(*symbols);
      open = own.get();
    }
    auto keys = open->GetRecordKeys();
    EXPECT_TRUE(keys.ok());
    if (!keys.ok()) return nullptr;
    records::RecordStoreOptions ro;
    ro.dir = data_ + "/records";
    ro.encryption_keys = std::move(keys->encryption);
    ro.signing_secret_key = std::move(keys->signing_secret_key);
    ro.read_only = read_only;
    auto store = records::RecordStore::Open(std::move(ro));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::vector<records::Record> AuditRecords() {
    auto store = OpenStore(/*read_only=*/true);
    if (store == nullptr) return {};
    auto history = store->History(records::kAuditRecordSymbol, 1000, "");
    EXPECT_TRUE(history.ok());
    return history->records;  // newest first
  }

  static int Count(const std::vector<records::Record>& rs, const std::string& action,
                   const std::string& item = "") {
    int n = 0;
    for (const auto& r : rs) {
      n += r.event == records::Event::kOperatorAction && r.business == action &&
           (item.empty() || r.item == item);
    }
    return n;
  }

  ipn::testing::TempDir dir_;
  std::string data_;
  policy::AdminKeyPair admin_;
  std::unique_ptr<Logger> log_ = Logger::Null();
};

TEST_F(OperatorAuditTest, EachStartIsRecordedAndAKeyRotationBetweenStartsToo) {
  {
    auto symbols = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, Options());
    ASSERT_TRUE(symbols.ok());
    ASSERT_TRUE((*symbols)->Issue("12345678903", "MUN-131016").ok());  // MUN's key, v1
  }
  StartAndStopCore();
  std::vector<records::Record> first = AuditRecords();
  EXPECT_EQ(Count(first, "core_start"), 1);
  EXPECT_EQ(Count(first, "key_ring"), 1);
  EXPECT_EQ(Count(first, "key_change"), 0);  // nothing to compare with yet

  StartAndStopCore();  // no change: a start, no key record
  std::vector<records::Record> second = AuditRecords();
  EXPECT_EQ(Count(second, "core_start"), 2);
  EXPECT_EQ(Count(second, "key_ring"), 1);

  {
    auto symbols = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, Options());
    ASSERT_TRUE(symbols.ok());
    ASSERT_TRUE((*symbols)->RotateAgencyKey("MUN-131016").ok());
  }
  StartAndStopCore();
  std::vector<records::Record> third = AuditRecords();
  EXPECT_EQ(Count(third, "core_start"), 3);
  EXPECT_EQ(Count(third, "key_ring"), 2);
  EXPECT_EQ(Count(third, "key_change", "MUN-131016@v2:active"), 1);
  EXPECT_EQ(Count(third, "key_change", "MUN-131016@v1:retired"), 1);
  EXPECT_EQ(Count(third, "key_change"), 2);

  // The summary is kept in the store's metadata, so a start reads it without a scan.
  auto symbols = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, Options());
  ASSERT_TRUE(symbols.ok());
  const std::string summary = (*symbols)->KeySummary();
  symbols->reset();
  auto store = OpenStore(/*read_only=*/true);
  ASSERT_NE(store, nullptr);
  Result<std::string> kept = store->GetMeta("core.key_ring_summary");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(*kept, summary);
}

// A store written before the summary was kept in metadata has only the "key_ring" audit
// records: the first start reads the newest one, and from then on the metadata rules
// (a newer key_ring record planted after it is not consulted).
TEST_F(OperatorAuditTest, AStoreWithoutTheMetadataFallsBackToTheAuditRecordsOnce) {
  auto symbols = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, Options());
  ASSERT_TRUE(symbols.ok());
  ASSERT_TRUE((*symbols)->Issue("12345678903", "MUN-131016").ok());
  const std::string v1 = KeyRingSummary((*symbols)->ListKeys());
  auto store = OpenStore(/*read_only=*/false, symbols->get());
  ASSERT_NE(store, nullptr);
  auto append = [&](const records::AuditRecord& a) {
    records::Record r = records::ToRecord(a);
    ASSERT_TRUE(store->Append(r).ok());
  };
  // Recent times: records older than the retention period could be purged meanwhile.
  const int64_t now = SystemClock().NowMicros();
  records::AuditRecord old_ring;
  old_ring.time_unix_us = now;
  old_ring.actor = "operator";
  old_ring.action = "key_ring";
  old_ring.outcome = v1;
  append(old_ring);  // what a core before this change left behind
  ASSERT_EQ(store->GetMeta("core.key_ring_summary").status().code(), Status::Code::kNotFound);

  ASSERT_TRUE(RecordStartup(store.get(), **symbols, 1, now + 1).ok());
  auto first = store->History(records::kAuditRecordSymbol, 1000, "");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Count(first->records, "key_change"), 0);  // the scan found the same ring
  EXPECT_EQ(Count(first->records, "key_ring"), 1);    // and so wrote no new one
  Result<std::string> kept = store->GetMeta("core.key_ring_summary");
  ASSERT_TRUE(kept.ok());
  // The old summary had no records key; it is taken as unchanged, not as a key change.
  EXPECT_EQ(*kept, (*symbols)->KeySummary());
  EXPECT_EQ(*kept, "#records@v1:active," + v1);

  old_ring.outcome = "XXX-000000@v9:active";  // newer than the metadata, never read
  append(old_ring);
  ASSERT_TRUE((*symbols)->RotateAgencyKey("MUN-131016").ok());
  ASSERT_TRUE(RecordStartup(store.get(), **symbols, 1, now + 2).ok());
  auto second = store->History(records::kAuditRecordSymbol, 1000, "");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Count(second->records, "key_change"), 2);
  EXPECT_EQ(Count(second->records, "key_change", "MUN-131016@v2:active"), 1);
  EXPECT_EQ(Count(second->records, "key_change", "MUN-131016@v1:retired"), 1);
  kept = store->GetMeta("core.key_ring_summary");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, (*symbols)->KeySummary());
}

}  // namespace
}  // namespace ipn::core
