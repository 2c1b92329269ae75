// The core records operator actions done offline: a key rotation between two starts of
// the core (with `ipn keys rotate`, i.e. SymbolService::RotateAgencyKey on its key ring)
// shows up, at the next start, as a key_change audit record in the provision-record log.
#include <gtest/gtest.h>

#include "common/curve_keys.h"
#include "common/file_util.h"
#include "core/core_router.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
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

  std::vector<records::Record> AuditRecords() {
    auto symbols = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, Options());
    EXPECT_TRUE(symbols.ok());
    auto keys = (*symbols)->GetRecordKeys();
    EXPECT_TRUE(keys.ok());
    records::RecordStoreOptions ro;
    ro.dir = data_ + "/records";
    ro.encryption_keys = std::move(keys->encryption);
    ro.signing_secret_key = std::move(keys->signing_secret_key);
    ro.read_only = true;
    auto store = records::RecordStore::Open(std::move(ro));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto history = (*store)->History(records::kAuditRecordSymbol, 1000, "");
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
}

}  // namespace
}  // namespace ipn::core
