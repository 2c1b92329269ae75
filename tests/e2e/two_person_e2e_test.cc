// The two-person rule on a running core (issue #15): a policy bundle loaded while the core
// runs takes effect only with two approvals by distinct policy officers on the operator
// roster, added with `ipn policy approve`; a bundle that changes an agency's status also
// needs two distinct agency registrars (`--action agency_status`). One approval, or a
// second by the wrong role, or an operator approving twice, leaves the policy in force
// unchanged; each refusal and the load are operator-action records naming who approved.
// Rotating a key of the core's key ring (`ipn keys`, offline) takes two key custodians'
// approvals of a request bound to the ring's state; the core names them when it records
// the change at its next start, and records a change made around the rule as unapproved.
// Every bundle a core starts with needs the same approvals, and one older than the bundle
// last in force is refused even with its own.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/demo_policy.h"
#include "policy/two_person.h"
#include "records/audit_record.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

using Operator = TestOperator;

// `ipn policy approve` as the operator would run it.
Status Approve(const std::string& bundle, const Operator& op,
               const std::string& action = "policy_load") {
  return RunIpn("policy approve --bundle " + bundle + " --action " + action + " --operator " +
                op.id + " --key " + op.key_file)
             ? Status::Ok()
             : Status::Internal("approve failed");
}

TEST(OperatorTwoPersonE2eTest, APolicyLoadTakesEffectOnlyWithTwoDistinctOfficers) {
  TempDir keys;
  const std::vector<Operator> ops = MakeOperators(keys, {"alice", "bob", "carol"});
  const std::string roster = keys.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, "operator alice policy_officer " + HexEncode(ops[0].pk) +
                                          "\noperator bob policy_officer " + HexEncode(ops[1].pk) +
                                          "\noperator carol auditor " + HexEncode(ops[2].pk) +
                                          "\nrequire policy_load 2 policy_officer\n")
                  .ok());
  // Every bundle a core starts with needs the officers too, the first one included.
  E2eNetwork n({"REG-0001", "MUN-131016", "PEN-0001"}, {}, "", 5.0, {},
               [&](localnet::LocalNetworkOptions& o) {
                 o.operator_roster_file = roster;
                 o.approve_first_bundle = [&](const std::string& b) {
                   IPN_RETURN_IF_ERROR(Approve(b, ops[0]));
                   return Approve(b, ops[1]);
                 };
               });
  ASSERT_FALSE(::testing::Test::HasFailure());

  auto approve = [](const std::string& bundle, const Operator& op) { return Approve(bundle, op); };
  policy::AgencyOverride suspend;
  suspend.status = policy::AgencyStatus::kSuspended;
  const std::map<std::string, policy::AgencyOverride> change = {{"MUN-401307", suspend}};
  const auto wait = std::chrono::seconds(10);

  // Version 2, approved by alice alone: refused.
  ASSERT_TRUE(
      n.net().ChangePolicy(change, [&](const std::string& b) { return approve(b, ops[0]); }).ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 1, wait));
  // Version 3, alice and the auditor carol: refused (wrong role).
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) {
                                  IPN_RETURN_IF_ERROR(approve(b, ops[0]));
                                  return approve(b, ops[2]);
                                })
                  .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 2, wait));
  // Version 4, alice twice (her request approved by herself): refused. The CLI will not
  // add a second approval by the same operator, so the line is written directly.
  ASSERT_TRUE(
      n.net()
          .ChangePolicy(change,
                        [&](const std::string& b) -> Status {
                          IPN_RETURN_IF_ERROR(approve(b, ops[0]));
                          Result<std::string> bytes = ReadFile(b);
                          Result<std::string> file = ReadFile(b + ".approvals");
                          if (!bytes.ok() || !file.ok()) return Status::IoError(b);
                          Result<std::string> key = ReadFile(ops[0].key_file);
                          if (!key.ok()) return key.status();
                          Result<std::vector<uint8_t>> sk =
                              HexDecode(key->substr(0, key->find('\n')));
                          if (!sk.ok()) return sk.status();
                          Result<std::string> again = policy::ApprovalLine(
                              "policy_load",
                              std::span<const uint8_t>(
                                  reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
                              "alice", *sk);
                          if (!again.ok()) return again.status();
                          return WriteFileAtomic(b + ".approvals", *file + *again);
                        })
          .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 3, wait));
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_version"), 1);
  // Version 5, alice and bob: loaded.
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) {
                                  IPN_RETURN_IF_ERROR(approve(b, ops[0]));
                                  return approve(b, ops[1]);
                                })
                  .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_version", 5, wait));
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_loads_refused_total"), 3);

  std::vector<std::string> loads;
  bool status_change_named = false;
  for (const records::Record& r : n.StopAndReadRecords()) {
    std::optional<records::AuditRecord> a = records::AuditRecordOf(r);
    if (!a) continue;
    if (a->action == "policy_load") {
      loads.push_back(a->actor + " " + a->outcome.substr(0, a->outcome.find(':')));
    }
    if (a->action == "agency_status_change" && a->agency == "MUN-401307") {
      status_change_named = a->actor == "alice+bob";
    }
  }
  EXPECT_EQ(loads, (std::vector<std::string>{"alice+bob ok", "alice refused", "alice+carol refused",
                                             "alice+alice refused", "alice+bob ok"}));
  EXPECT_TRUE(status_change_named);
}

