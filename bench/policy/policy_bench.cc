// ipn_bench_policy: decisions per second against a synthetic 10,000-row permitted-link list
// (400 agencies in 20 classes, 200 businesses, 100 items; rows mix class and specific
// parties). Target: Check >= 2,000,000 decisions/s on one thread, no allocation per decision.
// Everything is generated from a fixed seed (42), so every run sees the same list and queries.
// This binary counts allocations (tests/support/allocation_counter.cc replaces operator new):
// each benchmark reports allocs_per_decision, per thread.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "policy/bundle.h"
#include "policy/compiler.h"
#include "policy/jst_date.h"
#include "policy/policy_store.h"
#include "tests/support/allocation_counter.h"

namespace ipn::policy {
namespace {

// Allocations per item processed, as a benchmark counter (averaged over threads).
void ReportAllocations(benchmark::State& state, uint64_t before) {
  const uint64_t made = testing::ThreadAllocations() - before;
  state.counters["allocs_per_decision"] =
      benchmark::Counter(static_cast<double>(made) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}

constexpr int kAgencies = 400, kClasses = 20, kBusinesses = 200, kItems = 100, kRows = 10'000;

std::string AgencyCode(int i) {
  return "AG-" + std::to_string(100000 + i);
}
std::string ClassName(int i) {
  return "class-" + std::to_string(i);
}
std::string Business(int i) {
  return "business-" + std::to_string(i);
}
std::string Item(int i) {
  return "item-" + std::to_string(i);
}

struct Query {
  std::string inquirer, business, provider, item;
};

struct Fixture {
  std::unique_ptr<PolicyStore> store;
  std::vector<Query> queries;  // about half allowed, the rest denied for various reasons
  int64_t at = 0;
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    if (sodium_init() < 0) std::abort();
    auto* f = new Fixture();
    std::mt19937 rng(42);
    PolicySource source;
    std::string agencies = "code,class,name_ja,name_en,rate_per_second,burst\n";
    for (int i = 0; i < kAgencies; ++i) {
      agencies += AgencyCode(i) + "," + ClassName(i % kClasses) + ",機関" + std::to_string(i) +
                  ",Agency " + std::to_string(i) + ",1e12,1e12\n";
    }
    std::string businesses = "code,name_ja,name_en\n", items = "code,name_ja,name_en\n";
    for (int i = 0; i < kBusinesses; ++i) businesses += Business(i) + ",事務,Business\n";
    for (int i = 0; i < kItems; ++i) items += Item(i) + ",項目,Item\n";
    std::string links = "inquirer,business,provider,item,effective_from,effective_to,legal_basis\n";
    auto party = [&](bool specific) {
      return specific ? AgencyCode(static_cast<int>(rng() % kAgencies))
                      : ClassName(static_cast<int>(rng() % kClasses));
    };
    for (int r = 0; r < kRows; ++r) {
      const bool specific_inquirer = rng() % 4 == 0, specific_provider = rng() % 4 == 0;
      links += party(specific_inquirer) + "," + Business(static_cast<int>(rng() % kBusinesses)) +
               "," + party(specific_provider) + "," + Item(static_cast<int>(rng() % kItems)) +
               (rng() % 10 == 0 ? ",2017-11-13,2020-03-31" : ",2017-11-13,") +
               ",Synthetic Act art. " + std::to_string(r) + "\n";
    }
    source.files = {{"agencies.csv", agencies},
                    {"businesses.csv", businesses},
                    {"items.csv", items},
                    {"links.csv", links}};
    AdminKeyPair admin = GenerateAdminKeyPair();
    auto compiled = CompilePolicy(source, 1);
    if (!compiled.ok()) {
      std::fprintf(stderr, "%s\n", compiled.status().ToString().c_str());
      std::abort();
    }
    auto signed_bundle = SignBundle(*compiled, admin.secret_key.span());
    f->store = std::make_unique<PolicyStore>(admin.public_key);
    if (!signed_bundle.ok() || !f->store->Load(*signed_bundle).ok()) std::abort();
    f->at = *JstDayStartMicros("2025-04-01");

    // Queries: half built from rows (resolving classes to a member), half random.
    const auto policy = f->store->Current();
    for (int q = 0; q < 4096; ++q) {
      Query query;
      if (q % 2 == 0) {
        const PermittedLink& link = policy->links()[rng() % policy->links().size()];
        auto member = [&](const std::string& p, bool is_class) {
          if (!is_class) return p;
          const int c = std::atoi(p.c_str() + 6);
          return AgencyCode(c + kClasses * static_cast<int>(rng() % (kAgencies / kClasses)));
        };
        query = {member(link.inquirer, link.inquirer_is_class), link.business,
                 member(link.provider, link.provider_is_class), link.item};
      } else {
        query = {AgencyCode(static_cast<int>(rng() % kAgencies)),
                 Business(static_cast<int>(rng() % kBusinesses)),
                 AgencyCode(static_cast<int>(rng() % kAgencies)),
                 Item(static_cast<int>(rng() % kItems))};
      }
      f->queries.push_back(std::move(query));
    }
    return f;
  }();
  return *fixture;
}

void Check(benchmark::State& state) {
  Fixture& f = GetFixture();
  const auto policy = f.store->Current();
  size_t i = 0, allowed = 0;
  const uint64_t allocations = testing::ThreadAllocations();
  for (auto _ : state) {
    const Query& q = f.queries[i++ & 4095];
    Decision d = policy->Check(q.inquirer, q.business, q.provider, q.item, f.at);
    allowed += d.allowed;
    benchmark::DoNotOptimize(d);
  }
  ReportAllocations(state, allocations);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["allowed_pct"] =
      100.0 * static_cast<double>(allowed) / static_cast<double>(state.iterations());
  state.counters["rows"] = static_cast<double>(policy->links().size());
}
BENCHMARK(Check);

// Check plus the text, for comparison: what a caller pays when it does need the explanation
// (the core sends it with every decision today).
void CheckAndExplain(benchmark::State& state) {
  Fixture& f = GetFixture();
  const auto policy = f.store->Current();
  size_t i = 0, bytes = 0;
  const uint64_t allocations = testing::ThreadAllocations();
  for (auto _ : state) {
    const Query& q = f.queries[i++ & 4095];
    const std::string text =
        policy->Check(q.inquirer, q.business, q.provider, q.item, f.at).Explain();
    bytes += text.size();
    benchmark::DoNotOptimize(text);
  }
  ReportAllocations(state, allocations);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["text_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(CheckAndExplain);

// The core's path: Current() + Check + the inquirer's token bucket.
void CheckAndCharge(benchmark::State& state) {
  Fixture& f = GetFixture();
  size_t i = 0;
  const uint64_t allocations = testing::ThreadAllocations();
  for (auto _ : state) {
    const Query& q = f.queries[i++ & 4095];
    benchmark::DoNotOptimize(
        f.store->CheckAndCharge(q.inquirer, q.business, q.provider, q.item, f.at));
  }
  ReportAllocations(state, allocations);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(CheckAndCharge);
BENCHMARK(CheckAndCharge)->Threads(2);

}  // namespace
}  // namespace ipn::policy

BENCHMARK_MAIN();
