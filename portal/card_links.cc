// CardLinks: a node connection that only listens for "card:<serial>" issuances.
#include "portal/card_links.h"

#include <sodium.h>

#include "interface/agency_client.h"

namespace ipn::portal {

Result<std::unique_ptr<CardLinks>> CardLinks::Start(const std::string& node_endpoint,
                                                    EnrolmentStore* store, const Clock* clock,
                                                    Logger* log) {
  std::unique_ptr<CardLinks> links(new CardLinks());
  links->store_ = store;
  links->clock_ = clock;
  links->log_ = log;
  auto client = interface::AgencyClient::Connect(node_endpoint);
  if (!client.ok()) return client.status().WithContext("the portal's node (card links)");
  links->client_ = std::move(*client);
  links->thread_ = std::thread([l = links.get()] { l->Listen(); });
  return links;
}

CardLinks::~CardLinks() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void CardLinks::Listen() {
  interface::AgencyClient::Callbacks cb;
  cb.on_symbol = [this](interface::IssuedSymbol s) {
    if (!s.person_ref.starts_with(kCardPersonRefPrefix)) {
      sodium_memzero(s.symbol.data(), s.symbol.size());
      return;
    }
    const std::string serial = s.person_ref.substr(kCardPersonRefPrefix.size());
    Status stored = store_->Link(serial, s.symbol, clock_->NowMicros());
    sodium_memzero(s.symbol.data(), s.symbol.size());
    if (!stored.ok()) {
      log_->Error("card_link_not_stored", {{"reason", stored.message()}});
      return;
    }
    {
      std::lock_guard lock(mu_);
      stored_.fetch_add(1);
    }
    linked_.notify_all();
    log_->Info("card_linked");
  };
  while (!stop_.load()) {
    Status polled = client_->Poll(std::chrono::milliseconds(100), cb);
    if (!polled.ok()) {
      log_->Warn("card_links_poll_failed", {{"reason", polled.message()}});
      // A failed poll is a broken local socket; the next Poll reconnects or fails again.
      std::unique_lock lock(mu_);
      linked_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_.load(); });
    }
  }
}

Result<Enrolment> CardLinks::WaitForLink(std::string_view serial,
                                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    uint64_t seen = stored_.load();
    lock.unlock();
    Result<Enrolment> e = store_->Find(serial);
    lock.lock();
    if (e.ok() || e.status().code() != Status::Code::kNotFound) return e;
    if (!linked_.wait_until(lock, deadline, [&] { return stored_.load() != seen; })) return e;
  }
}

}  // namespace ipn::portal
