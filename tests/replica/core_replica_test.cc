// CoreReplica (the core's side of replication) against a real etcd cluster: a site whose
// policy bundle is older than the newest any leader served does not lead.
#include "core/core_replica.h"

#include <gtest/gtest.h>

#include "common/logger.h"
#include "tests/records/record_test_util.h"
#include "tests/replica/etcd_fixture.h"

namespace ipn::core {
namespace {

using records::RecordStore;
using records::testing::TestKeys;

class CoreReplicaTest : public ipn::testing::EtcdFixture {
 protected:
  struct Site {
    std::unique_ptr<RecordStore> store;
    std::unique_ptr<CoreReplica> replica;
  };

  Site Open(const std::string& name) {
    Site s;
    auto store = RecordStore::Open(keys_.Options(dir_.Sub("records-" + name), &clock_));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    s.store = std::move(*store);
    ReplicaOptions o;
    o.etcd_endpoints = cluster_->endpoints();
    o.site = name;
    o.sites = {"east", "west"};
    o.lease_ttl_s = 1;
    std::vector<std::pair<uint32_t, SecretBytes>> k;
    k.emplace_back(1, keys_.encryption_key.Clone());
    auto r = CoreReplica::Open(std::move(o), std::move(k), &clock_, log_.get());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    s.replica = std::move(*r);
    EXPECT_TRUE(s.replica->Attach(s.store.get(), nullptr).ok());
    return s;
  }

  SystemClock clock_;
  TestKeys keys_;
  std::unique_ptr<Logger> log_ = Logger::Null();
};

TEST_F(CoreReplicaTest, OlderPolicyBundleDoesNotLead) {
  Site east = Open("east");
  Site west = Open("west");
  Result<bool> led = east.replica->FollowStep(5);
  ASSERT_TRUE(led.ok()) << led.status().ToString();
  ASSERT_TRUE(*led);
  ASSERT_TRUE(east.replica->Resign().ok());
  // West holds bundle 4: it may not lead after a leader served 5, and says why.
  Result<bool> refused = west.replica->FollowStep(4);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("version 4"), std::string::npos);
  EXPECT_NE(refused.status().message().find("version 5"), std::string::npos);
  EXPECT_FALSE(west.replica->leading());
  // With bundle 5 it leads; a reload to 6 raises the floor, and never lowers it.
  led = west.replica->FollowStep(5);
  ASSERT_TRUE(led.ok()) << led.status().ToString();
  ASSERT_TRUE(*led);
  ASSERT_TRUE(west.replica->PublishPolicy(6).ok());
  EXPECT_EQ(west.replica->PublishPolicy(3).code(), Status::Code::kFailedPrecondition);
  ASSERT_TRUE(west.replica->Resign().ok());
  refused = east.replica->FollowStep(5);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("version 6"), std::string::npos);
  led = east.replica->FollowStep(6);
  ASSERT_TRUE(led.ok());
  EXPECT_TRUE(*led);
}

TEST_F(CoreReplicaTest, FollowerMayNotPublishThePolicy) {
  Site east = Open("east");
  EXPECT_EQ(east.replica->PublishPolicy(9).code(), Status::Code::kFailedPrecondition);
}

}  // namespace
}  // namespace ipn::core
