// The quarterly fee statement from provision records (fee_statement.h).
#include "oversight/fee_statement.h"

#include <set>
#include <tuple>

#include "common/civil_time.h"
#include "common/time_text.h"
#include "oversight/pull_verifier.h"

namespace ipn::oversight {

Result<Quarter> ParseQuarter(std::string_view text) {
  const Status bad = Status::InvalidArgument("a quarter is YYYYQn, n 1 to 4 (e.g. 2026Q3)");
  std::string compact(text);
  if (compact.size() == 7 && compact[4] == '-') compact.erase(4, 1);
  if (compact.size() != 6 || (compact[4] != 'Q' && compact[4] != 'q')) return bad;
  int64_t year = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (compact[i] < '0' || compact[i] > '9') return bad;
    year = year * 10 + (compact[i] - '0');
  }
  const int q = compact[5] - '0';
  if (q < 1 || q > 4 || year < 1970) return bad;
  const unsigned first_month = static_cast<unsigned>(3 * (q - 1) + 1);
  const CivilDate from{year, first_month, 1};
  const CivilDate to = q == 4 ? CivilDate{year + 1, 1, 1} : CivilDate{year, first_month + 3, 1};
  Quarter out;
  out.name = std::to_string(year) + "Q" + std::to_string(q);
  out.from_unix_us = JstDayStart(DaysFromCivil(from));
  out.to_unix_us = JstDayStart(DaysFromCivil(to));
  return out;
}

Result<FeeStatement> ComputeFees(std::span<const records::Record> records, const Tariff& tariff,
                                 const Quarter& quarter) {
  if (tariff.effective_from_unix_us > quarter.from_unix_us) {
    return Status::FailedPrecondition("the tariff (version " + std::to_string(tariff.version) +
                                      ") takes effect on " + tariff.effective_from +
                                      ", after the first day of " + quarter.name);
  }
  FeeStatement s;
  s.quarter = quarter;
  s.tariff_version = tariff.version;
  s.tariff_effective_from = tariff.effective_from;
  s.tariff_digest = tariff.digest;
  using LineKey = std::tuple<std::string, std::string, std::string>;
  std::map<LineKey, uint64_t> counts;
  std::set<std::pair<std::string, std::string>> seen;  // (inquirer, request id)
  for (const records::Record& r : records) {
    if (r.event != records::Event::kProvided) continue;
    if (r.record_symbol == records::kAuditRecordSymbol) continue;
    // Only an exchange's first `provided` record counts, wherever it falls: one sent again
    // after a failover, even across a quarter's end, is never charged a second time.
    if (!seen.emplace(r.inquirer, r.request_id).second) continue;
    if (r.time_unix_us < quarter.from_unix_us || r.time_unix_us >= quarter.to_unix_us) continue;
    ++counts[LineKey(r.inquirer, r.business, r.item)];
  }
  for (const auto& [key, n] : counts) {
    FeeLine line;
    std::tie(line.inquirer, line.business, line.item) = key;
    line.exchanges = n;
    line.sen_per_exchange = tariff.SenFor(line.business);
    // ≤ 1e8 sen × the records one pull can hold: far inside int64.
    line.amount_sen = static_cast<int64_t>(n) * line.sen_per_exchange;
    s.inquirer_total_sen[line.inquirer] += line.amount_sen;
    s.chargeable_exchanges += n;
    s.total_sen += line.amount_sen;
    s.lines.push_back(std::move(line));
  }
  return s;
}

Result<FeeStatement> FeesFromPull(const PulledSet& pull, const records::PublicKey& records_key,
                                  const Tariff& tariff, const Quarter& quarter) {
  if (!pull.agency.empty()) {
    return Status::InvalidArgument("the pull holds only agency " + pull.agency +
                                   "'s records; a fee statement needs every agency's");
  }
  if (pull.from_unix_us > quarter.from_unix_us || pull.to_unix_us < quarter.to_unix_us) {
    return Status::InvalidArgument("the pull covers " + FormatUtc(pull.from_unix_us) + " to " +
                                   FormatUtc(pull.to_unix_us) + "; " + quarter.name + " needs " +
                                   FormatUtc(quarter.from_unix_us) + " to " +
                                   FormatUtc(quarter.to_unix_us) + " (UTC)");
  }
  PullVerifyReport report = VerifyPulledSet(pull, records_key);
  if (!report.ok()) {
    std::string kinds;
    for (const PullFinding& f : report.findings) {
      if (kinds.find(f.kind) == std::string::npos) kinds += (kinds.empty() ? "" : ", ") + f.kind;
    }
    return Status::Corruption("the pull does not verify (" + kinds + ": " +
                              report.findings.front().detail +
                              "); no fee statement is computed from it");
  }
  std::vector<records::Record> records;
  records.reserve(pull.records.size());
  for (const PulledRecord& r : pull.records) {
    if (r.matches_filter) records.push_back(r.record);
  }
  Result<FeeStatement> s = ComputeFees(records, tariff, quarter);
  if (!s.ok()) return s.status();
  s->head_tree_size = pull.head.tree_size;
  s->head_root = pull.head.root_hash;
  return s;
}

namespace {
// RFC 4180: quote a field holding a comma, quote or line break.
std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string FeeStatementCsv(const FeeStatement& s) {
  std::string out =
      "quarter,inquirer,business,item,chargeable_exchanges,yen_per_exchange,amount_yen\n";
  auto row = [&](const std::string& inquirer, const std::string& business, const std::string& item,
                 uint64_t n, const std::string& rate, int64_t amount) {
    out += s.quarter.name + "," + CsvField(inquirer) + "," + CsvField(business) + "," +
           CsvField(item) + "," + std::to_string(n) + "," + rate + "," + FormatYen(amount) + "\n";
  };
  std::map<std::string, uint64_t> per_inquirer;
  for (const FeeLine& l : s.lines) {
    row(l.inquirer, l.business, l.item, l.exchanges, FormatYen(l.sen_per_exchange), l.amount_sen);
    per_inquirer[l.inquirer] += l.exchanges;
  }
  for (const auto& [inquirer, sen] : s.inquirer_total_sen) {
    row(inquirer, "(total)", "", per_inquirer[inquirer], "", sen);
  }
  row("(all)", "", "", s.chargeable_exchanges, "", s.total_sen);
  return out;
}

}  // namespace ipn::oversight
