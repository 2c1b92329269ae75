// The symbol constructions, as pure functions of keys and inputs (no state, no I/O):
//   linkage = BLAKE2b-256(key = linkage key, msg = the 11 ASCII digits of the code)
//   agency  = version || tag || ciphertext, where (a deterministic SIV construction)
//             tag        = BLAKE2b-128(key = agency MAC key, version || agency code || linkage)
//             ciphertext = linkage XOR HChaCha20(key = agency ENC key, input = tag)
//             (HChaCha20 is XChaCha20's subkey function: a PRF from the 16-byte tag to a
//             32-byte pad, exactly the size of the linkage symbol)
//   record  = BLAKE2b-256(key = record-symbol key, msg = linkage)
// Opening an agency symbol decrypts, recomputes the tag and compares in constant time, so
// an altered, forged or other agency's symbol is rejected, never mapped to another person.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "symbol/resident_code.h"
#include "symbol/symbol_types.h"

namespace ipn::symbol {

// Size of every single-purpose key (linkage, record-symbol, index keys).
inline constexpr size_t kKeySize = 32;
// One agency's key at one version: MAC key (32 bytes) || ENC key (32 bytes).
inline constexpr size_t kAgencyKeySize = 64;
inline constexpr size_t kTagSize = 16;

void DeriveLinkageSymbol(std::span<const uint8_t> linkage_key, const ResidentCode& code,
                         LinkageSymbol* out);

AgencySymbol SealAgencySymbol(std::span<const uint8_t> agency_key, uint16_t version,
                              std::string_view agency_code, const LinkageSymbol& linkage);

// True and *out set when `symbol` is genuine under `agency_key` (the key of the version the
// symbol names) for `agency_code`; false (and *out zero) otherwise.
bool OpenAgencySymbol(std::span<const uint8_t> agency_key, std::string_view agency_code,
                      const AgencySymbol& symbol, LinkageSymbol* out);

RecordSymbol DeriveRecordSymbol(std::span<const uint8_t> record_symbol_key,
                                const LinkageSymbol& linkage);

}  // namespace ipn::symbol
