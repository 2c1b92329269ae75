// IssuanceFile on RocksDB: keyed-hash row keys, XChaCha20-Poly1305 values, synced writes.
#include "symbol/issuance_file.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "common/big_endian.h"
#include "common/encoding.h"
#include "common/rocksdb_log.h"
#include "symbol/derivation.h"
#include "symbol/presence_index.h"

namespace ipn::symbol {
namespace {

constexpr uint8_t kIssuancePrefix = 'I';
constexpr size_t kPrefixSize = 1 + crypto_shorthash_siphashx24_BYTES;
static_assert(kPrefixSize + crypto_shorthash_siphashx24_BYTES == std::tuple_size_v<RowKey>);
constexpr uint8_t kCodePrefix = 'C';
constexpr char kCheckKey[] = "M:check";
constexpr char kCheckValue[] = "ipn issuance file v1";
constexpr uint8_t kValueFormat = 1;
constexpr uint8_t kCodeRedirect = 1;
constexpr uint8_t kCodeTombstone = 2;
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kMacSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kStripes = 64;
constexpr size_t kMaxAgencyCode = 255;

rocksdb::Slice AsSlice(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  return Status::IoError("issuance file: " + std::string(what) + ": " + s.ToString());
}

void PutI64(std::vector<uint8_t>* out, int64_t v) {
  uint8_t b[8];
  PutBigEndian64(static_cast<uint64_t>(v), b);
  out->insert(out->end(), b, b + sizeof(b));
}

int64_t GetI64(const uint8_t* p) {
  return static_cast<int64_t>(GetBigEndian64(p));
}

}  // namespace

struct IssuanceFile::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::string path;
  SecretBytes index_key;
  SecretBytes code_index_key;
  SecretBytes data_key;
  std::array<std::mutex, kStripes> stripes;
  std::unique_ptr<PresenceIndex> index;  // null unless index_in_memory

  // The in-memory fingerprint of an issuance row: the first 8 bytes of its A part.
  static uint64_t Fingerprint(const RowKey& key) {
    uint64_t v;
    std::memcpy(&v, key.data() + kPrefixSize, sizeof v);
    return v;
  }

  // 'I' || P(person) || A(person, agency); see the header.
  RowKey IssuanceRowKey(const LinkageSymbol& linkage, std::string_view agency) const {
    agency = agency.substr(0, kMaxAgencyCode);  // callers validate; never overflow `input`
    RowKey key;
    key[0] = kIssuancePrefix;
    crypto_shorthash_siphashx24(key.data() + 1, linkage.data(), LinkageSymbol::kSize,
                                index_key.data());
    uint8_t input[LinkageSymbol::kSize + kMaxAgencyCode];
    std::memcpy(input, linkage.data(), LinkageSymbol::kSize);
    std::memcpy(input + LinkageSymbol::kSize, agency.data(), agency.size());
    crypto_shorthash_siphashx24(key.data() + kPrefixSize, input,
                                LinkageSymbol::kSize + agency.size(),
                                index_key.data() + crypto_shorthash_siphashx24_KEYBYTES);
    Wipe(input, LinkageSymbol::kSize);
    return key;
  }

  std::string Seal(const RowKey& key, std::span<const uint8_t> plain) const {
    return Seal(std::span<const uint8_t>(key), plain);
  }
  std::string Seal(std::span<const uint8_t> key, std::span<const uint8_t> plain) const {
    std::string out(kNonceSize + plain.size() + kMacSize, '\0');
    auto* p = reinterpret_cast<uint8_t*>(out.data());
    randombytes_buf(p, kNonceSize);
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + kNonceSize, nullptr, plain.data(), plain.size(),
                                               key.data(), key.size(), nullptr, p, data_key.data());
    return out;
  }
  // Decrypts `value` into *out (resized); false if it does not authenticate.
  bool Open(std::span<const uint8_t> key, const rocksdb::Slice& value,
            std::vector<uint8_t>* out) const {
    if (value.size() < kNonceSize + kMacSize) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(value.data());
    out->resize(value.size() - kNonceSize - kMacSize);
    return crypto_aead_xchacha20poly1305_ietf_decrypt(out->data(), nullptr, nullptr, p + kNonceSize,
                                                      value.size() - kNonceSize, key.data(),
                                                      key.size(), p, data_key.data()) == 0;
  }
  Status Damaged() const {
    return Status::Corruption("issuance file " + path +
                              ": a row failed its integrity check (altered or damaged)");
  }
  Result<CodeRow> DecodeCodeRow(const RowKey& key, const rocksdb::Slice& value) const {
    std::vector<uint8_t> plain;
    if (!Open(key, value, &plain) || plain.size() < 10 || plain[0] != kValueFormat) {
      return Damaged();
    }
    CodeRow row;
    if (plain[1] == kCodeTombstone && plain.size() == 10) {
      row.kind = CodeRow::Kind::kReplaced;
    } else if (plain[1] == kCodeRedirect && plain.size() == 10 + LinkageSymbol::kSize) {
      row.kind = CodeRow::Kind::kRedirect;
      std::memcpy(row.linkage.data(), plain.data() + 10, LinkageSymbol::kSize);
    } else {
      Wipe(plain.data(), plain.size());
      return Damaged();
    }
    Wipe(plain.data(), plain.size());
    return row;
  }
};

