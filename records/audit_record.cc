// AuditRecord <-> Record.
#include "records/audit_record.h"

#include <algorithm>

namespace ipn::records {

std::string ClipRecordText(std::string_view text, size_t max) {
  std::string out(text.substr(0, std::min(text.size(), max)));
  if (text.size() > max) {
    size_t end = out.size();
    while (end > 0 && (static_cast<uint8_t>(out[end - 1]) & 0xC0) == 0x80) --end;  // continuation
    if (end > 0 && static_cast<uint8_t>(out[end - 1]) >= 0xC0) --end;  // a cut lead byte
    out.resize(end);
  }
  for (char& c : out) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  // Invalid UTF-8 inside the text is not repaired byte by byte: the whole field becomes "?".
  return CheckRecordField("text", out, max).ok() ? out : "?";
}

Record ToRecord(const AuditRecord& audit) {
  Record r;
  r.time_unix_us = audit.time_unix_us;
  r.event = Event::kOperatorAction;
  r.record_symbol = kAuditRecordSymbol;
  r.inquirer = ClipRecordText(audit.actor, kMaxCodeBytes);
  r.provider = ClipRecordText(audit.agency, kMaxCodeBytes);
  r.business = ClipRecordText(audit.action, kMaxCodeBytes);
  r.item = ClipRecordText(audit.detail, kMaxCodeBytes);
  r.request_id = ClipRecordText(audit.request_id, kMaxRequestIdBytes);
  r.outcome = ClipRecordText(audit.outcome, kMaxOutcomeBytes);
  return r;
}

std::optional<AuditRecord> AuditRecordOf(const Record& record) {
  if (record.event != Event::kOperatorAction) return std::nullopt;
  AuditRecord a;
  a.time_unix_us = record.time_unix_us;
  a.actor = record.inquirer;
  a.agency = record.provider;
  a.action = record.business;
  a.detail = record.item;
  a.request_id = record.request_id;
  a.outcome = record.outcome;
  return a;
}

}  // namespace ipn::records
