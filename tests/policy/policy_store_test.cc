// PolicyStore: verified loading, every kind of bad bundle refused with the old one still in
// force, and reloads racing decisions without a torn answer.
#include "policy/policy_store.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <functional>
#include <thread>

#include "common/encoding.h"
#include "common/file_util.h"
#include "ipn/v1/policy.pb.h"
#include "tests/policy/policy_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

using testing::Contains;
using testing::DemoBundle;
using testing::JstNoon;

// Signs `bundle_bytes` as docs/policy.md specifies, without SignBundle's checks:
// Ed25519 over "ipn-policy-bundle/1\n" || bytes.
std::vector<uint8_t> SignRaw(const AdminKeyPair& admin, const std::string& bundle_bytes) {
  ipn::v1::SignedPolicyBundle file;
  file.set_format("ipn-policy-bundle/1");
  file.set_bundle(bundle_bytes);
  const std::string message = "ipn-policy-bundle/1\n" + bundle_bytes;
  uint8_t signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const uint8_t*>(message.data()),
                       message.size(), admin.secret_key.data());
  file.set_signature(signature, sizeof signature);
  const std::string out = file.SerializeAsString();
  return {out.begin(), out.end()};
}

// A signed bundle whose PolicyBundle is the demo's, changed by `mutate` (no compiler checks).
std::vector<uint8_t> SignedMutation(const AdminKeyPair& admin, uint64_t version,
                                    const std::function<void(ipn::v1::PolicyBundle*)>& mutate) {
  auto compiled = CompilePolicy(DemoPolicySource(), version);
  EXPECT_TRUE(compiled.ok());
  ipn::v1::SignedPolicyBundle file;
  EXPECT_TRUE(file.ParseFromArray(compiled->data(), static_cast<int>(compiled->size())));
  ipn::v1::PolicyBundle bundle;
  EXPECT_TRUE(bundle.ParseFromString(file.bundle()));
  mutate(&bundle);
  return SignRaw(admin, bundle.SerializeAsString());
}

class PolicyStoreTest : public ::testing::Test {
 protected:
  PolicyStoreTest() : store_(admin_.public_key) {}

  // The decision the demo policy allows, asked of whatever is in force.
  Decision AskAllowed() {
    auto policy = store_.Current();
    EXPECT_TRUE(policy);
    return policy->Check("MUN-131016", "ltc-insurance", "PEN-0001", "pension",
                         JstNoon("2025-04-01"));
  }

  void ExpectRefusedAndOldInForce(std::span<const uint8_t> bundle, Status::Code code,
                                  const std::string& words) {
    const std::shared_ptr<const Policy> before = store_.Current();
    Status s = store_.Load(bundle);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_TRUE(Contains(s.message(), "policy bundle refused")) << s.message();
    EXPECT_TRUE(Contains(s.message(), words)) << s.message();
    EXPECT_EQ(store_.Current(), before);
    if (before) {
      Decision d = AskAllowed();
      EXPECT_TRUE(d.allowed);
      EXPECT_EQ(d.policy_version, before->version());
    }
  }

  AdminKeyPair admin_ = GenerateAdminKeyPair();
  PolicyStore store_;
};

TEST_F(PolicyStoreTest, NothingIsAllowedBeforeTheFirstLoad) {
  EXPECT_EQ(store_.Current(), nullptr);
  Decision d = store_.CheckAndCharge("MUN-131016", "ltc-insurance", "PEN-0001", "pension",
                                     JstNoon("2025-04-01"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.Explain(), "no policy bundle is loaded");
}

TEST_F(PolicyStoreTest, LoadsAndReplacesWithNewerVersions) {
  ASSERT_TRUE(store_.Load(DemoBundle(admin_, 1)).ok());
  EXPECT_EQ(store_.Current()->version(), 1u);
  const std::shared_ptr<const Policy> old = store_.Current();
  ASSERT_TRUE(store_.Load(DemoBundle(admin_, 5)).ok());
  EXPECT_EQ(store_.Current()->version(), 5u);
  // A holder of the old Policy keeps a consistent one.
  EXPECT_EQ(old->version(), 1u);
  EXPECT_TRUE(Contains(AskAllowed().Explain(), "policy version 5"));
}

TEST_F(PolicyStoreTest, LoadFileReadsASignedBundle) {
  ipn::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("p.bundle"), DemoBundle(admin_, 2)).ok());
  ASSERT_TRUE(store_.LoadFile(dir.Sub("p.bundle")).ok());
  EXPECT_EQ(store_.Current()->version(), 2u);
  Status missing = store_.LoadFile(dir.Sub("missing.bundle"));
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.message(), "missing.bundle"));
  EXPECT_EQ(store_.Current()->version(), 2u);
}

