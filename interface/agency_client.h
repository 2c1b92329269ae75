// AgencyClient: the agency-side SDK. An agency's own systems use it to talk to their
// interface node over its local ipc:// endpoint: ask inquiries (one at a time or
// pipelined), ask the registry link for symbols, receive the symbols issued to the
// agency, and serve the inquiries forwarded to it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace ipn {
class ConnectionWatch;
}

namespace ipn::interface {

struct InquiryRequest {
  std::string request_id;       // unique per agency; generated when empty
  std::vector<uint8_t> symbol;  // the agency's own symbol for the person (binary)
  std::string business;
  std::string provider;
  std::string item;
  std::map<std::string, std::string> parameters;
};

struct InquiryReply {
  std::string request_id;
  v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;
  v1::DenyReason deny_reason = v1::DENY_REASON_NONE;
  std::string explanation;
  std::string provider;
  std::string exchange_id;  // the core's id of the exchange, when it accepted the inquiry
  std::string payload;      // the answer; the caller should wipe it after use
};

struct IssuedSymbol {
  std::string person_ref;
  std::vector<uint8_t> symbol;
};

class AgencyClient {
 public:
  // What Connect asks of the node in its Hello, and how long it waits for the answer.
  struct ConnectOptions {
    // Asks the node to send this client forwarded inquiries.
    bool serve = false;
    // Serving only: the items this client answers. The node hands an inquiry for an item
    // to the serving clients that named it, and only when none did, to those that named
    // no item (empty: every item no connected serving client names). At most 256 items
    // of 1 to 64 bytes (interface/served_inquiries.h): past that the node refuses the
    // Hello and Connect fails with InvalidArgument.
    std::vector<std::string> items;
    std::chrono::milliseconds timeout = std::chrono::seconds(5);
  };

  // Connects to the node's local endpoint and says Hello (again by itself whenever the
  // node restarts, with the same options). Fails if the node does not answer in time, or
  // refuses the Hello.
  static Result<std::unique_ptr<AgencyClient>> Connect(const std::string& node_endpoint,
                                                       ConnectOptions options);
  // The same with `serve` and `timeout` only: a serving client answers every item.
  static Result<std::unique_ptr<AgencyClient>> Connect(
      const std::string& node_endpoint, bool serve = false,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~AgencyClient();
  AgencyClient(const AgencyClient&) = delete;
  AgencyClient& operator=(const AgencyClient&) = delete;

  // What Poll hands to the caller. Unset callbacks drop the event.
  struct Callbacks {
    std::function<void(InquiryReply)> on_reply;
    std::function<void(IssuedSymbol)> on_symbol;
    std::function<void(const v1::IssueSymbolResponse&)> on_issue_response;
    // Serving: answer a forwarded inquiry (called on the polling thread).
    std::function<v1::AgencyAnswer(const v1::ForwardedInquiry&)> on_inquiry;
    // Replies to record queries, heads and statistics, and errors for them.
    std::function<void(v1::Envelope&)> on_response;
  };

  // Sends one inquiry without waiting (pipelining); the reply comes through Poll.
  Status Submit(InquiryRequest request);
  // Waits up to `timeout` for events and dispatches every one that is ready.
  Status Poll(std::chrono::milliseconds timeout, const Callbacks& callbacks);

  // Polls, dispatching every event to `callbacks`, until `done()` holds (Ok) or
  // `deadline` passes first (DeadlineExceeded with `timeout_message`). The SDK's one
  // "wait for the matching event" loop: Inquire and the record calls use it, and so do
  // callers that wait on their own condition (the portal's enrolment).
  Status PollUntil(std::chrono::steady_clock::time_point deadline, const Callbacks& callbacks,
                   const std::function<bool()>& done, std::string_view timeout_message);

  // One inquiry, waiting for its end (other events meanwhile go to `callbacks`).
  Result<InquiryReply> Inquire(InquiryRequest request, std::chrono::milliseconds timeout,
                               const Callbacks& callbacks = {});

  // Registry link only: ask the core to issue `agency` a symbol for the person with
  // `resident_code` (wiped from this client's buffers once sent).
  Status RequestSymbol(const std::string& agency, const std::string& person_ref,
                       std::string resident_code, const std::string& request_id);

  // Portal: the person's history (the agency's own symbol for them), non-disclosure
  // exchanges withheld by the core. Commission: one page of a time-range pull.
  // Refused callers get PermissionDenied with the core's reason.
  Result<v1::RecordPage> QueryRecords(v1::RecordQuery query, std::chrono::milliseconds timeout);
  // Commission: a freshly signed head (new_size 0) or the stored head of new_size
  // records, with the consistency proof from `old_size` to it (old_size 0: none).
  Result<v1::TreeHeadResponse> RequestTreeHead(uint64_t old_size, uint64_t new_size,
                                               std::chrono::milliseconds timeout);
  // Commission's witness: publishes its cosignature of a head to the core, which keeps it
  // (and proves citizens' histories against that head) when it verifies over the core's
  // own head; returns that head. Refused: PermissionDenied / NotFound with the reason.
  Result<v1::TreeHeadResponse> PublishCosignature(const v1::CosignatureView& cosignature,
                                                  std::chrono::milliseconds timeout);
  // Commission: record counts for [from_us, to_us).
  Result<v1::StatsReport> QueryStats(int64_t from_us, int64_t to_us,
                                     std::chrono::milliseconds timeout);

  // Serves forwarded inquiries with `handler` until `stop`.
  Status Serve(const Callbacks& callbacks, const std::atomic<bool>& stop);

  std::string NextRequestId();

 private:
  AgencyClient();
  Status Send(const v1::Envelope& e);
  Status SendHello();
  // A new session with the node (it restarted) knows nothing of this client: Hello again.
  Status WatchNode();
  // Sends `request` (its request id set here) and waits for the reply with that id.
  Result<v1::Envelope> Call(v1::Envelope request, std::chrono::milliseconds timeout);
  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<ConnectionWatch> watch_;
  int sessions_ = 0;    // sessions with the node so far; each after the first re-Hellos
  bool serve_ = false;  // asked for forwarded inquiries
  // … for these items only (empty: every item no serving client names); in every Hello.
  std::vector<std::string> items_;
  uint64_t next_id_ = 0;
  std::string core_public_key_;  // from the node's local Welcome: resident codes are sealed to it
  std::string id_prefix_;
};

}  // namespace ipn::interface
