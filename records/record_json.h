// A provision record as a JSON object: the one field layout shared by `ipn records pull`
// (one object per line) and the record lines of the oversight commission's pulled sets
// (oversight/pulled_set.h, docs/oversight.md), so that the same record reads the same in
// both.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "records/record.h"

namespace ipn::records {

// Adds the record's fields to the object `out`, in this order: sequence, time_unix_us,
// time (UTC, ISO 8601), event (EventName), inquirer, provider, business, item,
// request_id, outcome, non_disclosure, record_symbol (64 hex digits).
void AddRecordFields(const Record& record, nlohmann::ordered_json& out);

// The record's fields as a new object (AddRecordFields).
nlohmann::ordered_json RecordToJson(const Record& record);

// Reads what AddRecordFields writes (other members are ignored; so is `time`, which only
// restates time_unix_us). InvalidArgument names a missing or malformed field.
Result<Record> RecordFromJson(const nlohmann::json& j);

}  // namespace ipn::records
