// PersonMap: per-person history chains and the two compact sparse Merkle maps over them
// (see person_map.h for the hashes). Layout: 2^kBucketBits buckets, chosen by the key's
// first bits, each a sorted vector of persons with its two subtree hashes cached; above
// them a fixed heap of 2^(kBucketBits+1) nodes per map. A change marks its bucket dirty;
// Freeze recomputes dirty buckets and the top nodes above them. Buckets are shared with
// snapshots and copied on the first change after a freeze.
#include "records/person_map.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "common/big_endian.h"

namespace ipn::records {
namespace {

constexpr size_t kBuckets = size_t{1} << PersonMap::kBucketBits;

Hash Sha256Of(uint8_t tag, std::initializer_list<std::span<const uint8_t>> parts) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, &tag, 1);
  for (std::span<const uint8_t> p : parts) crypto_hash_sha256_update(&state, p.data(), p.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

bool Bit(const RecordSymbolBytes& key, int depth) {
  return ((key[static_cast<size_t>(depth) / 8] >> (7 - depth % 8)) & 1) != 0;
}

size_t BucketOf(const RecordSymbolBytes& key) {
  static_assert(PersonMap::kBucketBits <= 16);
  const unsigned first = (unsigned{key[0]} << 8) | key[1];
  return first >> (16 - PersonMap::kBucketBits);
}

// A subtree's hash and whether it is empty, one leaf (which collapses upwards past empty
// siblings) or inner.
struct Node {
  enum Kind : uint8_t { kEmpty = 0, kLeaf = 1, kInner = 2 };
  Hash hash{};
  Kind kind = kEmpty;
  uint16_t bucket = 0;  // kLeaf in the top: the bucket holding the leaf
};

Node Combine(const Node& left, const Node& right) {
  if (left.kind == Node::kEmpty && right.kind != Node::kInner) return right;
  if (right.kind == Node::kEmpty && left.kind != Node::kInner) return left;
  return Node{MapNodeHash(left.hash, right.hash), Node::kInner, 0};
}

// (key, leaf hash) of one map's persons in a bucket, sorted by key.
using Leaves = std::vector<std::pair<RecordSymbolBytes, Hash>>;

// The compact subtree over `leaves` (all sharing their first `depth` bits).
Node Subtree(std::span<const std::pair<RecordSymbolBytes, Hash>> leaves, int depth) {
  if (leaves.empty()) return Node{};
  if (leaves.size() == 1) return Node{leaves[0].second, Node::kLeaf, 0};
  auto split = std::partition_point(leaves.begin(), leaves.end(),
                                    [&](const auto& l) { return !Bit(l.first, depth); });
  const size_t at = static_cast<size_t>(split - leaves.begin());
  return Combine(Subtree(leaves.subspan(0, at), depth + 1), Subtree(leaves.subspan(at), depth + 1));
}

Hash LeafOf(const RecordSymbolBytes& key, const HistoryState& s) {
  return MapLeafHash(key, HistoryValueHash(s.chain, s.count));
}

struct Bucket {
  std::vector<PersonHistories> persons;  // sorted by key
  Node disclosed, withheld;              // cached by Freeze

  Leaves LeavesOf(bool withheld_map) const {
    Leaves out;
    for (const PersonHistories& p : persons) {
      const HistoryState& s = withheld_map ? p.withheld : p.disclosed;
      if (s.count > 0) out.emplace_back(p.key, LeafOf(p.key, s));
    }
    return out;
  }
};

struct KeyHash {
  size_t operator()(const RecordSymbolBytes& k) const {
    size_t h;
    std::memcpy(&h, k.data(), sizeof(h));
    return h;
  }
};

}  // namespace

HistoryKind HistoryKindOf(const Record& record) {
  if (record.record_symbol == kAuditRecordSymbol) return HistoryKind::kNone;
  switch (record.event) {
    case Event::kInquiryRefused:
    case Event::kProvided:
    case Event::kNotHeld:
    case Event::kFailed:
    case Event::kTimedOut:
      return record.non_disclosure ? HistoryKind::kWithheld : HistoryKind::kDisclosed;
    default: return HistoryKind::kNone;
  }
}

Hash HistoryChainStep(const Hash& chain, const Hash& record_leaf_hash) {
  return Sha256Of(0x10, {chain, record_leaf_hash});
}

Hash HistoryValueHash(const Hash& chain, uint64_t count) {
  uint8_t n[8];
  PutBigEndian64(count, n);
  return Sha256Of(0x11, {chain, n});
}

Hash MapLeafHash(const RecordSymbolBytes& key, const Hash& value_hash) {
  return Sha256Of(0x12, {key, value_hash});
}

Hash MapNodeHash(const Hash& left, const Hash& right) {
  return Sha256Of(0x13, {left, right});
}

HistoryState ChainOf(std::span<const Hash> leaf_hashes) {
  HistoryState s;
  for (const Hash& h : leaf_hashes) {
    s.chain = HistoryChainStep(s.chain, h);
    ++s.count;
  }
  return s;
}

Result<HistoryState> VerifyMapProof(const MapProof& proof, const Hash& root) {
  const size_t depth = proof.siblings.size();
  if (depth > 256) return Status::Corruption("the map proof is longer than 256 levels");
  Hash node{};
  HistoryState found;
  switch (proof.end) {
    case MapProof::End::kLeaf:
      if (proof.value.count == 0)
        return Status::Corruption("the map proof's leaf holds no records");
      node = LeafOf(proof.key, proof.value);
      found = proof.value;
      break;
    case MapProof::End::kEmpty: break;
    case MapProof::End::kOtherLeaf:
      if (proof.other_key == proof.key) {
        return Status::Corruption("the map proof's other leaf is the key itself");
      }
      for (size_t d = 0; d < depth; ++d) {
        if (Bit(proof.other_key, static_cast<int>(d)) != Bit(proof.key, static_cast<int>(d))) {
          return Status::Corruption("the map proof's other leaf is not on the key's path");
        }
      }
      node = MapLeafHash(proof.other_key, proof.other_value);
      break;
    default: return Status::Corruption("the map proof has no valid end");
  }
  for (size_t d = depth; d-- > 0;) {
    node = Bit(proof.key, static_cast<int>(d)) ? MapNodeHash(proof.siblings[d], node)
                                               : MapNodeHash(node, proof.siblings[d]);
  }
  if (sodium_memcmp(node.data(), root.data(), root.size()) != 0) {
    return Status::Corruption("the map proof does not lead to the signed root");
  }
  return found;
}

// --- the map ---

struct PersonMap::State {
  std::vector<std::shared_ptr<Bucket>> buckets = std::vector<std::shared_ptr<Bucket>>(kBuckets);
  std::vector<Node> top_disclosed = std::vector<Node>(2 * kBuckets);  // heap: 1 = root
  std::vector<Node> top_withheld = std::vector<Node>(2 * kBuckets);
  std::vector<uint8_t> dirty = std::vector<uint8_t>(kBuckets, 0);
  std::vector<size_t> dirty_list;
  std::unordered_set<RecordSymbolBytes, KeyHash> changed;
  size_t persons = 0;

