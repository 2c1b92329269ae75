// PulledSet: wire conversions, JSON lines and CSV.
#include "oversight/pulled_set.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/json_fields.h"
#include "common/time_text.h"
#include "records/record_json.h"

namespace ipn::oversight {
namespace {

using Json = nlohmann::ordered_json;

template <size_t N>
Status CopyBytes(const std::string& bytes, const char* what, std::array<uint8_t, N>* out) {
  if (bytes.size() != N) {
    return Status::InvalidArgument(std::string(what) + " must be " + std::to_string(N) + " bytes");
  }
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return Status::Ok();
}

template <size_t N>
Status HexField(const nlohmann::json& j, const char* name, std::array<uint8_t, N>* out) {
  if (!j.contains(name) || !j[name].is_string()) {
    return Status::InvalidArgument(std::string("missing field ") + name);
  }
  Result<std::vector<uint8_t>> bytes = HexDecode(j[name].get<std::string>());
  if (!bytes.ok() || bytes->size() != N) {
    return Status::InvalidArgument(std::string("field ") + name + " must be " +
                                   std::to_string(2 * N) + " hex characters");
  }
  std::copy(bytes->begin(), bytes->end(), out->begin());
  return Status::Ok();
}

Json HeadJson(const records::SignedTreeHead& h) {
  Json j;
  j["tree_size"] = h.tree_size;
  j["timestamp_us"] = h.timestamp_us;
  j["time"] = FormatUtc(h.timestamp_us);
  j["root_hash"] = HexEncode(h.root_hash);
  j["signer"] = HexEncode(h.signer);
  j["signature"] = HexEncode(h.signature);
  if (h.version == 2) {
    j["version"] = 2;
    j["person_root"] = HexEncode(h.history.disclosed);
    j["withheld_root"] = HexEncode(h.history.withheld);
  }
  return j;
}

Result<records::SignedTreeHead> HeadFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a head must be an object");
  records::SignedTreeHead h;
  try {
    h.tree_size = JsonUint64(j.at("tree_size"));
    h.timestamp_us = JsonInt64(j.at("timestamp_us"));
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidArgument("a head needs tree_size and timestamp_us");
  }
  IPN_RETURN_IF_ERROR(HexField(j, "root_hash", &h.root_hash));
  IPN_RETURN_IF_ERROR(HexField(j, "signer", &h.signer));
  IPN_RETURN_IF_ERROR(HexField(j, "signature", &h.signature));
  if (j.contains("version")) {
    if (!j["version"].is_number_unsigned() || (j["version"] != 1 && j["version"] != 2)) {
      return Status::InvalidArgument("a head's version must be 1 or 2");
    }
    h.version = j["version"].get<uint8_t>();
  }
  if (h.version == 2) {
    IPN_RETURN_IF_ERROR(HexField(j, "person_root", &h.history.disclosed));
    IPN_RETURN_IF_ERROR(HexField(j, "withheld_root", &h.history.withheld));
  }
  return h;
}

Result<std::vector<records::Hash>> PathFromJson(const nlohmann::json& j) {
  std::vector<records::Hash> path;
  if (!j.is_array()) return Status::InvalidArgument("a proof must be an array");
  for (const auto& item : j) {
    records::Hash h;
    nlohmann::json wrap = {{"h", item}};
    IPN_RETURN_IF_ERROR(HexField(wrap, "h", &h));
    path.push_back(h);
  }
  return path;
}

Json PathJson(const std::vector<records::Hash>& path) {
  Json a = Json::array();
  for (const records::Hash& h : path) a.push_back(HexEncode(h));
  return a;
}

Result<PulledRecord> RecordFromJson(const nlohmann::json& j) {
  PulledRecord p;
  Result<records::Record> record = records::RecordFromJson(j);
  if (!record.ok()) return record.status();
  p.record = std::move(*record);
  Result<std::vector<records::Hash>> path =
      PathFromJson(j.contains("inclusion_path") ? j["inclusion_path"] : nlohmann::json());
  if (!path.ok()) return path.status();
  p.inclusion_path = std::move(*path);
  return p;
}

}  // namespace

Result<records::SignedTreeHead> FromView(const v1::SignedTreeHeadView& view) {
  records::SignedTreeHead h;
  h.tree_size = view.tree_size();
  h.timestamp_us = view.timestamp_us();
  IPN_RETURN_IF_ERROR(CopyBytes(view.root_hash(), "root_hash", &h.root_hash));
  IPN_RETURN_IF_ERROR(CopyBytes(view.signer(), "signer", &h.signer));
  IPN_RETURN_IF_ERROR(CopyBytes(view.signature(), "signature", &h.signature));
  if (view.version() == 2) {
    h.version = 2;
    IPN_RETURN_IF_ERROR(CopyBytes(view.person_root(), "person_root", &h.history.disclosed));
    IPN_RETURN_IF_ERROR(CopyBytes(view.withheld_root(), "withheld_root", &h.history.withheld));
  } else if (view.version() > 2) {
    return Status::InvalidArgument("tree head version " + std::to_string(view.version()) +
                                   " is not supported");
  }
  return h;
}

