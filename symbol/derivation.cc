// Symbol constructions on libsodium: crypto_generichash (keyed BLAKE2b) and
// crypto_core_hchacha20 (the XChaCha20 subkey function, used as the SIV pad).
#include "symbol/derivation.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cassert>

#include "common/big_endian.h"
#include "common/secret.h"

namespace ipn::symbol {
namespace {

constexpr size_t kVersionSize = 2;
constexpr size_t kCiphertextOffset = kVersionSize + kTagSize;
static_assert(kCiphertextOffset + LinkageSymbol::kSize == AgencySymbol::kSize);

void ComputeTag(std::span<const uint8_t> mac_key, const uint8_t* version_be,
                std::string_view agency_code, const uint8_t* linkage, uint8_t* tag) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, mac_key.data(), mac_key.size(), kTagSize);
  crypto_generichash_update(&state, version_be, kVersionSize);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(agency_code.data()),
                            agency_code.size());
  crypto_generichash_update(&state, linkage, LinkageSymbol::kSize);
  crypto_generichash_final(&state, tag, kTagSize);
  ipn::Wipe(&state, sizeof(state));
}

// XORs `in` (32 bytes) with the pad HChaCha20(enc_key, tag) into `out`. HChaCha20 maps a
// 16-byte input to 32 pseudorandom bytes under a 256-bit key: it is the subkey XChaCha20
// derives from the first 16 bytes of its nonce, and XChaCha20's security rests on exactly
// this PRF property. One ChaCha core instead of the two a crypto_stream_xchacha20 call costs.
void XorPad(const uint8_t* enc_key, const uint8_t* tag, const uint8_t* in, uint8_t* out) {
  static_assert(crypto_core_hchacha20_INPUTBYTES == kTagSize);
  static_assert(crypto_core_hchacha20_OUTPUTBYTES == LinkageSymbol::kSize);
  std::array<uint8_t, crypto_core_hchacha20_OUTPUTBYTES> pad;
  crypto_core_hchacha20(pad.data(), tag, enc_key, nullptr);
  for (size_t i = 0; i < pad.size(); ++i) out[i] = in[i] ^ pad[i];
  ipn::Wipe(pad.data(), pad.size());
}

}  // namespace

void DeriveLinkageSymbol(std::span<const uint8_t> linkage_key, const ResidentCode& code,
                         LinkageSymbol* out) {
  assert(linkage_key.size() == kKeySize && !code.wiped());
  auto digits = code.digits();
  crypto_generichash(out->data(), LinkageSymbol::kSize, digits.data(), digits.size(),
                     linkage_key.data(), linkage_key.size());
}

AgencySymbol SealAgencySymbol(std::span<const uint8_t> agency_key, uint16_t version,
                              std::string_view agency_code, const LinkageSymbol& linkage) {
  assert(agency_key.size() == kAgencyKeySize);
  AgencySymbol symbol;
  uint8_t* out = symbol.bytes.data();
  PutBigEndian16(version, out);
  ComputeTag(agency_key.first(kKeySize), out, agency_code, linkage.data(), out + kVersionSize);
  XorPad(agency_key.data() + kKeySize, out + kVersionSize, linkage.data(), out + kCiphertextOffset);
  return symbol;
}

bool OpenAgencySymbol(std::span<const uint8_t> agency_key, std::string_view agency_code,
                      const AgencySymbol& symbol, LinkageSymbol* out) {
  assert(agency_key.size() == kAgencyKeySize);
  const uint8_t* in = symbol.bytes.data();
  XorPad(agency_key.data() + kKeySize, in + kVersionSize, in + kCiphertextOffset, out->data());
  std::array<uint8_t, kTagSize> expected;
  ComputeTag(agency_key.first(kKeySize), in, agency_code, out->data(), expected.data());
  if (crypto_verify_16(expected.data(), in + kVersionSize) != 0) {
    ipn::Wipe(out->data(), LinkageSymbol::kSize);
    return false;
  }
  return true;
}

RecordSymbol DeriveRecordSymbol(std::span<const uint8_t> record_symbol_key,
                                const LinkageSymbol& linkage) {
  assert(record_symbol_key.size() == kKeySize);
  RecordSymbol record;
  crypto_generichash(record.bytes.data(), record.bytes.size(), linkage.data(), LinkageSymbol::kSize,
                     record_symbol_key.data(), record_symbol_key.size());
  return record;
}

}  // namespace ipn::symbol
