// The person map: a tenant's internal person numbers <-> its agency symbols, both ways.
#include "middle/store_impl.h"

namespace ipn::middle {

Status MiddleStore::Bind(std::string_view tenant, std::string_view person,
                         std::string_view symbol) {
  Copy probe;  // the person number's rules are the copies'
  probe.person = std::string(person);
  probe.item = "x";
  probe.as_of = "2000-01-01";
  IPN_RETURN_IF_ERROR(CheckCopy(probe));
  if (symbol.empty() || symbol.size() > 128) {
    return Status::InvalidArgument("an agency symbol is 1 to 128 bytes");
  }
  std::lock_guard<std::mutex> write(impl_->write_mu);
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string by_person = Impl::RowKey(kPersonRow, tenant, **keys, person);
  const std::string by_symbol = Impl::RowKey(kSymbolRow, tenant, **keys, symbol);
  for (const auto& [row, value] :
       {std::pair{by_person, symbol}, std::pair{by_symbol, std::string_view(person)}}) {
    auto existing = impl_->Get(row);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value()) continue;
    auto plain = Impl::Open(**keys, row, **existing);
    if (!plain.ok()) return plain.status();
    if (*plain != value) {
      return Status::AlreadyExists("this person number or symbol is bound to another already");
    }
  }
  rocksdb::WriteBatch batch;  // both directions in one write: never half a binding
  batch.Put(by_person, Impl::Seal(**keys, by_person, symbol));
  batch.Put(by_symbol, Impl::Seal(**keys, by_symbol, person));
  return impl_->Write(&batch);
}

namespace {

Result<std::string> Lookup(const MiddleStore::Impl& impl, char kind, std::string_view tenant,
                           std::string_view key, const char* what) {
  auto keys = impl.Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = MiddleStore::Impl::RowKey(kind, tenant, **keys, key);
  auto sealed = impl.Get(row);
  if (!sealed.ok()) return sealed.status();
  if (!sealed->has_value()) return Status::NotFound(what);
  return MiddleStore::Impl::Open(**keys, row, **sealed);
}

}  // namespace

Result<std::string> MiddleStore::SymbolOf(std::string_view tenant, std::string_view person) const {
  return Lookup(*impl_, kPersonRow, tenant, person, "no symbol is bound to this person number");
}

Result<std::string> MiddleStore::PersonOf(std::string_view tenant, std::string_view symbol) const {
  return Lookup(*impl_, kSymbolRow, tenant, symbol, "no person number is bound to this symbol");
}

}  // namespace ipn::middle
