// UnopenedAnswers: sealed answers from a peer whose key this node does not hold at the
// moment, kept until the core's decision vouches for that peer again. No socket
// (tests/interface/unopened_answers_test.cc).
//
// Why: a node's peer directory is replaced whole by each Welcome, and a new leader's first
// Welcomes after a failover list only the nodes that have said Hello to it so far. A
// provider's answer can then arrive from a node this node just forgot, before the
// decision that names it (the decision travels through the core, the answer node to
// node). Without a key the answer cannot be opened; dropping it loses the exchange (the
// inquiry times out, and the records show `provided` with no `received`). The node holds
// such an answer only while an inquiry to that provider awaits its decision
// (PendingInquiries::AwaitsDecisionFrom), at most `max` of them and for `ttl_us`: a peer
// cannot fill this node with answers nobody asked for.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

struct UnopenedAnswersOptions {
  size_t max = 1'000;           // docs/limits.md
  int64_t ttl_us = 15'000'000;  // as long as an early opened answer is held
};

class UnopenedAnswers {
 public:
  explicit UnopenedAnswers(UnopenedAnswersOptions options = {}) : options_(options) {}

  // Holds `answer` from `from`'s node. False when full (the answer is then dropped).
  bool Hold(const std::string& from, v1::Answer answer, int64_t now_us);
  // Every answer held from `from`, oldest first; they are no longer held.
  std::vector<v1::Answer> Take(const std::string& from);
  // Drops what is past its TTL; returns how many.
  size_t Expire(int64_t now_us);

  size_t size() const { return held_.size(); }

 private:
  struct Held {
    std::string from;
    v1::Answer answer;
    int64_t until_us = 0;
  };
  UnopenedAnswersOptions options_;
  std::deque<Held> held_;  // oldest first: arrival order is expiry order
};

}  // namespace ipn::interface
