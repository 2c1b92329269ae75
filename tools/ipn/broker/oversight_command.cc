// `ipn oversight pull|verify|stats|anomalies|fees|tariff-sign|witness|person`: the oversight
// commission's (個人情報保護委員会) tools. pull and stats talk to the core through the commission's
// own interface node (its key is the commission's; the core refuses anyone else); verify, anomalies
// and fees work on a pulled file, offline; tariff-sign is the policy administrator's; witness
// cosigns the core's heads through the commission's node.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/time_text.h"
#include "interface/agency_client.h"
#include "oversight/anomalies.h"
#include "oversight/anomaly_thresholds.h"
#include "oversight/fee_statement.h"
#include "oversight/person_history.h"
#include "oversight/pull_verifier.h"
#include "oversight/pulled_set.h"
#include "oversight/tariff.h"
#include "oversight/witness.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "policy/policy_store.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

using interface::AgencyClient;
using oversight::PulledRecord;
using oversight::PulledSet;

constexpr auto kTimeout = std::chrono::seconds(30);

int Usage(const std::string& message) {
  std::fprintf(stderr, "ipn oversight: %s\n", message.c_str());
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn oversight: %s\n", s.ToString().c_str());
  return s.code() == Status::Code::kInvalidArgument ? 2 : 1;
}

// "YYYY-MM" → [first day, first day of the next month) in UTC microseconds.
Result<std::pair<int64_t, int64_t>> MonthRange(const std::string& month, int months = 1) {
  int y = 0, m = 0;
  if (month.size() != 7 || std::sscanf(month.c_str(), "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12) {
    return Status::InvalidArgument("--month must be YYYY-MM");
  }
  auto first = [](int year, int mon) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-01", year, mon);
    return ParseUtc(buf, "--month");
  };
  Result<int64_t> from = first(y, m);
  int end_m = m + months, end_y = y;
  while (end_m > 12) {
    end_m -= 12;
    ++end_y;
  }
  Result<int64_t> to = first(end_y, end_m);
  if (!from.ok()) return from.status();
  if (!to.ok()) return to.status();
  return std::make_pair(*from, *to);
}

// --- pull -------------------------------------------------------------------------------

struct PullFlags {
  std::string node, from, to, agency, format = "jsonl", output, previous_head, save_head;
  uint32_t page_size = 500;
};

