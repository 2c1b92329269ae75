// RecordStore: the request index — the durable half of the core's duplicate guard. Each
// record that opens an inquiry's story (accepted, refused, or refused as not held) puts
// keyed-BLAKE2b(inquirer | 0 | request id) -> its sequence into by_request, in the same
// write as the record, so the index is exactly as durable as the records. The hash key
// is derived from one pinned encryption key version, so key rotation does not move it;
// request ids (chosen by agencies, possibly meaningful) are not readable from the index.
#include <sodium.h>

#include "common/big_endian.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr char kRequestKeyContext[9] = "ipnreqid";

}  // namespace

Status RecordStore::Impl::OpenRequestIndex(const rocksdb::ReadOptions& ro) {
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaRequestKeyVersion, &value, &found));
  uint32_t version = cipher->write_version();
  if (found && value.size() == 4) {
    const uint32_t pinned = GetBigEndian32(value.data());
    if (cipher->HasVersion(pinned)) {
      version = pinned;
    } else {
      // The pinned key is not supplied (destroyed, or an operator's partial key ring): the
      // index's earlier entries cannot be found, so request ids used before are only
      // guarded while the core remembers them. Said loudly; the index starts again.
      LogWarn("records_request_index_key_missing", {{"version", pinned}});
      found = false;
    }
  }
  if (!found && !options.read_only && request_cf != nullptr) {
    char bytes[4];
    PutBigEndian32(version, bytes);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db->Put(wo, meta_cf, kMetaRequestKeyVersion, rocksdb::Slice(bytes, 4));
    if (!s.ok()) return FromRocks(s, "cannot pin the request index key");
  }
  Result<SecretBytes> key = cipher->DeriveSubkey(version, 1, kRequestKeyContext);
  if (!key.ok()) return key.status();
  request_key = std::move(*key);
  return Status::Ok();
}

void RecordStore::Impl::RequestKey(std::string_view inquirer, std::string_view request_id,
                                   char* out) const {
  crypto_generichash_state st;
  crypto_generichash_init(&st, request_key.data(), request_key.size(), kRequestKeyBytes);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(inquirer.data()),
                            inquirer.size());
  const uint8_t separator = 0;  // no agency code holds NUL: ("AB","1") and ("A","B1") differ
  crypto_generichash_update(&st, &separator, 1);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(request_id.data()),
                            request_id.size());
  crypto_generichash_final(&st, reinterpret_cast<uint8_t*>(out), kRequestKeyBytes);
}

bool RecordStore::Impl::RequestIndexKey(const Record& r, char* out) const {
  if (request_cf == nullptr || r.request_id.empty() || r.inquirer.empty()) return false;
  // The first record of each inquiry: accepted, refused, or refused as not held (an
  // outcome's not-held record puts the same key again, harmlessly).
  if (r.event != Event::kInquiryAccepted && r.event != Event::kInquiryRefused &&
      r.event != Event::kNotHeld) {
    return false;
  }
  RequestKey(r.inquirer, r.request_id, out);
  return true;
}

Result<bool> RecordStore::RequestIdUsed(std::string_view inquirer,
                                        std::string_view request_id) const {
  const Impl& d = *impl_;
  if (d.request_cf == nullptr) return false;
  char key[kRequestKeyBytes];
  d.RequestKey(inquirer, request_id, key);
  std::string value;
  rocksdb::Status s =
      d.db->Get(rocksdb::ReadOptions(), d.request_cf, rocksdb::Slice(key, sizeof(key)), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, "cannot read the request index");
  if (value.size() != 8) return Status::Corruption("the request index holds a malformed entry");
  // Kept as long as its record is: a purged record's request id is free again.
  return GetBigEndian64(value.data()) >= d.first_retained.load();
}

}  // namespace ipn::records