TEST_F(PolicyStoreTest, UnparseableUnsignedAndWronglySignedBundlesAreRefused) {
  ASSERT_TRUE(store_.Load(DemoBundle(admin_, 1)).ok());
  ExpectRefusedAndOldInForce({}, Status::Code::kInvalidArgument, "not a policy bundle file");
  const std::string junk = "\x08\x96\x01 certainly not a bundle";
  ExpectRefusedAndOldInForce(AsBytes(junk), Status::Code::kInvalidArgument,
                             "not a policy bundle file");
  auto unsigned_bundle = CompilePolicy(DemoPolicySource(), 2);
  ASSERT_TRUE(unsigned_bundle.ok());
  ExpectRefusedAndOldInForce(*unsigned_bundle, Status::Code::kPermissionDenied, "not signed");
  AdminKeyPair intruder = GenerateAdminKeyPair();
  ExpectRefusedAndOldInForce(DemoBundle(intruder, 2), Status::Code::kPermissionDenied,
                             "signature does not verify");
  // A correctly signed file whose signed bytes are not a PolicyBundle.
  const std::string garbage = "\xff\xff\xff";
  ExpectRefusedAndOldInForce(SignRaw(admin_, garbage), Status::Code::kInvalidArgument,
                             "not a parseable PolicyBundle");
  EXPECT_FALSE(SignBundle(WrapUnsignedBundle(AsBytes(garbage)), admin_.secret_key.span()).ok());
  // The raw signing above is the documented format: a demo bundle signed that way loads.
  auto compiled = CompilePolicy(DemoPolicySource(), 2);
  ipn::v1::SignedPolicyBundle file;
  ASSERT_TRUE(file.ParseFromArray(compiled->data(), static_cast<int>(compiled->size())));
  EXPECT_TRUE(store_.Load(SignRaw(admin_, file.bundle())).ok());
}

TEST_F(PolicyStoreTest, OlderOrEqualVersionsAreRefused) {
  ASSERT_TRUE(store_.Load(DemoBundle(admin_, 4)).ok());
  ExpectRefusedAndOldInForce(DemoBundle(admin_, 4), Status::Code::kFailedPrecondition,
                             "version 4 is not newer than version 4 in force");
  ExpectRefusedAndOldInForce(DemoBundle(admin_, 3), Status::Code::kFailedPrecondition,
                             "version 3 is not newer than version 4 in force");
  EXPECT_TRUE(store_.Load(DemoBundle(admin_, 5)).ok());
}

