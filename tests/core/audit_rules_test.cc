// The core's audit rules without a core: start-up and key-ring audit, policy-load audit,
// the AuditRecord <-> Record mapping, and message admission (recordable fields).
#include <gtest/gtest.h>

#include "core/message_admission.h"
#include "core/operator_audit.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "policy/policy_store.h"
#include "records/audit_record.h"

namespace ipn::core {
namespace {

std::vector<std::string> Actions(const std::vector<records::AuditRecord>& audit) {
  std::vector<std::string> out;
  for (const auto& a : audit) out.push_back(a.action + "|" + a.agency + "|" + a.detail);
  return out;
}

TEST(StartupAuditTest, TheFirstStartRecordsTheKeyRingWithoutKeyChanges) {
  auto audit = StartupAudit("", "MUN-131016@v1:active,PEN-0001@v1:active", 7, 1000);
  EXPECT_EQ(Actions(audit),
            (std::vector<std::string>{"core_start||policy version 7", "key_ring||2 keys"}));
  EXPECT_EQ(audit[1].outcome, "MUN-131016@v1:active,PEN-0001@v1:active");
  EXPECT_EQ(audit[0].actor, "operator");
  EXPECT_EQ(audit[0].time_unix_us, 1000);
}

TEST(StartupAuditTest, AnUnchangedKeyRingRecordsOnlyTheStart) {
  auto audit = StartupAudit("PEN-0001@v1:active", "PEN-0001@v1:active", 1, 0);
  EXPECT_EQ(Actions(audit), (std::vector<std::string>{"core_start||policy version 1"}));
}

TEST(StartupAuditTest, ARotationBetweenStartsIsOneKeyChangePerNewOrChangedKey) {
  auto audit = StartupAudit("PEN-0001@v1:active", "PEN-0001@v1:retired,PEN-0001@v2:active", 1, 0);
  EXPECT_EQ(Actions(audit),
            (std::vector<std::string>{
                "core_start||policy version 1", "key_change|PEN-0001|PEN-0001@v1:retired",
                "key_change|PEN-0001|PEN-0001@v2:active", "key_ring||2 keys"}));
}

TEST(KeyRingSummaryTest, IsSortedWhateverTheOrderOfKeys) {
  std::vector<symbol::KeyInfo> keys(2);
  keys[0].agency = "PEN-0001";
  keys[0].version = 2;
  keys[0].state = symbol::KeyState::kActive;
  keys[1].agency = "MUN-131016";
  keys[1].version = 1;
  keys[1].state = symbol::KeyState::kRetired;
  EXPECT_EQ(KeyRingSummary(keys), "MUN-131016@v1:retired,PEN-0001@v2:active");
}

class PolicyLoadAuditTest : public ::testing::Test {
 protected:
  std::shared_ptr<const policy::Policy> Load(
      uint64_t version, const std::map<std::string, policy::AgencyOverride>& overrides) {
    auto bundle = policy::BuildDemoBundle(overrides, version, admin_.secret_key.span());
    EXPECT_TRUE(bundle.ok());
    EXPECT_TRUE(store_.Load(*bundle).ok());
    return store_.Current();
  }
  policy::AdminKeyPair admin_ = policy::GenerateAdminKeyPair();
  policy::PolicyStore store_{admin_.public_key};
};

TEST_F(PolicyLoadAuditTest, ALoadRecordsTheVersionAndEveryStatusChange) {
  auto before = Load(1, {});
  std::map<std::string, policy::AgencyOverride> o;
  o["LAB-0001"].status = policy::AgencyStatus::kSuspended;
  o["PEN-0001"].status = policy::AgencyStatus::kRetired;
  auto after = Load(2, o);
  auto audit = PolicyLoadAudit(*before, *after, Status::Ok(), "b.ipnp", 5);
  EXPECT_EQ(Actions(audit),
            (std::vector<std::string>{"policy_load||version 2",
                                      "agency_status_change|PEN-0001|active -> retired",
                                      "agency_status_change|LAB-0001|active -> suspended"}));
}

// A new node key for an agency changes who may speak as it: a change of its standing as
// much as a suspension, and named with the key's first 8 bytes.
TEST_F(PolicyLoadAuditTest, ANewNodeKeyIsAStandingChange) {
  auto before = Load(1, {});
  std::map<std::string, policy::AgencyOverride> o;
  o["PEN-0001"].curve_public_key = std::array<uint8_t, 32>{0xab, 0xcd};
  auto after = Load(2, o);
  std::vector<AgencyStatusChange> changes = AgencyStatusChanges(before.get(), *after);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].agency, "PEN-0001");
  EXPECT_EQ(changes[0].now, "active, key abcd000000000000…");
  EXPECT_TRUE(changes[0].was.starts_with("active, key ")) << changes[0].was;
  EXPECT_NE(changes[0].was, changes[0].now);
  EXPECT_TRUE(AgencyStatusChanges(after.get(), *after).empty());
}

