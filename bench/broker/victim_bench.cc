// Victim benchmarks: see victim_bench.h.
#include "bench/broker/victim_bench.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "interface/agency_client.h"
#include "records/record_store.h"
#include "symbol/resident_code.h"
#include "tools/localnet/local_network.h"

namespace ipn::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kReg[] = "REG-0001", kMun[] = "MUN-131016", kPen[] = "PEN-0001", kIns[] = "INS-0001",
               kPpc[] = "PPC-0001";

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

std::string RandomCode() {
  std::string code(11, '0');
  for (int i = 0; i < 10; ++i) code[i] = static_cast<char>('0' + randombytes_uniform(10));
  code[10] = symbol::ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10));
  return code;
}

// A network on loopback in `work_dir` with the agencies the victim benchmarks need, rates
// of 100 inquiries a second each (the flooder's is what matters), and symbols for
// `people` residents at the victim (PEN), the flooder (INS) and the provider (MUN).
struct Bed {
  std::unique_ptr<localnet::LocalNetwork> net;
  std::unique_ptr<interface::AgencyClient> victim;
  std::vector<std::vector<uint8_t>> at_pen, at_ins;
};

Result<Bed> StartBed(const VictimOptions& o, const std::string& work_dir, int people) {
  localnet::LocalNetworkOptions options;
  options.data_dir = work_dir + "/net";
  options.bin_dir = o.bin_dir;
  options.agencies = {{kReg, true, false},
                      {kMun, true, true},
                      {kPen, true, true},
                      {kIns, true, true},
                      {kPpc, true, false}};
  options.provider_deadline_s = 10;
  options.rate_per_second = 100;
  auto net = localnet::LocalNetwork::Start(options);
  if (!net.ok()) return net.status();
  Bed bed;
  bed.net = std::move(*net);
  auto reg = interface::AgencyClient::Connect(bed.net->LocalEndpoint(kReg));
  auto pen = interface::AgencyClient::Connect(bed.net->LocalEndpoint(kPen));
  auto ins = interface::AgencyClient::Connect(bed.net->LocalEndpoint(kIns));
  if (!reg.ok() || !pen.ok() || !ins.ok()) return Status::Unavailable("agency clients");
  int responses = 0;
  interface::AgencyClient::Callbacks reg_cb, pen_cb, ins_cb;
  reg_cb.on_issue_response = [&](const v1::IssueSymbolResponse&) { ++responses; };
  pen_cb.on_symbol = [&](interface::IssuedSymbol s) { bed.at_pen.push_back(s.symbol); };
  ins_cb.on_symbol = [&](interface::IssuedSymbol s) { bed.at_ins.push_back(s.symbol); };
  for (int i = 0; i < people; ++i) {
    std::string code = RandomCode();
    const std::string ref = "v" + std::to_string(i);
    for (const char* agency : {kMun, kPen, kIns}) {
      (void)(*reg)->RequestSymbol(agency, ref, code, (*reg)->NextRequestId());
    }
    sodium_memzero(code.data(), code.size());
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while ((responses < 3 * people || static_cast<int>(bed.at_pen.size()) < people ||
          static_cast<int>(bed.at_ins.size()) < people) &&
         Clock::now() < deadline) {
    (void)(*reg)->Poll(std::chrono::milliseconds(5), reg_cb);
    (void)(*pen)->Poll(std::chrono::milliseconds(0), pen_cb);
    (void)(*ins)->Poll(std::chrono::milliseconds(0), ins_cb);
  }
  if (static_cast<int>(bed.at_pen.size()) < people) return Status::DeadlineExceeded("issuance");
  bed.victim = std::move(*pen);
  return bed;
}

// The victim: `rate` inquiries a second, one at a time, for `seconds`; latencies in µs.
std::vector<double> RunVictim(Bed& bed, double rate, double seconds, int* failures) {
  std::vector<double> out;
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto start = Clock::now();
  auto next = start;
  for (int i = 0; Clock::now() - start < std::chrono::duration<double>(seconds); ++i) {
    std::this_thread::sleep_until(next);  // the victim's own pace, not a wait for success
    next += std::chrono::duration_cast<Clock::duration>(interval);
    interface::InquiryRequest r;
    r.symbol = bed.at_pen[static_cast<size_t>(i) % bed.at_pen.size()];
    r.business = "np-benefit";
    r.provider = kMun;
    r.item = "local-tax";
    const auto t0 = Clock::now();
    auto reply = bed.victim->Inquire(std::move(r), std::chrono::seconds(20));
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    if (!reply.ok() ||
        (reply->outcome != v1::OUTCOME_PROVIDED && reply->outcome != v1::OUTCOME_NOT_HELD)) {
      ++*failures;
      continue;
    }
    out.push_back(us);
  }
  return out;
}

std::string TempDir(const std::string& given, bool* temporary) {
  *temporary = given.empty();
  if (!*temporary) return given;
  std::string tmpl = "/var/tmp/ipn-bench-victim-XXXXXX";
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
}

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// The victim's figures alone and beside the load (`load` names the second phase), as every
// victim bench reports them.
nlohmann::json VictimFigures(const std::vector<double>& alone, const std::vector<double>& loaded,
                             const char* load) {
  const double p99_alone = Percentile(alone, 0.99), p99 = Percentile(loaded, 0.99);
  return {{"victim_p50_alone_us", Percentile(alone, 0.5)},
          {"victim_p99_alone_us", p99_alone},
          {"victim_p50_us", Percentile(loaded, 0.5)},
          {"victim_p99_us", p99},
          {"victim_p99_over_alone", p99_alone > 0 ? p99 / p99_alone : 0},
          {"victim_samples", {{"alone", alone.size()}, {load, loaded.size()}}}};
}

int Print(const nlohmann::json& j, bool json) {
  std::printf("%s\n", json ? j.dump().c_str() : j.dump(2).c_str());
  return 0;
}

}  // namespace

