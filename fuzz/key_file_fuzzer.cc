// Fuzz target: the key files an operator keeps — the symbol key ring file's clear header
// (selector 0; the rest is authenticated encryption, which no fuzzer passes), the key
// ring's plaintext form as it is read after decryption (1), and the records key file's
// JSON (2). A ring that deserializes serializes to bytes that deserialize again.
#include <span>

#include "fuzz/fuzz_check.h"
#include "records/key_file.h"
#include "symbol/key_ring.h"
#include "symbol/key_ring_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ipn::fuzz::FuzzInput in(data, size);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(in.rest.data()),
                                       in.rest.size());
  switch (in.selector % 3) {
    case 0: (void)ipn::symbol::ParseKeyRingFileHeader(bytes, "fuzz.keyring"); break;
    case 1: {
      auto ring = ipn::symbol::KeyRing::Deserialize(bytes);
      if (!ring.ok()) break;
      ipn::SecretBytes plain = ring->Serialize();
      FUZZ_CHECK(ipn::symbol::KeyRing::Deserialize(plain.span()).ok());
      break;
    }
    default: (void)ipn::records::ParseKeyFile(in.rest); break;
  }
  return 0;
}