TEST_F(PolicyLoadAuditTest, ARefusedLoadRecordsTheRefusalOnly) {
  auto before = Load(1, {});
  auto audit =
      PolicyLoadAudit(*before, *before, Status::PermissionDenied("bad signature"), "b.ipnp", 5);
  EXPECT_EQ(Actions(audit), (std::vector<std::string>{"policy_load||file b.ipnp"}));
  EXPECT_EQ(audit[0].outcome, "refused: bad signature");
}

TEST(AuditRecordTest, RoundTripsThroughARecord) {
  records::AuditRecord a{42, "PPC-0001", "PEN-0001", "records_pull", "0..10", "ok", "q7"};
  records::Record r = records::ToRecord(a);
  EXPECT_EQ(r.event, records::Event::kOperatorAction);
  EXPECT_EQ(r.record_symbol, records::kAuditRecordSymbol);
  auto back = records::AuditRecordOf(r);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->time_unix_us, 42);
  EXPECT_EQ(back->actor, "PPC-0001");
  EXPECT_EQ(back->agency, "PEN-0001");
  EXPECT_EQ(back->action, "records_pull");
  EXPECT_EQ(back->detail, "0..10");
  EXPECT_EQ(back->outcome, "ok");
  EXPECT_EQ(back->request_id, "q7");
}

TEST(AuditRecordTest, AProvisionRecordIsNoAuditRecord) {
  records::Record r;
  r.event = records::Event::kProvided;
  EXPECT_FALSE(records::AuditRecordOf(r).has_value());
}

TEST(AuditRecordTest, TextIsMadeToFitAtACharacterBoundary) {
  // 22 three-byte characters (66 bytes) into a 64-byte field: 21 whole characters stay.
  std::string text;
  for (int i = 0; i < 22; ++i) text += "記";
  EXPECT_EQ(records::ClipRecordText(text, 64).size(), 63u);
  EXPECT_EQ(records::ClipRecordText("a\nb\x7f", 64), "a?b?");
  EXPECT_EQ(records::ClipRecordText("\xff\xfe", 64), "?");  // not UTF-8 at all
}

TEST(MessageAdmissionTest, EveryRecordableFieldIsChecked) {
  v1::Envelope e;
  e.set_request_id("r1");
  e.mutable_inquiry()->set_provider_code("MUN-131016");
  e.mutable_inquiry()->set_business_code("np-benefit");
  e.mutable_inquiry()->set_item_code("local-tax");
  EXPECT_TRUE(CheckAdmissible(e).ok());
  v1::Envelope bad = e;
  bad.set_request_id(std::string(129, 'r'));
  EXPECT_FALSE(CheckAdmissible(bad).ok());
  bad = e;
  bad.mutable_inquiry()->set_provider_code("MUN\n131016");
  EXPECT_FALSE(CheckAdmissible(bad).ok());
  bad = e;
  bad.mutable_inquiry()->set_business_code(std::string(65, 'b'));
  EXPECT_FALSE(CheckAdmissible(bad).ok());
  bad = e;
  bad.mutable_inquiry()->set_item_code("\xc3");
  EXPECT_FALSE(CheckAdmissible(bad).ok());
  v1::Envelope q;
  q.set_request_id("q1");
  q.mutable_record_query()->set_agency_code(std::string(65, 'a'));
  EXPECT_FALSE(CheckAdmissible(q).ok());
}

}  // namespace
}  // namespace ipn::core
