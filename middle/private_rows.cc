// MiddleStore: a tenant's private rows other than copies and the person map — its staff
// accounts, its audit log, its by-hand items and its ordered rows (exchange log, batch
// files) — sealed under the tenant's key like everything it holds.
#include <nlohmann/json.hpp>

#include "common/big_endian.h"
#include "middle/store_impl.h"

namespace ipn::middle {
namespace {

std::string AuditPrefix(std::string_view tenant) {
  return std::string(1, kAuditRow) + std::string(tenant) + '\0';
}

std::string AuditKey(std::string_view tenant, uint64_t seq) {
  // The sequence number is in the clear (it says nothing of anyone) so that the log is
  // read in order; the entry itself is sealed.
  std::string key = AuditPrefix(tenant);
  AppendBigEndian64(seq, key);
  return key;
}

std::string TreeKey(std::string_view tenant) {
  return std::string(1, kAuditTreeRow) + std::string(tenant) + '\0';
}

}  // namespace

Status MiddleStore::PutAccount(std::string_view tenant, std::string_view name,
                               std::string_view value) {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = Impl::RowKey(kAccountRow, tenant, **keys, name);
  rocksdb::WriteBatch batch;
  batch.Put(row, Impl::Seal(**keys, row, value));
  return impl_->Write(&batch);
}

Result<std::optional<std::string>> MiddleStore::GetAccount(std::string_view tenant,
                                                           std::string_view name) const {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = Impl::RowKey(kAccountRow, tenant, **keys, name);
  return impl_->GetOpened(**keys, row);
}

Result<bool> MiddleStore::HasAccounts(std::string_view tenant) const {
  IPN_RETURN_IF_ERROR(impl_->Keys(tenant).status());
  const std::string prefix = std::string(1, kAccountRow) + std::string(tenant) + '\0';
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  it->Seek(prefix);
  if (!it->status().ok())
    return Status::IoError("cannot read the accounts: " + it->status().ToString());
  return it->Valid() && it->key().starts_with(prefix);
}

Status MiddleStore::PutAudit(std::string_view tenant, uint64_t seq, std::string_view value,
                             std::string_view tree) {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = AuditKey(tenant, seq);
  const std::string tree_row = TreeKey(tenant);
  rocksdb::WriteBatch batch;  // never an entry without the tree that covers it
  batch.Put(row, Impl::Seal(**keys, row, value));
  batch.Put(tree_row, Impl::Seal(**keys, tree_row, tree));
  return impl_->Write(&batch, /*sync=*/false);  // AuditLog syncs within kAuditSyncUs
}

Status MiddleStore::SyncAudit() {
  rocksdb::Status s = impl_->db->SyncWAL();
  return s.ok() ? Status::Ok() : Status::IoError("cannot sync the middle store: " + s.ToString());
}

Result<std::optional<std::string>> MiddleStore::GetAuditTree(std::string_view tenant) const {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = TreeKey(tenant);
  return impl_->GetOpened(**keys, row);
}

Result<std::vector<std::pair<uint64_t, std::string>>> MiddleStore::ListAudit(
    std::string_view tenant, uint64_t after_seq, size_t limit) const {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string prefix = AuditPrefix(tenant);
  std::vector<std::pair<uint64_t, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(AuditKey(tenant, after_seq + 1));
       it->Valid() && it->key().starts_with(prefix) && out.size() < limit; it->Next()) {
    const std::string row = it->key().ToString();
    if (row.size() != prefix.size() + 8) return Status::Corruption("an audit row's key");
    auto plain = Impl::Open(**keys, row, it->value().ToStringView());
    if (!plain.ok()) return plain.status();
    out.emplace_back(GetBigEndian64(row.data() + prefix.size()), std::move(*plain));
  }
  if (!it->status().ok())
    return Status::IoError("cannot read the audit log: " + it->status().ToString());
  return out;
}

}  // namespace ipn::middle

namespace ipn::middle {
namespace {

std::string OrderedPrefix(MiddleStore::Ordered kind, std::string_view tenant) {
  return std::string(1, static_cast<char>(kind)) + std::string(tenant) + '\0';
}

}  // namespace

Status MiddleStore::PutOrdered(Ordered kind, std::string_view tenant,
                               const std::vector<std::pair<std::string, std::string>>& rows,
                               bool sync) {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string prefix = OrderedPrefix(kind, tenant);
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : rows) {
    const std::string row = prefix + key;
    batch.Put(row, Impl::Seal(**keys, row, value));
  }
  return impl_->Write(&batch, sync);
}

