// PersonMap: the log's commitment to every person's history, so that a citizen can check
// that the history shown to them is complete (no exchange dropped, added, duplicated,
// reordered or cut off) and the commission can check the exchanges withheld from them.
//
// Each person (keyed by record symbol) has two hash chains over the records that settle
// their exchanges (refused, provided, not held, failed, timed out), in log order:
//   disclosed — settling records without the non-disclosure flag (what the portal shows);
//   withheld  — settling records the provider flagged non-disclosure.
// Each chain's head is a leaf of its own sparse Merkle map keyed by record symbol, and a
// v2 signed tree head commits to both maps' roots. A citizen's proof opens only the
// disclosed map: a person whose only exchanges are withheld gets the same "absent" proof
// as a person with none, so nothing the page sees betrays a withheld exchange.
//
// Hashes (SHA-256, as the Merkle log; integers big-endian):
//   chain_0 = 32 zero bytes; chain_{i+1} = SHA-256(0x10 || chain_i || leaf hash of record i)
//   value  = SHA-256(0x11 || chain || u64 count)
//   leaf   = SHA-256(0x12 || record symbol || value)
//   inner  = SHA-256(0x13 || left || right); an empty subtree is 32 zero bytes
// The map is compact: a subtree holding one leaf is that leaf's hash (at whatever depth),
// so a proof is about log2(persons) hashes, not 256. Bits are taken most significant first.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "records/merkle.h"
#include "records/record.h"

namespace ipn::records {

using RecordSymbolBytes = std::array<uint8_t, 32>;

// Which of the person's chains a record extends: none (not a settling record, or an
// operator's action), disclosed or withheld.
enum class HistoryKind { kNone, kDisclosed, kWithheld };
HistoryKind HistoryKindOf(const Record& record);

Hash HistoryChainStep(const Hash& chain, const Hash& record_leaf_hash);
Hash HistoryValueHash(const Hash& chain, uint64_t count);
Hash MapLeafHash(const RecordSymbolBytes& key, const Hash& value_hash);
Hash MapNodeHash(const Hash& left, const Hash& right);

// One chain's state: its head and how many records it holds (0: the person is absent).
struct HistoryState {
  Hash chain{};
  uint64_t count = 0;
  bool operator==(const HistoryState&) const = default;
};

// Where the path from the root towards `key` ends, and the sibling hashes on the way
// (siblings[d] is the subtree beside the path at depth d + 1).
struct MapProof {
  enum class End : uint8_t { kLeaf = 1, kEmpty = 2, kOtherLeaf = 3 };
  RecordSymbolBytes key{};
  End end = End::kEmpty;
  HistoryState value;             // kLeaf: the key's chain
  RecordSymbolBytes other_key{};  // kOtherLeaf: the one key in the subtree where the path ends
  Hash other_value{};             // kOtherLeaf: its value hash (never its chain or count)
  std::vector<Hash> siblings;

  bool operator==(const MapProof&) const = default;
};

// The key's history as the map with `root` holds it (count 0: absent), or Corruption
// saying why the proof does not lead to `root`.
Result<HistoryState> VerifyMapProof(const MapProof& proof, const Hash& root);

// The chain over records' leaf hashes, in order.
HistoryState ChainOf(std::span<const Hash> leaf_hashes);

// Both chains of one person.
struct PersonHistories {
  RecordSymbolBytes key{};
  HistoryState disclosed, withheld;
};

// The maps, updated record by record, frozen into immutable snapshots whose roots a head
// signs and whose proofs the portal and the commission are served. Memory: about 150
// bytes per person plus ~2.5 MB. Not thread-safe: the store serialises updates and
// freezes; a snapshot may be read from any thread.
class PersonMap {
 public:
  static constexpr int kBucketBits = 14;  // 16,384 buckets under a fixed top of 14 levels

  class Snapshot;

  PersonMap();
  ~PersonMap();
  PersonMap(PersonMap&&) noexcept;
  PersonMap& operator=(PersonMap&&) noexcept;

  // Extends the record's person's chain if the record settles an exchange.
  void Apply(const Record& record, const Hash& record_leaf_hash);
  // Extends `person`'s disclosed or withheld chain by one settling record's leaf hash.
  void Extend(const RecordSymbolBytes& person, bool withheld, const Hash& record_leaf_hash);
  // Sets one person's state (loading a saved map).
  void Set(const PersonHistories& person);
  std::optional<PersonHistories> Get(const RecordSymbolBytes& key) const;

  // Computes the roots and returns an immutable copy (buckets shared until next changed).
  std::shared_ptr<const Snapshot> Freeze();
  // The persons changed since the last call (for saving beside a head), and forgets them.
  std::vector<PersonHistories> TakeChanged();
  // Marks them changed again (their saving failed).
  void RestoreChanged(const std::vector<PersonHistories>& persons);
  size_t persons() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

class PersonMap::Snapshot {
 public:
  const Hash& disclosed_root() const { return disclosed_root_; }
  const Hash& withheld_root() const { return withheld_root_; }
  // The proof for `key` in the disclosed or the withheld map.
  MapProof Prove(const RecordSymbolBytes& key, bool withheld) const;

 private:
  friend class PersonMap;
  struct Data;
  std::shared_ptr<const Data> data_;
  Hash disclosed_root_{}, withheld_root_{};
};

// Saved state of one person: key | disclosed chain | u64 count | withheld chain | u64 count.
std::string EncodePersonHistories(const PersonHistories& person);
Result<PersonHistories> DecodePersonHistories(std::string_view bytes);

}  // namespace ipn::records
