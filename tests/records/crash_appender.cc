// ipn_records_crash_appender: a test-only process for RecordCrashTest. Opens the record
// store in <dir> with the keys in <key file> and appends forever from several threads —
// Append, AppendBatch and AppendAsync — printing "<sequence> <request id>" on stdout
// (one write per line) for every record only after the store acknowledged it durable.
// The test kills it with SIGKILL at random moments.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "records/key_file.h"
#include "records/record_store.h"

namespace {

using ipn::records::Record;

void Acknowledge(uint64_t sequence, const std::string& request_id) {
  std::string line = std::to_string(sequence) + " " + request_id + "\n";
  // One write per line: lines from different threads never interleave (< PIPE_BUF).
  if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) _exit(3);
}

Record Make(const std::string& run, uint64_t n) {
  Record r;
  r.event = static_cast<ipn::records::Event>(n % 8);
  for (size_t i = 0; i < r.record_symbol.size(); ++i) {
    r.record_symbol[i] = static_cast<uint8_t>((n % 97) * 31 + i);
  }
  r.inquirer = "AG1001";
  r.provider = "AG2002";
  r.business = "B10";
  r.item = "I100";
  r.request_id = run + "-" + std::to_string(n);
  r.outcome = "ok";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <store dir> <key file>\n", argv[0]);
    return 2;
  }
  ipn::Result<ipn::records::RecordKeys> keys = ipn::records::ReadKeyFile(argv[2]);
  if (!keys.ok()) {
    std::fprintf(stderr, "%s\n", keys.status().ToString().c_str());
    return 1;
  }
  ipn::records::RecordStoreOptions options;
  options.dir = argv[1];
  options.encryption_keys = std::move(keys->encryption_keys);
  options.signing_secret_key = std::move(keys->signing_secret_key);
  options.tree_head_every_records = 200;
  options.tree_head_every_us = 5000;
  options.purge_every_us = 0;
  ipn::Result<std::unique_ptr<ipn::records::RecordStore>> opened =
      ipn::records::RecordStore::Open(std::move(options));
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  ipn::records::RecordStore& store = **opened;
  const std::string run = std::to_string(::getpid());
  std::atomic<uint64_t> counter{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (true) {
        Record r = Make(run, counter++);
        if (!store.Append(r).ok()) _exit(4);
        Acknowledge(r.sequence, r.request_id);
      }
    });
  }
  threads.emplace_back([&] {
    while (true) {
      std::vector<Record> batch;
      for (int i = 0; i < 8; ++i) batch.push_back(Make(run, counter++));
      if (!store.AppendBatch(batch).ok()) _exit(4);
      for (const Record& r : batch) Acknowledge(r.sequence, r.request_id);
    }
  });
  threads.emplace_back([&] {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight < 32; });
        ++in_flight;
      }
      Record r = Make(run, counter++);
      std::string id = r.request_id;
      store.AppendAsync(std::move(r), [&, id](ipn::Status s, uint64_t sequence) {
        if (!s.ok()) _exit(4);
        Acknowledge(sequence, id);
        std::lock_guard lock(mu);
        --in_flight;
        cv.notify_one();
      });
    }
  });
  threads.emplace_back([&] {
    while (true) {
      if (!store.SignTreeHead().ok()) _exit(5);
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  for (auto& t : threads) t.join();
  return 0;
}
