// EtcdFixture: a fresh three-member etcd cluster per test (tools/localnet/etcd_cluster.h)
// and clients to it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "replica/etcd_client.h"
#include "tests/support/temp_dir.h"
#include "tools/localnet/etcd_cluster.h"

namespace ipn::testing {

class EtcdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = localnet::EtcdCluster::Start(dir_.path());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    etcd_ = Client();
    ASSERT_NE(etcd_, nullptr);
  }

  std::unique_ptr<replica::EtcdClient> Client(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    replica::EtcdOptions o;
    o.endpoints = cluster_->endpoints();
    o.call_timeout = timeout;
    auto c = replica::EtcdClient::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Polls `done` until it holds; false when `within` passes first (the test then fails).
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  TempDir dir_;
  std::unique_ptr<localnet::EtcdCluster> cluster_;
  std::unique_ptr<replica::EtcdClient> etcd_;  // to every member
};

}  // namespace ipn::testing
