// A provision record (情報提供等記録): one event in the life of an inquiry — who asked
// whom for which item under which business, when, and how it ended. Never the content
// of an answer. Also the record's canonical leaf encoding, which is what the Merkle
// log commits to, so anyone holding a record can check its inclusion proof.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "records/merkle.h"

namespace ipn::records {

enum class Event {
  kInquiryAccepted,  // the core accepted an inquiry and will forward it
  kInquiryRefused,   // the core refused an inquiry (outcome = the reason)
  kForwarded,        // the inquiry reached the provider's node
  kProvided,         // the provider answered (content went node to node, not here)
  kNotHeld,          // the provider holds nothing for this person and item
  kFailed,           // the provider or a node reported a failure
  kTimedOut,         // no definite answer within the deadline
  kReceived,         // the inquirer's node confirmed receipt
  // An operator's or the commission's action on the core (policy load, agency status
  // change, key rotation, record pull, refused pull). Kept under kAuditRecordSymbol:
  // inquirer = who acted, provider = the agency concerned (if any), business = the
  // action, item = its detail, outcome = "ok" or why it was refused.
  kOperatorAction,
};

// The record symbol under which operator actions are recorded (32 zero bytes; a
// person's record symbol is a keyed hash, so it cannot collide in practice).
inline constexpr std::array<uint8_t, 32> kAuditRecordSymbol{};

// "inquiry_accepted", "inquiry_refused", "forwarded", "provided", "not_held", "failed",
// "timed_out", "received", "operator_action".
const char* EventName(Event event);
std::optional<Event> ParseEvent(std::string_view name);

struct Record {
  uint64_t sequence = 0;     // assigned by the store: 0, 1, 2, … (the Merkle leaf index)
  int64_t time_unix_us = 0;  // UTC microseconds; 0 = the store's clock at append
  Event event = Event::kInquiryAccepted;
  std::array<uint8_t, 32> record_symbol{};  // 情報提供等記録用符号: whose record this is
  std::string inquirer;                     // agency code of the inquiring agency
  std::string provider;                     // agency code of the providing agency
  std::string business;                     // business code (事務)
  std::string item;                         // item code (特定個人情報の項目)
  std::string request_id;                   // the inquiry's request id
  std::string outcome;                      // outcome, or the refusal reason
  bool non_disclosure =
      false;  // the provider declared the content not to be disclosed to the person

  bool operator==(const Record&) const = default;
};

// Field limits (bytes). Every string must be valid UTF-8 without control characters.
inline constexpr size_t kMaxCodeBytes = 64;  // inquirer, provider, business, item
inline constexpr size_t kMaxRequestIdBytes = 128;
inline constexpr size_t kMaxOutcomeBytes = 4096;

// Checks what a caller supplies before an append (the inquirer must be named; fields
// within their limits). Sequence and time are not checked here.
Status ValidateRecord(const Record& record);
// One field's rule (at most `max_bytes`, clean UTF-8 text): for callers that check what
// they will record before they build a Record. The error names `name`.
Status CheckRecordField(std::string_view name, std::string_view value, size_t max_bytes);

// The canonical leaf encoding (format 1):
//   u8 1 | u64 sequence | i64 time | 32-byte record symbol | body
// where body = u8 event code | u8 flags | six (varint length, bytes) strings in the order
// inquirer, provider, business, item, request id, outcome. Integers big-endian.
std::string EncodeLeaf(const Record& record);
Result<Record> DecodeLeaf(std::string_view leaf);

// The Merkle leaf hash of a record: SHA-256(0x00 || EncodeLeaf(record)).
Hash RecordLeafHash(const Record& record);

}  // namespace ipn::records
