// EnrolmentStore: the portal's enrolled citizens. For each credential public key
// (Ed25519, whose private part stays in the citizen's browser), the portal's own agency
// symbol for that person, sealed at rest (XChaCha20-Poly1305 under the portal's data key,
// bound to the public key). Nothing here is a resident code. RocksDB, synced writes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace rocksdb {
class DB;
}

namespace ipn::portal {

using CredentialKey = std::array<uint8_t, 32>;

struct Enrolment {
  std::vector<uint8_t> agency_symbol;  // the portal's symbol for the person (binary)
  int64_t enrolled_unix_us = 0;
};

class EnrolmentStore {
 public:
  // Opens (creating) DIR/enrolments and DIR/portal.key (0600, 32 random bytes).
  static Result<std::unique_ptr<EnrolmentStore>> Open(const std::string& dir);
  ~EnrolmentStore();

  // AlreadyExists when the credential is enrolled already.
  Status Add(const CredentialKey& credential, const Enrolment& enrolment);
  // NotFound when the credential is not enrolled.
  Result<Enrolment> Find(const CredentialKey& credential) const;

 private:
  EnrolmentStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  SecretBytes key_;
};

}  // namespace ipn::portal
