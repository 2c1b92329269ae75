// ipn_bench_records: the provision-record log's figures.
//   Append   durable appends with 8 concurrent appenders (target >= 80,000 records/s). Each
//            appender keeps up to 64 AppendAsync calls in flight; a record counts when the
//            store has synced it (WAL fdatasync). A fresh store on the local disk.
//   History  one person's 20-record history in a 10-million-record store (target p99 <=
//            200 us, counter p99_us).
//   Verify   full verification of that store (target >= 500,000 records/s).
// The 10-million-record store is built once (bulk load: no WAL, then flushed and fully
// compacted) into $IPN_BENCH_DIR (default /var/tmp/ipn-bench-records-10m) and reused;
// $IPN_BENCH_RECORDS overrides the size (for trying the bench quickly).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "common/file_util.h"
#include "records/key_file.h"
#include "records/record_store.h"

namespace {

using ipn::records::Record;
using ipn::records::RecordKeys;
using ipn::records::RecordStore;
using ipn::records::RecordStoreOptions;

constexpr int64_t kT0 = 1704067200000000;  // 2024-01-01T00:00:00Z
constexpr uint64_t kRecordsPerPerson = 20;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::array<uint8_t, 32> PersonSymbol(uint64_t person) {
  std::array<uint8_t, 32> s{};
  uint8_t in[8];
  for (int i = 0; i < 8; ++i) in[i] = static_cast<uint8_t>(person >> (8 * i));
  crypto_generichash(s.data(), s.size(), in, sizeof(in), nullptr, 0);
  return s;
}

// A realistic record: agency codes, business and item codes, a ULID-sized request id.
Record MakeRecord(uint64_t n, uint64_t person, int64_t time_us) {
  Record r;
  r.time_unix_us = time_us;
  r.event = static_cast<ipn::records::Event>(n % 8);
  r.record_symbol = PersonSymbol(person);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "AG%07llu", static_cast<unsigned long long>(n % 1741));
  r.inquirer = buf;
  std::snprintf(buf, sizeof(buf), "AG%07llu", static_cast<unsigned long long>((n * 7) % 1741));
  r.provider = buf;
  std::snprintf(buf, sizeof(buf), "J%04llu", static_cast<unsigned long long>(n % 120));
  r.business = buf;
  std::snprintf(buf, sizeof(buf), "D%04llu-%02llu", static_cast<unsigned long long>(n % 300),
                static_cast<unsigned long long>(n % 17));
  r.item = buf;
  std::snprintf(buf, sizeof(buf), "01HQ%022llu", static_cast<unsigned long long>(n));
  r.request_id = buf;
  r.outcome = n % 8 == 1 ? "refused: link not permitted" : "ok";
  r.non_disclosure = n % 50 == 0;
  return r;
}

RecordStoreOptions OptionsFor(const std::string& dir, const RecordKeys& keys) {
  RecordStoreOptions o;
  o.dir = dir;
  for (const auto& [v, k] : keys.encryption_keys) o.encryption_keys.emplace_back(v, k.Clone());
  o.signing_secret_key = keys.signing_secret_key.Clone();
  o.purge_every_us = 0;
  return o;
}

// ---------------------------------------------------------------------------------------