int RunPull(const PullFlags& f) {
  if (f.format != "jsonl" && f.format != "csv") return Usage("--format must be jsonl or csv");
  Result<int64_t> from = ParseUtc(f.from, "--from");
  if (!from.ok()) return Usage(from.status().message());
  Result<int64_t> to = ParseUtc(f.to, "--to");
  if (!to.ok()) return Usage(to.status().message());
  if (*from >= *to) return Usage("--from must be before --to");
  std::optional<records::SignedTreeHead> previous;
  if (!f.previous_head.empty()) {
    std::ifstream in(f.previous_head);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Usage("cannot read --previous-head " + f.previous_head);
    Result<records::SignedTreeHead> head = oversight::ParseTreeHeadJson(text.str());
    if (!head.ok()) return Usage("--previous-head: " + head.status().message());
    previous = *head;
  }
  // Write to a temporary file and rename at the end: an interrupted pull leaves nothing
  // that looks complete.
  const std::string tmp = f.output.empty() ? "" : f.output + ".partial";
  std::ofstream file;
  if (!f.output.empty()) {
    file.open(tmp, std::ios::trunc);
    if (!file) return Usage("cannot write " + tmp);
  }
  std::ostream& out = f.output.empty() ? std::cout : file;

  Result<std::unique_ptr<AgencyClient>> client = AgencyClient::Connect(f.node);
  if (!client.ok()) return Fail(client.status().WithContext("the commission's node"));
  v1::RecordQuery q;
  q.set_from_unix_us(*from);
  q.set_to_unix_us(*to);
  q.set_agency_code(f.agency);
  q.set_page_size(f.page_size);
  PulledSet set;
  set.from_unix_us = *from;
  set.to_unix_us = *to;
  set.agency = f.agency;
  const bool progress = isatty(STDERR_FILENO) != 0;
  uint64_t written = 0, matching = 0;
  if (f.format == "csv") out << oversight::CsvHeader();
  for (bool first = true;; first = false) {
    Result<v1::RecordPage> page = (*client)->QueryRecords(q, kTimeout);
    if (!page.ok()) {
      if (!tmp.empty()) std::remove(tmp.c_str());
      return Fail(page.status().WithContext("pull"));
    }
    PulledSet one;
    if (Status s = oversight::AddPage(*page, &one); !s.ok()) return Fail(s);
    if (first) {
      set.head = one.head;
      if (previous) {
        Result<v1::TreeHeadResponse> proof =
            (*client)->RequestTreeHead(previous->tree_size, set.head.tree_size, kTimeout);
        if (!proof.ok()) return Fail(proof.status().WithContext("consistency proof"));
        set.previous_head = previous;
        for (const std::string& h : proof->consistency_path()) {
          records::Hash hash{};
          if (h.size() != hash.size()) return Fail(Status::Corruption("malformed proof"));
          std::copy(h.begin(), h.end(), hash.begin());
          set.consistency_path.push_back(hash);
        }
      }
      if (f.format == "jsonl") {
        out << oversight::PullLine(set) << oversight::ConsistencyLine(set);
        if (one.before) out << oversight::RecordLine(*one.before, "before");
      }
    } else if (!(one.head == set.head)) {
      return Fail(Status::Corruption("the core changed the tree head in the middle of a pull"));
    }
    for (const PulledRecord& r : one.records) {
      ++written;
      matching += r.matches_filter ? 1 : 0;
      if (f.format == "jsonl") {
        out << oversight::RecordLine(r, r.matches_filter ? "record" : "context");
      } else if (r.matches_filter) {
        out << oversight::CsvRow(r.record);
      }
    }
    if (f.format == "jsonl" && one.after) out << oversight::RecordLine(*one.after, "after");
    if (progress) {
      std::fprintf(stderr, "\rpulled %llu records (%llu matching)",
                   static_cast<unsigned long long>(written),
                   static_cast<unsigned long long>(matching));
    }
    if (page->next_page_token().empty()) break;
    q.set_page_token(page->next_page_token());
  }
  if (progress) std::fprintf(stderr, "\n");
  out.flush();
  if (!f.output.empty()) {
    file.close();
    if (!file || std::rename(tmp.c_str(), f.output.c_str()) != 0) {
      return Fail(Status::IoError("cannot write " + f.output));
    }
  }
  if (!f.save_head.empty()) {
    std::ofstream h(f.save_head, std::ios::trunc);
    h << oversight::TreeHeadJson(set.head);
    if (!h) return Fail(Status::IoError("cannot write " + f.save_head));
  }
  std::fprintf(
      stderr, "%llu records in range, %llu matching; signed tree head: size %llu, root %s\n",
      static_cast<unsigned long long>(written), static_cast<unsigned long long>(matching),
      static_cast<unsigned long long>(set.head.tree_size), HexEncode(set.head.root_hash).c_str());
  return 0;
}

// --- verify -----------------------------------------------------------------------------

struct VerifyFlags {
  std::string input, records_key;
  bool json = false;
};

Result<PulledSet> ReadPull(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read " + path);
  Result<PulledSet> set = oversight::ReadPulledSet(in);
  if (!set.ok()) return set.status().WithContext(path);
  return set;
}