IssuanceFile::IssuanceFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IssuanceFile::~IssuanceFile() = default;

namespace {

rocksdb::Options MakeOptions(size_t block_cache_bytes, Logger* log = nullptr) {
  rocksdb::Options options;
  options.info_log = std::make_shared<RocksDbLog>(log, "issuance");  // no LOG file on the disk
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  options.compression = rocksdb::kNoCompression;  // values are ciphertext: incompressible
  options.keep_log_file_num = 5;
  return options;
}

Status OpenError(const rocksdb::Status& s, const std::string& path) {
  std::string text = s.ToString();
  if (s.IsIOError() && text.find("lock") != std::string::npos) {
    return Status::Unavailable("the issuance file " + path + " is in use by another process (" +
                               text + ")");
  }
  if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
    return Status::NotFound("there is no issuance file at " + path);
  }
  return Status::IoError("cannot open the issuance file " + path + ": " + text);
}

}  // namespace

Status IssuanceFile::Create(const std::string& path, const KeyRing& ring) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Status::AlreadyExists("an issuance file already exists at " + path);
  }
  rocksdb::Options options = MakeOptions(1 << 20);
  options.create_if_missing = true;
  options.error_if_exists = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return OpenError(s, path);
  std::unique_ptr<rocksdb::DB> db(raw);
  Impl impl;
  impl.data_key = ring.issuance_data_key().Clone();
  std::string value = impl.Seal(AsBytes(kCheckKey), AsBytes(std::string_view(kCheckValue)));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  s = db->Put(sync, kCheckKey, value);
  if (!s.ok()) return FromRocks(s, "cannot write");
  s = db->Close();
  if (!s.ok()) return FromRocks(s, "cannot close");
  return Status::Ok();
}

Result<std::unique_ptr<IssuanceFile>> IssuanceFile::Open(const std::string& path,
                                                         const KeyRing& ring,
                                                         const IssuanceFileOptions& opts) {
  rocksdb::Options options = MakeOptions(opts.block_cache_bytes, opts.logger);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return OpenError(s, path);
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  impl->path = path;
  impl->index_key = ring.issuance_index_key().Clone();
  impl->code_index_key = ring.code_index_key().Clone();
  impl->data_key = ring.issuance_data_key().Clone();
  std::string value;
  s = impl->db->Get(rocksdb::ReadOptions(), kCheckKey, &value);
  std::vector<uint8_t> plain;
  if (s.IsNotFound() || (s.ok() && (!impl->Open(AsBytes(kCheckKey), value, &plain) ||
                                    std::string_view(reinterpret_cast<const char*>(plain.data()),
                                                     plain.size()) != kCheckValue))) {
    return Status::FailedPrecondition("the issuance file " + path +
                                      " does not belong to this key ring");
  }
  if (!s.ok()) return FromRocks(s, "cannot read");
  if (opts.index_in_memory) {
    impl->index = std::make_unique<PresenceIndex>();
    std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions()));
    const char first[] = {static_cast<char>(kIssuancePrefix)};
    for (it->Seek(rocksdb::Slice(first, 1)); it->Valid() && it->key()[0] == kIssuancePrefix;
         it->Next()) {
      if (it->key().size() != std::tuple_size_v<RowKey>) return impl->Damaged();
      RowKey key;
      std::memcpy(key.data(), it->key().data(), key.size());
      impl->index->Insert(Impl::Fingerprint(key));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read");
  }
  return std::unique_ptr<IssuanceFile>(new IssuanceFile(std::move(impl)));
}

RowKey IssuanceFile::CodeRowKey(const ResidentCode& code) const {
  RowKey key;
  key[0] = kCodePrefix;
  auto digits = code.digits();
  crypto_generichash(key.data() + 1, key.size() - 1, digits.data(), digits.size(),
                     impl_->code_index_key.data(), impl_->code_index_key.size());
  return key;
}

Result<CodeRow> IssuanceFile::GetCodeRow(const RowKey& code_row) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(),
                                     AsSlice(code_row), &value);
  if (s.IsNotFound()) return CodeRow{};
  if (!s.ok()) return FromRocks(s, "cannot read");
  return impl_->DecodeCodeRow(code_row, value);
}

Result<std::vector<CodeRow>> IssuanceFile::GetCodeRows(std::span<const RowKey> code_rows) const {
  std::vector<rocksdb::Slice> keys;
  keys.reserve(code_rows.size());
  for (const auto& k : code_rows) keys.push_back(AsSlice(k));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(), keys.size(),
                      keys.data(), values.data(), statuses.data());
  std::vector<CodeRow> rows;
  rows.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      rows.emplace_back();
      continue;
    }
    if (!statuses[i].ok()) return FromRocks(statuses[i], "cannot read");
    auto row = impl_->DecodeCodeRow(code_rows[i], values[i]);
    if (!row.ok()) return row.status();
    rows.push_back(std::move(row).value());
  }
  return rows;
}