TEST_F(PolicyStoreTest, BundlesNamingUnknownThingsAreRefused) {
  ASSERT_TRUE(store_.Load(DemoBundle(admin_, 1)).ok());
  struct Case {
    std::function<void(ipn::v1::PolicyBundle*)> mutate;
    std::string words;
  } cases[] = {
      {[](auto* b) { b->mutable_links(0)->set_inquirer("MUN-999999"); },
       "links row 1: inquirer 'MUN-999999' is neither a known agency nor a known class"},
      {[](auto* b) { b->mutable_links(4)->set_provider("city-hall"); },
       "links row 5: provider 'city-hall' is neither a known agency nor a known class"},
      {[](auto* b) { b->mutable_links(2)->set_business("lottery"); },
       "links row 3: unknown business 'lottery'"},
      {[](auto* b) { b->mutable_links(3)->set_item("dna"); }, "links row 4: unknown item 'dna'"},
      {[](auto* b) { b->mutable_links(0)->set_inquirer("registry"); },
       "links row 1: inquirer class 'registry' is not a party to links"},
      {[](auto* b) { b->mutable_links(1)->set_effective_from("2024-02-30"); },
       "links row 2: effective_from: date '2024-02-30' is not a calendar date"},
      {[](auto* b) { b->mutable_links(1)->set_row(1); },
       "link row number 1 is missing or repeated"},
      {[](auto* b) {
         b->mutable_agencies(0)->set_status(ipn::v1::POLICY_AGENCY_STATUS_UNSPECIFIED);
       },
       "agency 'PEN-0001': status missing or unknown"},
      {[](auto* b) { b->mutable_agencies(0)->set_curve_public_key("short"); },
       "agency 'PEN-0001': curve_public_key must be 32 bytes"},
      {[](auto* b) { b->mutable_agencies(0)->set_rate_per_second(0); },
       "agency 'PEN-0001': rate_per_second must be > 0 and burst >= 1"},
      {[](auto* b) { b->add_items()->set_code("pension"); }, "item 'pension' listed twice"},
      {[](auto* b) { b->set_version(0); }, "policy bundle has no version"},
  };
  for (const Case& c : cases) {
    ExpectRefusedAndOldInForce(SignedMutation(admin_, 2, c.mutate), Status::Code::kInvalidArgument,
                               c.words);
  }
  // And a clean version 2 still loads afterwards.
  EXPECT_TRUE(store_.Load(DemoBundle(admin_, 2)).ok());
}

// Bundles A (odd versions: MUN-131016 suspended) and B (even versions: active) answer the same
// question differently; four threads decide while the main thread reloads. Every decision must
// match the one bundle its version names, and each thread must see versions only go up.
TEST_F(PolicyStoreTest, ReloadRacingFourThreadsGivesNoTornAnswer) {
  constexpr int kReloads = 60;
  AgencyOverride suspended, fast;
  suspended.status = AgencyStatus::kSuspended;
  suspended.rate_per_second = fast.rate_per_second = 1e9;
  suspended.burst = fast.burst = 1e9;
  std::vector<std::vector<uint8_t>> bundles;
  for (int v = 1; v <= kReloads; ++v) {
    bundles.push_back(DemoBundle(admin_, v, {{"MUN-131016", v % 2 == 1 ? suspended : fast}}));
  }
  ASSERT_TRUE(store_.Load(bundles[0]).ok());

  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int64_t> decisions{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      uint64_t last_version = 0;
      int64_t mine = 0;
      const int64_t at = JstNoon("2025-04-01");
      while (!done.load() || mine < 100) {
        Decision d =
            t % 2 == 0
                ? store_.CheckAndCharge("MUN-131016", "ltc-insurance", "PEN-0001", "pension", at)
                : store_.Current()->Check("MUN-131016", "ltc-insurance", "PEN-0001", "pension", at);
        const bool odd = d.policy_version % 2 == 1;
        const bool consistent =
            d.policy_version >= last_version &&
            Contains(d.Explain(), "policy version " + std::to_string(d.policy_version)) &&
            (odd ? (!d.allowed && d.reason == DenyReason::kInquirerNotActive && d.row == -1)
                 : (d.allowed && d.reason == DenyReason::kNone && d.row == 13));
        if (!consistent) torn.fetch_add(1);
        last_version = d.policy_version;
        ++mine;
      }
      decisions.fetch_add(mine);
    });
  }
  bool all_loaded = true;
  for (int v = 2; v <= kReloads && all_loaded; ++v) {
    all_loaded = store_.Load(bundles[v - 1]).ok();
    std::this_thread::yield();
  }
  done.store(true);
  for (auto& th : threads) th.join();
  EXPECT_TRUE(all_loaded);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GE(decisions.load(), 400);
  EXPECT_EQ(store_.Current()->version(), static_cast<uint64_t>(kReloads));
}

}  // namespace
}  // namespace ipn::policy
