// MiddleStore: opening, the tenants and their keys, row keys and sealing.
#include <rocksdb/db.h>
#include <sodium.h>

#include "common/big_endian.h"
#include "common/file_util.h"
#include "middle/store_impl.h"

namespace ipn::middle {
namespace {

constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'i', 'p', 'n', 'm', 'i', 'd', 'd', 'l'};

std::string KeyRowKey(std::string_view tenant) {
  return std::string(1, kKeyRow) + std::string(tenant);
}

std::shared_ptr<const TenantKeys> Derive(const SecretBytes& data_key) {
  auto keys = std::make_shared<TenantKeys>();
  keys->seal = SecretBytes(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  keys->index = SecretBytes(crypto_generichash_KEYBYTES);
  crypto_kdf_derive_from_key(keys->seal.data(), keys->seal.size(), 1, kKdfContext, data_key.data());
  crypto_kdf_derive_from_key(keys->index.data(), keys->index.size(), 2, kKdfContext,
                             data_key.data());
  return keys;
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

Status CheckTenant(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 64) {
    return Status::InvalidArgument("a tenant is an agency code of 1 to 64 characters");
  }
  for (char c : tenant) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return Status::InvalidArgument("a tenant is an agency code: A-Z a-z 0-9 - _ .");
    }
  }
  return Status::Ok();
}

MiddleStore::MiddleStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MiddleStore::~MiddleStore() = default;

Result<std::unique_ptr<MiddleStore>> MiddleStore::Open(const std::string& dir,
                                                       const KeyWrapper* platform) {
  if (platform == nullptr) return Status::InvalidArgument("the platform's key wrapper is required");
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir));
  auto impl = std::make_unique<Impl>();
  impl->platform = platform;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir + "/store", &db);
  if (!s.ok()) return Status::IoError("cannot open the middle store: " + s.ToString());
  impl->db.reset(db);
  // Every tenant's data key, unwrapped once; a key the platform cannot unwrap stops the
  // start (the wrong platform key, or a tampered row).
  std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, kKeyRow)); it->Valid() && it->key()[0] == kKeyRow; it->Next()) {
    const std::string tenant = it->key().ToString().substr(1);
    Result<SecretBytes> data_key = platform->Unwrap(Bytes(it->value().ToStringView()));
    if (!data_key.ok()) return data_key.status().WithContext("tenant " + tenant + "'s key");
    if (data_key->size() != crypto_kdf_KEYBYTES) {
      return Status::Corruption("tenant " + tenant + "'s key is not 32 bytes");
    }
    impl->tenants[tenant] = Derive(*data_key);
  }
  if (!it->status().ok())
    return Status::IoError("cannot read the tenants: " + it->status().ToString());
  return std::unique_ptr<MiddleStore>(new MiddleStore(std::move(impl)));
}

Status MiddleStore::CreateTenant(std::string_view tenant) {
  IPN_RETURN_IF_ERROR(CheckTenant(tenant));
  std::lock_guard<std::mutex> write(impl_->write_mu);
  if (impl_->Keys(tenant).ok()) {
    return Status::AlreadyExists("tenant " + std::string(tenant) + " exists");
  }
  SecretBytes data_key = SecretBytes::Random(crypto_kdf_KEYBYTES);
  Result<std::string> wrapped = impl_->platform->Wrap(data_key);
  if (!wrapped.ok()) return wrapped.status().WithContext("wrapping the tenant's key");
  rocksdb::WriteBatch batch;
  batch.Put(KeyRowKey(tenant), *wrapped);
  IPN_RETURN_IF_ERROR(impl_->Write(&batch));
  std::unique_lock<std::shared_mutex> lock(impl_->mu);
  impl_->tenants[std::string(tenant)] = Derive(data_key);
  return Status::Ok();
}

