// CoreOutbox: what a node told the core that a failover may have lost (DESIGN.md §8): its
// agency's inquiries still waiting for their decisions, and the outcomes and receipts it
// reported while their exchanges may still be open at the core. When the node's session
// with the core changes (another site took the lead, or the connection was re-made), the
// node sends them all again, with the same request ids: the new leader decides an inquiry
// it never saw, says again the decision of one whose exchange it resumed, and records an
// outcome or receipt it lacks; what it already has it counts and ignores. No socket
// (tests/interface/core_outbox_test.cc).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

struct CoreOutboxOptions {
  // Bounds (docs/limits.md): past them the oldest entry goes (it then ends as if lost).
  size_t max_inquiries = 200'000;  // as many as may be in flight (PendingOptions)
  size_t max_reports = 100'000;
  // How long an outcome or receipt is kept for sending again: longer than a failover takes
  // (seconds), and past that the core has closed the exchange by its deadline anyway.
  int64_t keep_reports_us = 10'000'000;
};

class CoreOutbox {
 public:
  explicit CoreOutbox(CoreOutboxOptions options = {}) : options_(options) {}
  ~CoreOutbox();
  CoreOutbox(const CoreOutbox&) = delete;
  CoreOutbox& operator=(const CoreOutbox&) = delete;

  // An inquiry sent to the core, kept until its decision comes (Decided) or `until_us`.
  void KeepInquiry(const v1::Envelope& inquiry, int64_t until_us);
  // The core decided (or the inquiry ended here): it is not sent again.
  void Decided(const std::string& request_id);
  // An outcome or receipt sent to the core at `now_us`, kept for keep_reports_us.
  void KeepReport(const v1::Envelope& report, int64_t now_us);

  // Everything to send again now: inquiries first (oldest first), then reports in the
  // order they were sent. Drops what expired; keeps the rest (another change may follow).
  std::vector<v1::Envelope> ToResend(int64_t now_us);
  // Drops what expired.
  void Expire(int64_t now_us);

  size_t inquiries() const { return inquiries_.size(); }
  size_t reports() const { return reports_.size(); }

 private:
  struct Kept {
    v1::Envelope envelope;
    int64_t until_us = 0;
    uint64_t order = 0;
  };
  void DropInquiry(std::unordered_map<std::string, Kept>::iterator it);

  CoreOutboxOptions options_;
  uint64_t next_order_ = 0;
  std::unordered_map<std::string, Kept> inquiries_;  // by request id
  std::multimap<int64_t, std::string> by_until_;     // until -> request id (lazy deletion)
  std::deque<Kept> reports_;                         // oldest first
};

}  // namespace ipn::interface
