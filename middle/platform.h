// MiddlePlatform: the middle-server platform at work. For each tenant it serves that
// agency's node as the agency's system would (one serving client, one thread per tenant):
// symbols issued to the agency are bound in its person map (the issuance's person
// reference is the agency's internal person number), and forwarded inquiries are answered
// by AutoAnswer from its copies.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/logger.h"
#include "common/status.h"
#include "middle/middle_store.h"

namespace ipn::middle {

class MiddlePlatform {
 public:
  // `tenants`: agency code -> its node's local endpoint. Every tenant must exist in
  // `store` (which must outlive the platform). Connects to every node before it returns.
  static Result<std::unique_ptr<MiddlePlatform>> Start(
      MiddleStore* store, const std::map<std::string, std::string>& tenants, Logger* log);
  ~MiddlePlatform();  // stops and joins

  uint64_t answered() const { return answered_.load(); }
  // True once a tenant's serving stopped on an error (its node gone for good, say): the
  // process should exit and be restarted rather than look healthy while not serving.
  bool failed() const { return failed_.load(); }
  uint64_t symbols_bound() const { return bound_.load(); }

 private:
  MiddlePlatform() = default;
  MiddleStore* store_ = nullptr;
  Logger* log_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> bound_{0};
  std::atomic<bool> failed_{false};
  std::vector<std::thread> threads_;
};

}  // namespace ipn::middle
