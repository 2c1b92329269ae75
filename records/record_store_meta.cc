// RecordStore: named metadata of the store's users (PutMeta, GetMeta), kept in the
// store's meta column family beside the store's own state keys, under their own prefix
// so that no name can overwrite the format marker, the tree size or a key check.
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr size_t kMaxMetaNameBytes = 128;
constexpr size_t kMaxMetaValueBytes = 64 << 10;

Status CheckMetaName(std::string_view name) {
  if (name.empty() || name.size() > kMaxMetaNameBytes) {
    return Status::InvalidArgument("a metadata name is 1 to 128 bytes");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return Status::InvalidArgument("a metadata name is made of a-z, 0-9, '_' and '.'");
  }
  return Status::Ok();
}

std::string MetaKey(std::string_view name) {
  return std::string(kMetaUserPrefix) + std::string(name);
}

}  // namespace

Status RecordStore::PutMeta(std::string_view name, std::string_view value) {
  IPN_RETURN_IF_ERROR(CheckMetaName(name));
  if (value.size() > kMaxMetaValueBytes) {
    return Status::InvalidArgument("a metadata value is at most 64 KiB");
  }
  if (impl_->options.read_only) {
    return Status::FailedPrecondition("the record store is open read-only");
  }
  rocksdb::WriteOptions wo;
  // One Put is atomic; the sync makes it durable before the caller goes on (as the
  // store's own metadata writes are), bulk load aside.
  wo.sync = !impl_->options.bulk_load;
  wo.disableWAL = impl_->options.bulk_load;
  rocksdb::Status s = impl_->db->Put(wo, impl_->meta_cf, MetaKey(name), value);
  return s.ok() ? Status::Ok() : FromRocks(s, "cannot write record store metadata");
}

Result<std::string> RecordStore::GetMeta(std::string_view name) const {
  IPN_RETURN_IF_ERROR(CheckMetaName(name));
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(impl_->ReadMeta(rocksdb::ReadOptions(), MetaKey(name), &value, &found));
  if (!found) return Status::NotFound("no record store metadata named " + std::string(name));
  return value;
}

}  // namespace ipn::records
