// CardLinks: the portal's listener for card links. When the card issuer (the registry's
// role) links a card to its holder, the core issues the portal its own agency symbol for
// that person under person reference "card:<serial>" and the portal's node delivers it to
// every connected client. CardLinks keeps one connection to the node open on its own
// thread, stores each link (EnrolmentStore::Link) as it arrives, and lets an enrolment
// that raced ahead of its link wait briefly for it. The portal must be running when a
// card is linked: a node does not keep issuances for clients that are away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "portal/enrolment_store.h"

namespace ipn::interface {
class AgencyClient;
}

namespace ipn::portal {

class CardLinks {
 public:
  // Connects to the portal's node (local endpoint) and starts listening.
  static Result<std::unique_ptr<CardLinks>> Start(const std::string& node_endpoint,
                                                  EnrolmentStore* store, const Clock* clock,
                                                  Logger* log);
  ~CardLinks();

  // Waits until card `serial` is linked or `timeout` passes; the entry or NotFound.
  Result<Enrolment> WaitForLink(std::string_view serial, std::chrono::milliseconds timeout);
  // Links stored since start (for tests and stats).
  uint64_t links_stored() const { return stored_.load(); }

 private:
  CardLinks() = default;
  void Listen();

  EnrolmentStore* store_ = nullptr;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  std::unique_ptr<interface::AgencyClient> client_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> stored_{0};
  std::mutex mu_;
  std::condition_variable linked_;
  std::thread thread_;
};

}  // namespace ipn::portal
