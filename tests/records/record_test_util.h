// Helpers for the records tests: store options with fresh keys, sample records, and raw
// access to the store's RocksDB (for the tampering tests).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/secret.h"
#include "records/key_file.h"
#include "records/record_store.h"

namespace ipn::records::testing {

// Keys shared by every store a test opens (copies handed out per Open).
struct TestKeys {
  SecretBytes encryption_key = SecretBytes::Random(32);
  RecordKeys signing = GenerateRecordKeys();

  RecordStoreOptions Options(const std::string& dir, const Clock* clock = nullptr) const {
    RecordStoreOptions o;
    o.dir = dir;
    o.encryption_keys.emplace_back(1, encryption_key.Clone());
    o.signing_secret_key = signing.signing_secret_key.Clone();
    o.clock = clock;
    o.tree_head_every_records = 0;
    o.tree_head_every_us = 0;
    o.purge_every_us = 0;
    return o;
  }
};

inline std::array<uint8_t, 32> Symbol(uint64_t n) {
  std::array<uint8_t, 32> s{};
  std::mt19937_64 rng(n * 7919 + 17);
  for (auto& b : s) b = static_cast<uint8_t>(rng());
  return s;
}

inline Record SampleRecord(uint64_t person, uint64_t n, int64_t time_us = 0) {
  Record r;
  r.time_unix_us = time_us;
  r.event = static_cast<Event>(n % 8);
  r.record_symbol = Symbol(person);
  r.inquirer = "AG" + std::to_string(1000 + n % 3);
  r.provider = "AG" + std::to_string(2000 + n % 5);
  r.business = "B" + std::to_string(10 + n % 4);
  r.item = "I" + std::to_string(100 + n % 7);
  r.request_id = "req-" + std::to_string(person) + "-" + std::to_string(n);
  r.outcome = n % 2 ? "ok" : "denied: no permitted link";
  r.non_disclosure = n % 5 == 0;
  return r;
}

// The store's RocksDB opened directly, column families by name.
struct RawDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* meta() { return handles[0]; }
  rocksdb::ColumnFamilyHandle* records() { return handles[1]; }
  rocksdb::ColumnFamilyHandle* person() { return handles[2]; }
  rocksdb::ColumnFamilyHandle* time() { return handles[3]; }
  rocksdb::ColumnFamilyHandle* tree() { return handles[4]; }
  rocksdb::ColumnFamilyHandle* heads() { return handles[5]; }
  ~RawDb() {
    if (!db) return;  // the open failed
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
  }
};

inline std::unique_ptr<RawDb> OpenRaw(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name :
       {"default", "records", "by_person", "by_time", "tree", "heads", "by_request"}) {
    rocksdb::ColumnFamilyOptions cf;
    if (std::string(name) == "by_person") {
      cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(32));  // as the store has it
    }
    families.emplace_back(name, cf);
  }
  auto raw = std::make_unique<RawDb>();
  rocksdb::DB* db = nullptr;
  rocksdb::DBOptions options;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &raw->handles, &db);
  if (!s.ok()) return nullptr;
  raw->db.reset(db);
  return raw;
}

}  // namespace ipn::records::testing