  // The person's entry, created if absent; its bucket made private to the map first.
  PersonHistories& Entry(const RecordSymbolBytes& key) {
    const size_t b = BucketOf(key);
    std::shared_ptr<Bucket>& bucket = buckets[b];
    if (!bucket) {
      bucket = std::make_shared<Bucket>();
    } else if (bucket.use_count() > 1) {
      bucket = std::make_shared<Bucket>(*bucket);  // a snapshot holds the old one
    }
    if (!dirty[b]) {
      dirty[b] = 1;
      dirty_list.push_back(b);
    }
    changed.insert(key);
    auto it = std::lower_bound(
        bucket->persons.begin(), bucket->persons.end(), key,
        [](const PersonHistories& p, const RecordSymbolBytes& k) { return p.key < k; });
    if (it == bucket->persons.end() || it->key != key) {
      it = bucket->persons.insert(it, PersonHistories{key, {}, {}});
      ++persons;
    }
    return *it;
  }
};

struct PersonMap::Snapshot::Data {
  std::vector<std::shared_ptr<const Bucket>> buckets;
  std::vector<Node> top_disclosed, top_withheld;
};

PersonMap::PersonMap() : s_(std::make_unique<State>()) {}
PersonMap::~PersonMap() = default;
PersonMap::PersonMap(PersonMap&&) noexcept = default;
PersonMap& PersonMap::operator=(PersonMap&&) noexcept = default;

void PersonMap::Apply(const Record& record, const Hash& record_leaf_hash) {
  const HistoryKind kind = HistoryKindOf(record);
  if (kind == HistoryKind::kNone) return;
  Extend(record.record_symbol, kind == HistoryKind::kWithheld, record_leaf_hash);
}

void PersonMap::Extend(const RecordSymbolBytes& person, bool withheld,
                       const Hash& record_leaf_hash) {
  PersonHistories& p = s_->Entry(person);
  HistoryState& s = withheld ? p.withheld : p.disclosed;
  s.chain = HistoryChainStep(s.chain, record_leaf_hash);
  ++s.count;
}

void PersonMap::Set(const PersonHistories& person) {
  s_->Entry(person.key) = person;
}

std::optional<PersonHistories> PersonMap::Get(const RecordSymbolBytes& key) const {
  const std::shared_ptr<Bucket>& bucket = s_->buckets[BucketOf(key)];
  if (!bucket) return std::nullopt;
  auto it = std::lower_bound(
      bucket->persons.begin(), bucket->persons.end(), key,
      [](const PersonHistories& p, const RecordSymbolBytes& k) { return p.key < k; });
  if (it == bucket->persons.end() || it->key != key) return std::nullopt;
  return *it;
}

size_t PersonMap::persons() const {
  return s_->persons;
}

std::vector<PersonHistories> PersonMap::TakeChanged() {
  std::vector<PersonHistories> out;
  out.reserve(s_->changed.size());
  for (const RecordSymbolBytes& key : s_->changed) {
    if (std::optional<PersonHistories> p = Get(key)) out.push_back(*p);
  }
  s_->changed.clear();
  std::sort(out.begin(), out.end(),
            [](const PersonHistories& a, const PersonHistories& b) { return a.key < b.key; });
  return out;
}

void PersonMap::RestoreChanged(const std::vector<PersonHistories>& persons) {
  for (const PersonHistories& p : persons) s_->changed.insert(p.key);
}

std::shared_ptr<const PersonMap::Snapshot> PersonMap::Freeze() {
  State& s = *s_;
  // Dirty buckets, then every top node above one, level by level towards the root.
  std::vector<size_t> parents;
  for (size_t b : s.dirty_list) {
    Bucket& bucket = *s.buckets[b];
    const Leaves d = bucket.LeavesOf(false), w = bucket.LeavesOf(true);
    bucket.disclosed = Subtree(d, kBucketBits);
    bucket.withheld = Subtree(w, kBucketBits);
    Node dn = bucket.disclosed, wn = bucket.withheld;
    dn.bucket = wn.bucket = static_cast<uint16_t>(b);
    s.top_disclosed[kBuckets + b] = dn;
    s.top_withheld[kBuckets + b] = wn;
    s.dirty[b] = 0;
    parents.push_back((kBuckets + b) / 2);
  }
  s.dirty_list.clear();
  while (!parents.empty()) {
    std::sort(parents.begin(), parents.end());
    parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
    std::vector<size_t> next;
    for (size_t i : parents) {
      s.top_disclosed[i] = Combine(s.top_disclosed[2 * i], s.top_disclosed[2 * i + 1]);
      s.top_withheld[i] = Combine(s.top_withheld[2 * i], s.top_withheld[2 * i + 1]);
      if (i > 1) next.push_back(i / 2);
    }
    parents.swap(next);
  }
  auto data = std::make_shared<Snapshot::Data>();
  data->buckets.assign(s.buckets.begin(), s.buckets.end());
  data->top_disclosed = s.top_disclosed;
  data->top_withheld = s.top_withheld;
  auto snap = std::shared_ptr<Snapshot>(new Snapshot());
  snap->disclosed_root_ = s.top_disclosed[1].hash;
  snap->withheld_root_ = s.top_withheld[1].hash;
  snap->data_ = std::move(data);
  return snap;
}

MapProof PersonMap::Snapshot::Prove(const RecordSymbolBytes& key, bool withheld) const {
  const std::vector<Node>& top = withheld ? data_->top_withheld : data_->top_disclosed;
  MapProof proof;
  proof.key = key;
  // The leaf a collapsed subtree stands for: the only person of `leaves` there is.
  auto end_at_leaf = [&](const RecordSymbolBytes& leaf_key, const Bucket& bucket) {
    for (const PersonHistories& p : bucket.persons) {
      const HistoryState& s = withheld ? p.withheld : p.disclosed;
      if (p.key != leaf_key || s.count == 0) continue;
      if (p.key == key) {
        proof.end = MapProof::End::kLeaf;
        proof.value = s;
      } else {
        proof.end = MapProof::End::kOtherLeaf;
        proof.other_key = p.key;
        proof.other_value = HistoryValueHash(s.chain, s.count);
      }
    }
  };
  size_t i = 1;
  for (int depth = 0; depth < kBucketBits; ++depth) {
    const Node& n = top[i];
    if (n.kind == Node::kEmpty) {
      proof.end = MapProof::End::kEmpty;
      return proof;
    }
    if (n.kind == Node::kLeaf) {
      const Bucket& bucket = *data_->buckets[n.bucket];
      const Leaves leaves = bucket.LeavesOf(withheld);
      end_at_leaf(leaves.at(0).first, bucket);
      return proof;
    }
    const bool right = Bit(key, depth);
    proof.siblings.push_back(top[2 * i + (right ? 0 : 1)].hash);
    i = 2 * i + (right ? 1 : 0);
  }
  const std::shared_ptr<const Bucket>& bucket = data_->buckets[i - kBuckets];
  if (!bucket) {
    proof.end = MapProof::End::kEmpty;
    return proof;
  }
  const Leaves all = bucket->LeavesOf(withheld);
  std::span<const std::pair<RecordSymbolBytes, Hash>> leaves(all);
  for (int depth = kBucketBits;; ++depth) {
    if (leaves.empty()) {
      proof.end = MapProof::End::kEmpty;
      return proof;
    }
    if (leaves.size() == 1) {
      end_at_leaf(leaves[0].first, *bucket);
      return proof;
    }
    auto split = std::partition_point(leaves.begin(), leaves.end(),
                                      [&](const auto& l) { return !Bit(l.first, depth); });
    const size_t at = static_cast<size_t>(split - leaves.begin());
    const auto left = leaves.subspan(0, at), right = leaves.subspan(at);
    if (Bit(key, depth)) {
      proof.siblings.push_back(Subtree(left, depth + 1).hash);
      leaves = right;
    } else {
      proof.siblings.push_back(Subtree(right, depth + 1).hash);
      leaves = left;
    }
  }
}

std::string EncodePersonHistories(const PersonHistories& p) {
  std::string out;
  out.reserve(32 + 2 * 40);
  out.append(reinterpret_cast<const char*>(p.key.data()), p.key.size());
  for (const HistoryState* s : {&p.disclosed, &p.withheld}) {
    out.append(reinterpret_cast<const char*>(s->chain.data()), s->chain.size());
    AppendBigEndian64(s->count, out);
  }
  return out;
}

Result<PersonHistories> DecodePersonHistories(std::string_view bytes) {
  if (bytes.size() != 32 + 2 * 40) {
    return Status::Corruption("a saved person history is " + std::to_string(bytes.size()) +
                              " bytes, not 112");
  }
  PersonHistories p;
  std::memcpy(p.key.data(), bytes.data(), 32);
  size_t at = 32;
  for (HistoryState* s : {&p.disclosed, &p.withheld}) {
    std::memcpy(s->chain.data(), bytes.data() + at, 32);
    s->count = GetBigEndian64(bytes.data() + at + 32);
    at += 40;
  }
  return p;
}

}  // namespace ipn::records
