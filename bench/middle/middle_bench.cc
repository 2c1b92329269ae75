// The middle-server platform (issue #14): bulk registration of copies (durable: one
// synced write per file) and the automatic answer at the platform (AutoAnswer: person map
// lookup, copy lookup, both unsealed, and the exchange log entry; the node's sealing of the
// answer is not included).
// Stores are made in a temporary directory under $TMPDIR and removed afterwards.
//
//   ipn_bench_middle [Google Benchmark flags]   the two figures above
//   ipn_bench_middle --json [--samples N] [--bin-dir DIR]
//       all four of the figures in one JSON object: the two above, then the whole
//       network's HTTP API against the SDK (middle_e2e.h), N samples of each
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/middle/middle_e2e.h"
#include "middle/auto_answer.h"
#include "middle/middle_store.h"

namespace {

using ipn::middle::Copy;
using ipn::middle::ImportFormat;
using ipn::middle::MiddleStore;

constexpr char kTenant[] = "MUN-131016";

struct TempStore {
  std::string dir;
  std::unique_ptr<ipn::KeyWrapper> wrapper;
  std::unique_ptr<MiddleStore> store;
  TempStore() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/ipn-bench-middle-XXXXXX";
    dir = mkdtemp(tmpl.data());
    wrapper = ipn::MakeSodiumWrapper(ipn::SecretBytes::Random(32), "file:bench").value();
    store = MiddleStore::Open(dir, wrapper.get()).value();
    if (!store->CreateTenant(kTenant).ok()) std::abort();
  }
  ~TempStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::string Csv(int rows, int round) {
  std::string csv = "person,item,content,as_of,non_disclosure\n";
  for (int i = 0; i < rows; ++i) {
    csv += "P-" + std::to_string(i) + ",local-tax,2026 municipal tax of person " +
           std::to_string(i) + " round " + std::to_string(round) + ": 120000 yen,2026-04-01," +
           (i % 10 == 0 ? "true" : "false") + "\n";
  }
  return csv;
}

// register_rows_per_s: files of 100,000 rows into a store that already holds them (each
// row supersedes: the read of the existing copy is part of the cost).
void RegisterRows(benchmark::State& state) {
  TempStore t;
  const int rows = static_cast<int>(state.range(0));
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string csv = Csv(rows, round++);
    state.ResumeTiming();
    auto applied = t.store->Import(kTenant, csv, ImportFormat::kCsv);
    if (!applied.ok()) state.SkipWithError(applied.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["register_rows_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * rows), benchmark::Counter::kIsRate);
}

// auto_answer_p50_us: 20,000 people with a copy each and their symbols bound; answers for
// random people (every one provided). `next()` says whether to go on.
std::vector<double> AutoAnswerMicros(const std::function<bool()>& next) {
  TempStore t;
  constexpr int kPeople = 20000;
  if (!t.store->Import(kTenant, Csv(kPeople, 0), ImportFormat::kCsv).ok()) std::abort();
  for (int i = 0; i < kPeople; ++i) {
    if (!t.store->Bind(kTenant, "P-" + std::to_string(i), "SYMBOL-" + std::to_string(i)).ok()) {
      std::abort();
    }
  }
  // As the platform answers: the provision goes to the tenant's exchange log too.
  ipn::SystemClock clock;
  ipn::middle::ExchangeLog exchanges(t.store.get(), &clock);
  std::vector<double> us;
  uint32_t seed = 1;
  while (next()) {
    seed = seed * 1664525u + 1013904223u;
    ipn::v1::ForwardedInquiry f;
    f.set_provider_symbol("SYMBOL-" + std::to_string(seed % kPeople));
    f.set_item_code("local-tax");
    const auto start = std::chrono::steady_clock::now();
    ipn::v1::AgencyAnswer a = ipn::middle::AutoAnswer(*t.store, kTenant, f, &exchanges);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
    if (a.outcome() != ipn::v1::OUTCOME_PROVIDED) std::abort();
  }
  std::sort(us.begin(), us.end());
  return us;
}

void AutoAnswer(benchmark::State& state) {
  // The range-for that Google Benchmark's loop is, spelled out: one timed call per step.
  auto it = state.begin();
  const auto end = state.end();
  bool first = true;
  const std::vector<double> us = AutoAnswerMicros([&] {
    if (!first) ++it;
    first = false;
    return it != end;
  });
  state.counters["auto_answer_p50_us"] = us[us.size() / 2];
  state.counters["auto_answer_p99_us"] = us[us.size() * 99 / 100];
}

BENCHMARK(RegisterRows)->Arg(100000)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(AutoAnswer)->Iterations(100000)->Unit(benchmark::kMicrosecond);

double At(const std::vector<double>& sorted, double q) {
  return sorted.empty() ? 0
                        : sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

int RunJson(int argc, char** argv) {
  int samples = 1000;
  std::string bin_dir = IPN_DEFAULT_BIN_DIR;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--samples") == 0) samples = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--bin-dir") == 0) bin_dir = argv[i + 1];
  }
  // register_rows_per_s: three files of 100,000 rows, each superseding the last.
  std::vector<double> rates;
  {
    TempStore t;
    for (int round = 0; round < 3; ++round) {
      const std::string csv = Csv(100000, round);
      const auto start = std::chrono::steady_clock::now();
      if (!t.store->Import(kTenant, csv, ImportFormat::kCsv).ok()) return 1;
      rates.push_back(
          100000 / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  int left = 100000;
  const std::vector<double> auto_us = AutoAnswerMicros([&] { return left-- > 0; });
  TempStore work;  // a directory for the network (the store in it goes unused)
  auto e2e = ipn::bench::MeasureMiddleE2e(bin_dir, work.dir + "/e2e", samples);
  if (!e2e.ok()) {
    std::fprintf(stderr, "ipn_bench_middle: %s\n", e2e.status().ToString().c_str());
    return 1;
  }
  std::sort(rates.begin(), rates.end());
  const double api = At(e2e->api_us, 0.5), sdk = At(e2e->sdk_us, 0.5);
  const nlohmann::json out = {{"register_rows_per_s", rates[1]},
                              {"register_rows_per_s_runs", rates},
                              {"auto_answer_p50_us", At(auto_us, 0.5)},
                              {"auto_answer_p99_us", At(auto_us, 0.99)},
                              {"api_e2e_p50_us", api},
                              {"api_e2e_p99_us", At(e2e->api_us, 0.99)},
                              {"sdk_e2e_p50_us", sdk},
                              {"sdk_e2e_p99_us", At(e2e->sdk_us, 0.99)},
                              {"api_over_sdk", sdk > 0 ? api / sdk : 0},
                              {"samples", e2e->api_us.size()},
                              {"failures", e2e->failures}};
  std::printf("%s\n", out.dump(2).c_str());
  return e2e->failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) return RunJson(argc, argv);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
