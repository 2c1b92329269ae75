// Adding or removing a core replica under the two-person rule (issue #15): the sites of a
// replicated core come from a replica set file (`ipn replica request`) that takes effect
// only with two key custodians' approvals (`ipn replica approve`), at every start, and
// whose version only goes up. Here the west site is removed: under the same version, or
// with one custodian, or a policy officer as the second, the east core refuses to start;
// the same custodian cannot approve twice; with two it starts, leads, and records the
// change naming both.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/file_util.h"
#include "policy/start_config.h"
#include "records/audit_record.h"
#include "tests/e2e/e2e_fixture.h"
#include "tools/localnet/etcd_cluster.h"

namespace ipn::testing {
namespace {

using namespace std::chrono_literals;

TEST(TwoPersonReplicaSetTest, ASiteIsRemovedOnlyWithTwoKeyCustodians) {
  TempDir etcd_dir, keys;
  auto cluster = localnet::EtcdCluster::Start(etcd_dir.path());
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  const std::vector<TestOperator> ops = MakeOperators(keys, {"kim", "lee", "alice"});
  const TestOperator &kim = ops[0], &lee = ops[1], &alice = ops[2];
  const std::string roster = keys.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, RosterText({{&kim, "key_custodian"},
                                                  {&lee, "key_custodian"},
                                                  {&alice, "policy_officer"}},
                                                 "require replica_change 2 key_custodian\n"))
                  .ok());
  // The set the sites start with (east and west), approved as every set must be.
  const std::string set = keys.Sub("sites.txt");
  ASSERT_TRUE(RunIpn("replica request --version 1 --sites east,west --output " + set));
  auto approve = [&](const TestOperator& op) {
    return RunIpn("replica approve --set " + set + " --operator " + op.id + " --key " +
                  op.key_file);
  };
  ASSERT_TRUE(approve(kim));
  ASSERT_TRUE(approve(lee));
  E2eNetwork n({"REG-0001", "PEN-0001", "MUN-131016"}, {}, "", 3.0, nullptr,
               [&](localnet::LocalNetworkOptions& o) {
                 o.sites = {"east", "west"};
                 o.etcd_endpoints = (*cluster)->endpoints();
                 o.lease_ttl_s = 1;
                 o.operator_roster_file = roster;
                 o.replica_set_file = set;
               });
  ASSERT_FALSE(::testing::Test::HasFailure());

  // Both sites stopped; the set rewritten without west.
  n.net().KillSite(1);
  n.net().KillSite(0);
  // Version 1 again with other sites: refused whoever approves it (a set only moves on).
  ASSERT_TRUE(RunIpn("replica request --version 1 --sites east --output " + set));
  ASSERT_TRUE(approve(kim));
  ASSERT_TRUE(approve(lee));
  EXPECT_FALSE(n.net().StartSite(0).ok());
  n.net().KillSite(0);
  ASSERT_TRUE(RunIpn("replica request --version 2 --sites east --output " + set));
  ASSERT_TRUE(approve(kim));
  Status one = n.net().StartSite(0);
  EXPECT_FALSE(one.ok());
  EXPECT_NE(one.ToString().find("refusing to start with the replica set"), std::string::npos)
      << one.ToString();
  EXPECT_FALSE(approve(kim));  // no operator approves twice
  ASSERT_TRUE(approve(alice));
  n.net().KillSite(0);
  EXPECT_FALSE(n.net().StartSite(0).ok());  // a policy officer is not a key custodian
  std::filesystem::remove(set + ".approvals");
  ASSERT_TRUE(approve(kim));
  ASSERT_TRUE(approve(lee));
  n.net().KillSite(0);
  Status two = n.net().StartSite(0);
  ASSERT_TRUE(two.ok()) << two.ToString();
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (n.SiteMetric(0, "ipn_core_leading") != 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(n.SiteMetric(0, "ipn_core_leading"), 1);  // east alone leads (its start recorded)
  // Stopped; the removed west site's kill is what Stop reports (a killed site's exit code).
  Status stopped = n.net().Stop();
  EXPECT_TRUE(stopped.ok() || stopped.message().find("exited with code") != std::string::npos)
      << stopped.ToString();

  auto east = n.net().OpenSiteRecords(0);
  ASSERT_TRUE(east.ok()) << east.status().ToString();
  std::vector<std::string> changes;
  for (uint64_t s = 0; s < (*east)->Size(); ++s) {
    Result<records::Record> r = (*east)->Get(s);
    ASSERT_TRUE(r.ok());
    std::optional<records::AuditRecord> a = records::AuditRecordOf(*r);
    if (a && a->action == "replica_change") changes.push_back(a->detail + " " + a->actor);
  }
  // The first leader recorded the set it started with; east, the change.
  EXPECT_EQ(changes, (std::vector<std::string>{
                         "version 1: sites east,west (were none recorded here) kim+lee",
                         "version 2: sites east (were east,west) kim+lee"}));
  EXPECT_EQ(Occurrences(n.net().CoreDir(0) + "/core.log", "start_refused"), 3u);
}

}  // namespace
}  // namespace ipn::testing
