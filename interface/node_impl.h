// InterfaceNode::Impl, shared by the node's source files (private to interface/):
//   interface_node.cc  start-up, the handshake with the core, the loop, local dispatch
//   node_inquirer.cc   the inquirer side: inquiries out, decisions and answers in
//   node_provider.cc   the provider side: forwarded inquiries in, sealed answers out
//
//  agency system ─ipc─► HandleLocal ─┬─► HandleLocalInquiry ──────────────► core
//                                    ├─► HandleLocalIssueRequest ─────────► core
//                                    └─► HandleAgencyAnswer ─► Seal ─► inquirer node
//                                                           └───────────► core (outcome)
//  core ──► HandleCore ─┬─► HandleDecision / HandleResult ─► Deliver ─► agency system
//                       ├─► HandleForwardedInquiry ─────────► agency system (server)
//                       └─► HandleSymbolIssued ─────────────► agency systems
//  provider node ──► HandleAnswer ─► Open ─► PendingInquiries::OnAnswer ─► Deliver
//                                 └─► (sender not vouched yet) UnopenedAnswers
//                                                  └─► Receipt ─► core
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <zmq.hpp>

#include "common/connection_watch.h"
#include "common/envelope_io.h"
#include "common/metrics.h"
#include "common/metrics_server.h"
#include "common/zap_handler.h"
#include "interface/core_outbox.h"
#include "interface/interface_node.h"
#include "interface/node_stats.h"
#include "interface/peer_directory.h"
#include "interface/pending_inquiries.h"
#include "interface/rate_mirror.h"
#include "interface/served_inquiries.h"
#include "interface/unopened_answers.h"

namespace ipn::interface {

class InterfaceNode::Impl {
 public:
  ~Impl();
  Status Init(NodeOptions options);
  Status Run(const std::atomic<bool>& stop);
  std::string answer_endpoint() const { return answer_endpoint_; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : -1; }

 private:
  // interface_node.cc
  Status OpenSockets();
  Status BindAnswers();
  Status Handshake();
  void SendHello();
  void StartSession();
  void WatchCore();
  void ReceiveAll();
  void HandleLocal(Incoming& in);
  void HandleLocalIssueRequest(Incoming& in);
  void HandleLocalRecordRequest(Incoming& in);
  bool RelayReply(const v1::Envelope& e);
  void HandleCore(v1::Envelope& e);
  void HandleSymbolIssued(const v1::Envelope& e);
  void ExpireLocalDeadlines();
  void SendToCore(const v1::Envelope& e);
  // Keeps what a failover may lose (several core endpoints only), and sends it again.
  bool KeepsForResend() const { return core_endpoints_.size() > 1; }
  void ResendToCore();
  Status SendLocal(const std::string& client, const v1::Envelope& e);
  v1::Envelope Stamped(const std::string& request_id) const;
  int64_t Now() const { return clock_->NowMicros(); }

  // node_inquirer.cc
  void HandleLocalInquiry(Incoming& in);
  void HandleDecision(const v1::Envelope& e);
  void HandleAnswer(Incoming& in);
  void OpenHeldAnswers(const std::string& provider);
  void Deliver(Delivery d);

  // node_provider.cc
  void HandleForwardedInquiry(const v1::Envelope& e);
  void HandleAgencyAnswer(Incoming& in);
  void AnswerInquirer(const ServedInquiry& x, v1::Outcome outcome, std::string_view payload,
                      bool non_disclosure, const std::string& detail);
  void ServeForward(v1::Envelope& e, ServedInquiry x);
  void ServeParked();
  void ExpireParked(int64_t now);
  zmq::socket_t* PeerSocket(const v1::PeerNode& peer);

  NodeOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  CurveKeyPair keys_;
  std::unique_ptr<PeerDirectory> peers_;
  zmq::context_t context_{1};
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> core_;
  std::unique_ptr<zmq::socket_t> answers_;
  std::unique_ptr<zmq::socket_t> local_;
  std::unique_ptr<ConnectionWatch> core_watch_;
  std::vector<std::string> core_endpoints_;  // NodeOptions.core_endpoint, split at commas
  int core_sessions_ = 0;  // handshakes with the core so far; each after the first re-Hellos
  bool core_refused_ = false;
  // Several sites: Hello is said again until a Welcome comes (StartSession).
  static constexpr int64_t kHelloAgainUs = 500'000;
  bool welcome_due_ = false;
  int64_t hello_again_us_ = 0;
  // A connection to a peer's answer endpoint, remade when the core vouches for another
  // endpoint or key (the peer restarted elsewhere, or rotated its key).
  struct PeerConnection {
    std::string endpoint;
    std::string key;
    std::unique_ptr<zmq::socket_t> socket;
  };
  std::map<std::string, PeerConnection> peer_sockets_;  // by agency
  // Forwarded inquiries that arrived while no serving system for their item was connected
  // (the agency's system restarting, or reconnecting to this restarted node): held, up to
  // kMaxParkedForwards, until one that takes it says Hello or kParkUs (or the deadline)
  // passes.
  struct Parked {
    v1::Envelope forward;
    ServedInquiry x;
    int64_t until_us = 0;
  };
  std::deque<Parked> parked_;
  std::string answer_endpoint_;

  std::set<std::string> listeners_;  // local systems that said Hello
  PendingInquiries pending_;         // the inquirer side
  UnopenedAnswers unopened_;         // answers from a peer not vouched for right now
  CoreOutbox outbox_;                // sent again after a failover (several core endpoints only)
  ServedInquiries served_;           // the provider side
  std::unordered_map<std::string, std::string> issue_clients_;  // request id -> client
  // Record queries, heads and statistics relayed to the core: request id -> client.
  std::unordered_map<std::string, std::string> record_clients_;
  int64_t next_expiry_check_us_ = 0;
  int64_t hold_until_us_ = 0;  // the core's retry time after a RATE_LIMITED refusal
  RateMirror rate_;            // the agency's own rate, from the core's Welcome

  Metrics metrics_;
  std::unique_ptr<NodeStats> stats_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace ipn::interface
