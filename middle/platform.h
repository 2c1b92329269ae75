// MiddlePlatform: the middle-server platform at work. For each tenant it serves that
// agency's node as the agency's system would (one serving client, one thread per tenant):
// symbols issued to the agency are bound in its person map (the issuance's person
// reference is the agency's internal person number), and forwarded inquiries are answered
// by AutoAnswer from its copies. It is also the API's way into the network (Inquirer):
// a tenant's staff's inquiries go out through a second client of the tenant's node, one
// at a time per tenant.
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
#include "middle/exchange_log.h"
#include "middle/middle_api.h"
#include "middle/middle_store.h"

namespace ipn::middle {

class MiddlePlatform : public Inquirer {
 public:
  // `tenants`: agency code -> its node's local endpoint. Every tenant must exist in
  // `store` (which must outlive the platform). Connects to every node before it returns.
  // The provisions it answers go to `exchanges` (may be null; must outlive it).
  static Result<std::unique_ptr<MiddlePlatform>> Start(
      MiddleStore* store, const std::map<std::string, std::string>& tenants, Logger* log,
      ExchangeLog* exchanges = nullptr);
  ~MiddlePlatform() override;  // stops and joins

  // Inquirer: as `tenant`, through its node; the inquiry's end within `kInquiryTimeout`.
  Result<InquiryAnswer> Inquire(const std::string& tenant, const std::string& symbol,
                                const std::string& provider, const std::string& business,
                                const std::string& item, const std::string& request_id) override;

  uint64_t answered() const { return answered_.load(); }
  // True once a tenant's serving stopped on an error (its node gone for good, say): the
  // process should exit and be restarted rather than look healthy while not serving.
  bool failed() const { return failed_.load(); }
  uint64_t symbols_bound() const { return bound_.load(); }

 private:
  MiddlePlatform() = default;
  MiddleStore* store_ = nullptr;
  ExchangeLog* exchanges_ = nullptr;
  Logger* log_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> bound_{0};
  std::atomic<bool> failed_{false};
  std::vector<std::thread> threads_;
  struct Asking;  // a tenant's inquiring client and its lock
  std::map<std::string, std::unique_ptr<Asking>> asking_;
};

}  // namespace ipn::middle
