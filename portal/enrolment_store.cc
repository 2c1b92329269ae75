// EnrolmentStore: RocksDB keyed by credential public key; values sealed.
#include "portal/enrolment_store.h"

#include <rocksdb/db.h>
#include <sodium.h>
#include <sys/stat.h>

#include "common/big_endian.h"
#include "common/file_util.h"

namespace ipn::portal {
namespace {

constexpr size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr char kAad[] = "ipn/portal/enrolment/v1";

// Value: nonce | seal(u64 enrolled time BE | agency symbol), AD = kAad | credential key.
std::string Seal(const SecretBytes& key, const CredentialKey& credential, const Enrolment& e) {
  std::string plain;
  AppendBigEndian64(static_cast<uint64_t>(e.enrolled_unix_us), plain);
  plain.append(e.agency_symbol.begin(), e.agency_symbol.end());
  std::string ad(kAad);
  ad.append(credential.begin(), credential.end());
  std::string out(kNonceBytes + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* o = reinterpret_cast<uint8_t*>(out.data());
  randombytes_buf(o, kNonceBytes);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      o + kNonceBytes, &len, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
      reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr, o, key.data());
  sodium_memzero(plain.data(), plain.size());
  out.resize(kNonceBytes + len);
  return out;
}

}  // namespace

EnrolmentStore::~EnrolmentStore() = default;

Result<std::unique_ptr<EnrolmentStore>> EnrolmentStore::Open(const std::string& dir) {
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir));
  std::unique_ptr<EnrolmentStore> store(new EnrolmentStore());
  const std::string key_path = dir + "/portal.key";
  struct stat st {};
  if (stat(key_path.c_str(), &st) != 0) {
    SecretBytes fresh = SecretBytes::Random(kKeyBytes);
    IPN_RETURN_IF_ERROR(WriteFileAtomic(key_path, fresh.span()));
  }
  Result<std::string> key = ReadFile(key_path);
  if (!key.ok()) return key.status();
  if (key->size() != kKeyBytes) {
    sodium_memzero(key->data(), key->size());
    return Status::Corruption(key_path + " is not a 32-byte key");
  }
  store->key_ = SecretBytes(kKeyBytes);
  std::copy(key->begin(), key->end(), store->key_.data());
  sodium_memzero(key->data(), key->size());

  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir + "/enrolments", &db);
  if (!s.ok()) return Status::IoError("cannot open the enrolments: " + s.ToString());
  store->db_.reset(db);
  return store;
}

Status EnrolmentStore::Add(const CredentialKey& credential, const Enrolment& enrolment) {
  const rocksdb::Slice k(reinterpret_cast<const char*>(credential.data()), credential.size());
  std::string existing;
  if (db_->Get(rocksdb::ReadOptions(), k, &existing).ok()) {
    return Status::AlreadyExists("this credential is already enrolled");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Put(wo, k, Seal(key_, credential, enrolment));
  if (!s.ok()) return Status::IoError("cannot store the enrolment: " + s.ToString());
  return Status::Ok();
}

Result<Enrolment> EnrolmentStore::Find(const CredentialKey& credential) const {
  const rocksdb::Slice k(reinterpret_cast<const char*>(credential.data()), credential.size());
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), k, &value);
  if (s.IsNotFound()) return Status::NotFound("no enrolment for this credential");
  if (!s.ok()) return Status::IoError("cannot read the enrolments: " + s.ToString());
  if (value.size() < kNonceBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES + 8) {
    return Status::Corruption("an enrolment is truncated");
  }
  std::string ad(kAad);
  ad.append(credential.begin(), credential.end());
  const auto* v = reinterpret_cast<const uint8_t*>(value.data());
  std::vector<uint8_t> plain(value.size() - kNonceBytes);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &len, nullptr, v + kNonceBytes, value.size() - kNonceBytes,
          reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), v, key_.data()) != 0) {
    return Status::Corruption("an enrolment does not open under the portal's key");
  }
  Enrolment e;
  // The size check above leaves at least the 8 bytes of the time in `plain`.
  e.enrolled_unix_us = static_cast<int64_t>(GetBigEndian64(plain.data()));
  e.agency_symbol.assign(plain.begin() + 8, plain.begin() + static_cast<long>(len));
  sodium_memzero(plain.data(), plain.size());
  return e;
}

}  // namespace ipn::portal
