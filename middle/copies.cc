// Registered copies (副本): validation, encoding, and register / supersede / delete / find.
#include <cctype>

#include "common/big_endian.h"
#include "middle/store_impl.h"
#include "policy/jst_date.h"

namespace ipn::middle {
namespace {

constexpr uint8_t kCopyFormat = 1;

bool Allowed(std::string_view s, size_t max, std::string_view extra) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void AppendField16(std::string_view s, std::string& out) {
  out.push_back(static_cast<char>(s.size() >> 8));
  out.push_back(static_cast<char>(s.size() & 0xff));
  out.append(s);
}

}  // namespace

Status CheckCopy(const Copy& copy) {
  if (!Allowed(copy.person, kMaxPersonNumber, "-")) {
    return Status::InvalidArgument("a person number is 1 to 32 of A-Z a-z 0-9 -");
  }
  if (!Allowed(copy.item, kMaxItemCode, "-_.")) {
    return Status::InvalidArgument("an item code is 1 to 64 of A-Z a-z 0-9 - _ .");
  }
  if (copy.content.size() > kMaxContentBytes) {
    return Status::InvalidArgument("the content is over 16 KiB");
  }
  if (copy.as_of.size() != 10 || !policy::JstDayStartMicros(copy.as_of).ok()) {
    return Status::InvalidArgument("as_of must be a date, YYYY-MM-DD");
  }
  return Status::Ok();
}

// u8 format | u32 version | u8 flag | u16+as_of | u16+person | u16+item | u32+content
std::string EncodeCopy(const Copy& copy) {
  std::string out(1, static_cast<char>(kCopyFormat));
  AppendBigEndian32(copy.version, out);
  out.push_back(copy.non_disclosure ? 1 : 0);
  AppendField16(copy.as_of, out);
  AppendField16(copy.person, out);
  AppendField16(copy.item, out);
  AppendBigEndian32(static_cast<uint32_t>(copy.content.size()), out);
  out.append(copy.content);
  return out;
}

Result<Copy> DecodeCopy(std::string_view bytes) {
  const Status bad = Status::Corruption("a stored copy is malformed");
  if (bytes.size() < 6 || static_cast<uint8_t>(bytes[0]) != kCopyFormat) return bad;
  Copy copy;
  copy.version = GetBigEndian32(bytes.data() + 1);
  copy.non_disclosure = bytes[5] != 0;
  size_t p = 6;
  for (std::string* field : {&copy.as_of, &copy.person, &copy.item}) {
    if (bytes.size() < p + 2) return bad;
    const size_t n = GetBigEndian16(bytes.data() + p);
    p += 2;
    if (bytes.size() < p + n) return bad;
    field->assign(bytes.substr(p, n));
    p += n;
  }
  if (bytes.size() < p + 4) return bad;
  const size_t n = GetBigEndian32(bytes.data() + p);
  p += 4;
  if (bytes.size() != p + n) return bad;
  copy.content.assign(bytes.substr(p, n));
  return copy;
}

Result<std::optional<Copy>> ReadCopy(const MiddleStore::Impl& impl, const TenantKeys& keys,
                                     const std::string& row_key) {
  auto plain = impl.GetOpened(keys, row_key);
  if (!plain.ok()) return plain.status();
  if (!plain->has_value()) return std::optional<Copy>();
  auto copy = DecodeCopy(**plain);
  if (!copy.ok()) return copy.status();
  return std::optional<Copy>(std::move(*copy));
}

// Register (`replace` false: there must be none) or supersede (`replace` true: there must
// be one); the stored version.
Result<uint32_t> MiddleStore::Impl::PutCopy(std::string_view tenant, const Copy& copy,
                                            bool replace) {
  IPN_RETURN_IF_ERROR(CheckCopy(copy));
  std::lock_guard<std::mutex> write(write_mu);
  auto keys = Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = RowKey(kCopyRow, tenant, **keys, copy.person, copy.item);
  auto existing = ReadCopy(*this, **keys, row);
  if (!existing.ok()) return existing.status();
  if (existing->has_value() && !replace) {
    return Status::AlreadyExists("a copy of " + copy.item + " for this person exists (version " +
                                 std::to_string((*existing)->version) + "); supersede it");
  }
  if (!existing->has_value() && replace) {
    return Status::NotFound("no copy of " + copy.item + " for this person to supersede");
  }
  Copy stored = copy;
  stored.version = existing->has_value() ? (*existing)->version + 1 : 1;
  rocksdb::WriteBatch batch;
  batch.Put(row, Seal(**keys, row, EncodeCopy(stored)));
  IPN_RETURN_IF_ERROR(Write(&batch));
  return stored.version;
}

Result<uint32_t> MiddleStore::Register(std::string_view tenant, const Copy& copy) {
  return impl_->PutCopy(tenant, copy, /*replace=*/false);
}

Result<uint32_t> MiddleStore::Supersede(std::string_view tenant, const Copy& copy) {
  return impl_->PutCopy(tenant, copy, /*replace=*/true);
}

Status MiddleStore::Delete(std::string_view tenant, std::string_view person,
                           std::string_view item) {
  std::lock_guard<std::mutex> write(impl_->write_mu);
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  const std::string row = Impl::RowKey(kCopyRow, tenant, **keys, person, item);
  auto existing = impl_->Get(row);
  if (!existing.ok()) return existing.status();
  if (!existing->has_value())
    return Status::NotFound("no copy of " + std::string(item) + " for this person");
  rocksdb::WriteBatch batch;
  batch.Delete(row);
  return impl_->Write(&batch);
}

Result<Copy> MiddleStore::Find(std::string_view tenant, std::string_view person,
                               std::string_view item) const {
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  auto copy = ReadCopy(*impl_, **keys, Impl::RowKey(kCopyRow, tenant, **keys, person, item));
  if (!copy.ok()) return copy.status();
  if (!copy->has_value())
    return Status::NotFound("no copy of " + std::string(item) + " for this person");
  return std::move(**copy);
}

}  // namespace ipn::middle
