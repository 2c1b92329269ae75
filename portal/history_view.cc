// HistoryView: JSON for the page, CSV for downloads.
#include "portal/history_view.h"

#include "common/encoding.h"
#include "common/time_text.h"
#include "policy/jst_date.h"

namespace ipn::portal {
namespace {

nlohmann::json Named(const std::string& code, const policy::NamedCode* named) {
  return {{"code", code},
          {"name_ja", named != nullptr ? named->name_ja : code},
          {"name_en", named != nullptr ? named->name_en : code}};
}

nlohmann::json AgencyNamed(const std::string& code, const policy::Policy& names) {
  const policy::Agency* a = names.FindAgency(code);
  return {{"code", code},
          {"name_ja", a != nullptr ? a->name_ja : code},
          {"name_en", a != nullptr ? a->name_en : code}};
}

// A CSV cell a spreadsheet will not run as a formula (request ids come from agencies).
std::string SafeCell(const std::string& s) {
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) {
    return CsvField("'" + s);
  }
  return CsvField(s);
}

std::string Hex(const std::string& bytes) {
  return HexEncode(AsBytes(bytes));
}

// "2026-11-23 13:05:06" in JST.
std::string JstTime(int64_t unix_us) {
  std::string utc = FormatUtc(unix_us + 9LL * 3600 * 1'000'000);
  return utc.substr(0, 10) + " " + utc.substr(11, 8);
}

}  // namespace

Result<Period> ParsePeriod(std::string_view from, std::string_view to) {
  Period p;
  if (!from.empty()) {
    Result<int64_t> f = policy::JstDayStartMicros(from);
    if (!f.ok()) return Status::InvalidArgument("from: " + f.status().message());
    p.from_us = *f;
  }
  if (!to.empty()) {
    Result<int64_t> t = policy::JstDayStartMicros(to);
    if (!t.ok()) return Status::InvalidArgument("to: " + t.status().message());
    p.to_us = *t + 86'400'000'000LL;  // inclusive day
  }
  if (p.from_us && p.to_us && *p.from_us >= *p.to_us) {
    return Status::InvalidArgument("the period ends before it starts");
  }
  return p;
}

nlohmann::json HistoryJson(const v1::RecordPage& page, const policy::Policy& names,
                           const Period& period) {
  nlohmann::json records = nlohmann::json::array();
  for (const v1::ProvisionRecordView& r : page.records()) {
    if (!period.Contains(r.time_unix_us())) continue;
    nlohmann::json path = nlohmann::json::array();
    for (const std::string& h : r.inclusion_path()) path.push_back(Hex(h));
    records.push_back(
        {{"sequence", r.sequence()},
         {"time_unix_us", r.time_unix_us()},
         {"time", FormatUtc(r.time_unix_us())},
         {"event", r.event()},
         {"inquirer", AgencyNamed(r.inquirer_code(), names)},
         {"provider", AgencyNamed(r.provider_code(), names)},
         {"business", Named(r.business_code(), names.FindBusiness(r.business_code()))},
         {"item", Named(r.item_code(), names.FindItem(r.item_code()))},
         {"request_id", r.request_id()},
         {"outcome", r.outcome()},
         {"non_disclosure", r.non_disclosure()},
         {"record_symbol", Hex(r.record_symbol())},
         {"inclusion_path", std::move(path)}});
  }
  nlohmann::json head = nullptr;
  if (page.has_tree_head()) {
    const v1::SignedTreeHeadView& h = page.tree_head();
    head = {{"tree_size", h.tree_size()},
            {"timestamp_us", h.timestamp_us()},
            {"root_hash", Hex(h.root_hash())},
            {"signer", Hex(h.signer())},
            {"signature", Hex(h.signature())}};
  }
  return {{"records", std::move(records)}, {"tree_head", std::move(head)}, {"withheld_note", ""}};
}

std::string HistoryCsv(const v1::RecordPage& page, const policy::Policy& names,
                       const Period& period) {
  std::string out = "\xEF\xBB\xBF";
  out +=
      "time_jst,event,inquirer,inquirer_name,provider,provider_name,business,business_name,"
      "item,item_name,outcome,request_id,sequence\r\n";
  for (const v1::ProvisionRecordView& r : page.records()) {
    if (!period.Contains(r.time_unix_us())) continue;
    const policy::Agency* inq = names.FindAgency(r.inquirer_code());
    const policy::Agency* prov = names.FindAgency(r.provider_code());
    const policy::NamedCode* bus = names.FindBusiness(r.business_code());
    const policy::NamedCode* item = names.FindItem(r.item_code());
    out += JstTime(r.time_unix_us()) + "," + SafeCell(r.event()) + "," +
           SafeCell(r.inquirer_code()) + "," + SafeCell(inq ? inq->name_ja : "") + "," +
           SafeCell(r.provider_code()) + "," + SafeCell(prov ? prov->name_ja : "") + "," +
           SafeCell(r.business_code()) + "," + SafeCell(bus ? bus->name_ja : "") + "," +
           SafeCell(r.item_code()) + "," + SafeCell(item ? item->name_ja : "") + "," +
           SafeCell(r.outcome()) + "," + SafeCell(r.request_id()) + "," +
           std::to_string(r.sequence()) + "\r\n";
  }
  return out;
}

}  // namespace ipn::portal
