// `ipn records`: the provision-record log on a local store directory, for operators and
// the oversight commission.
//   init     new key file (encryption and signing keys) and an empty store
//   verify   full verification (records, tree, indexes, signed heads); exit 1 if tampered
//   stats    counts by month × inquirer × provider × business × event × outcome
//   pull     records of a time range (optionally one agency's) as JSON lines
//   head     the latest signed tree head as JSON (or sign one now with --sign)
// Keys come from the core's key ring (--key-ring DATA/symbols, the passphrase from
// IPN_PASSPHRASE or a prompt, as for `ipn keys`), or from a key file (records/key_file.h) for
// a store made by `ipn records init`; LoadRecordKeys is the one place that reads them.
// verify, stats, pull and head open the store read-only: run them on a stopped store or a
// copy (a RocksDB checkpoint); the key ring, too, opens only while the core is stopped.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/json_fields.h"
#include "common/time_text.h"
#include "records/key_file.h"
#include "records/record_json.h"
#include "records/record_store.h"
#include "tools/ipn/commands.h"
#include "tools/ipn/key_ring_session.h"

namespace ipn::cli {
namespace {

using records::RecordStore;
using records::RecordStoreOptions;

struct RecordsArgs {
  std::string dir;
  std::string key_file;
  std::string key_ring;  // the core's key ring directory (DATA/symbols)
  std::string from, to, agency, format = "table", heads_file;
  bool json = false;
  bool sign = false;
  int threads = 0;
};

int Fail(const char* command, const Status& s) {
  std::fprintf(stderr, "ipn records %s: %s\n", command, s.ToString().c_str());
  return 2;
}

// The record keys held in the core's key ring, as the store takes them.
Result<records::RecordKeys> KeysFromKeyRing(const std::string& dir) {
  // Checked before the passphrase is asked for: a mistyped path should not cost a prompt.
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound("--key-ring " + dir + " is not a directory");
  }
  Result<KeyRingSession> session = OpenKeyRingSession(dir, "ipn-records");
  if (!session.ok()) return session.status().WithContext("--key-ring " + dir);
  Result<symbol::RecordKeys> ring_keys = session->service->GetRecordKeys();
  if (!ring_keys.ok()) return ring_keys.status().WithContext("--key-ring " + dir);
  records::RecordKeys keys;
  keys.encryption_keys = std::move(ring_keys->encryption);
  keys.signing_secret_key = std::move(ring_keys->signing_secret_key);
  return keys;
}

// The one place the record keys are loaded: from the key ring or a key file.
Result<records::RecordKeys> LoadRecordKeys(const RecordsArgs& args) {
  if (!args.key_ring.empty()) return KeysFromKeyRing(args.key_ring);
  const std::string& key_file = args.key_file;
  if (key_file.empty()) return Status::InvalidArgument("--key-ring or --key-file is required");
  bool permissive = false;
  Result<records::RecordKeys> keys = records::ReadKeyFile(key_file, &permissive);
  if (keys.ok() && permissive) {
    std::fprintf(stderr, "warning: %s is readable by group or others; chmod 600 it\n",
                 key_file.c_str());
  }
  return keys;
}

Result<std::unique_ptr<RecordStore>> OpenStore(const RecordsArgs& args, bool read_only) {
  if (args.dir.empty()) return Status::InvalidArgument("--dir is required");
  Result<records::RecordKeys> keys = LoadRecordKeys(args);
  if (!keys.ok()) return keys.status();
  RecordStoreOptions options;
  options.dir = args.dir;
  options.encryption_keys = std::move(keys->encryption_keys);
  options.signing_secret_key = std::move(keys->signing_secret_key);
  options.read_only = read_only;
  options.tree_head_every_records = 0;
  options.tree_head_every_us = 0;
  options.purge_every_us = 0;
  return RecordStore::Open(std::move(options));
}

nlohmann::ordered_json HeadJson(const records::SignedTreeHead& h) {
  nlohmann::ordered_json j;
  j["tree_size"] = h.tree_size;
  j["root_hash"] = HexEncode(h.root_hash);
  j["timestamp_us"] = h.timestamp_us;
  j["time"] = FormatUtc(h.timestamp_us);
  j["signer"] = HexEncode(h.signer);
  j["signature"] = HexEncode(h.signature);
  if (h.version == 2) {
    j["version"] = 2;
    j["person_root"] = HexEncode(h.history.disclosed);
    j["withheld_root"] = HexEncode(h.history.withheld);
  }
  return j;
}

template <size_t N>
bool HexField(const nlohmann::json& j, const char* name, std::array<uint8_t, N>& out) {
  if (!j.contains(name) || !j[name].is_string()) return false;
  Result<std::vector<uint8_t>> bytes = HexDecode(j[name].get<std::string>());
  if (!bytes.ok() || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

// Heads an auditor kept: JSON lines as `ipn records head` prints them.
Result<std::vector<records::SignedTreeHead>> ReadHeadsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read heads file " + path);
  std::vector<records::SignedTreeHead> heads;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    records::SignedTreeHead h;
    if (j.is_discarded() || !j.is_object() || !j.contains("tree_size") ||
        !j["tree_size"].is_number_unsigned() || !j.contains("timestamp_us") ||
        !j["timestamp_us"].is_number_integer() || !HexField(j, "root_hash", h.root_hash) ||
        !HexField(j, "signer", h.signer) || !HexField(j, "signature", h.signature)) {
      return Status::InvalidArgument("heads file " + path + " line " + std::to_string(number) +
                                     " is not a tree head");
    }
    h.tree_size = JsonUint64(j["tree_size"]);
    h.timestamp_us = JsonInt64(j["timestamp_us"]);
    if (j.contains("version") && j["version"] == 2) {
      h.version = 2;
      if (!HexField(j, "person_root", h.history.disclosed) ||
          !HexField(j, "withheld_root", h.history.withheld)) {
        return Status::InvalidArgument("heads file " + path + " line " + std::to_string(number) +
                                       " is a version 2 head without its history roots");
      }
    }
    heads.push_back(h);
  }
  return heads;
}

int RunInit(const RecordsArgs& args) {
  if (args.dir.empty() || args.key_file.empty()) {
    return Fail("init", Status::InvalidArgument("--dir and --key-file are required"));
  }
  records::RecordKeys keys = records::GenerateRecordKeys();
  Status written = records::WriteKeyFile(args.key_file, keys);
  if (!written.ok()) return Fail("init", written);
  Result<std::unique_ptr<RecordStore>> store = OpenStore(args, /*read_only=*/false);
  if (!store.ok()) return Fail("init", store.status());
  std::printf(
      "record store ready in %s\nkeys in %s (keep them secret; back them up)\n"
      "signing public key %s\n",
      args.dir.c_str(), args.key_file.c_str(), HexEncode((*store)->signing_public_key()).c_str());
  return 0;
}

int RunVerify(const RecordsArgs& args) {
  Result<std::unique_ptr<RecordStore>> store = OpenStore(args, /*read_only=*/true);
  if (!store.ok()) return Fail("verify", store.status());
  records::VerifyOptions options;
  options.threads = args.threads;
  if (!args.heads_file.empty()) {
    Result<std::vector<records::SignedTreeHead>> heads = ReadHeadsFile(args.heads_file);
    if (!heads.ok()) return Fail("verify", heads.status());
    options.known_heads = std::move(*heads);
  }
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  if (tty) {
    options.progress = [](uint64_t done, uint64_t total) {
      std::fprintf(stderr, "\rverifying: %llu / %llu records",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
    };
  }
  Result<records::VerifyReport> report = (*store)->Verify(options);
  if (tty) std::fprintf(stderr, "\n");
  if (!report.ok()) return Fail("verify", report.status());
  const records::VerifyReport& r = *report;
  if (args.json) {
    nlohmann::ordered_json j;
    j["ok"] = r.ok();
    j["tree_size"] = r.tree_size;
    j["first_retained"] = r.first_retained;
    j["records_checked"] = r.records_checked;
    j["index_entries_checked"] = r.index_entries_checked;
    j["heads_checked"] = r.heads_checked;
    j["latest_head"] = r.latest_head ? HeadJson(*r.latest_head) : nlohmann::ordered_json();
    j["unsigned_tail"] = r.unsigned_tail;
    j["findings"] = nlohmann::ordered_json::array();
    for (const records::Finding& f : r.findings) {
      j["findings"].push_back({{"kind", records::FindingKindName(f.kind)},
                               {"first_sequence", f.first_sequence},
                               {"last_sequence", f.last_sequence},
                               {"detail", f.detail}});
    }
    j["findings_omitted"] = r.findings_omitted;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf(
        "tree size %llu, purged below %llu; %llu records, %llu index entries and %llu "
        "signed heads checked\n",
        static_cast<unsigned long long>(r.tree_size),
        static_cast<unsigned long long>(r.first_retained),
        static_cast<unsigned long long>(r.records_checked),
        static_cast<unsigned long long>(r.index_entries_checked),
        static_cast<unsigned long long>(r.heads_checked));
    if (r.latest_head) {
      std::printf("latest good head: size %llu, root %s, signed %s\n",
                  static_cast<unsigned long long>(r.latest_head->tree_size),
                  HexEncode(r.latest_head->root_hash).c_str(),
                  FormatUtc(r.latest_head->timestamp_us).c_str());
    }
    if (r.unsigned_tail > 0) {
      std::printf("%llu records after the latest good head are not yet covered by a signed head\n",
                  static_cast<unsigned long long>(r.unsigned_tail));
    }
    constexpr size_t kShown = 100;  // the rest with --json
    for (size_t i = 0; i < r.findings.size() && i < kShown; ++i) {
      const records::Finding& f = r.findings[i];
      if (f.first_sequence == f.last_sequence) {
        std::printf("%-8s record %llu: %s\n", records::FindingKindName(f.kind),
                    static_cast<unsigned long long>(f.first_sequence), f.detail.c_str());
      } else {
        std::printf("%-8s records %llu-%llu: %s\n", records::FindingKindName(f.kind),
                    static_cast<unsigned long long>(f.first_sequence),
                    static_cast<unsigned long long>(f.last_sequence), f.detail.c_str());
      }
    }
    const uint64_t more =
        r.findings_omitted + (r.findings.size() > kShown ? r.findings.size() - kShown : 0);
    if (more > 0) {
      std::printf("… and %llu more findings (--json lists up to 1000)\n",
                  static_cast<unsigned long long>(more));
    }
    std::printf("%s\n", r.ok() ? "OK: the log verifies"
                               : "FAILED: the log has been tampered with or damaged");
  }
  return r.ok() ? 0 : 1;
}

Result<std::pair<int64_t, int64_t>> Range(const RecordsArgs& args) {
  if (args.from.empty() || args.to.empty()) {
    return Status::InvalidArgument("--from and --to are required");
  }
  Result<int64_t> from = ParseUtc(args.from, "--from");
  if (!from.ok()) return from.status();
  Result<int64_t> to = ParseUtc(args.to, "--to");
  if (!to.ok()) return to.status();
  if (*from >= *to) return Status::InvalidArgument("--from must be before --to");
  return std::make_pair(*from, *to);
}

int RunStats(const RecordsArgs& args) {
  Result<std::pair<int64_t, int64_t>> range = Range(args);
  if (!range.ok()) return Fail("stats", range.status());
  if (args.format != "table" && args.format != "csv" && args.format != "json") {
    return Fail("stats", Status::InvalidArgument("--format must be table, csv or json"));
  }
  Result<std::unique_ptr<RecordStore>> store = OpenStore(args, /*read_only=*/true);
  if (!store.ok()) return Fail("stats", store.status());
  Result<std::vector<records::StatsRow>> rows = (*store)->Stats(range->first, range->second);
  if (!rows.ok()) return Fail("stats", rows.status());
  if (args.format == "json") {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& r : *rows) {
      j.push_back({{"month", r.month},
                   {"inquirer", r.inquirer},
                   {"provider", r.provider},
                   {"business", r.business},
                   {"event", records::EventName(r.event)},
                   {"outcome", r.outcome},
                   {"count", r.count}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  auto csv = [](const std::string& s) {
    if (s.find_first_of(",\"") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  if (args.format == "csv") {
    std::printf("month,inquirer,provider,business,event,outcome,count\n");
    for (const auto& r : *rows) {
      std::printf("%s,%s,%s,%s,%s,%s,%llu\n", r.month.c_str(), csv(r.inquirer).c_str(),
                  csv(r.provider).c_str(), csv(r.business).c_str(), records::EventName(r.event),
                  csv(r.outcome).c_str(), static_cast<unsigned long long>(r.count));
    }
    return 0;
  }
  std::printf("%-8s %-12s %-12s %-10s %-17s %-24s %10s\n", "month", "inquirer", "provider",
              "business", "event", "outcome", "count");
  for (const auto& r : *rows) {
    std::printf("%-8s %-12s %-12s %-10s %-17s %-24s %10llu\n", r.month.c_str(), r.inquirer.c_str(),
                r.provider.c_str(), r.business.c_str(), records::EventName(r.event),
                r.outcome.c_str(), static_cast<unsigned long long>(r.count));
  }
  return 0;
}

int RunPull(const RecordsArgs& args) {
  Result<std::pair<int64_t, int64_t>> range = Range(args);
  if (!range.ok()) return Fail("pull", range.status());
  Result<std::unique_ptr<RecordStore>> store = OpenStore(args, /*read_only=*/true);
  if (!store.ok()) return Fail("pull", store.status());
  Status s = (*store)->Pull(range->first, range->second, args.agency, [](const records::Record& r) {
    std::printf("%s\n", records::RecordToJson(r).dump().c_str());
    return true;
  });
  if (!s.ok()) return Fail("pull", s);
  return 0;
}

int RunHead(const RecordsArgs& args) {
  Result<std::unique_ptr<RecordStore>> store = OpenStore(args, /*read_only=*/!args.sign);
  if (!store.ok()) return Fail("head", store.status());
  Result<records::SignedTreeHead> head =
      args.sign ? (*store)->SignTreeHead() : (*store)->LatestTreeHead();
  if (!head.ok()) return Fail("head", head.status());
  std::printf("%s\n", HeadJson(*head).dump().c_str());
  return 0;
}

}  // namespace

void RegisterRecordsCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<RecordsArgs>();
  auto* group = app.add_subcommand("records", "The provision-record log (情報提供等記録)");
  group->require_subcommand(1);
  // verify, stats, pull, head: the keys from the core's key ring or from a key file.
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--dir", args->dir, "Record store directory (the core's DATA/records)")
        ->required();
    auto* ring = cmd->add_option("--key-ring", args->key_ring,
                                 "The core's key ring directory (DATA/symbols); passphrase from "
                                 "IPN_PASSPHRASE or a prompt");
    auto* file =
        cmd->add_option("--key-file", args->key_file, "Key file (from `ipn records init`)");
    ring->excludes(file);
    file->excludes(ring);
  };

  auto* init = group->add_subcommand("init", "Create a key file and an empty record store");
  init->add_option("--dir", args->dir, "Record store directory")->required();
  init->add_option("--key-file", args->key_file, "Key file to create (encryption and signing keys)")
      ->required();
  init->callback([&ctx, args] { ctx.exit_code = RunInit(*args); });

  auto* verify = group->add_subcommand(
      "verify",
      "Verify every record, the Merkle tree, the indexes and the signed heads "
      "(exit 0 verified, 1 tampered or damaged, 2 could not verify)");
  common(verify);
  verify->add_option("--heads", args->heads_file,
                     "Heads kept outside the store (JSON lines from `ipn records head`)");
  verify->add_option("--threads", args->threads, "Verification threads (default: all cores)");
  verify->add_flag("--json", args->json, "Print the report as JSON");
  verify->callback([&ctx, args] { ctx.exit_code = RunVerify(*args); });

  auto* stats = group->add_subcommand(
      "stats", "Counts by month, inquirer, provider, business, event and outcome");
  common(stats);
  stats->add_option("--from", args->from, "Start, inclusive (YYYY-MM-DD or …THH:MM:SSZ, UTC)")
      ->required();
  stats->add_option("--to", args->to, "End, exclusive")->required();
  stats->add_option("--format", args->format, "table, csv or json");
  stats->callback([&ctx, args] { ctx.exit_code = RunStats(*args); });

  auto* pull = group->add_subcommand("pull", "Records of a time range as JSON lines");
  common(pull);
  pull->add_option("--from", args->from, "Start, inclusive (YYYY-MM-DD or …THH:MM:SSZ, UTC)")
      ->required();
  pull->add_option("--to", args->to, "End, exclusive")->required();
  pull->add_option("--agency", args->agency, "Only records this agency asked or provided");
  pull->callback([&ctx, args] { ctx.exit_code = RunPull(*args); });

  auto* head = group->add_subcommand("head", "Print the latest signed tree head as JSON");
  common(head);
  head->add_flag("--sign", args->sign,
                 "Sign a head for the current tree first (needs the store "
                 "not to be in use)");
  head->callback([&ctx, args] { ctx.exit_code = RunHead(*args); });
}

}  // namespace ipn::cli
