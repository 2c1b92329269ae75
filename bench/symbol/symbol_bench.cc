// ipn_bench_symbol: the symbol hot path (Translate, with the issuance lookup) and batch
// issuance including the durable (fsync'd) issuance-file write, plus the constructions
// alone. The issuance file lives under $IPN_BENCH_DIR (default $TMPDIR or /tmp).
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/secret.h"
#include "symbol/derivation.h"
#include "symbol/issuance_file.h"
#include "symbol/key_ring.h"
#include "symbol/resident_code.h"
#include "symbol/symbol_service.h"

namespace {

using ipn::symbol::AgencySymbol;
using ipn::symbol::SymbolService;

constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr size_t kPersons = 100000;
constexpr const char* kPassphrase = "benchmark passphrase";

// The resident code whose first ten digits are `n` (zero-padded), with its check digit.
std::string CodeFor(uint64_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(n % 10000000000ull));
  std::string code(buf, 10);
  code.push_back(ipn::symbol::ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10)));
  return code;
}

// One core directory with kPersons persons issued at MUN and PEN, reopened so the rows
// are read from table files through the block cache (the steady state of a running core).
struct Fixture {
  Fixture() {
    const char* base = std::getenv("IPN_BENCH_DIR");
    if (base == nullptr) base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/ipn-bench-symbol-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    root = tmpl;
    dir = root + "/core";
    ipn::symbol::SymbolServiceOptions options;
    options.kdf = ipn::symbol::KdfStrength::kMinimumForTests;
    if (!SymbolService::Create(dir, kPassphrase, options).ok()) std::abort();
    {
      auto loader = SymbolService::Open(dir, kPassphrase, options);
      if (!loader.ok()) std::abort();
      std::vector<std::string> chunk;
      for (size_t from = 0; from < kPersons; from += 10000) {
        chunk.clear();
        for (size_t i = from; i < from + 10000; ++i) chunk.push_back(CodeFor(1000003ull * i));
        for (const char* agency : {kMun, kPen}) {
          auto results = (*loader)->IssueBatch(chunk, agency);
          for (auto& r : results) {
            if (!r.ok()) std::abort();
            if (agency == kMun) mun.push_back(*r);
          }
        }
      }
    }
    auto opened = SymbolService::Open(dir, kPassphrase, options);
    if (!opened.ok()) std::abort();
    service = std::move(opened).value();
    order.resize(mun.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  }
  ~Fixture() {
    service.reset();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  std::string root, dir;
  std::unique_ptr<SymbolService> service;
  std::vector<AgencySymbol> mun;
  std::vector<size_t> order;  // random visiting order of the persons
  uint64_t next_code = 5'000'000'000ull;
};

Fixture& TheFixture() {
  static Fixture fixture;
  return fixture;
}

// The inquiry hot path: open the inquirer's symbol, derive the provider's symbol and the
// record symbol, and look the provider up in the issuance file.
void Translate(benchmark::State& state) {
  Fixture& f = TheFixture();
  size_t i = 0;
  for (auto _ : state) {
    const AgencySymbol& symbol = f.mun[f.order[i]];
    auto t = f.service->Translate(symbol.bytes, kMun, kPen);
    if (!t.ok() || !t->provider_issued) {
      state.SkipWithError("translation failed");
      break;
    }
    benchmark::DoNotOptimize(t);
    if (++i == f.order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(Translate);

// Registry batch issuance of new persons: parse, derive, seal, and one synced write of
// the issuance rows per batch. Items are persons.
void IssueBatchDurable(benchmark::State& state) {
  Fixture& f = TheFixture();
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<std::string> codes(batch);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& code : codes) code = CodeFor(f.next_code++);
    state.ResumeTiming();
    auto results = f.service->IssueBatch(codes, kMun);
    if (!results.back().ok()) {
      state.SkipWithError("issuance failed");
      break;
    }
    benchmark::DoNotOptimize(results);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
}
BENCHMARK(IssueBatchDurable)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);

// One person at a time, each with its own synced write (the interactive registry path).
void IssueSingleDurable(benchmark::State& state) {
  Fixture& f = TheFixture();
  for (auto _ : state) {
    auto s = f.service->Issue(CodeFor(f.next_code++), kPen);
    if (!s.ok()) {
      state.SkipWithError("issuance failed");
      break;
    }
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(IssueSingleDurable)->UseRealTime();

// The issuance lookup alone: one "was PEN issued?" in an issuance file of 2 x kPersons
// rows, reopened so the rows are in table files behind the block cache. Arg 1: answered
// from the in-memory fingerprint index (the default); arg 0: a RocksDB point lookup.
struct LookupFixture {
  explicit LookupFixture(bool in_memory) : ring(ipn::symbol::KeyRing::Generate()) {
    path = TheFixture().root + (in_memory ? "/lookup-memory" : "/lookup-rocksdb");
    if (!ipn::symbol::IssuanceFile::Create(path, ring).ok()) std::abort();
    linkages.resize(kPersons);
    std::vector<const ipn::symbol::LinkageSymbol*> all;
    for (auto& l : linkages) {
      randombytes_buf(l.data(), ipn::symbol::LinkageSymbol::kSize);
      all.push_back(&l);
    }
    {
      auto loader = ipn::symbol::IssuanceFile::Open(path, ring);
      if (!loader.ok() || !(*loader)->RecordIssuance(all, kMun, 1).ok() ||
          !(*loader)->RecordIssuance(all, kPen, 1).ok()) {
        std::abort();
      }
    }
    ipn::symbol::IssuanceFileOptions options;
    options.index_in_memory = in_memory;
    auto opened = ipn::symbol::IssuanceFile::Open(path, ring, options);
    if (!opened.ok()) std::abort();
    file = std::move(opened).value();
  }
  ipn::symbol::KeyRing ring;
  std::string path;
  std::vector<ipn::symbol::LinkageSymbol> linkages;
  std::unique_ptr<ipn::symbol::IssuanceFile> file;
};

void IssuanceLookup(benchmark::State& state) {
  static LookupFixture in_memory(true);
  static LookupFixture on_disk(false);
  LookupFixture& f = state.range(0) == 1 ? in_memory : on_disk;
  const auto& order = TheFixture().order;
  size_t i = 0;
  for (auto _ : state) {
    auto issued = f.file->IsIssued(f.linkages[order[i]], kPen);
    if (!issued.ok() || !*issued) {
      state.SkipWithError("lookup failed");
      break;
    }
    if (++i == order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(IssuanceLookup)->Arg(1)->Arg(0);

// The constructions alone (no lock, no issuance lookup).
void SealAndOpenAgencySymbol(benchmark::State& state) {
  ipn::SecretBytes key = ipn::SecretBytes::Random(ipn::symbol::kAgencyKeySize);
  ipn::symbol::LinkageSymbol linkage, opened;
  randombytes_buf(linkage.data(), 32);
  for (auto _ : state) {
    AgencySymbol s = ipn::symbol::SealAgencySymbol(key.span(), 1, kMun, linkage);
    bool ok = ipn::symbol::OpenAgencySymbol(key.span(), kMun, s, &opened);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(SealAndOpenAgencySymbol);

void ParseAndDeriveLinkage(benchmark::State& state) {
  ipn::SecretBytes key = ipn::SecretBytes::Random(ipn::symbol::kKeySize);
  std::string code = CodeFor(4942859575ull);
  ipn::symbol::LinkageSymbol linkage;
  for (auto _ : state) {
    auto parsed = ipn::symbol::ResidentCode::Parse(code);
    ipn::symbol::DeriveLinkageSymbol(key.span(), *parsed, &linkage);
    benchmark::DoNotOptimize(linkage.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ParseAndDeriveLinkage);

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