void Append(benchmark::State& state) {
  constexpr int kInFlight = 64;
  static const uint64_t kPerThread =
      std::strtoull(Env("IPN_BENCH_APPEND_PER_THREAD", "60000").c_str(), nullptr, 10);
  static RecordKeys keys;
  static std::unique_ptr<RecordStore> store;
  static std::string dir;
  static std::atomic<int> drained{0};
  if (state.thread_index() == 0) {
    keys = ipn::records::GenerateRecordKeys();
    dir = Env("IPN_BENCH_TMP", "/var/tmp") + "/ipn-bench-records-append-" +
          std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    auto opened = RecordStore::Open(OptionsFor(dir, keys));
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      return;
    }
    store = std::move(*opened);
    drained = 0;
  }
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  std::atomic<bool> failed{false};
  const uint64_t base = static_cast<uint64_t>(state.thread_index()) * kPerThread;
  for (auto _ : state) {
    if (store == nullptr) {  // thread 0 could not open it
      state.SkipWithError("no store");
      break;
    }
    for (uint64_t i = 0; i < kPerThread; ++i) {
      {
        std::unique_lock lock(mu);
        if (in_flight == kInFlight) cv.wait(lock, [&] { return in_flight <= kInFlight / 2; });
        ++in_flight;
      }
      const uint64_t n = base + i;
      store->AppendAsync(MakeRecord(n, n % 100000, 0), [&](ipn::Status s, uint64_t) {
        if (!s.ok()) failed = true;
        std::lock_guard lock(mu);
        // Wake the appender when half its window is free (not on every completion).
        if (--in_flight <= kInFlight / 2) cv.notify_one();
      });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });  // every record durable, inside the timing
  }
  if (failed) state.SkipWithError("an append failed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerThread));
  ++drained;
  if (state.thread_index() == 0) {
    while (drained.load() < state.threads()) std::this_thread::yield();
    store.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(Append)->Threads(8)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------
// The 10-million-record store.

struct BigStore {
  std::string dir;
  uint64_t records = 0;
  uint64_t persons = 0;
  RecordKeys keys;
};

// Builds the store unless a complete one is there (marked by <dir>/BUILT).
bool EnsureBigStore(BigStore& big, std::string* error) {
  big.records = std::strtoull(Env("IPN_BENCH_RECORDS", "10000000").c_str(), nullptr, 10);
  big.persons = big.records / kRecordsPerPerson;
  big.dir = Env("IPN_BENCH_DIR", "/var/tmp/ipn-bench-records-10m");
  if (big.records != 10000000 && std::getenv("IPN_BENCH_DIR") == nullptr) {
    big.dir += "-" + std::to_string(big.records);
  }
  const std::string key_file = big.dir + ".keys";
  const std::string marker = big.dir + "/BUILT";
  if (std::filesystem::exists(marker) && std::filesystem::exists(key_file)) {
    auto keys = ipn::records::ReadKeyFile(key_file);
    if (!keys.ok()) {
      *error = keys.status().ToString();
      return false;
    }
    big.keys = std::move(*keys);
    return true;
  }
  std::fprintf(stderr, "building a %llu-record store in %s (once)…\n",
               static_cast<unsigned long long>(big.records), big.dir.c_str());
  std::filesystem::remove_all(big.dir);
  std::filesystem::remove(key_file);
  big.keys = ipn::records::GenerateRecordKeys();
  if (auto s = ipn::records::WriteKeyFile(key_file, big.keys); !s.ok()) {
    *error = s.ToString();
    return false;
  }
  const auto start = std::chrono::steady_clock::now();
  {
    RecordStoreOptions o = OptionsFor(big.dir, big.keys);
    o.bulk_load = true;
    o.tree_head_every_us = 0;
    auto store = RecordStore::Open(std::move(o));
    if (!store.ok()) {
      *error = store.status().ToString();
      return false;
    }
    // Two submitters keep the store's prepare and commit stages busy.
    constexpr uint64_t kBatch = 10000;
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    auto submit = [&] {
      for (uint64_t first; (first = next.fetch_add(kBatch)) < big.records;) {
        std::vector<Record> batch;
        const uint64_t end = std::min(first + kBatch, big.records);
        for (uint64_t n = first; n < end; ++n) {
          // Person n % persons: each person's 20 records are spread over the whole log.
          batch.push_back(MakeRecord(n, n % big.persons, kT0 + static_cast<int64_t>(n) * 6000000));
        }
        if (!(*store)->AppendBatch(batch).ok()) failed = true;
        if (first % 1000000 == 0) {
          std::fprintf(stderr, "  %llu records\n", static_cast<unsigned long long>(first));
        }
      }
    };
    std::thread t1(submit), t2(submit);
    t1.join();
    t2.join();
    if (failed) {
      *error = "bulk append failed";
      return false;
    }
  }  // closing signs the final head and flushes
  {
    // Compact fully, as a long-running store's data mostly sits in the last level.
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name :
         {"default", "records", "by_person", "by_time", "tree", "heads", "by_request"}) {
      rocksdb::ColumnFamilyOptions cf;
      cf.compression = rocksdb::kNoCompression;
      cf.level_compaction_dynamic_level_bytes = true;
      if (std::string(name) == "by_person") {
        cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(32));
      }
      families.emplace_back(name, cf);
    }
    rocksdb::DBOptions dbo;
    dbo.max_background_jobs = 2;
    dbo.max_subcompactions = 2;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(dbo, big.dir, families, &handles, &db);
    if (!s.ok()) {
      *error = s.ToString();
      return false;
    }
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    for (auto* h : handles) {
      s = db->CompactRange(co, h, nullptr, nullptr);
      if (!s.ok()) break;
    }
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
    delete db;
    if (!s.ok()) {
      *error = s.ToString();
      return false;
    }
  }
  ipn::Status marked = ipn::WriteFileAtomic(marker, std::string("built\n"));
  std::fprintf(stderr, "built in %.0f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return marked.ok();
}

std::unique_ptr<RecordStore> OpenBig(BigStore& big, std::string* error) {
  RecordStoreOptions o = OptionsFor(big.dir, big.keys);
  o.read_only = true;
  auto store = RecordStore::Open(std::move(o));
  if (!store.ok()) {
    *error = store.status().ToString();
    return nullptr;
  }
  return std::move(*store);
}

void History(benchmark::State& state) {
  BigStore big;
  std::string error;
  if (!EnsureBigStore(big, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  auto store = OpenBig(big, &error);
  if (!store) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> pick(0, big.persons - 1);
  // Warm-up on other people: loads index and filter blocks, as a running server has them.
  for (int i = 0; i < 20000; ++i) {
    auto page = store->History(PersonSymbol(pick(rng)), kRecordsPerPerson, "");
    benchmark::DoNotOptimize(page);
  }
  std::vector<double> latencies;
  latencies.reserve(state.max_iterations);
  for (auto _ : state) {
    const auto symbol = PersonSymbol(pick(rng));
    const auto t0 = std::chrono::steady_clock::now();
    auto page = store->History(symbol, kRecordsPerPerson, "");
    const auto t1 = std::chrono::steady_clock::now();
    if (!page.ok() || page->records.size() != kRecordsPerPerson) {
      state.SkipWithError(page.ok() ? "a history was not 20 records long"
                                    : page.status().ToString().c_str());
      break;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[static_cast<size_t>(p * (latencies.size() - 1))];
  };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = latencies.empty() ? 0.0 : latencies.back();
  state.counters["store_records"] = static_cast<double>(big.records);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(History)->Iterations(50000)->Unit(benchmark::kMicrosecond);

void Verify(benchmark::State& state) {
  BigStore big;
  std::string error;
  if (!EnsureBigStore(big, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  auto store = OpenBig(big, &error);
  if (!store) {
    state.SkipWithError(error.c_str());
    return;
  }
  uint64_t checked = 0;
  for (auto _ : state) {
    auto report = store->Verify();
    if (!report.ok() || !report->ok()) {
      state.SkipWithError(report.ok() ? "the store did not verify"
                                      : report.status().ToString().c_str());
      break;
    }
    checked += report->records_checked;
  }
  state.SetItemsProcessed(static_cast<int64_t>(checked));
  state.counters["store_records"] = static_cast<double>(big.records);
}
BENCHMARK(Verify)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
