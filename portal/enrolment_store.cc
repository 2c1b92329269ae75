// EnrolmentStore: RocksDB keyed by card serial; values sealed.
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
constexpr size_t kTimesBytes = 16;
// v2: entries by card serial (v1 keyed browser credentials; those entries are ignored).
constexpr char kAad[] = "ipn/portal/card/v2";
constexpr char kKeyPrefix[] = "card/";
constexpr size_t kMaxSerialBytes = 64;

std::string RowKey(std::string_view serial) {
  return std::string(kKeyPrefix).append(serial);
}

std::string Ad(std::string_view serial) {
  return std::string(kAad).append(1, '\0').append(serial);
}

// Value: nonce | seal(u64 linked BE | u64 enrolled BE | agency symbol), AD = kAad | serial.
std::string Seal(const SecretBytes& key, std::string_view serial, const Enrolment& e) {
  std::string plain;
  AppendBigEndian64(static_cast<uint64_t>(e.linked_unix_us), plain);
  AppendBigEndian64(static_cast<uint64_t>(e.enrolled_unix_us), plain);
  plain.append(e.agency_symbol.begin(), e.agency_symbol.end());
  const std::string ad = Ad(serial);
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

Status CheckSerial(std::string_view serial) {
  if (serial.empty() || serial.size() > kMaxSerialBytes) {
    return Status::InvalidArgument("a card serial is 1 to 64 characters");
  }
  return Status::Ok();
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

Result<Enrolment> EnrolmentStore::Get(std::string_view serial) const {
  IPN_RETURN_IF_ERROR(CheckSerial(serial));
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), RowKey(serial), &value);
  if (s.IsNotFound()) return Status::NotFound("this card is not linked to anyone at the portal");
  if (!s.ok()) return Status::IoError("cannot read the enrolments: " + s.ToString());
  if (value.size() < kNonceBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES + kTimesBytes) {
    return Status::Corruption("an enrolment is truncated");
  }
  const std::string ad = Ad(serial);
  const auto* v = reinterpret_cast<const uint8_t*>(value.data());
  std::vector<uint8_t> plain(value.size() - kNonceBytes);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &len, nullptr, v + kNonceBytes, value.size() - kNonceBytes,
          reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), v, key_.data()) != 0) {
    return Status::Corruption("an enrolment does not open under the portal's key");
  }
  Enrolment e;
  // The size check above leaves at least the two times in `plain`.
  e.linked_unix_us = static_cast<int64_t>(GetBigEndian64(plain.data()));
  e.enrolled_unix_us = static_cast<int64_t>(GetBigEndian64(plain.data() + 8));
  e.agency_symbol.assign(plain.begin() + kTimesBytes, plain.begin() + static_cast<long>(len));
  sodium_memzero(plain.data(), plain.size());
  return e;
}

Status EnrolmentStore::Put(std::string_view serial, const Enrolment& e) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Put(wo, RowKey(serial), Seal(key_, serial, e));
  if (!s.ok()) return Status::IoError("cannot store the enrolment: " + s.ToString());
  return Status::Ok();
}

Status EnrolmentStore::Link(std::string_view serial, std::span<const uint8_t> symbol,
                            int64_t now_us) {
  IPN_RETURN_IF_ERROR(CheckSerial(serial));
  if (symbol.empty()) return Status::InvalidArgument("a link needs the portal's symbol");
  std::lock_guard lock(mu_);
  Enrolment e;
  if (Result<Enrolment> old = Get(serial); old.ok()) {
    e.enrolled_unix_us = old->enrolled_unix_us;
    sodium_memzero(old->agency_symbol.data(), old->agency_symbol.size());
  } else if (old.status().code() != Status::Code::kNotFound) {
    return old.status();
  }
  e.linked_unix_us = now_us;
  e.agency_symbol.assign(symbol.begin(), symbol.end());
  Status put = Put(serial, e);
  sodium_memzero(e.agency_symbol.data(), e.agency_symbol.size());
  return put;
}

Result<Enrolment> EnrolmentStore::Enrol(std::string_view serial, int64_t now_us) {
  std::lock_guard lock(mu_);
  Result<Enrolment> e = Get(serial);
  if (!e.ok()) return e.status();
  if (e->enrolled_unix_us != 0) {
    sodium_memzero(e->agency_symbol.data(), e->agency_symbol.size());
    return Status::AlreadyExists("this card is already enrolled: log in with it");
  }
  e->enrolled_unix_us = now_us;
  IPN_RETURN_IF_ERROR(Put(serial, *e));
  return e;
}

Result<Enrolment> EnrolmentStore::Find(std::string_view serial) const {
  return Get(serial);
}

}  // namespace ipn::portal
