// AuditRecord: an operator action or a refused access, as evidence (DESIGN.md §2, §7):
// the core's start, key-ring changes, policy loads, agency status changes, record pulls
// and statistics reads, refusals of record access, unrecordable messages. Stored in the
// same tamper-evident log as provision records, under kAuditRecordSymbol, as a Record of
// event kOperatorAction; these two functions are the only place that says which Record
// field holds which audit field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "records/record.h"

namespace ipn::records {

struct AuditRecord {
  int64_t time_unix_us = 0;
  std::string actor;       // who acted: "operator" or the asking agency's code
  std::string agency;      // the agency concerned, if any
  std::string action;      // e.g. "policy_load", "records_pull", "key_change"
  std::string detail;      // what it was applied to (a version, a range, a key)
  std::string outcome;     // "ok", "ok: …" or "refused: why"
  std::string request_id;  // the asker's request id, for accesses
};

// The Record that stores `audit`. Text that a record field cannot hold is made to fit:
// control characters become '?', and it is cut at a UTF-8 boundary to the field's limit.
Record ToRecord(const AuditRecord& audit);

// The audit record `record` stores, or nullopt if it is not an operator action.
std::optional<AuditRecord> AuditRecordOf(const Record& record);

// `text` made fit for a record field of `max` bytes (see ToRecord).
std::string ClipRecordText(std::string_view text, size_t max);

}  // namespace ipn::records