Result<PulledRecord> FromView(const v1::ProvisionRecordView& v) {
  PulledRecord p;
  records::Record& r = p.record;
  r.sequence = v.sequence();
  r.time_unix_us = v.time_unix_us();
  std::optional<records::Event> event = records::ParseEvent(v.event());
  if (!event)
    return Status::InvalidArgument("record " + std::to_string(v.sequence()) +
                                   " has an unknown event '" + v.event() + "'");
  r.event = *event;
  r.inquirer = v.inquirer_code();
  r.provider = v.provider_code();
  r.business = v.business_code();
  r.item = v.item_code();
  r.request_id = v.request_id();
  r.outcome = v.outcome();
  r.non_disclosure = v.non_disclosure();
  IPN_RETURN_IF_ERROR(CopyBytes(v.record_symbol(), "record_symbol", &r.record_symbol));
  for (const std::string& h : v.inclusion_path()) {
    records::Hash hash;
    IPN_RETURN_IF_ERROR(CopyBytes(h, "inclusion proof hash", &hash));
    p.inclusion_path.push_back(hash);
  }
  p.matches_filter = v.matches_filter();
  return p;
}

Status AddPage(const v1::RecordPage& page, PulledSet* set) {
  Result<records::SignedTreeHead> head = FromView(page.tree_head());
  if (!head.ok()) return head.status().WithContext("the page's tree head");
  if (set->head.tree_size == 0 && set->records.empty() && !set->before) {
    set->head = *head;
  } else if (!(set->head == *head)) {
    return Status::Corruption("a later page of the pull carries a different tree head");
  }
  if (page.has_before()) {
    Result<PulledRecord> b = FromView(page.before());
    if (!b.ok()) return b.status();
    set->before = std::move(*b);
  }
  for (const v1::ProvisionRecordView& v : page.records()) {
    Result<PulledRecord> r = FromView(v);
    if (!r.ok()) return r.status();
    set->records.push_back(std::move(*r));
  }
  if (page.has_after()) {
    Result<PulledRecord> a = FromView(page.after());
    if (!a.ok()) return a.status();
    set->after = std::move(*a);
  }
  return Status::Ok();
}

std::string PullLine(const PulledSet& set) {
  Json j;
  j["type"] = "pull";
  j["from_unix_us"] = set.from_unix_us;
  j["to_unix_us"] = set.to_unix_us;
  j["agency"] = set.agency;
  j["head"] = HeadJson(set.head);
  return j.dump() + "\n";
}

std::string ConsistencyLine(const PulledSet& set) {
  if (!set.previous_head) return "";
  Json j;
  j["type"] = "consistency";
  j["previous_head"] = HeadJson(*set.previous_head);
  j["path"] = PathJson(set.consistency_path);
  return j.dump() + "\n";
}

std::string RecordLine(const PulledRecord& p, const char* type) {
  const records::Record& r = p.record;
  Json j;
  j["type"] = type;
  records::AddRecordFields(r, j);
  j["inclusion_path"] = PathJson(p.inclusion_path);
  return j.dump() + "\n";
}

Result<PulledSet> ReadPulledSet(std::istream& in) {
  PulledSet set;
  bool have_pull = false;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(number);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
      return Status::InvalidArgument(where + ": not a JSON object with a \"type\"");
    }
    const std::string type = j["type"].get<std::string>();
    if (type == "pull") {
      if (have_pull) return Status::InvalidArgument(where + ": a second \"pull\" line");
      have_pull = true;
      try {
        set.from_unix_us = JsonInt64(j.at("from_unix_us"));
        set.to_unix_us = JsonInt64(j.at("to_unix_us"));
        set.agency = j.at("agency").get<std::string>();
      } catch (const nlohmann::json::exception&) {
        return Status::InvalidArgument(where + ": the pull line needs from, to and agency");
      }
      Result<records::SignedTreeHead> head = HeadFromJson(j["head"]);
      if (!head.ok()) return head.status().WithContext(where);
      set.head = *head;
      continue;
    }
    if (!have_pull) return Status::InvalidArgument(where + ": the first line must be \"pull\"");
    if (type == "consistency") {
      Result<records::SignedTreeHead> prev = HeadFromJson(j["previous_head"]);
      if (!prev.ok()) return prev.status().WithContext(where);
      set.previous_head = *prev;
      Result<std::vector<records::Hash>> path = PathFromJson(j["path"]);
      if (!path.ok()) return path.status().WithContext(where);
      set.consistency_path = std::move(*path);
    } else if (type == "record" || type == "context" || type == "before" || type == "after") {
      Result<PulledRecord> r = RecordFromJson(j);
      if (!r.ok()) return r.status().WithContext(where);
      r->matches_filter = type == "record";
      if (type == "before") {
        set.before = std::move(*r);
      } else if (type == "after") {
        set.after = std::move(*r);
      } else {
        set.records.push_back(std::move(*r));
      }
    } else {
      return Status::InvalidArgument(where + ": unknown line type \"" + type + "\"");
    }
  }
  if (!have_pull) return Status::InvalidArgument("the file holds no pull");
  return set;
}

std::string TreeHeadJson(const records::SignedTreeHead& head) {
  return HeadJson(head).dump() + "\n";
}

Result<records::SignedTreeHead> ParseTreeHeadJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("the head is not JSON");
  return HeadFromJson(j);
}

std::string CsvHeader() {
  return "sequence,time,event,inquirer,provider,business,item,request_id,outcome,"
         "non_disclosure\n";
}

std::string CsvRow(const records::Record& r) {
  return std::to_string(r.sequence) + "," + FormatUtc(r.time_unix_us) + "," +
         records::EventName(r.event) + "," + CsvField(r.inquirer) + "," + CsvField(r.provider) +
         "," + CsvField(r.business) + "," + CsvField(r.item) + "," + CsvField(r.request_id) + "," +
         CsvField(r.outcome) + "," + (r.non_disclosure ? "true" : "false") + "\n";
}

}  // namespace ipn::oversight