int RunVerify(const VerifyFlags& f) {
  std::optional<records::PublicKey> pinned;
  if (!f.records_key.empty()) {
    Result<std::vector<uint8_t>> key = HexDecode(f.records_key);
    if (!key.ok() || key->size() != 32) {
      return Usage("--records-key must be 64 hex characters (the core's records signing key)");
    }
    pinned.emplace();
    std::copy(key->begin(), key->end(), pinned->begin());
  }
  Result<PulledSet> set = ReadPull(f.input);
  if (!set.ok()) return Usage(set.status().message());
  oversight::PullVerifyReport report = oversight::VerifyPulledSet(*set, pinned);
  if (f.json) {
    nlohmann::ordered_json j;
    j["ok"] = report.ok();
    j["signer_pinned"] = pinned.has_value();
    j["records_checked"] = report.records_checked;
    j["tree_size"] = set->head.tree_size;
    j["findings"] = nlohmann::json::array();
    for (const oversight::PullFinding& x : report.findings) {
      j["findings"].push_back({{"kind", x.kind}, {"sequences", x.sequences}, {"detail", x.detail}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    if (!pinned) {
      std::printf("note: no --records-key given; checked against the head's own signer %s\n",
                  HexEncode(set->head.signer).c_str());
    }
    std::printf("checked %llu records against the signed tree head of size %llu%s\n",
                static_cast<unsigned long long>(report.records_checked),
                static_cast<unsigned long long>(set->head.tree_size),
                set->previous_head ? " and its consistency with the previous head" : "");
    for (const oversight::PullFinding& x : report.findings) {
      std::printf("%-18s %s\n", x.kind.c_str(), x.detail.c_str());
    }
    std::printf("%s\n", report.ok() ? "OK: complete, unaltered, in order"
                                    : "FAILED: the pull does not match the signed log");
  }
  return report.ok() ? 0 : 1;
}

// --- stats ------------------------------------------------------------------------------

struct StatsFlags {
  std::string node, month;
  bool json = false;
};

int RunStats(const StatsFlags& f) {
  Result<std::pair<int64_t, int64_t>> month = MonthRange(f.month);
  if (!month.ok()) return Usage(month.status().message());
  Result<std::unique_ptr<AgencyClient>> client = AgencyClient::Connect(f.node);
  if (!client.ok()) return Fail(client.status().WithContext("the commission's node"));
  Result<v1::StatsReport> usage = (*client)->QueryStats(month->first, month->second, kTimeout);
  if (!usage.ok()) return Fail(usage.status().WithContext("stats"));

  // Usage: exchanges (an exchange's first record: accepted, refused or not held at the
  // core) per inquirer × provider × business × outcome of that record. Fees come from a
  // verified pull and the signed tariff: `ipn oversight fees`.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, uint64_t> exchanges;
  for (const v1::StatsRowView& r : usage->rows()) {
    if (r.event() == "operator_action") continue;
    const bool first_record = r.event() == "inquiry_accepted" || r.event() == "inquiry_refused" ||
                              (r.event() == "not_held" && r.outcome() == "NOT_ISSUED_TO_PROVIDER");
    if (!first_record) continue;
    const std::string outcome = r.event() == "inquiry_accepted" ? "accepted" : r.outcome();
    exchanges[Key(r.inquirer_code(), r.provider_code(), r.business_code(), outcome)] += r.count();
  }
  if (f.json) {
    nlohmann::ordered_json j;
    j["month"] = f.month;
    j["usage"] = nlohmann::json::array();
    for (const auto& [k, n] : exchanges) {
      j["usage"].push_back({{"inquirer", std::get<0>(k)},
                            {"provider", std::get<1>(k)},
                            {"business", std::get<2>(k)},
                            {"outcome", std::get<3>(k)},
                            {"exchanges", n}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("Usage in %s (exchanges by their first record)\n", f.month.c_str());
  std::printf("%-14s %-14s %-28s %-24s %10s\n", "inquirer", "provider", "business", "outcome",
              "exchanges");
  for (const auto& [k, n] : exchanges) {
    std::printf("%-14s %-14s %-28s %-24s %10llu\n", std::get<0>(k).c_str(), std::get<1>(k).c_str(),
                std::get<2>(k).c_str(), std::get<3>(k).c_str(), static_cast<unsigned long long>(n));
  }
  return 0;
}

// --- fees -------------------------------------------------------------------------------

struct FeeFlags {
  std::string input, quarter, tariff, admin_key, records_key, format = "table", output;
};

int RunFees(const FeeFlags& f) {
  if (f.format != "table" && f.format != "csv" && f.format != "json") {
    return Usage("--format must be table, csv or json");
  }
  Result<oversight::Quarter> quarter = oversight::ParseQuarter(f.quarter);
  if (!quarter.ok()) return Usage("--quarter: " + quarter.status().message());
  Result<std::vector<uint8_t>> key = HexDecode(f.records_key);
  if (!key.ok() || key->size() != 32) {
    return Usage("--records-key must be 64 hex characters (the core's records signing key)");
  }
  records::PublicKey records_key{};
  std::copy(key->begin(), key->end(), records_key.begin());
  Result<policy::AdminPublicKey> admin = policy::ReadAdminPublicKey(f.admin_key);
  if (!admin.ok()) return Usage("--admin-key: " + admin.status().message());
  Result<std::string> tariff_text = ReadFile(f.tariff);
  if (!tariff_text.ok()) return Usage(tariff_text.status().message());
  Result<oversight::Tariff> tariff = oversight::ParseSignedTariff(*tariff_text, *admin);
  if (!tariff.ok()) return Fail(tariff.status().WithContext(f.tariff));
  Result<PulledSet> set = ReadPull(f.input);
  if (!set.ok()) return Usage(set.status().message());
  Result<oversight::FeeStatement> s = oversight::FeesFromPull(*set, records_key, *tariff, *quarter);
  if (!s.ok()) return Fail(s.status().WithContext(f.input));

  std::string out;
  if (f.format == "csv") {
    out = oversight::FeeStatementCsv(*s);
  } else if (f.format == "json") {
    nlohmann::ordered_json j;
    j["quarter"] = s->quarter.name;
    j["from"] = FormatUtc(s->quarter.from_unix_us);
    j["to"] = FormatUtc(s->quarter.to_unix_us);
    j["tariff"] = {{"version", s->tariff_version},
                   {"effective_from", s->tariff_effective_from},
                   {"sha256", HexEncode(s->tariff_digest)}};
    j["verified_head"] = {{"tree_size", s->head_tree_size}, {"root", HexEncode(s->head_root)}};
    j["lines"] = nlohmann::json::array();
    for (const oversight::FeeLine& l : s->lines) {
      j["lines"].push_back({{"inquirer", l.inquirer},
                            {"business", l.business},
                            {"item", l.item},
                            {"chargeable_exchanges", l.exchanges},
                            {"yen_per_exchange", oversight::FormatYen(l.sen_per_exchange)},
                            {"amount_yen", oversight::FormatYen(l.amount_sen)}});
    }
    j["inquirers"] = nlohmann::json::array();
    for (const auto& [inquirer, sen] : s->inquirer_total_sen) {
      j["inquirers"].push_back({{"inquirer", inquirer}, {"amount_yen", oversight::FormatYen(sen)}});
    }
    j["chargeable_exchanges"] = s->chargeable_exchanges;
    j["total_yen"] = oversight::FormatYen(s->total_sen);
    out = j.dump(2) + "\n";
  } else {
    char buf[512];
    std::snprintf(
        buf, sizeof buf,
        "Fee statement %s (%s to %s UTC), tariff version %llu in force from %s\n"
        "from a verified pull: signed tree head size %llu, root %s\n\n",
        s->quarter.name.c_str(), FormatUtc(s->quarter.from_unix_us).c_str(),
        FormatUtc(s->quarter.to_unix_us).c_str(),
        static_cast<unsigned long long>(s->tariff_version), s->tariff_effective_from.c_str(),
        static_cast<unsigned long long>(s->head_tree_size), HexEncode(s->head_root).c_str());
    out = buf;
    std::snprintf(buf, sizeof buf, "%-14s %-24s %-24s %10s %8s %14s\n", "inquirer", "business",
                  "item", "exchanges", "yen/ea", "amount (yen)");
    out += buf;
    for (const oversight::FeeLine& l : s->lines) {
      std::snprintf(buf, sizeof buf, "%-14s %-24s %-24s %10llu %8s %14s\n", l.inquirer.c_str(),
                    l.business.c_str(), l.item.c_str(),
                    static_cast<unsigned long long>(l.exchanges),
                    oversight::FormatYen(l.sen_per_exchange).c_str(),
                    oversight::FormatYen(l.amount_sen).c_str());
      out += buf;
    }
    out += "\n";
    for (const auto& [inquirer, sen] : s->inquirer_total_sen) {
      std::snprintf(buf, sizeof buf, "%-14s %-24s %14s\n", inquirer.c_str(), "total",
                    oversight::FormatYen(sen).c_str());
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "%-14s %-24s %14s  (%llu chargeable exchanges)\n", "all",
                  "total", oversight::FormatYen(s->total_sen).c_str(),
                  static_cast<unsigned long long>(s->chargeable_exchanges));
    out += buf;
  }
  if (f.output.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  // Written whole or not at all (a temporary file synced and renamed into place).
  if (Status wrote = WriteFileAtomic(f.output, out); !wrote.ok()) return Fail(wrote);
  return 0;
}

// --- tariff-sign ------------------------------------------------------------------------

struct TariffSignFlags {
  std::string input, key, output;
};

int RunTariffSign(const TariffSignFlags& f) {
  Result<std::string> text = ReadFile(f.input);
  if (!text.ok()) return Usage(text.status().message());
  Result<SecretBytes> secret = policy::ReadAdminSecretKey(f.key);
  if (!secret.ok()) return Usage("--key: " + secret.status().message());
  Result<std::string> signed_text = oversight::SignTariff(*text, secret->span());
  if (!signed_text.ok()) return Fail(signed_text.status().WithContext(f.input));
  const std::string out = f.output.empty() ? f.input : f.output;
  if (Status wrote = WriteFileAtomic(out, *signed_text); !wrote.ok()) return Fail(wrote);
  std::printf("signed %s\n", out.c_str());
  return 0;
}

// --- anomalies --------------------------------------------------------------------------

struct AnomalyFlags {
  std::string input, thresholds, bundle, admin_key;
  bool json = false;
};

int RunAnomalies(const AnomalyFlags& f) {
  Result<PulledSet> set = ReadPull(f.input);
  if (!set.ok()) return Usage(set.status().message());
  oversight::AnomalyThresholds thresholds;
  if (!f.thresholds.empty()) {
    Result<oversight::AnomalyThresholds> t = oversight::LoadAnomalyThresholds(f.thresholds);
    if (!t.ok()) return Usage(t.status().message());
    thresholds = *t;
  }
  std::shared_ptr<const policy::Policy> policy;
  if (f.bundle.empty()) {
    Result<std::shared_ptr<const policy::Policy>> demo = policy::LoadDemoPolicy();
    if (!demo.ok()) return Fail(demo.status());
    policy = *demo;
  } else {
    Result<policy::AdminPublicKey> key = policy::ReadAdminPublicKey(f.admin_key);
    if (!key.ok()) return Usage("--admin-key: " + key.status().message());
    policy::PolicyStore store(*key);
    if (Status s = store.LoadFile(f.bundle); !s.ok()) return Usage(s.ToString());
    policy = store.Current();
  }
  std::map<std::string, oversight::OfficeHours> hours;
  for (const policy::Agency& a : policy->agencies()) {
    if (a.hours.empty()) continue;
    Result<oversight::OfficeHours> h = oversight::ParseOfficeHours(a.hours);
    if (h.ok()) hours[a.code] = *h;
  }
  std::vector<records::Record> records;
  for (const PulledRecord& r : set->records) records.push_back(r.record);
  std::vector<oversight::Anomaly> found = oversight::FindAnomalies(records, hours, thresholds);
  if (f.json) {
    nlohmann::ordered_json j = nlohmann::json::array();
    for (const oversight::Anomaly& a : found) {
      j.push_back({{"rule", a.rule},
                   {"agency", a.agency},
                   {"from", FormatUtc(a.from_unix_us)},
                   {"to", FormatUtc(a.to_unix_us)},
                   {"count", a.count},
                   {"threshold", a.threshold},
                   {"explanation", a.explanation},
                   {"sequences", a.sequences}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%zu anomaly flag(s) in %zu records\n", found.size(), records.size());
    for (const oversight::Anomaly& a : found) {
      std::string seqs;
      for (size_t i = 0; i < a.sequences.size() && i < 12; ++i) {
        seqs += (i ? "," : "") + std::to_string(a.sequences[i]);
      }
      if (a.sequences.size() > 12) seqs += ",…";
      std::printf("%-14s %-14s %s  records %s\n", a.rule.c_str(), a.agency.c_str(),
                  a.explanation.c_str(), seqs.c_str());
    }
  }
  return found.empty() ? 0 : 1;
}

// --- witness ----------------------------------------------------------------------------

struct WitnessFlags {
  std::string node, records_key, key, state;
};

// Appends one line and syncs it: what the witness publishes or keeps as evidence must
// outlive a crash of the round that wrote it.
Status AppendLineDurably(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot open " + path);
  const std::string text = line + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fdatasync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::IoError("cannot write " + path);
}

// The head the witness cosigned last: latest-head.json; if that file does not exist, the
// last cosignature it published (a state directory restored from its publications); none
// only when neither exists. A file that exists but cannot be read stops the round: a
// witness that forgot its head would cosign a fork.
Result<std::optional<records::SignedTreeHead>> LoadWitnessState(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string latest_file = dir + "/latest-head.json";
  const std::string published = dir + "/cosignatures.jsonl";
  std::error_code ec;
  if (fs::exists(latest_file, ec)) {
    Result<std::string> text = ReadFile(latest_file);
    if (!text.ok()) return text.status();
    Result<records::SignedTreeHead> head = oversight::ParseTreeHeadJson(*text);
    if (!head.ok()) return head.status().WithContext(latest_file);
    return std::optional<records::SignedTreeHead>(*head);
  }
  if (ec) return Status::IoError("cannot look for " + latest_file + ": " + ec.message());
  if (!fs::exists(published, ec)) {
    if (ec) return Status::IoError("cannot look for " + published + ": " + ec.message());
    return std::optional<records::SignedTreeHead>();
  }
  Result<std::string> text = ReadFile(published);
  if (!text.ok()) return text.status();
  std::istringstream lines(*text);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  if (last.empty()) return std::optional<records::SignedTreeHead>();
  Result<oversight::Cosignature> c = oversight::ParseCosignatureJson(last);
  if (!c.ok()) return c.status().WithContext(published);
  return std::optional<records::SignedTreeHead>(c->head);
}

// One round of the commission's witness (oversight/witness.h): the core's freshly signed
// head with its consistency proof from the head cosigned last, checked, cosigned and
// published. The state directory holds latest-head.json (the head cosigned last),
// cosignatures.jsonl (every cosignature, one a line: what the commission publishes) and
// refused.jsonl (every head refused, with the reason: the evidence of a split view or a
// rollback). One round at a time holds the directory's lock.
int RunWitness(const WitnessFlags& f) {
  Result<std::vector<uint8_t>> key = HexDecode(f.records_key);
  if (!key.ok() || key->size() != 32) {
    return Usage("--records-key must be 64 hex characters (the core's records signing key)");
  }
  records::PublicKey log_key{};
  std::copy(key->begin(), key->end(), log_key.begin());
  Result<SecretBytes> secret = policy::ReadAdminSecretKey(f.key);
  if (!secret.ok()) return Usage("--key: " + secret.status().message());
  if (Status s = EnsureDirectory(f.state); !s.ok()) return Fail(s.WithContext("--state"));
  // Two overlapping rounds could each cosign a different branch: one at a time.
  const std::string lock_file = f.state + "/lock";
  const int lock_fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Fail(Status::IoError("cannot open " + lock_file));
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // releases the flock
  } unlock{lock_fd};
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Fail(Status::Unavailable("another witness round holds " + lock_file));
  }
  const std::string latest_file = f.state + "/latest-head.json";
  Result<std::optional<records::SignedTreeHead>> state = LoadWitnessState(f.state);
  if (!state.ok()) return Fail(state.status().WithContext("the witness's state"));
  const std::optional<records::SignedTreeHead> latest = *state;
  Result<oversight::Witness> witness =
      oversight::Witness::Create(log_key, std::move(*secret), latest);
  if (!witness.ok()) return Fail(witness.status().WithContext(latest_file));

  Result<std::unique_ptr<AgencyClient>> client = AgencyClient::Connect(f.node);
  if (!client.ok()) return Fail(client.status().WithContext("the commission's node"));
  Result<v1::TreeHeadResponse> response =
      (*client)->RequestTreeHead(latest ? latest->tree_size : 0, 0, kTimeout);
  if (!response.ok() && latest && response.status().code() == Status::Code::kInvalidArgument) {
    // The core cannot prove consistency from the size cosigned last (its log is smaller
    // now): its head, without a proof, is what the refusal below keeps as evidence.
    response = (*client)->RequestTreeHead(0, 0, kTimeout);
  }
  if (!response.ok()) return Fail(response.status().WithContext("the core's head"));
  Result<records::SignedTreeHead> head = oversight::FromView(response->head());
  if (!head.ok()) return Fail(head.status().WithContext("the core's head"));
  std::vector<records::Hash> proof;
  for (const std::string& h : response->consistency_path()) {
    records::Hash hash{};
    if (h.size() != hash.size()) return Fail(Status::Corruption("a malformed consistency proof"));
    std::copy(h.begin(), h.end(), hash.begin());
    proof.push_back(hash);
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Result<oversight::Cosignature> cosigned = witness->Observe(*head, proof, now);
  if (!cosigned.ok()) {
    nlohmann::ordered_json j;
    j["time"] = FormatUtc(now);
    j["reason"] = cosigned.status().ToString();
    j["head"] = nlohmann::json::parse(oversight::TreeHeadJson(*head));
    if (latest) j["latest_cosigned"] = nlohmann::json::parse(oversight::TreeHeadJson(*latest));
    nlohmann::json path = nlohmann::json::array();
    for (const records::Hash& h : proof) path.push_back(HexEncode(h));
    j["consistency_path"] = path;
    if (Status kept = AppendLineDurably(f.state + "/refused.jsonl", j.dump()); !kept.ok()) {
      std::fprintf(stderr, "ipn oversight: %s\n", kept.ToString().c_str());
    }
    return Fail(cosigned.status().WithContext("not cosigned"));
  }
  // The state first, then the publication: a crash between the two leaves one head
  // cosigned but unpublished, never a published head the state has forgotten (from
  // which a later round could cosign a fork).
  if (Status s = WriteFileAtomic(latest_file, oversight::TreeHeadJson(*head)); !s.ok()) {
    return Fail(s);
  }
  if (Status s =
          AppendLineDurably(f.state + "/cosignatures.jsonl", oversight::CosignatureJson(*cosigned));
      !s.ok()) {
    return Fail(s);
  }
  // Then to the core, which proves citizens' histories against the head cosigned last.
  v1::CosignatureView view;
  view.set_tree_size(head->tree_size);
  view.set_timestamp_us(head->timestamp_us);
  view.set_witness(cosigned->witness.data(), cosigned->witness.size());
  view.set_cosigned_unix_us(cosigned->cosigned_unix_us);
  view.set_signature(cosigned->signature.data(), cosigned->signature.size());
  if (Result<v1::TreeHeadResponse> published = (*client)->PublishCosignature(view, kTimeout);
      !published.ok()) {
    return Fail(published.status().WithContext(
        "cosigned and published, but the core did not take the cosignature"));
  }
  std::printf("cosigned the head of size %llu (root %s)%s\n",
              static_cast<unsigned long long>(head->tree_size), HexEncode(head->root_hash).c_str(),
              latest ? (", consistent with size " + std::to_string(latest->tree_size)).c_str()
                     : ", the first this witness has seen");
  return 0;
}

// --- person ------------------------------------------------------------------------------

struct PersonFlags {
  std::string node, records_key, symbol;
  bool json = false;
};

// One person's complete history by record symbol, verified (oversight/person_history.h):
// what an investigator shows a court, withheld exchanges included.
int RunPerson(const PersonFlags& f) {
  Result<std::vector<uint8_t>> key = HexDecode(f.records_key);
  Result<std::vector<uint8_t>> symbol = HexDecode(f.symbol);
  if (!key.ok() || key->size() != 32) return Usage("--records-key must be 64 hex characters");
  if (!symbol.ok() || symbol->size() != 32) return Usage("--symbol must be 64 hex characters");
  records::PublicKey records_key{};
  std::copy(key->begin(), key->end(), records_key.begin());
  Result<std::unique_ptr<AgencyClient>> client = AgencyClient::Connect(f.node);
  if (!client.ok()) return Fail(client.status().WithContext("the commission's node"));
  v1::RecordQuery q;
  q.set_record_symbol(symbol->data(), symbol->size());
  Result<v1::RecordPage> page = (*client)->QueryRecords(q, kTimeout);
  if (!page.ok()) return Fail(page.status().WithContext("the person's records"));
  records::RecordSymbolBytes person{};
  std::copy(symbol->begin(), symbol->end(), person.begin());
  Result<oversight::PersonHistoryReport> report =
      oversight::VerifyPersonHistory(*page, records_key, person);
  if (!report.ok()) return Fail(report.status().WithContext("NOT VERIFIED"));
  if (f.json) {
    nlohmann::ordered_json j;
    j["record_symbol"] = f.symbol;
    j["head"] = nlohmann::json::parse(oversight::TreeHeadJson(report->head));
    j["records"] = report->records;
    j["disclosed_exchanges"] = report->disclosed;
    j["withheld_exchanges"] = report->withheld;
    nlohmann::json withheld = nlohmann::json::array();
    for (const records::Record& r : report->withheld_settling) {
      withheld.push_back({{"sequence", r.sequence},
                          {"time", FormatUtc(r.time_unix_us)},
                          {"inquirer", r.inquirer},
                          {"provider", r.provider},
                          {"business", r.business},
                          {"item", r.item},
                          {"request_id", r.request_id},
                          {"event", records::EventName(r.event)}});
    }
    j["withheld"] = withheld;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf(
      "verified: %llu records of %s in the head of size %llu; %llu disclosed and %llu withheld "
      "exchanges, complete as the head commits to them\n",
      static_cast<unsigned long long>(report->records), f.symbol.c_str(),
      static_cast<unsigned long long>(report->head.tree_size),
      static_cast<unsigned long long>(report->disclosed),
      static_cast<unsigned long long>(report->withheld));
  for (const records::Record& r : report->withheld_settling) {
    std::printf("  withheld: record %llu at %s, %s asked %s (%s/%s), request %s\n",
                static_cast<unsigned long long>(r.sequence), FormatUtc(r.time_unix_us).c_str(),
                r.inquirer.c_str(), r.provider.c_str(), r.business.c_str(), r.item.c_str(),
                r.request_id.c_str());
  }
  return 0;
}

}  // namespace

void RegisterOversightCommand(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand(
      "oversight", "The oversight commission: pull, verify, statistics and anomaly flags");
  group->require_subcommand(1);

  auto pf = std::make_shared<PullFlags>();
  CLI::App* pull = group->add_subcommand(
      "pull", "Stream the records of a period, with the signed tree head they belong to");
  pull->add_option("--node", pf->node, "The commission's node (ipc://PATH)")->required();
  pull->add_option("--from", pf->from, "Start, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)")
      ->required();
  pull->add_option("--to", pf->to, "End (exclusive), same forms")->required();
  pull->add_option("--agency", pf->agency, "Only records where this agency asked or provided");
  pull->add_option("--format", pf->format, "jsonl (verifiable) or csv (records only)")
      ->capture_default_str();
  pull->add_option("--output", pf->output, "File to write (default: standard output)");
  pull->add_option("--previous-head", pf->previous_head,
                   "A head saved by an earlier pull: prove the log still extends it");
  pull->add_option("--save-head", pf->save_head, "Write this pull's head here (JSON)");
  pull->add_option("--page-size", pf->page_size, "Records per request (1..1000)")
      ->capture_default_str();
  pull->callback([&ctx, pf] { ctx.exit_code = RunPull(*pf); });

  auto vf = std::make_shared<VerifyFlags>();
  CLI::App* verify = group->add_subcommand(
      "verify",
      "Check a pulled file: signatures, inclusion proofs, gaps, order (exit 1 on findings)");
  verify->add_option("--input", vf->input, "A file written by `ipn oversight pull`")->required();
  verify->add_option("--records-key", vf->records_key,
                     "The core's records signing key (hex), as the commission knows it");
  verify->add_flag("--json", vf->json, "Print the report as JSON");
  verify->callback([&ctx, vf] { ctx.exit_code = RunVerify(*vf); });

  auto sf = std::make_shared<StatsFlags>();
  CLI::App* stats = group->add_subcommand(
      "stats", "Usage per inquirer, provider, business and outcome in a month");
  stats->add_option("--node", sf->node, "The commission's node (ipc://PATH)")->required();
  stats->add_option("--month", sf->month, "YYYY-MM (UTC)")->required();
  stats->add_flag("--json", sf->json, "Print JSON");
  stats->callback([&ctx, sf] { ctx.exit_code = RunStats(*sf); });

  auto af = std::make_shared<AnomalyFlags>();
  CLI::App* anomalies = group->add_subcommand(
      "anomalies", "Anomaly flags (不正兆候) in a pulled file (exit 1 when any is raised)");
  anomalies->add_option("--input", af->input, "A file written by `ipn oversight pull`")->required();
  anomalies->add_option("--thresholds", af->thresholds, "Thresholds file (docs/oversight.md)");
  anomalies->add_option(
      "--bundle", af->bundle,
      "Policy bundle for the agencies' declared hours (default: the demo policy)");
  anomalies->add_option("--admin-key", af->admin_key, "The bundle's administrator public key");
  anomalies->add_flag("--json", af->json, "Print JSON");
  anomalies->callback([&ctx, af] { ctx.exit_code = RunAnomalies(*af); });

  auto ff = std::make_shared<FeeFlags>();
  CLI::App* fees = group->add_subcommand(
      "fees", "The quarter's fee statement from a verified pull and the signed tariff");
  fees->add_option("--input", ff->input,
                   "A file written by `ipn oversight pull` covering the "
                   "quarter, all agencies")
      ->required();
  fees->add_option("--quarter", ff->quarter, "YYYYQn, a JST calendar quarter (2026Q3)")->required();
  fees->add_option("--tariff", ff->tariff, "The signed tariff file (docs/oversight.md)")
      ->required();
  fees->add_option("--admin-key", ff->admin_key, "The policy administrator's public key file")
      ->required();
  fees->add_option("--records-key", ff->records_key,
                   "The core's records signing key (hex), as the commission knows it")
      ->required();
  fees->add_option("--format", ff->format, "table, csv or json")->capture_default_str();
  fees->add_option("--output", ff->output, "File to write (default: standard output)");
  fees->callback([&ctx, ff] { ctx.exit_code = RunFees(*ff); });

  auto tf = std::make_shared<TariffSignFlags>();
  CLI::App* tariff_sign = group->add_subcommand(
      "tariff-sign", "Sign a tariff file with the policy administrator's secret key");
  tariff_sign->add_option("--input", tf->input, "The tariff file")->required();
  tariff_sign->add_option("--key", tf->key, "The policy administrator's secret key file")
      ->required();
  tariff_sign->add_option("--output", tf->output, "Where to write (default: in place)");
  tariff_sign->callback([&ctx, tf] { ctx.exit_code = RunTariffSign(*tf); });

  auto personf = std::make_shared<PersonFlags>();
  CLI::App* person = group->add_subcommand(
      "person",
      "One person's complete history by record symbol, withheld exchanges included, verified "
      "against the core's signed head (exit 1 if anything does not verify)");
  person->add_option("--node", personf->node, "The commission's node (ipc://PATH)")->required();
  person
      ->add_option("--records-key", personf->records_key,
                   "The core's records signing key (hex), as the commission knows it")
      ->required();
  person->add_option("--symbol", personf->symbol, "The person's record symbol (hex, from a pull)")
      ->required();
  person->add_flag("--json", personf->json, "Print the report as JSON");
  person->callback([&ctx, personf] { ctx.exit_code = RunPerson(*personf); });

  auto wf = std::make_shared<WitnessFlags>();
  CLI::App* witness = group->add_subcommand(
      "witness",
      "One witness round: cosign the core's head if it extends the head cosigned last "
      "(exit 1 and refused.jsonl if not)");
  witness->add_option("--node", wf->node, "The commission's node (ipc://PATH)")->required();
  witness
      ->add_option("--records-key", wf->records_key,
                   "The core's records signing key (hex), as the commission knows it")
      ->required();
  witness
      ->add_option("--key", wf->key,
                   "The witness's secret key file (made with `ipn policy keygen`)")
      ->required();
  witness
      ->add_option("--state", wf->state,
                   "Directory: latest-head.json, cosignatures.jsonl, refused.jsonl")
      ->required();
  witness->callback([&ctx, wf] { ctx.exit_code = RunWitness(*wf); });
}

}  // namespace ipn::cli
