// EnrolmentStore: the portal's citizens, one entry per card (by the card's certificate
// serial, which carries nothing personal). An entry is made when the registry links the
// card to a person: the core issues the portal its own agency symbol for the card's
// holder (person reference "card:<serial>"), and that symbol is all the portal ever learns
// of who the holder is. The entry becomes an account when the holder enrols with a fresh
// card signature. Values sealed at rest (XChaCha20-Poly1305 under the portal's data key,
// bound to the serial). Nothing here is a resident code. RocksDB, synced writes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace rocksdb {
class DB;
}

namespace ipn::portal {

// The person reference under which the registry asks the core for the portal's symbol
// for a card's holder: "card:" followed by the card's serial.
inline constexpr std::string_view kCardPersonRefPrefix = "card:";

struct Enrolment {
  std::vector<uint8_t> agency_symbol;  // the portal's symbol for the person (binary)
  int64_t linked_unix_us = 0;          // when the registry linked the card
  int64_t enrolled_unix_us = 0;        // 0 until the holder enrols
};

class EnrolmentStore {
 public:
  // Opens (creating) DIR/enrolments and DIR/portal.key (0600, 32 random bytes).
  static Result<std::unique_ptr<EnrolmentStore>> Open(const std::string& dir);
  ~EnrolmentStore();

  // The registry linked card `serial` to the person whose portal symbol is `symbol`. A
  // second link of the same card replaces the symbol and keeps the enrolment.
  Status Link(std::string_view serial, std::span<const uint8_t> symbol, int64_t now_us);
  // The holder of a linked card enrols: NotFound when the card is not linked,
  // AlreadyExists when it is enrolled already. Returns the entry as enrolled.
  Result<Enrolment> Enrol(std::string_view serial, int64_t now_us);
  // NotFound when the card is not linked; enrolled_unix_us tells whether it is enrolled.
  Result<Enrolment> Find(std::string_view serial) const;

 private:
  EnrolmentStore() = default;
  Status Put(std::string_view serial, const Enrolment& e);
  Result<Enrolment> Get(std::string_view serial) const;
  std::mutex mu_;  // Link and Enrol read, then write the same entry
  std::unique_ptr<rocksdb::DB> db_;
  SecretBytes key_;
};

}  // namespace ipn::portal
