// HistoryView: JSON for the page, CSV for downloads.
#include "portal/history_view.h"

#include <map>

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
    if (h.version() == 2) {
      head["version"] = 2;
      head["person_root"] = Hex(h.person_root());
      head["withheld_root"] = Hex(h.withheld_root());
    }
  }
  nlohmann::json proof = nullptr;
  if (page.has_history_proof()) {
    const v1::HistoryProofView& p = page.history_proof();
    nlohmann::json siblings = nlohmann::json::array();
    for (const std::string& s : p.siblings()) siblings.push_back(Hex(s));
    const char* end = p.end() == v1::HistoryProofView::END_LEAF         ? "leaf"
                      : p.end() == v1::HistoryProofView::END_OTHER_LEAF ? "other_leaf"
                                                                        : "empty";
    proof = {{"key", Hex(p.key())},
             {"end", end},
             {"chain", Hex(p.chain())},
             {"count", p.count()},
             {"other_key", Hex(p.other_key())},
             {"other_value", Hex(p.other_value())},
             {"siblings", std::move(siblings)}};
  }
  nlohmann::json cosignature = nullptr;
  if (page.has_cosignature()) {
    const v1::CosignatureView& c = page.cosignature();
    cosignature = {{"tree_size", c.tree_size()},
                   {"timestamp_us", c.timestamp_us()},
                   {"witness", Hex(c.witness())},
                   {"cosigned_unix_us", c.cosigned_unix_us()},
                   {"signature", Hex(c.signature())}};
  }
  return {{"records", std::move(records)},
          {"tree_head", std::move(head)},
          {"cosignature", std::move(cosignature)},
          {"history_proof", std::move(proof)},
          {"withheld_note", ""}};
}

namespace {

// The CSV's words in Japanese: the page's own (app.js STRINGS ev_* and CODE_WORDS).
const std::map<std::string, std::string, std::less<>> kEventJa = {
    {"inquiry_accepted", "ネットワークが照会を受け付けました"},
    {"inquiry_refused", "ネットワークが照会を拒否しました"},
    {"forwarded", "提供機関に照会を転送しました"},
    {"provided", "提供機関が情報を提供しました"},
    {"not_held", "提供機関は該当する情報を保有していませんでした"},
    {"failed", "処理に失敗しました"},
    {"timed_out", "期限内に応答がありませんでした"},
    {"received", "照会機関が応答を受け取りました"},
};
const std::map<std::string, std::string, std::less<>> kOutcomeJa = {
    {"ACCEPTED", "受付"},
    {"FORWARDED", "転送"},
    {"PROVIDED", "提供"},
    {"NOT_HELD", "該当なし"},
    {"FAILED", "失敗"},
    {"TIMED_OUT", "期限切れ"},
    {"REFUSED", "拒否"},
    {"NOT_RECEIVED", "受領できませんでした"},
    {"NOT_CONFIRMED", "照会機関のシステムが受領を確認しませんでした"},
    {"CORE_RESTARTED", "ネットワークの再起動により終了しました"},
    {"UNREACHABLE", "提供機関のシステムに接続できませんでした"},
    {"UNKNOWN_INQUIRER", "照会機関が登録されていません"},
    {"UNKNOWN_PROVIDER", "提供機関が登録されていません"},
    {"INQUIRER_NOT_ACTIVE", "照会機関が利用停止中です"},
    {"PROVIDER_NOT_ACTIVE", "提供機関が利用停止中です"},
    {"NO_ASSESSMENT", "特定個人情報保護評価が承認されていません"},
    {"NO_SUCH_LINK", "法令で認められた照会ではありません"},
    {"OUTSIDE_EFFECTIVE_PERIOD", "法令で認められた期間外の照会です"},
    {"RATE_LIMITED", "照会が多すぎるため制限されました"},
    {"INVALID_SYMBOL", "本人を識別する符号が無効でした"},
    {"NOT_ISSUED_TO_PROVIDER", "提供機関はあなたの情報を保有していません"},
    {"DUPLICATE_REQUEST", "同じ照会番号の照会が既にありました"},
    {"MALFORMED", "照会の形式が正しくありませんでした"},
    {"UNKNOWN_ITEM", "特定個人情報の項目が不明です"},
    {"UNKNOWN_BUSINESS", "事務が不明です"},
};

// `code` in Japanese words when the table knows it, else the code itself.
std::string Words(const std::map<std::string, std::string, std::less<>>& table,
                  const std::string& code) {
  auto it = table.find(code);
  return it == table.end() ? code : it->second;
}

}  // namespace

std::string HistoryCsv(const v1::RecordPage& page, const policy::Policy& names,
                       const Period& period, bool japanese) {
  std::string out = "\xEF\xBB\xBF";
  out += japanese ? "日時（日本時間）,出来事,照会機関コード,照会機関名,提供機関コード,提供機関名,"
                    "事務コード,事務名,特定個人情報コード,特定個人情報名,結果,照会番号,記録番号\r\n"
                  : "time_jst,event,inquirer,inquirer_name,provider,provider_name,business,"
                    "business_name,item,item_name,outcome,request_id,sequence\r\n";
  for (const v1::ProvisionRecordView& r : page.records()) {
    if (!period.Contains(r.time_unix_us())) continue;
    const policy::Agency* inq = names.FindAgency(r.inquirer_code());
    const policy::Agency* prov = names.FindAgency(r.provider_code());
    const policy::NamedCode* bus = names.FindBusiness(r.business_code());
    const policy::NamedCode* item = names.FindItem(r.item_code());
    out += JstTime(r.time_unix_us()) + "," +
           SafeCell(japanese ? Words(kEventJa, r.event()) : r.event()) + "," +
           SafeCell(r.inquirer_code()) + "," + SafeCell(inq ? inq->name_ja : "") + "," +
           SafeCell(r.provider_code()) + "," + SafeCell(prov ? prov->name_ja : "") + "," +
           SafeCell(r.business_code()) + "," + SafeCell(bus ? bus->name_ja : "") + "," +
           SafeCell(r.item_code()) + "," + SafeCell(item ? item->name_ja : "") + "," +
           SafeCell(japanese ? Words(kOutcomeJa, r.outcome()) : r.outcome()) + "," +
           SafeCell(r.request_id()) + "," + std::to_string(r.sequence()) + "\r\n";
  }
  return out;
}

}  // namespace ipn::portal