Result<std::vector<std::pair<std::string, std::string>>> MiddleStore::ListOrdered(
    Ordered kind, std::string_view tenant, std::string_view prefix, std::string_view after,
    size_t limit) const {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string base = OrderedPrefix(kind, tenant);
  const std::string start = base + std::string(prefix);
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  it->Seek(after.empty() ? start : base + std::string(after));
  if (!after.empty() && it->Valid() && it->key() == rocksdb::Slice(base + std::string(after))) {
    it->Next();
  }
  for (; it->Valid() && it->key().starts_with(start) && out.size() < limit; it->Next()) {
    const std::string row = it->key().ToString();
    auto plain = Impl::Open(**keys, row, it->value().ToStringView());
    if (!plain.ok()) return plain.status();
    out.emplace_back(row.substr(base.size()), std::move(*plain));
  }
  if (!it->status().ok())
    return Status::IoError("cannot read the store: " + it->status().ToString());
  return out;
}

Status MiddleStore::DeleteOrdered(Ordered kind, std::string_view tenant, std::string_view prefix) {
  IPN_RETURN_IF_ERROR(impl_->Keys(tenant).status());
  const std::string start = OrderedPrefix(kind, tenant) + std::string(prefix);
  // The keys under `start` are at most 16 bytes longer, all below this bound.
  const std::string end = start + std::string(32, '\xff');
  rocksdb::WriteBatch batch;
  batch.DeleteRange(start, end);
  return impl_->Write(&batch);
}

Result<std::optional<std::string>> MiddleStore::LastOrdered(Ordered kind, std::string_view tenant,
                                                            std::string_view prefix) const {
  IPN_RETURN_IF_ERROR(impl_->Keys(tenant).status());
  const std::string base = OrderedPrefix(kind, tenant);
  const std::string start = base + std::string(prefix);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  // Every key under `start` sorts before `start` followed by 0xff bytes past any key's
  // length (the keys are at most 16 bytes of numbers).
  it->SeekForPrev(start + std::string(32, '\xff'));
  if (!it->status().ok())
    return Status::IoError("cannot read the store: " + it->status().ToString());
  if (!it->Valid() || !it->key().starts_with(start)) return std::optional<std::string>();
  return std::optional<std::string>(it->key().ToString().substr(base.size()));
}

}  // namespace ipn::middle

namespace ipn::middle {
namespace {

std::string ByHandKey(std::string_view tenant) {
  return std::string(1, kByHandRow) + std::string(tenant) + '\0';
}

}  // namespace

Status MiddleStore::SetByHandItems(std::string_view tenant, const std::set<std::string>& items) {
  if (items.size() > kMaxByHandItems) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxByHandItems) +
                                   " items are answered by hand");
  }
  for (const std::string& item : items) {
    Copy probe{"x", item, "", "2000-01-01", false, 0};  // an item code's rules are the copies'
    Status ok = CheckCopy(probe);
    if (!ok.ok()) return ok;
  }
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = ByHandKey(tenant);
  rocksdb::WriteBatch batch;
  batch.Put(row, Impl::Seal(**keys, row, nlohmann::json(items).dump()));
  std::lock_guard<std::mutex> lock(impl_->by_hand_mu);  // the row and the cache agree
  IPN_RETURN_IF_ERROR(impl_->Write(&batch));
  impl_->by_hand[std::string(tenant)] = items;
  return Status::Ok();
}

Result<bool> MiddleStore::IsAnsweredByHand(std::string_view tenant, std::string_view item) const {
  {
    std::lock_guard<std::mutex> lock(impl_->by_hand_mu);
    auto it = impl_->by_hand.find(tenant);
    if (it != impl_->by_hand.end()) return it->second.count(std::string(item)) != 0;
  }
  Result<std::set<std::string>> items = ByHandItems(tenant);
  if (!items.ok()) return items.status();
  const bool named = items->count(std::string(item)) != 0;
  std::lock_guard<std::mutex> lock(impl_->by_hand_mu);
  impl_->by_hand.emplace(std::string(tenant), std::move(*items));  // unless a Set came first
  return named;
}

Result<std::set<std::string>> MiddleStore::ByHandItems(std::string_view tenant) const {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  auto plain = impl_->GetOpened(**keys, ByHandKey(tenant));
  if (!plain.ok()) return plain.status();
  if (!plain->has_value()) return std::set<std::string>();
  nlohmann::json list = nlohmann::json::parse(**plain, nullptr, false);
  if (!list.is_array()) return Status::Corruption("the by-hand items");
  std::set<std::string> out;
  for (const auto& item : list) {
    if (!item.is_string()) return Status::Corruption("the by-hand items");
    out.insert(item.get<std::string>());
  }
  return out;
}

}  // namespace ipn::middle
