// Symbol value types: wiping of the linkage symbol, agency symbol encodings.
#include "symbol/symbol_types.h"

#include <sodium.h>

#include <algorithm>

#include "common/big_endian.h"
#include "common/encoding.h"
#include "common/secret.h"

namespace ipn::symbol {

LinkageSymbol::LinkageSymbol(LinkageSymbol&& other) noexcept : bytes_(other.bytes_) {
  ipn::Wipe(other.bytes_.data(), other.bytes_.size());
}

LinkageSymbol& LinkageSymbol::operator=(LinkageSymbol&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    ipn::Wipe(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

LinkageSymbol::~LinkageSymbol() {
  ipn::Wipe(bytes_.data(), bytes_.size());
}

bool LinkageSymbol::Equals(const LinkageSymbol& other) const {
  return crypto_verify_32(bytes_.data(), other.bytes_.data()) == 0;
}

uint16_t AgencySymbol::key_version() const {
  return GetBigEndian16(bytes.data());
}

std::string AgencySymbol::ToPrintable() const {
  return Base32Encode(bytes);
}

Result<AgencySymbol> AgencySymbol::FromPrintable(std::string_view text) {
  if (text.size() != kPrintableSize) {
    return Status::InvalidArgument(
        "invalid symbol: the printable form must be exactly 80 characters");
  }
  auto decoded = Base32Decode(text);
  if (!decoded.ok()) {
    return Status::InvalidArgument(
        "invalid symbol: the printable form has a character outside the Crockford base32 "
        "alphabet");
  }
  return FromBinary(*decoded);
}

Result<AgencySymbol> AgencySymbol::FromBinary(std::span<const uint8_t> data) {
  if (data.size() != kSize) {
    return Status::InvalidArgument("invalid symbol: the binary form must be exactly 50 bytes");
  }
  AgencySymbol symbol;
  std::copy(data.begin(), data.end(), symbol.bytes.begin());
  if (symbol.key_version() == 0) {
    return Status::InvalidArgument("invalid symbol: key version 0 does not exist");
  }
  return symbol;
}

}  // namespace ipn::symbol
