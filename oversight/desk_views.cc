// The desk's answers as JSON (oversight/desk_views.h).
#include "oversight/desk_views.h"

#include "common/encoding.h"
#include "oversight/desk_audit.h"
#include "records/record_json.h"

namespace ipn::oversight {
namespace {

std::string Hex32(const records::Hash& h) {
  return HexEncode(h);
}

bool IsPeriod(const std::string& s, Granularity g) {
  const size_t want = g == Granularity::kMonth ? 7 : 10;
  if (s.size() != want) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

}  // namespace

nlohmann::json HeadJson(const records::SignedTreeHead& h) {
  nlohmann::json j = {{"tree_size", h.tree_size},
                      {"timestamp_us", h.timestamp_us},
                      {"root_hash", Hex32(h.root_hash)},
                      {"signer", HexEncode(h.signer)},
                      {"signature", HexEncode(h.signature)}};
  if (h.version == 2) {
    j["version"] = 2;
    j["person_root"] = Hex32(h.history.disclosed);
    j["withheld_root"] = Hex32(h.history.withheld);
  }
  return j;
}

nlohmann::json VolumesJson(const std::vector<VolumeRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const VolumeRow& r : rows) {
    out.push_back({{"period", r.period},
                   {"inquirer", r.inquirer},
                   {"business", r.business},
                   {"item", r.item},
                   {"event", records::EventName(r.event)},
                   {"reason", r.reason},
                   {"count", r.count}});
  }
  return {{"rows", std::move(out)}};
}

nlohmann::json CaseJson(const DeskCase& c) {
  const Anomaly& a = c.anomaly;
  return {{"id", c.id},
          {"rule", a.rule},
          {"agency", a.agency},
          {"from_us", a.from_unix_us},
          {"to_us", a.to_unix_us},
          {"count", a.count},
          {"threshold", a.threshold},
          {"explanation", a.explanation},
          {"status", CaseStatusName(c.status)},
          {"note", c.note},
          {"updated_by", c.updated_by},
          {"updated_us", c.updated_us},
          {"first_seen_us", c.first_seen_us},
          {"records", a.sequences.size()}};
}

nlohmann::json FlagJson(const FlagDetail& d) {
  nlohmann::json records = nlohmann::json::array();
  for (size_t i = 0; i < d.records.size(); ++i) {
    nlohmann::ordered_json r = records::RecordToJson(d.records[i]);
    nlohmann::json path = nlohmann::json::array();
    for (const records::Hash& h : d.proofs[i]) path.push_back(Hex32(h));
    nlohmann::json plain = nlohmann::json::parse(r.dump());
    plain["inclusion_path"] = std::move(path);
    records.push_back(std::move(plain));
  }
  return {{"anomaly", CaseJson(d.flag)},
          {"head", HeadJson(d.head)},
          {"records", std::move(records)},
          {"truncated", d.truncated}};
}

nlohmann::json HeadsJson(const std::vector<CommittedHead>& heads,
                         const std::vector<DeskFinding>& findings, size_t limit) {
  nlohmann::json h = nlohmann::json::array();
  for (auto it = heads.rbegin(); it != heads.rend() && h.size() < limit; ++it) {
    h.push_back({{"tree_size", it->head.tree_size},
                 {"timestamp_us", it->head.timestamp_us},
                 {"root_hash", Hex32(it->head.root_hash)},
                 {"committed_us", it->committed_unix_us}});
  }
  nlohmann::json f = nlohmann::json::array();
  for (auto it = findings.rbegin(); it != findings.rend() && f.size() < limit; ++it) {
    f.push_back({{"found_us", it->found_unix_us},
                 {"head_size", it->head_size},
                 {"kind", it->kind},
                 {"detail", it->detail}});
  }
  return {{"heads", std::move(h)},
          {"findings", std::move(f)},
          {"heads_total", heads.size()},
          {"findings_total", findings.size()}};
}

nlohmann::json FeesJson(const DeskFees& fees) {
  const FeeStatement& s = fees.statement;
  nlohmann::json lines = nlohmann::json::array();
  for (const FeeLine& l : s.lines) {
    lines.push_back({{"inquirer", l.inquirer},
                     {"business", l.business},
                     {"item", l.item},
                     {"exchanges", l.exchanges},
                     {"yen_per_exchange", FormatYen(l.sen_per_exchange)},
                     {"amount_yen", FormatYen(l.amount_sen)}});
  }
  nlohmann::json totals = nlohmann::json::array();
  for (const auto& [inquirer, sen] : s.inquirer_total_sen) {
    totals.push_back({{"inquirer", inquirer}, {"amount_yen", FormatYen(sen)}});
  }
  return {{"quarter", s.quarter.name},
          {"tariff_version", s.tariff_version},
          {"tariff_effective_from", s.tariff_effective_from},
          {"tariff_digest", HexEncode(s.tariff_digest)},
          {"head_tree_size", s.head_tree_size},
          {"head_root", Hex32(s.head_root)},
          {"complete", fees.complete},
          {"lines", std::move(lines)},
          {"inquirer_totals", std::move(totals)},
          {"chargeable_exchanges", s.chargeable_exchanges},
          {"total_yen", FormatYen(s.total_sen)}};
}

nlohmann::json NamesJson(const policy::Policy* names) {
  nlohmann::json agencies = nlohmann::json::object(), businesses = nlohmann::json::object(),
                 items = nlohmann::json::object();
  if (names != nullptr) {
    for (const policy::Agency& a : names->agencies()) {
      agencies[a.code] = {{"ja", a.name_ja}, {"en", a.name_en}};
    }
    for (const policy::NamedCode& b : names->businesses()) {
      businesses[b.code] = {{"ja", b.name_ja}, {"en", b.name_en}};
    }
    for (const policy::NamedCode& i : names->items()) {
      items[i.code] = {{"ja", i.name_ja}, {"en", i.name_en}};
    }
  }
  return {{"agencies", std::move(agencies)},
          {"businesses", std::move(businesses)},
          {"items", std::move(items)}};
}

nlohmann::json AuditJson(const std::vector<AuditEntry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const AuditEntry& e : entries) {
    out.push_back({{"seq", e.seq},
                   {"at_us", e.at_us},
                   {"who", e.who},
                   {"action", e.action},
                   {"detail", e.detail},
                   {"chain", e.chain_hex}});
  }
  return {{"entries", std::move(out)}};
}