// The measurement's own noise: the victim alone, phase after phase, nothing else loading
// the network. Each phase's p99 over the one before it is what a load-free "under load"
// phase would score against the targets of --flood (≤ 2) and --pull (≤ 1.5).
int RunControl(const VictimOptions& o) {
  bool temporary = false;
  const std::string dir = TempDir(o.work_dir, &temporary);
  auto bed = StartBed(o, dir, 200);
  if (!bed.ok()) {
    std::fprintf(stderr, "control bench: %s\n", bed.status().ToString().c_str());
    return 1;
  }
  int failures = 0;
  nlohmann::json phases = nlohmann::json::array();
  double previous = 0, worst = 0, best = 0;
  for (int i = 0; i < o.control_phases; ++i) {
    const std::vector<double> lat = RunVictim(*bed, o.victim_rate, o.phase_s, &failures);
    const double p99 = Percentile(lat, 0.99);
    nlohmann::json phase = {
        {"p50_us", Percentile(lat, 0.5)}, {"p99_us", p99}, {"samples", lat.size()}};
    if (previous > 0) {
      const double ratio = p99 / previous;
      phase["p99_over_previous"] = ratio;
      worst = std::max(worst, ratio);
      best = best == 0 ? ratio : std::min(best, ratio);
    }
    phases.push_back(phase);
    previous = p99;
  }
  bed->victim.reset();
  (void)bed->net->Stop();
  if (temporary) std::filesystem::remove_all(dir);
  return Print({{"mode", "control"},
                {"phase_s", o.phase_s},
                {"victim_rate_per_s", o.victim_rate},
                {"victim_failures", failures},
                {"phases", phases},
                {"p99_over_previous_min", best},
                {"p99_over_previous_max", worst}},
               o.json);
}

// What the flood's CPU alone costs the victim: the same two phases as --flood, but the
// load is --hogs threads here that spin and send nothing. The flood's system and its node
// each keep a core busy (the system sending, the node refusing over the agency's rate); a
// victim p99 that rises as much beside spinning threads as beside the flood rises from
// sharing the machine's cores, not from anything the broker lets the flood do.
int RunHog(const VictimOptions& o) {
  bool temporary = false;
  const std::string dir = TempDir(o.work_dir, &temporary);
  auto bed = StartBed(o, dir, 200);
  if (!bed.ok()) {
    std::fprintf(stderr, "hog bench: %s\n", bed.status().ToString().c_str());
    return 1;
  }
  int failures = 0;
  const std::vector<double> alone = RunVictim(*bed, o.victim_rate, o.phase_s, &failures);
  std::atomic<bool> stop{false};
  std::vector<std::thread> hogs;
  for (int i = 0; i < o.hogs; ++i) {
    hogs.emplace_back([&stop] {
      uint64_t spins = 0;
      while (!stop.load(std::memory_order_relaxed)) ++spins;
      // The count is kept observable so the loop is not optimised into a bare wait.
      if (spins == 0) std::fprintf(stderr, "hog never ran\n");
    });
  }
  const std::vector<double> hogged = RunVictim(*bed, o.victim_rate, o.phase_s, &failures);
  stop.store(true);
  for (std::thread& t : hogs) t.join();
  bed->victim.reset();
  (void)bed->net->Stop();
  if (temporary) std::filesystem::remove_all(dir);
  nlohmann::json j = {{"mode", "hog"},
                      {"phase_s", o.phase_s},
                      {"hogs", o.hogs},
                      {"victim_rate_per_s", o.victim_rate},
                      {"victim_failures", failures}};
  j.update(VictimFigures(alone, hogged, "hog"));
  return Print(j, o.json);
}

