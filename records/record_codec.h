// Byte layouts of the record store (internal): the record body and
// leaf header, and the RocksDB keys of each column family. One place, so the store, the
// verifier and the tests agree on every byte.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/big_endian.h"
#include "common/status.h"
#include "records/record.h"

namespace ipn::records {

inline constexpr uint8_t kLeafFormat = 1;
// u8 format | u64 sequence | i64 time | 32-byte record symbol.
inline constexpr size_t kLeafHeaderBytes = 49;

// Times as unsigned big-endian with the sign bit flipped, so byte order is time order.
inline uint64_t OrderedTime(int64_t t) {
  return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);
}
inline int64_t TimeFromOrdered(uint64_t v) {
  return static_cast<int64_t>(v ^ (uint64_t{1} << 63));
}

// Stable one-byte codes of the events (1…8); never reuse or renumber.
std::optional<uint8_t> EventCode(Event event);
std::optional<Event> EventFromCode(uint8_t code);

void AppendLeafHeader(uint64_t sequence, int64_t time_unix_us,
                      std::span<const uint8_t, 32> record_symbol, std::string& out);
// u8 event code | u8 flags (bit 0: non-disclosure) | six (varint length, bytes) strings.
void AppendBody(const Record& record, std::string& out);
// Fills the body fields of `record`; rejects unknown codes, bad lengths and trailing bytes.
Status DecodeBody(std::string_view body, Record& record);

// --- Column families and keys ---
// records:   u64 sequence                                  -> stored value
// by_person: 32-byte record symbol | ~time | ~sequence     -> the same stored value
//            (time and sequence complemented, so a person's newest record comes first and
//            a history page is a forward prefix scan)
// by_time:   time | u64 sequence                            -> empty
// tree:      u8 level | u64 index                           -> 32-byte subtree hash
// heads:     u64 tree size | time                           -> encoded signed tree head
// by_request: keyed BLAKE2b(inquirer | 0 | request id)       -> u64 sequence
//            (the duplicate guard: which request ids each agency has used; keyed so that
//            request ids are not readable or guessable from the index)
// default:   metadata (format, next sequence, purge statement, key checks)
inline constexpr char kRecordsFamily[] = "records";
inline constexpr char kByPersonFamily[] = "by_person";
inline constexpr char kByTimeFamily[] = "by_time";
inline constexpr char kTreeFamily[] = "tree";
inline constexpr char kHeadsFamily[] = "heads";
inline constexpr char kByRequestFamily[] = "by_request";
inline constexpr size_t kRequestKeyBytes = 32;

inline constexpr size_t kPersonKeyBytes = 48;
inline constexpr size_t kTimeKeyBytes = 16;
inline constexpr size_t kNodeKeyBytes = 9;

// Only every fourth level of the tree is stored (0, 4, 8, …); the levels between are
// recomputed from at most eight stored hashes. This halves the tree's write cost.
inline constexpr int kStoredLevelStride = 4;

// The same keys written into caller buffers of the key's size (the append path).
void WritePersonKey(std::span<const uint8_t, 32> record_symbol, int64_t time_unix_us,
                    uint64_t sequence, char* out);
void WriteTimeKey(int64_t time_unix_us, uint64_t sequence, char* out);
void WriteNodeKey(int level, uint64_t index, char* out);

std::string SequenceKey(uint64_t sequence);
std::string PersonKey(std::span<const uint8_t, 32> record_symbol, int64_t time_unix_us,
                      uint64_t sequence);
std::string TimeKey(int64_t time_unix_us, uint64_t sequence);
// The parts of index keys (of exactly kPersonKeyBytes / kTimeKeyBytes).
inline uint64_t PersonKeySequence(const char* key) {
  return ~GetBigEndian64(key + 40);
}
inline int64_t PersonKeyTime(const char* key) {
  return TimeFromOrdered(~GetBigEndian64(key + 32));
}
inline uint64_t TimeKeySequence(const char* key) {
  return GetBigEndian64(key + 8);
}
std::string NodeKey(int level, uint64_t index);
std::string HeadKey(uint64_t tree_size, int64_t timestamp_us);

inline constexpr char kMetaFormat[] = "format";
inline constexpr char kMetaNextSequence[] = "next_sequence";
inline constexpr char kMetaPurge[] = "purge";
inline constexpr char kMetaKeyCheckPrefix[] = "keycheck/";
inline constexpr char kMetaUserPrefix[] = "user/";  // RecordStore::PutMeta's names
// The encryption key version the request index's hash key is derived from.
inline constexpr char kMetaRequestKeyVersion[] = "request_index/key_version";
// The per-person history map as of the latest head: the tree size it covers, and one row
// per person ("history/p/" + record symbol -> EncodePersonHistories without the key).
inline constexpr char kMetaHistorySize[] = "history/size";
inline constexpr char kMetaHistoryPrefix[] = "history/p/";

}  // namespace ipn::records