TEST(OperatorTwoPersonE2eTest, AnAgencyStatusChangeAlsoNeedsTwoDistinctRegistrars) {
  TempDir keys;
  const std::vector<Operator> ops = MakeOperators(keys, {"alice", "bob", "dave", "erin"});
  const Operator &alice = ops[0], &bob = ops[1], &dave = ops[2], &erin = ops[3];
  const std::string roster = keys.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, "operator alice policy_officer " + HexEncode(alice.pk) +
                                          "\noperator bob policy_officer " + HexEncode(bob.pk) +
                                          "\noperator dave agency_registrar " + HexEncode(dave.pk) +
                                          "\noperator erin agency_registrar " + HexEncode(erin.pk) +
                                          "\nrequire policy_load 2 policy_officer"
                                          "\nrequire agency_status 2 agency_registrar\n")
                  .ok());
  // The first bundle registers every agency: the registrars approve it with the officers.
  auto all_four = [&](const std::string& b) {
    IPN_RETURN_IF_ERROR(Approve(b, alice));
    IPN_RETURN_IF_ERROR(Approve(b, bob));
    IPN_RETURN_IF_ERROR(Approve(b, dave, "agency_status"));
    return Approve(b, erin, "agency_status");
  };
  E2eNetwork n({"REG-0001", "MUN-131016", "PEN-0001"}, {}, "", 5.0, {},
               [&](localnet::LocalNetworkOptions& o) {
                 o.operator_roster_file = roster;
                 o.approve_first_bundle = all_four;
               });
  ASSERT_FALSE(::testing::Test::HasFailure());
  policy::AgencyOverride suspend;
  suspend.status = policy::AgencyStatus::kSuspended;
  const std::map<std::string, policy::AgencyOverride> change = {{"MUN-401307", suspend}};
  const auto wait = std::chrono::seconds(10);
  auto officers = [&](const std::string& b) {
    IPN_RETURN_IF_ERROR(Approve(b, alice));
    return Approve(b, bob);
  };

  // Version 2: the officers approve, no registrar does: refused.
  ASSERT_TRUE(n.net().ChangePolicy(change, officers).ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 1, wait));
  // Version 3: one registrar: refused.
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) {
                                  IPN_RETURN_IF_ERROR(officers(b));
                                  return Approve(b, dave, "agency_status");
                                })
                  .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 2, wait));
  // Version 4: a registrar and a policy officer signing as a registrar: refused (role).
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) {
                                  IPN_RETURN_IF_ERROR(officers(b));
                                  IPN_RETURN_IF_ERROR(Approve(b, dave, "agency_status"));
                                  return Approve(b, alice, "agency_status");
                                })
                  .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 3, wait));
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_version"), 1);
  // Version 5 changes no status (the network's bundles keep earlier changes: this one
  // leaves the agency active, as in force): the officers alone load it.
  policy::AgencyOverride active;
  active.status = policy::AgencyStatus::kActive;
  ASSERT_TRUE(n.net().ChangePolicy({{"MUN-401307", active}}, officers).ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_version", 5, wait));
  // Version 6: officers and two registrars: the agency is suspended.
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) {
                                  IPN_RETURN_IF_ERROR(officers(b));
                                  IPN_RETURN_IF_ERROR(Approve(b, dave, "agency_status"));
                                  return Approve(b, erin, "agency_status");
                                })
                  .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_version", 6, wait));
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_loads_refused_total"), 3);

  std::vector<std::string> loads, status_changes;
  for (const records::Record& r : n.StopAndReadRecords()) {
    std::optional<records::AuditRecord> a = records::AuditRecordOf(r);
    if (!a) continue;
    if (a->action == "policy_load") {
      loads.push_back(a->actor + " " + a->outcome.substr(0, a->outcome.find(':')));
    }
    if (a->action == "agency_status_change" && !a->detail.starts_with("absent")) {
      status_changes.push_back(a->agency + " " + a->actor);
    }
  }
  // (The refused version 2 names the registrars still in its approvals file: their
  // approvals of version 1, which count for nothing on version 2's bytes.)
  EXPECT_EQ(
      loads,
      (std::vector<std::string>{
          "alice+bob; agency status: dave+erin ok", "alice+bob; agency status: dave+erin refused",
          "alice+bob; agency status: dave refused", "alice+bob; agency status: dave+alice refused",
          "alice+bob ok", "alice+bob; agency status: dave+erin ok"}));
  EXPECT_EQ(status_changes, (std::vector<std::string>{"MUN-401307 dave+erin"}));
}