int RunFlood(const VictimOptions& o) {
  bool temporary = false;
  const std::string dir = TempDir(o.work_dir, &temporary);
  auto bed = StartBed(o, dir, 200);
  if (!bed.ok()) {
    std::fprintf(stderr, "flood bench: %s\n", bed.status().ToString().c_str());
    return 1;
  }
  int failures = 0;
  const std::vector<double> alone = RunVictim(*bed, o.victim_rate, o.phase_s, &failures);

  // The flooder: valid and malformed inquiries, alternately, as fast as its system sends.
  auto flooder = interface::AgencyClient::Connect(bed->net->LocalEndpoint(kIns));
  if (!flooder.ok()) return 1;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> flood_sent{0};
  const std::string log_path = bed->net->CoreLogPath();
  const uint64_t log_before = FileSize(log_path);
  const int64_t flood_from_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  if (o.flooder_nice != 0) {
    const pid_t node = bed->net->ProcessIds().at(std::string("node:") + kIns);
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(node), o.flooder_nice);
  }
  std::thread flood([&] {
    // This thread only (Linux: a thread's nice value is its own).
    if (o.flooder_nice != 0) {
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), o.flooder_nice);
    }
    interface::AgencyClient::Callbacks drain;
    for (uint64_t i = 0; !stop.load(); ++i) {
      interface::InquiryRequest r;
      r.request_id = "flood-" + std::to_string(i);
      r.symbol = bed->at_ins[i % bed->at_ins.size()];
      r.business = "health-insurance-benefit";
      r.provider = kMun;
      r.item = i % 2 == 0 ? "local-tax" : "";  // every other one malformed
      if ((*flooder)->Submit(std::move(r)).ok()) {
        flood_sent.fetch_add(1);
      } else {
        (void)(*flooder)->Poll(std::chrono::milliseconds(1), drain);
      }
      if (i % 64 == 0) (void)(*flooder)->Poll(std::chrono::milliseconds(0), drain);
    }
  });
  const auto flood_t0 = Clock::now();
  const std::vector<double> flooded = RunVictim(*bed, o.victim_rate, o.phase_s, &failures);
  stop = true;
  flood.join();
  const double flood_s = std::chrono::duration<double>(Clock::now() - flood_t0).count();
  const uint64_t log_after = FileSize(log_path);
  flooder->reset();
  bed->victim.reset();
  (void)bed->net->Stop();

  // What the flooder's refusals cost the disk: records per reason, per second of flood.
  std::map<std::string, uint64_t> refusal_records, refusals_counted;
  std::map<std::string, std::pair<int64_t, int64_t>> span;  // reason -> first from, last to
  if (auto store = bed->net->OpenRecords(); store.ok()) {
    (void)(*store)->Pull(flood_from_us, INT64_MAX, kIns, [&](const records::Record& r) {
      if (r.inquirer != kIns || r.event != records::Event::kInquiryRefused) return true;
      const std::string reason = r.outcome.substr(0, r.outcome.find(' '));
      ++refusal_records[reason];
      const size_t at = r.outcome.find(" count=");
      refusals_counted[reason] +=
          at == std::string::npos ? 1 : std::stoull(r.outcome.substr(at + 7));
      const size_t from = r.outcome.find(" from_us="), to = r.outcome.find(" to_us=");
      if (from != std::string::npos && to != std::string::npos) {
        auto [it, fresh] = span.try_emplace(reason, INT64_MAX, INT64_MIN);
        it->second.first = std::min(it->second.first,
                                    static_cast<int64_t>(std::stoll(r.outcome.substr(from + 9))));
        it->second.second =
            std::max(it->second.second, static_cast<int64_t>(std::stoll(r.outcome.substr(to + 7))));
      }
      return true;
    });
  }
  nlohmann::json per_s = nlohmann::json::object();
  double worst_per_s = 0;
  // Per second of the interval the aggregates cover, counted in whole seconds (the ledger
  // opens an interval at a reason's first refusal: T seconds of flood span ceil(T) of them).
  for (const auto& [reason, n] : refusal_records) {
    double seconds = flood_s;
    if (auto it = span.find(reason); it != span.end()) {
      seconds =
          std::max(1.0, std::ceil(static_cast<double>(it->second.second - it->second.first) / 1e6));
    }
    per_s[reason] = static_cast<double>(n) / seconds;
    worst_per_s = std::max(worst_per_s, static_cast<double>(n) / seconds);
  }
  bed->net.reset();
  if (temporary) std::filesystem::remove_all(dir);
  nlohmann::json j = {
      {"mode", "flood"},
      {"victim_rate_per_s", o.victim_rate},
      {"phase_s", o.phase_s},
      {"victim_failures", failures},
      {"flooder_nice", o.flooder_nice},
      {"flood_sent", flood_sent.load()},
      {"flood_sent_per_s", static_cast<double>(flood_sent.load()) / flood_s},
      {"flooder_refusal_records_per_s", per_s},
      {"flooder_refusal_records_per_s_max", worst_per_s},
      {"flooder_refusals_on_record", refusals_counted},
      {"core_log_bytes_per_min", static_cast<double>(log_after - log_before) / flood_s * 60},
      {"targets",
       {{"victim_p99_over_alone_max", 2.0},
        {"flooder_refusal_records_per_s_max", 1.0},
        {"core_log_bytes_per_min_max", 1 << 20}}}};
  j.update(VictimFigures(alone, flooded, "flood"));
  return Print(j, o.json);
}