Status MiddleStore::DestroyTenant(std::string_view tenant) {
  std::lock_guard<std::mutex> write(impl_->write_mu);
  IPN_RETURN_IF_ERROR(impl_->Keys(tenant).status());
  rocksdb::WriteBatch batch;
  batch.Delete(KeyRowKey(tenant));
  for (char kind : kAllRowKinds) {
    if (kind == kKeyRow) continue;  // its row key has no 0 after the tenant (deleted above)
    const std::string begin = std::string(1, kind) + std::string(tenant) + '\0';
    const std::string end = std::string(1, kind) + std::string(tenant) + '\1';
    batch.DeleteRange(begin, end);
  }
  IPN_RETURN_IF_ERROR(impl_->Write(&batch));
  {
    std::unique_lock<std::shared_mutex> lock(impl_->mu);
    impl_->tenants.erase(impl_->tenants.find(tenant));  // its keys are wiped as they go
  }
  {
    std::lock_guard<std::mutex> lock(impl_->by_hand_mu);
    if (auto it = impl_->by_hand.find(tenant); it != impl_->by_hand.end()) {
      impl_->by_hand.erase(it);
    }
  }
  // Deleted rows stay in RocksDB's files until a compaction drops them, the wrapped key
  // among them: flush, then compact the tenant's ranges to the bottom at once, so that
  // the key is gone from disk, not only from view.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  rocksdb::Status s = impl_->db->Flush(flush);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (char kind : kAllRowKinds) {
    if (!s.ok()) break;
    const std::string begin = std::string(1, kind) + std::string(tenant);
    const std::string end = begin + '\1';
    const rocksdb::Slice b(begin), e(end);
    s = impl_->db->CompactRange(compact, &b, &e);
  }
  if (!s.ok()) {
    return Status::IoError("tenant " + std::string(tenant) +
                           " is destroyed, but its files were not compacted yet: " + s.ToString());
  }
  return Status::Ok();
}

std::vector<std::string> MiddleStore::Tenants() const {
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [tenant, keys] : impl_->tenants) out.push_back(tenant);
  return out;
}

Result<std::shared_ptr<const TenantKeys>> MiddleStore::Impl::Keys(std::string_view tenant) const {
  std::shared_lock<std::shared_mutex> lock(mu);
  auto it = tenants.find(tenant);
  if (it == tenants.end()) {
    return Status::NotFound("no tenant " + std::string(tenant) + " on this platform");
  }
  return it->second;
}

std::string MiddleStore::Impl::RowKey(char kind, std::string_view tenant, const TenantKeys& keys,
                                      std::string_view a, std::string_view b) {
  // Lengths first, so that ("ab", "c") and ("a", "bc") hash apart.
  std::string input;
  AppendBigEndian32(static_cast<uint32_t>(a.size()), input);
  input.append(a);
  input.append(b);
  std::string key = std::string(1, kind) + std::string(tenant) + '\0';
  uint8_t hash[32];
  crypto_generichash(hash, sizeof(hash), reinterpret_cast<const uint8_t*>(input.data()),
                     input.size(), keys.index.data(), keys.index.size());
  key.append(reinterpret_cast<const char*>(hash), sizeof(hash));
  return key;
}

std::string MiddleStore::Impl::Seal(const TenantKeys& keys, std::string_view row_key,
                                    std::string_view plain) {
  std::string out(kNonce + plain.size() + kTag, '\0');
  auto* o = reinterpret_cast<uint8_t*>(out.data());
  randombytes_buf(o, kNonce);
  unsigned long long size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      o + kNonce, &size, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
      reinterpret_cast<const uint8_t*>(row_key.data()), row_key.size(), nullptr, o,
      keys.seal.data());
  return out;
}

Result<std::string> MiddleStore::Impl::Open(const TenantKeys& keys, std::string_view row_key,
                                            std::string_view sealed) {
  if (sealed.size() < kNonce + kTag) return Status::Corruption("a sealed value is too short");
  std::string plain(sealed.size() - kNonce - kTag, '\0');
  unsigned long long size = 0;
  const auto* s = reinterpret_cast<const uint8_t*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<uint8_t*>(plain.data()), &size,
                                                 nullptr, s + kNonce, sealed.size() - kNonce,
                                                 reinterpret_cast<const uint8_t*>(row_key.data()),
                                                 row_key.size(), s, keys.seal.data()) != 0) {
    return Status::Corruption("a sealed value does not open under its tenant's key (altered)");
  }
  return plain;
}

Result<std::optional<std::string>> MiddleStore::Impl::Get(std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Status::IoError("cannot read the middle store: " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<std::string>> MiddleStore::Impl::GetOpened(const TenantKeys& keys,
                                                                const std::string& row_key) const {
  auto sealed = Get(row_key);
  if (!sealed.ok()) return sealed.status();
  if (!sealed->has_value()) return std::optional<std::string>();
  auto plain = Open(keys, row_key, **sealed);
  if (!plain.ok()) return plain.status();
  return std::optional<std::string>(std::move(*plain));
}

Status MiddleStore::Impl::Write(rocksdb::WriteBatch* batch, bool sync) const {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = db->Write(wo, batch);
  if (!s.ok()) return Status::IoError("cannot write the middle store: " + s.ToString());
  return Status::Ok();
}

}  // namespace ipn::middle
