// The middle-server platform (issue #14): bulk registration of copies (durable: one
// synced write per file) and the automatic answer at the platform (AutoAnswer: person map
// lookup, copy lookup, both unsealed; the node's sealing of the answer is not included).
// Stores are made in a temporary directory under $TMPDIR and removed afterwards.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

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
// random people (every one provided).
void AutoAnswer(benchmark::State& state) {
  TempStore t;
  constexpr int kPeople = 20000;
  if (!t.store->Import(kTenant, Csv(kPeople, 0), ImportFormat::kCsv).ok()) std::abort();
  for (int i = 0; i < kPeople; ++i) {
    if (!t.store->Bind(kTenant, "P-" + std::to_string(i), "SYMBOL-" + std::to_string(i)).ok()) {
      std::abort();
    }
  }
  std::vector<double> us;
  uint32_t seed = 1;
  for (auto _ : state) {
    seed = seed * 1664525u + 1013904223u;
    ipn::v1::ForwardedInquiry f;
    f.set_provider_symbol("SYMBOL-" + std::to_string(seed % kPeople));
    f.set_item_code("local-tax");
    const auto start = std::chrono::steady_clock::now();
    ipn::v1::AgencyAnswer a = ipn::middle::AutoAnswer(*t.store, kTenant, f);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
    if (a.outcome() != ipn::v1::OUTCOME_PROVIDED) state.SkipWithError("not provided");
  }
  std::sort(us.begin(), us.end());
  state.counters["auto_answer_p50_us"] = us[us.size() / 2];
  state.counters["auto_answer_p99_us"] = us[us.size() * 99 / 100];
}

BENCHMARK(RegisterRows)->Arg(100000)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(AutoAnswer)->Iterations(100000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
