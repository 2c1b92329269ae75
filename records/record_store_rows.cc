// RecordStore: every stored row under one snapshot (ForEachRow), for backups.
#include <rocksdb/db.h>

#include "records/store_impl.h"

namespace ipn::records {

Status RecordStore::ForEachRow(const RowVisitor& visit) const {
  rocksdb::DB* db = impl_->db.get();
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;       // a backup reads everything once: keep the cache for the service
  ro.total_order_seek = true;  // the by-person family has a prefix extractor
  Status result = Status::Ok();
  for (rocksdb::ColumnFamilyHandle* cf : impl_->handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    const std::string family = cf->GetName();
    for (it->SeekToFirst(); result.ok() && it->Valid(); it->Next()) {
      result = visit(family, it->key().ToStringView(), it->value().ToStringView());
    }
    if (result.ok() && !it->status().ok()) {
      result = FromRocks(it->status(), "cannot read the record store for a backup");
    }
    if (!result.ok()) break;
  }
  db->ReleaseSnapshot(snapshot);
  return result;
}

}  // namespace ipn::records
