// PeerBacklog: messages for nodes whose queue at the core is full — a slow node — held in
// order, per node, and retried every loop turn. A slow node is throttled (its messages
// wait, in order), never dropped from the connected set; only past limits::kMaxBacklogPerNode
// are its oldest waiting messages dropped, and counted. A node that is gone (the send
// says Unavailable) loses what waited for it: it will say Hello again when it returns,
// and the exchanges those messages belonged to end by their deadlines.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/limits.h"
#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::core {

class PeerBacklog {
 public:
  using SendFn = std::function<Status(std::string_view to, const v1::Envelope& e)>;
  explicit PeerBacklog(size_t max_per_node = limits::kMaxBacklogPerNode)
      : max_per_node_(max_per_node) {}

  // Sends `e` to `to`, or holds it if `to` is backlogged already (order is kept) or its
  // queue is full. Returns the send's error only when the node is gone (Unavailable) or
  // the send failed otherwise; a held message is Ok.
  Status Send(const std::string& to, v1::Envelope e, const SendFn& send);
  // Retries waiting messages, per node in order, until that node's queue is full again.
  // Nodes found gone are returned (their messages are dropped).
  std::vector<std::string> Retry(const SendFn& send);

  size_t held() const { return held_; }
  uint64_t dropped() const { return dropped_; }
  bool Holds(std::string_view agency) const { return waiting_.count(std::string(agency)) != 0; }

 private:
  void Hold(const std::string& to, v1::Envelope e);

  size_t max_per_node_;
  std::map<std::string, std::deque<v1::Envelope>> waiting_;
  size_t held_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace ipn::core
