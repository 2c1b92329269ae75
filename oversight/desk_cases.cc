// The desk's anomaly cases, kept in one JSON file (oversight/desk_cases.h).
#include "oversight/desk_cases.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/json_fields.h"

namespace ipn::oversight {

const char* CaseStatusName(CaseStatus s) {
  switch (s) {
    case CaseStatus::kOpen: return "open";
    case CaseStatus::kUnderReview: return "under_review";
    case CaseStatus::kClosed: return "closed";
  }
  return "open";
}

std::optional<CaseStatus> ParseCaseStatus(std::string_view name) {
  if (name == "open") return CaseStatus::kOpen;
  if (name == "under_review") return CaseStatus::kUnderReview;
  if (name == "closed") return CaseStatus::kClosed;
  return std::nullopt;
}

std::string CaseId(const Anomaly& a) {
  const std::string key = a.rule + '\0' + a.agency + '\0' + std::to_string(a.from_unix_us);
  uint8_t d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const uint8_t*>(key.data()), key.size());
  return HexEncode({d, 8});
}

Result<std::unique_ptr<DeskCases>> DeskCases::Open(std::string path) {
  std::unique_ptr<DeskCases> c(new DeskCases(std::move(path)));
  IPN_RETURN_IF_ERROR(c->Load());
  return c;
}

Status DeskCases::Load() {
  if (::access(path_.c_str(), F_OK) != 0) return Status::Ok();
  Result<std::string> text = ReadFile(path_);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("cases") || !j["cases"].is_array()) {
    return Status::Corruption(path_ + ": not the desk's cases file");
  }
  try {
    for (const nlohmann::json& e : j["cases"]) {
      DeskCase c;
      c.id = e.at("id").get<std::string>();
      Anomaly& a = c.anomaly;
      a.rule = e.at("rule").get<std::string>();
      a.agency = e.at("agency").get<std::string>();
      a.from_unix_us = JsonInt64(e.at("from_us"));
      a.to_unix_us = JsonInt64(e.at("to_us"));
      a.count = JsonUint64(e.at("count"));
      a.threshold = e.at("threshold").get<double>();
      a.explanation = e.at("explanation").get<std::string>();
      for (const nlohmann::json& s : e.at("sequences")) a.sequences.push_back(JsonUint64(s));
      const std::optional<CaseStatus> st = ParseCaseStatus(e.at("status").get<std::string>());
      if (!st || c.id != CaseId(a)) return Status::Corruption(path_ + ": a malformed case");
      c.status = *st;
      c.note = e.at("note").get<std::string>();
      c.updated_by = e.at("updated_by").get<std::string>();
      c.updated_us = JsonInt64(e.at("updated_us"));
      c.first_seen_us = JsonInt64(e.at("first_seen_us"));
      cases_[c.id] = std::move(c);
    }
  } catch (const std::exception& e) {
    return Status::Corruption(path_ + ": a malformed case: " + e.what());
  }
  return Status::Ok();
}

Status DeskCases::SaveLocked() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [id, c] : cases_) {
    const Anomaly& a = c.anomaly;
    list.push_back({{"id", id},
                    {"rule", a.rule},
                    {"agency", a.agency},
                    {"from_us", a.from_unix_us},
                    {"to_us", a.to_unix_us},
                    {"count", a.count},
                    {"threshold", a.threshold},
                    {"explanation", a.explanation},
                    {"sequences", a.sequences},
                    {"status", CaseStatusName(c.status)},
                    {"note", c.note},
                    {"updated_by", c.updated_by},
                    {"updated_us", c.updated_us},
                    {"first_seen_us", c.first_seen_us}});
  }
  return WriteFileAtomic(path_,
                         nlohmann::json{{"format", "ipn-desk-cases/1"}, {"cases", list}}.dump(
                             -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<size_t> DeskCases::Merge(const std::vector<Anomaly>& found, int64_t now_us) {
  std::lock_guard lock(mu_);
  std::map<std::string, DeskCase> next = cases_;
  size_t added = 0;
  for (const Anomaly& a : found) {
    const std::string id = CaseId(a);
    auto [it, inserted] = next.try_emplace(id);
    DeskCase& c = it->second;
    if (inserted) {
      if (next.size() > kMaxCases) {
        return Status::ResourceExhausted("the desk holds " + std::to_string(kMaxCases) +
                                         " anomaly cases: close and archive some");
      }
      c.id = id;
      c.first_seen_us = now_us;
      c.updated_us = now_us;
      ++added;
    }
    // A closed case that grew is open again: what was closed is not what is there now.
    if (!inserted && c.status == CaseStatus::kClosed && a.count > c.anomaly.count) {
      c.status = CaseStatus::kOpen;
      c.note += (c.note.empty() ? "" : "\n") + std::string("[reopened by the desk: ") +
                std::to_string(a.count - c.anomaly.count) + " more records]";
      if (c.note.size() > kMaxNoteBytes) c.note.erase(0, c.note.size() - kMaxNoteBytes);
      c.updated_by = "desk";
      c.updated_us = now_us;
    }
    c.anomaly = a;
    if (c.anomaly.sequences.size() > kMaxCaseSequences) {
      c.anomaly.sequences.resize(kMaxCaseSequences);
    }
  }
  cases_.swap(next);
  Status saved = SaveLocked();
  if (!saved.ok()) {
    cases_.swap(next);  // nothing changed
    return saved;
  }
  return added;
}

std::vector<DeskCase> DeskCases::List(std::optional<CaseStatus> status) const {
  std::lock_guard lock(mu_);
  std::vector<DeskCase> out;
  for (const auto& [id, c] : cases_) {
    if (!status || c.status == *status) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const DeskCase& a, const DeskCase& b) {
    if (a.anomaly.from_unix_us != b.anomaly.from_unix_us) {
      return a.anomaly.from_unix_us > b.anomaly.from_unix_us;
    }
    return a.id < b.id;
  });
  return out;
}

size_t DeskCases::Count(CaseStatus status) const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(
      cases_.begin(), cases_.end(), [&](const auto& c) { return c.second.status == status; }));
}

Result<DeskCase> DeskCases::Get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = cases_.find(std::string(id));
  if (it == cases_.end()) return Status::NotFound("no anomaly " + std::string(id));
  return it->second;
}

Result<DeskCase> DeskCases::SetStatus(std::string_view id, CaseStatus status, std::string_view note,
                                      std::string_view who, int64_t now_us) {
  if (note.size() > kMaxNoteBytes) {
    return Status::InvalidArgument("a note has at most " + std::to_string(kMaxNoteBytes) +
                                   " bytes");
  }
  if (status == CaseStatus::kClosed && note.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument("closing a case needs a note saying why");
  }
  std::lock_guard lock(mu_);
  auto it = cases_.find(std::string(id));
  if (it == cases_.end()) return Status::NotFound("no anomaly " + std::string(id));
  const DeskCase before = it->second;
  it->second.status = status;
  it->second.note = std::string(note);
  it->second.updated_by = std::string(who);
  it->second.updated_us = now_us;
  Status saved = SaveLocked();
  if (!saved.ok()) {
    it->second = before;
    return saved;
  }
  return it->second;
}

}  // namespace ipn::oversight