Status IssuanceFile::WriteCodeChange(const RowKey& old_code_row, const RowKey& new_code_row,
                                     const LinkageSymbol& linkage, int64_t now_us) {
  std::vector<uint8_t> tombstone = {kValueFormat, kCodeTombstone};
  PutI64(&tombstone, now_us);
  std::vector<uint8_t> redirect = {kValueFormat, kCodeRedirect};
  PutI64(&redirect, now_us);
  redirect.insert(redirect.end(), linkage.data(), linkage.data() + LinkageSymbol::kSize);
  rocksdb::WriteBatch batch;
  batch.Put(AsSlice(old_code_row), impl_->Seal(old_code_row, tombstone));
  batch.Put(AsSlice(new_code_row), impl_->Seal(new_code_row, redirect));
  Wipe(redirect.data(), redirect.size());
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = impl_->db->Write(sync, &batch);
  if (!s.ok()) return FromRocks(s, "cannot write");
  return Status::Ok();
}

Result<std::vector<IssuanceEntry>> IssuanceFile::EntriesOf(const LinkageSymbol& linkage) const {
  RowKey any = impl_->IssuanceRowKey(linkage, "");
  std::string prefix(reinterpret_cast<const char*>(any.data()), kPrefixSize);
  std::string upper = prefix;
  upper.back() = static_cast<char>(upper.back() + 1);  // exclusive end of the prefix range
  bool carry = static_cast<uint8_t>(prefix.back()) == 0xff;
  rocksdb::ReadOptions options;
  rocksdb::Slice upper_slice(upper);
  if (!carry) options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options));
  std::vector<IssuanceEntry> entries;
  std::vector<uint8_t> plain;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != std::tuple_size_v<RowKey>) return impl_->Damaged();
    RowKey key;
    std::memcpy(key.data(), it->key().data(), key.size());
    if (!impl_->Open(key, it->value(), &plain) || plain.size() < 10 || plain[0] != kValueFormat) {
      return impl_->Damaged();
    }
    std::string agency(reinterpret_cast<const char*>(plain.data() + 9), plain.size() - 9);
    if (impl_->IssuanceRowKey(linkage, agency) != key) return impl_->Damaged();
    entries.push_back({std::move(agency), GetI64(plain.data() + 1)});
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read");
  return entries;
}

Result<bool> IssuanceFile::IsIssued(const LinkageSymbol& linkage,
                                    std::string_view agency_code) const {
  if (agency_code.size() > kMaxAgencyCode) return false;
  RowKey key = impl_->IssuanceRowKey(linkage, agency_code);
  if (impl_->index != nullptr) return impl_->index->Contains(Impl::Fingerprint(key));
  rocksdb::PinnableSlice value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(),
                                     AsSlice(key), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, "cannot read");
  // The row key is a keyed PRF of (person, agency): only the core can have made it, so its
  // presence is the answer; the value (when) is only decrypted by EntriesOf.
  return true;
}

Status IssuanceFile::RecordIssuance(std::span<const LinkageSymbol* const> linkages,
                                    std::string_view agency_code, int64_t now_us) {
  if (agency_code.empty() || agency_code.size() > kMaxAgencyCode) {
    return Status::InvalidArgument("agency code must be 1 to 255 bytes");
  }
  std::vector<RowKey> keys;
  keys.reserve(linkages.size());
  for (const LinkageSymbol* l : linkages) keys.push_back(impl_->IssuanceRowKey(*l, agency_code));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (keys.empty()) return Status::Ok();

  // Lock every stripe the persons fall in, in ascending order (no deadlock between batches).
  std::array<bool, kStripes> needed{};
  for (const auto& k : keys) needed[k[1] % kStripes] = true;
  std::vector<std::unique_lock<std::mutex>> locks;
  for (size_t i = 0; i < kStripes; ++i) {
    if (needed[i]) locks.emplace_back(impl_->stripes[i]);
  }

  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const auto& k : keys) slices.push_back(AsSlice(k));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(), keys.size(),
                      slices.data(), values.data(), statuses.data(), /*sorted_input=*/true);

  rocksdb::WriteBatch batch;
  std::vector<uint8_t> plain = {kValueFormat};
  PutI64(&plain, now_us);
  plain.insert(plain.end(), agency_code.begin(), agency_code.end());
  std::vector<uint64_t> added;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) continue;  // already issued: keep the first time
    if (!statuses[i].IsNotFound()) return FromRocks(statuses[i], "cannot read");
    batch.Put(slices[i], impl_->Seal(keys[i], plain));
    added.push_back(Impl::Fingerprint(keys[i]));
  }
  if (batch.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = impl_->db->Write(sync, &batch);
  if (!s.ok()) return FromRocks(s, "cannot write");
  if (impl_->index != nullptr) {
    for (uint64_t f : added) impl_->index->Insert(f);  // only once durable
  }
  return Status::Ok();
}

}  // namespace ipn::symbol
