// Provision records to and from JSON (see record_json.h).
#include "records/record_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/json_fields.h"
#include "common/time_text.h"

namespace ipn::records {

void AddRecordFields(const Record& r, nlohmann::ordered_json& out) {
  out["sequence"] = r.sequence;
  out["time_unix_us"] = r.time_unix_us;
  out["time"] = FormatUtc(r.time_unix_us);
  out["event"] = EventName(r.event);
  out["inquirer"] = r.inquirer;
  out["provider"] = r.provider;
  out["business"] = r.business;
  out["item"] = r.item;
  out["request_id"] = r.request_id;
  out["outcome"] = r.outcome;
  out["non_disclosure"] = r.non_disclosure;
  out["record_symbol"] = HexEncode(r.record_symbol);
}

nlohmann::ordered_json RecordToJson(const Record& record) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  AddRecordFields(record, j);
  return j;
}

Result<Record> RecordFromJson(const nlohmann::json& j) {
  Record r;
  // nlohmann reports a missing or mistyped member by throwing; it stops here.
  try {
    r.sequence = JsonUint64(j.at("sequence"));
    r.time_unix_us = JsonInt64(j.at("time_unix_us"));
    std::optional<Event> event = ParseEvent(j.at("event").get<std::string>());
    if (!event) return Status::InvalidArgument("unknown event");
    r.event = *event;
    r.inquirer = j.at("inquirer").get<std::string>();
    r.provider = j.at("provider").get<std::string>();
    r.business = j.at("business").get<std::string>();
    r.item = j.at("item").get<std::string>();
    r.request_id = j.at("request_id").get<std::string>();
    r.outcome = j.at("outcome").get<std::string>();
    r.non_disclosure = j.at("non_disclosure").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("a record line lacks a field: ") + e.what());
  }
  if (!j.contains("record_symbol") || !j["record_symbol"].is_string()) {
    return Status::InvalidArgument("missing field record_symbol");
  }
  Result<std::vector<uint8_t>> symbol = HexDecode(j["record_symbol"].get<std::string>());
  if (!symbol.ok() || symbol->size() != r.record_symbol.size()) {
    return Status::InvalidArgument("field record_symbol must be 64 hex characters");
  }
  std::copy(symbol->begin(), symbol->end(), r.record_symbol.begin());
  return r;
}

}  // namespace ipn::records
