// CoreOutbox: what a node sends the core again after a failover (see core_outbox.h).
#include "interface/core_outbox.h"

#include <algorithm>

#include "common/secret.h"

namespace ipn::interface {

CoreOutbox::~CoreOutbox() {
  for (auto it = inquiries_.begin(); it != inquiries_.end();) DropInquiry(it++);
}

void CoreOutbox::DropInquiry(std::unordered_map<std::string, Kept>::iterator it) {
  // The inquirer's symbol does not outlive its use in this copy.
  std::string* symbol = it->second.envelope.mutable_inquiry()->mutable_inquirer_symbol();
  Wipe(symbol->data(), symbol->size());
  inquiries_.erase(it);
}

void CoreOutbox::KeepInquiry(const v1::Envelope& inquiry, int64_t until_us) {
  if (inquiry.request_id().empty() || options_.max_inquiries == 0) return;
  while (inquiries_.size() >= options_.max_inquiries && !by_until_.empty()) {
    auto first = by_until_.begin();
    auto it = inquiries_.find(first->second);
    if (it != inquiries_.end() && it->second.until_us == first->first) DropInquiry(it);
    by_until_.erase(first);
  }
  auto [it, inserted] = inquiries_.try_emplace(inquiry.request_id());
  if (!inserted) return;  // the node refuses a request id in flight; never twice here
  it->second.envelope = inquiry;
  it->second.until_us = until_us;
  it->second.order = next_order_++;
  by_until_.emplace(until_us, inquiry.request_id());
}

void CoreOutbox::Decided(const std::string& request_id) {
  auto it = inquiries_.find(request_id);
  if (it != inquiries_.end()) DropInquiry(it);  // its by_until_ entry goes lazily
}

void CoreOutbox::KeepReport(const v1::Envelope& report, int64_t now_us) {
  if (options_.max_reports == 0) return;
  while (reports_.size() >= options_.max_reports) reports_.pop_front();
  reports_.push_back(Kept{report, now_us + options_.keep_reports_us, next_order_++});
}

void CoreOutbox::Expire(int64_t now_us) {
  while (!by_until_.empty() && by_until_.begin()->first <= now_us) {
    auto first = by_until_.begin();
    auto it = inquiries_.find(first->second);
    if (it != inquiries_.end() && it->second.until_us == first->first) DropInquiry(it);
    by_until_.erase(first);
  }
  while (!reports_.empty() && reports_.front().until_us <= now_us) reports_.pop_front();
}

std::vector<v1::Envelope> CoreOutbox::ToResend(int64_t now_us) {
  Expire(now_us);
  std::vector<const Kept*> inquiries;
  inquiries.reserve(inquiries_.size());
  for (const auto& [id, kept] : inquiries_) inquiries.push_back(&kept);
  std::sort(inquiries.begin(), inquiries.end(),
            [](const Kept* a, const Kept* b) { return a->order < b->order; });
  std::vector<v1::Envelope> out;
  out.reserve(inquiries.size() + reports_.size());
  for (const Kept* k : inquiries) out.push_back(k->envelope);
  for (const Kept& k : reports_) out.push_back(k.envelope);
  return out;
}

}  // namespace ipn::interface
