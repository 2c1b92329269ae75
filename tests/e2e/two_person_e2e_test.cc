// The two-person rule on a running core (issue #15): a policy bundle loaded while the core
// runs takes effect only with two approvals by distinct policy officers on the operator
// roster, added with `ipn policy approve`. One approval, or a second by an auditor, or an
// operator approving twice, leaves the policy in force unchanged; each refusal and the
// load are operator-action records naming who approved.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>

#include <cstdlib>

#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/demo_policy.h"
#include "policy/two_person.h"
#include "records/audit_record.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

struct Operator {
  std::string id, key_file;
  std::array<uint8_t, 32> pk{};
};

TEST(OperatorTwoPersonE2eTest, APolicyLoadTakesEffectOnlyWithTwoDistinctOfficers) {
  TempDir keys;
  std::vector<Operator> ops;
  for (const char* id : {"alice", "bob", "carol"}) {
    Operator op{id, keys.Sub(std::string(id) + ".secret"), {}};
    std::array<uint8_t, 64> sk{};
    crypto_sign_keypair(op.pk.data(), sk.data());
    ASSERT_TRUE(WriteFileAtomic(op.key_file, HexEncode(sk) + "\n").ok());
    sodium_memzero(sk.data(), sk.size());
    ops.push_back(op);
  }
  const std::string roster = keys.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, "operator alice policy_officer " + HexEncode(ops[0].pk) +
                                          "\noperator bob policy_officer " + HexEncode(ops[1].pk) +
                                          "\noperator carol auditor " + HexEncode(ops[2].pk) +
                                          "\nrequire policy_load 2 policy_officer\n")
                  .ok());
  E2eNetwork n({"REG-0001", "MUN-131016", "PEN-0001"}, {}, "", 5.0, {},
               [&](localnet::LocalNetworkOptions& o) { o.operator_roster_file = roster; });
  ASSERT_FALSE(::testing::Test::HasFailure());

  auto approve = [&](const std::string& bundle, const Operator& op) {
    const std::string command = BinDir() + "/ipn policy approve --bundle " + bundle +
                                " --operator " + op.id + " --key " + op.key_file +
                                " >/dev/null 2>&1 </dev/null";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? Status::Ok()
                                                         : Status::Internal("approve failed");
  };
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
  EXPECT_EQ(loads, (std::vector<std::string>{"alice refused", "alice+carol refused",
                                             "alice+alice refused", "alice+bob ok"}));
  EXPECT_TRUE(status_change_named);
}

}  // namespace
}  // namespace ipn::testing