// `ipn <args>` (the key ring's passphrase in IPN_PASSPHRASE); true when it succeeds.
bool Ipn(const std::string& args) {
  return RunIpn(args);
}

TEST(OperatorTwoPersonE2eTest, AKeyRotationTakesTwoKeyCustodiansAndTheCoreNamesThem) {
  TempDir keys;
  const std::vector<Operator> ops = MakeOperators(keys, {"kim", "lee", "alice"});
  const Operator &kim = ops[0], &lee = ops[1], &alice = ops[2];
  const std::string roster = keys.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, "operator kim key_custodian " + HexEncode(kim.pk) +
                                          "\noperator lee key_custodian " + HexEncode(lee.pk) +
                                          "\noperator alice policy_officer " + HexEncode(alice.pk) +
                                          "\nrequire key_change 2 key_custodian\n")
                  .ok());
  E2eNetwork n({"REG-0001", "MUN-131016", "PEN-0001"}, {}, "", 5.0, {},
               [&](localnet::LocalNetworkOptions& o) { o.operator_roster_file = roster; });
  ASSERT_FALSE(::testing::Test::HasFailure());
  n.IssueSymbol("MUN-131016", ResidentCodeFrom("1357924680"), "p1");  // MUN's keys exist
  const std::string ring = n.net().data_dir() + "/core/symbols";
  const std::string request = keys.Sub("rotate-mun.txt");
  // No --roster: the core keeps a copy of its roster beside the ring, where ipn keys finds it.
  const std::string rotate = "keys rotate --dir " + ring + " --agency MUN-131016";
  auto approve = [&](const Operator& op) {
    return Ipn("keys approve --request " + request + " --operator " + op.id + " --key " +
               op.key_file);
  };
  ASSERT_EQ(setenv("IPN_PASSPHRASE", n.net().key_ring_passphrase().c_str(), 1), 0);
  std::vector<bool> outcomes;
  Status offline = n.net().RestartCore(false, [&]() -> Status {
    outcomes.push_back(Ipn(rotate));  // no request: refused
    if (!Ipn("keys request --dir " + ring + " --agency MUN-131016 --output " + request)) {
      return Status::Internal("ipn keys request failed");
    }
    outcomes.push_back(approve(kim));
    outcomes.push_back(Ipn(rotate + " --request " + request));  // one custodian: refused
    outcomes.push_back(approve(kim));                           // kim again: refused
    outcomes.push_back(approve(alice));
    outcomes.push_back(Ipn(rotate + " --request " + request));  // a policy officer: refused
    std::filesystem::remove(request + ".approvals");
    outcomes.push_back(approve(kim));
    outcomes.push_back(approve(lee));
    outcomes.push_back(Ipn(rotate + " --request " + request));  // kim and lee: rotated
    outcomes.push_back(Ipn(rotate + " --request " + request));  // the same request again
    return Status::Ok();
  });
  ASSERT_TRUE(offline.ok()) << offline.ToString();
  // Then the records key rotated around the rule (the roster's copy removed first): the
  // tool lets it through, and the core's next start records it as unapproved.
  offline = n.net().RestartCore(false, [&]() -> Status {
    std::filesystem::remove(ring + "/operator_roster.txt");
    return Ipn("keys rotate --dir " + ring + " --records") ? Status::Ok()
                                                           : Status::Internal("rotate --records");
  });
  unsetenv("IPN_PASSPHRASE");
  ASSERT_TRUE(offline.ok()) << offline.ToString();
  EXPECT_TRUE(std::filesystem::exists(ring + "/operator_roster.txt"));  // copied again
  EXPECT_EQ(outcomes,
            (std::vector<bool>{false, true, false, false, true, false, true, true, true, false}));

  // Every refusal is in the key ring's operations log.
  EXPECT_EQ(Occurrences(ring + "/operations.log", "keys.refused"), 4u);
  // The core recorded the changes since its last start (MUN's first keys were made at
  // their first use; the rotation retired v1 and made v2) at its start, naming the two
  // custodians whose approvals left the ring as it is.
  std::vector<std::string> changes;
  for (const records::Record& r : n.StopAndReadRecords()) {
    std::optional<records::AuditRecord> a = records::AuditRecordOf(r);
    if (a && a->action == "key_change") changes.push_back(a->detail + " " + a->actor);
  }
  EXPECT_EQ(changes, (std::vector<std::string>{"MUN-131016@v1:retired kim+lee",
                                               "MUN-131016@v2:active kim+lee",
                                               "#records@v2:active unapproved"}));
}

