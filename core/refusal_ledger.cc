// RefusalLedger: aggregate records for refusals filed under no person.
#include "core/refusal_ledger.h"

#include <algorithm>

#include "records/audit_record.h"

namespace ipn::core {

records::Record RefusalTally::ToRecord() const {
  records::Record r;
  r.time_unix_us = last_us;
  r.event = records::Event::kInquiryRefused;
  r.record_symbol = {};  // no person: nothing was opened
  r.inquirer = agency;
  r.request_id = records::ClipRecordText(first_request_id, records::kMaxRequestIdBytes);
  r.outcome = records::ClipRecordText(
      reason + " count=" + std::to_string(count) +
          " last=" + records::ClipRecordText(last_request_id, records::kMaxRequestIdBytes) +
          " from_us=" + std::to_string(first_us) + " to_us=" + std::to_string(last_us),
      records::kMaxOutcomeBytes);
  return r;
}

void RefusalLedger::Add(std::string_view agency, std::string_view reason,
                        std::string_view request_id, int64_t now_us) {
  std::string key(agency);
  key.push_back('\0');
  key.append(reason);
  auto it = open_.find(key);
  if (it == open_.end()) {
    RefusalTally t;
    t.agency = std::string(agency);
    t.reason = std::string(reason);
    t.first_us = now_us;
    t.first_request_id = std::string(request_id.substr(0, records::kMaxRequestIdBytes));
    it = open_.emplace(std::move(key), std::move(t)).first;
  }
  RefusalTally& t = it->second;
  ++t.count;
  t.last_us = now_us;
  t.last_request_id.assign(request_id.substr(0, records::kMaxRequestIdBytes));
}

std::vector<RefusalTally> RefusalLedger::TakeDue(int64_t now_us, bool all) {
  std::vector<RefusalTally> due;
  for (auto it = open_.begin(); it != open_.end();) {
    if (all || it->second.first_us + interval_us_ <= now_us) {
      due.push_back(std::move(it->second));
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
  // In time order, so the log's order follows the refusals'.
  std::sort(due.begin(), due.end(),
            [](const RefusalTally& a, const RefusalTally& b) { return a.first_us < b.first_us; });
  return due;
}

std::optional<int64_t> RefusalLedger::NextDue() const {
  std::optional<int64_t> next;
  for (const auto& [key, t] : open_) {
    const int64_t due = t.first_us + interval_us_;
    if (!next || due < *next) next = due;
  }
  return next;
}

}  // namespace ipn::core
