// AuditLog: each tenant's sealed, ordered log of its staff's actions (see audit_log.h).
#include "middle/audit_log.h"

#include <nlohmann/json.hpp>

namespace ipn::middle {

Status AuditLog::Append(const std::string& tenant, AuditEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  auto last = last_.find(tenant);
  if (last == last_.end()) {
    Result<uint64_t> stored = store_->LastAudit(tenant);
    if (!stored.ok()) return stored.status();
    last = last_.emplace(tenant, *stored).first;
  }
  entry.seq = last->second + 1;
  entry.at_unix_us = clock_->NowMicros();
  const nlohmann::json row = {{"at", entry.at_unix_us},
                              {"account", entry.account},
                              {"action", entry.action},
                              {"detail", entry.detail},
                              {"allowed", entry.allowed}};
  IPN_RETURN_IF_ERROR(store_->PutAudit(
      tenant, entry.seq, row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  last->second = entry.seq;
  return Status::Ok();
}

Result<std::vector<AuditEntry>> AuditLog::List(const std::string& tenant, uint64_t after_seq,
                                               size_t limit) const {
  auto rows = store_->ListAudit(tenant, after_seq, limit);
  if (!rows.ok()) return rows.status();
  std::vector<AuditEntry> out;
  for (const auto& [seq, text] : *rows) {
    nlohmann::json row = nlohmann::json::parse(text, nullptr, false);
    if (row.is_discarded()) return Status::Corruption("an audit entry");
    out.push_back(AuditEntry{seq, row.value("at", int64_t{0}), row.value("account", ""),
                             row.value("action", ""), row.value("detail", ""),
                             row.value("allowed", true)});
  }
  return out;
}

}  // namespace ipn::middle