// The bundle the core starts with follows the same rule when it changed while the core was
// stopped: without the officers' approvals, or with them but without the registrars' for
// the status change it makes, the core refuses to start and says why; with both it starts
// and records the load and the status change naming them.
TEST(OperatorTwoPersonE2eTest, ABundleChangedWhileStoppedNeedsItsApprovalsToStart) {
  TempDir keys;
  const std::vector<Operator> ops = MakeOperators(keys, {"alice", "bob", "dave", "erin"});
  const Operator &alice = ops[0], &bob = ops[1], &dave = ops[2], &erin = ops[3];
  const std::string roster = keys.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, RosterText({{&alice, "policy_officer"},
                                                  {&bob, "policy_officer"},
                                                  {&dave, "agency_registrar"},
                                                  {&erin, "agency_registrar"}},
                                                 "require policy_load 2 policy_officer\n"
                                                 "require agency_status 2 agency_registrar\n"))
                  .ok());
  // A bundle file with its approvals, kept aside or put back.
  auto copy_bundle = [](const std::string& from, const std::string& to) -> Status {
    for (const char* suffix : {"", ".approvals", ".agency_status.approvals"}) {
      std::error_code ec;
      std::filesystem::copy_file(from + suffix, to + suffix,
                                 std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) return Status::IoError(ec.message());
    }
    return Status::Ok();
  };
  const std::string v1 = keys.Sub("v1.ipnp"), v2 = keys.Sub("v2.ipnp");
  E2eNetwork n({"REG-0001", "MUN-131016", "PEN-0001"}, {}, "", 5.0, {},
               [&](localnet::LocalNetworkOptions& o) {
                 o.operator_roster_file = roster;
                 o.approve_first_bundle = [&](const std::string& b) {
                   IPN_RETURN_IF_ERROR(Approve(b, alice));
                   IPN_RETURN_IF_ERROR(Approve(b, bob));
                   IPN_RETURN_IF_ERROR(Approve(b, dave, "agency_status"));
                   IPN_RETURN_IF_ERROR(Approve(b, erin, "agency_status"));
                   return copy_bundle(b, v1);
                 };
               });
  ASSERT_FALSE(::testing::Test::HasFailure());
  policy::AgencyOverride suspend;
  suspend.status = policy::AgencyStatus::kSuspended;
  std::string bundle;
  // Version 2, suspending MUN-401307, approved by alice alone, written while stopped.
  Status refused = n.net().RestartCore(false, [&]() -> Status {
    return n.net().ChangePolicy(
        {{"MUN-401307", suspend}},
        [&](const std::string& b) {
          bundle = b;
          return Approve(b, alice);
        },
        /*reload=*/false);
  });
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.ToString().find("refusing to start with the policy bundle"), std::string::npos)
      << refused.ToString();
  // With bob too, but no registrars for the suspension: still refused.
  refused = n.net().RestartCore(true, [&] { return Approve(bundle, bob); });
  EXPECT_FALSE(refused.ok());
  // With dave and erin for the status change: it starts, with version 2 in force.
  Status started = n.net().RestartCore(true, [&] {
    IPN_RETURN_IF_ERROR(Approve(bundle, dave, "agency_status"));
    return Approve(bundle, erin, "agency_status");
  });
  ASSERT_TRUE(started.ok()) << started.ToString();
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_version"), 2);
  // Version 1 put back with its own, once valid, approvals: older than the bundle last in
  // force, so refused; version 2 again starts.
  refused = n.net().RestartCore(false, [&] {
    IPN_RETURN_IF_ERROR(copy_bundle(bundle, v2));
    return copy_bundle(v1, bundle);
  });
  EXPECT_NE(refused.ToString().find("older than version 2"), std::string::npos)
      << refused.ToString();
  started = n.net().RestartCore(true, [&] { return copy_bundle(v2, bundle); });
  ASSERT_TRUE(started.ok()) << started.ToString();
  // Each refusal is in the core's log and its records; the starts' records name who
  // approved (the first start registered every agency: "absent -> active").
  EXPECT_EQ(Occurrences(n.net().CoreLogPath(), "start_refused"), 3u);
  std::vector<std::string> actions;
  size_t refusals = 0;
  for (const records::Record& r : n.StopAndReadRecords()) {
    std::optional<records::AuditRecord> a = records::AuditRecordOf(r);
    if (a && a->action == "start_refused") ++refusals;
    if (a && (a->action == "policy_load" ||
              (a->action == "agency_status_change" && !a->detail.starts_with("absent")))) {
      actions.push_back(a->action + " " + a->agency + " " + a->detail + " " + a->actor);
    }
  }
  EXPECT_EQ(refusals, 3u);
  EXPECT_EQ(actions, (std::vector<std::string>{
                         "policy_load  version 1 at start alice+bob; agency status: dave+erin",
                         "policy_load  version 2 at start alice+bob; agency status: dave+erin",
                         "agency_status_change MUN-401307 active -> suspended dave+erin"}));
}

}  // namespace
}  // namespace ipn::testing