Result<VolumeQuery> ParseVolumeQuery(const std::function<std::string(const char*)>& get) {
  VolumeQuery q;
  const std::string g = get("granularity");
  if (g == "day") {
    q.granularity = Granularity::kDay;
  } else if (!g.empty() && g != "month") {
    return Status::InvalidArgument("granularity is month or day");
  }
  q.from = get("from");
  q.to = get("to");
  if ((!q.from.empty() && !IsPeriod(q.from, q.granularity)) ||
      (!q.to.empty() && !IsPeriod(q.to, q.granularity))) {
    return Status::InvalidArgument(q.granularity == Granularity::kMonth
                                       ? "from and to are YYYY-MM"
                                       : "from and to are YYYY-MM-DD");
  }
  q.inquirer = get("inquirer");
  if (q.inquirer.size() > 64) return Status::InvalidArgument("inquirer is an agency code");
  const std::string by = get("group_by");
  if (by.empty() || by == "none") {
    q.group_by = GroupBy::kNone;
  } else if (by == "inquirer") {
    q.group_by = GroupBy::kInquirer;
  } else if (by == "business") {
    q.group_by = GroupBy::kBusiness;
  } else if (by == "item") {
    q.group_by = GroupBy::kItem;
  } else if (by == "event") {
    q.group_by = GroupBy::kEvent;
  } else {
    return Status::InvalidArgument("group_by is none, inquirer, business, item or event");
  }
  return q;
}

}  // namespace ipn::oversight
