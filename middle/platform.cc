// MiddlePlatform: one serving client and thread per tenant.
#include "middle/platform.h"

#include <atomic>
#include <mutex>

#include "common/metric_labels.h"
#include "interface/agency_client.h"
#include "middle/auto_answer.h"

namespace ipn::middle {

// Longer than a node's own local timeout (15 s), so that the node's answer — timed out
// included — is what the API reports.
constexpr auto kInquiryTimeout = std::chrono::seconds(20);

// Inquiries of one tenant waiting for its client: past this the API answers 503 at once,
// so that one tenant's slow provider cannot hold every HTTP worker (docs/limits.md).
constexpr int kMaxWaitingPerTenant = 8;

struct MiddlePlatform::Asking {
  std::atomic<int> waiting{0};
  std::mutex mu;  // AgencyClient is one conversation: one inquiry at a time
  std::unique_ptr<interface::AgencyClient> client;
};

Result<std::unique_ptr<MiddlePlatform>> MiddlePlatform::Start(
    MiddleStore* store, const std::map<std::string, std::string>& tenants, Logger* log,
    ExchangeLog* exchanges) {
  std::unique_ptr<MiddlePlatform> platform(new MiddlePlatform());
  platform->store_ = store;
  platform->exchanges_ = exchanges;
  platform->log_ = log;
  const std::vector<std::string> known = store->Tenants();
  std::vector<std::pair<std::string, std::unique_ptr<interface::AgencyClient>>> clients;
  for (const auto& [tenant, endpoint] : tenants) {
    if (std::find(known.begin(), known.end(), tenant) == known.end()) {
      return Status::NotFound("no tenant " + tenant +
                              " on this platform (ipn-middle import "
                              "creates it)");
    }
    auto client = interface::AgencyClient::Connect(endpoint, /*serve=*/true);
    if (!client.ok()) return client.status().WithContext("tenant " + tenant + "'s node");
    clients.emplace_back(tenant, std::move(*client));
    auto asking = interface::AgencyClient::Connect(endpoint);
    if (!asking.ok()) return asking.status().WithContext("tenant " + tenant + "'s node");
    platform->asking_[tenant] = std::make_unique<Asking>();
    platform->asking_[tenant]->client = std::move(*asking);
  }
  MiddlePlatform* p = platform.get();
  for (auto& [tenant_code, client_ptr] : clients) {
    p->threads_.emplace_back(
        [p, tenant = tenant_code,
         client = std::shared_ptr<interface::AgencyClient>(std::move(client_ptr))] {
          interface::AgencyClient::Callbacks callbacks;
          callbacks.on_symbol = [&](interface::IssuedSymbol s) {
            const std::string symbol(s.symbol.begin(), s.symbol.end());
            Status bound = p->store_->Bind(tenant, s.person_ref, symbol);
            if (bound.ok()) {
              ++p->bound_;
            } else if (p->log_ != nullptr) {
              // The message names no person number or symbol.
              p->log_->Warn("middle_symbol_not_bound",
                            {{"tenant", tenant}, {"reason", Status::CodeName(bound.code())}});
            }
          };
          callbacks.on_inquiry = [&](const v1::ForwardedInquiry& f) {
            ++p->answered_;
            return AutoAnswer(*p->store_, tenant, f, p->exchanges_);
          };
          Status served = client->Serve(callbacks, p->stop_);
          if (!served.ok()) p->failed_ = true;
          if (!served.ok() && p->log_ != nullptr) {
            p->log_->Error("middle_tenant_stopped",
                           {{"tenant", tenant}, {"reason", served.ToString()}});
          }
        });
  }
  return platform;
}

Result<InquiryAnswer> MiddlePlatform::Inquire(const std::string& tenant, const std::string& symbol,
                                              const std::string& provider,
                                              const std::string& business, const std::string& item,
                                              const std::string& request_id) {
  auto it = asking_.find(tenant);
  if (it == asking_.end()) {
    return Status::Unavailable("tenant " + tenant + " is not served by this platform");
  }
  interface::InquiryRequest request;
  request.request_id = request_id;
  request.symbol.assign(symbol.begin(), symbol.end());
  request.provider = provider;
  request.business = business;
  request.item = item;
  Asking& asking = *it->second;
  if (asking.waiting.fetch_add(1) >= kMaxWaitingPerTenant) {
    asking.waiting.fetch_sub(1);
    return Status::Unavailable("tenant " + tenant + " has " + std::to_string(kMaxWaitingPerTenant) +
                               " inquiries waiting already; try again shortly");
  }
  std::lock_guard<std::mutex> lock(asking.mu);
  asking.waiting.fetch_sub(1);
  Result<interface::InquiryReply> reply = asking.client->Inquire(request, kInquiryTimeout);
  if (!reply.ok()) return reply.status();
  InquiryAnswer answer{MetricLabel(reply->outcome), reply->explanation, std::move(reply->payload),
                       reply->exchange_id};
  return answer;
}

MiddlePlatform::~MiddlePlatform() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
}

}  // namespace ipn::middle