int RunPull(const VictimOptions& o) {
  bool temporary = false;
  const std::string dir = TempDir(o.work_dir, &temporary);
  auto bed = StartBed(o, dir, 200);
  if (!bed.ok()) {
    std::fprintf(stderr, "pull bench: %s\n", bed.status().ToString().c_str());
    return 1;
  }
  // The log, filled to `records` while the core is stopped (bulk load), as a year of a
  // region's exchanges would leave it.
  const auto fill_t0 = Clock::now();
  Status filled = bed->net->RestartCore(false, [&]() -> Status {
    auto store = bed->net->OpenRecords(/*bulk_load=*/true);
    if (!store.ok()) return store.status();
    const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::vector<records::Record> batch;
    for (uint64_t i = 0; i < o.records; ++i) {
      records::Record r;
      r.time_unix_us = now - static_cast<int64_t>(o.records - i) * 1000;
      r.event = static_cast<records::Event>(i % 8);
      randombytes_buf(r.record_symbol.data(), r.record_symbol.size());
      r.inquirer = i % 2 ? kPen : kIns;
      r.provider = kMun;
      r.business = "np-benefit";
      r.item = "local-tax";
      r.request_id = "fill-" + std::to_string(i / 4);
      r.outcome = "PROVIDED";
      batch.push_back(std::move(r));
      if (batch.size() == 10'000) {
        IPN_RETURN_IF_ERROR((*store)->AppendBatch(batch));
        batch.clear();
      }
    }
    if (!batch.empty()) IPN_RETURN_IF_ERROR((*store)->AppendBatch(batch));
    return Status::Ok();
  });
  if (!filled.ok()) {
    std::fprintf(stderr, "pull bench: filling the log: %s\n", filled.ToString().c_str());
    return 1;
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_t0).count();
  // The victim's client reconnects to its node by itself; give it a first inquiry.
  int failures = 0;
  (void)RunVictim(*bed, o.victim_rate, 1, &failures);
  failures = 0;
  const std::vector<double> alone = RunVictim(*bed, o.victim_rate, o.phase_s, &failures);

  auto ppc = interface::AgencyClient::Connect(bed->net->LocalEndpoint(kPpc));
  if (!ppc.ok()) return 1;
  std::atomic<bool> pulling{true};
  std::atomic<uint64_t> pulled{0};
  Status pull_status;
  const auto pull_t0 = Clock::now();
  std::thread pull([&] {
    v1::RecordQuery q;
    q.set_from_unix_us(0);
    q.set_to_unix_us(INT64_MAX);
    q.set_page_size(1000);
    q.set_with_proofs(true);
    while (true) {
      auto page = (*ppc)->QueryRecords(q, std::chrono::seconds(60));
      if (!page.ok()) {
        pull_status = page.status();
        break;
      }
      pulled += static_cast<uint64_t>(page->records_size());
      if (page->next_page_token().empty()) break;
      q.set_page_token(page->next_page_token());
    }
    pulling = false;
  });
  std::vector<double> during;
  while (pulling.load()) {
    std::vector<double> some = RunVictim(*bed, o.victim_rate, 1, &failures);
    during.insert(during.end(), some.begin(), some.end());
  }
  pull.join();
  const double pull_s = std::chrono::duration<double>(Clock::now() - pull_t0).count();
  ppc->reset();
  bed->victim.reset();
  (void)bed->net->Stop();
  bed->net.reset();
  if (temporary) std::filesystem::remove_all(dir);
  nlohmann::json j = {
      {"mode", "pull"},
      {"records_in_log", o.records},
      {"fill_s", fill_s},
      {"pulled", pulled.load()},
      {"pull_s", pull_s},
      {"pull_records_per_s", static_cast<double>(pulled.load()) / pull_s},
      {"pull_error", pull_status.ok() ? "" : pull_status.ToString()},
      {"victim_failures", failures},
      {"targets", {{"victim_p99_over_alone_max", 1.5}, {"records_in_log_min", 1000000}}}};
  j.update(VictimFigures(alone, during, "pull"));
  return Print(j, o.json);
}

}  // namespace ipn::bench
