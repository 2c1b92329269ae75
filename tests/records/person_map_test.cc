// PersonMap (records/person_map.h): the per-person history chains and the two compact sparse
// Merkle maps over them. Checked against a naive reference written here from the hashes the
// header documents (roots and exact proofs, empty to 2,000 persons, shared prefixes below the
// bucket level); proofs verify to each person's chain and count (0 when absent) and every
// tampering fails; which records extend which chain; a person with only withheld records is
// indistinguishable in the disclosed map from one with none; snapshots stay immutable; and
// TakeChanged, the saved-state codec and the reload path.
#include "records/person_map.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ipn::records {
namespace {

using Key = RecordSymbolBytes;
using Persons = std::map<Key, PersonHistories>;
using Leaves = std::vector<std::pair<Key, HistoryState>>;  // one map's persons, sorted by key
using End = MapProof::End;

// --- the reference, from person_map.h's comment alone ---

Hash Sha(uint8_t tag, std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> in{tag};
  for (auto p : parts) in.insert(in.end(), p.begin(), p.end());
  Hash out;
  crypto_hash_sha256(out.data(), in.data(), in.size());
  return out;
}
Hash RefValue(const HistoryState& s) {
  uint8_t n[8];
  for (int i = 0; i < 8; ++i) n[i] = static_cast<uint8_t>(s.count >> (56 - 8 * i));
  return Sha(0x11, {s.chain, n});
}
Hash RefLeaf(const Key& key, const HistoryState& s) {
  return Sha(0x12, {key, RefValue(s)});
}
bool RefBit(const Key& k, int d) {
  return (k[d / 8] >> (7 - d % 8)) & 1;
}

Leaves LeavesOf(const Persons& persons, bool withheld) {
  Leaves out;
  for (const auto& [key, p] : persons) {
    const HistoryState& s = withheld ? p.withheld : p.disclosed;
    if (s.count > 0) out.emplace_back(key, s);
  }
  return out;
}

std::pair<Leaves, Leaves> Split(const Leaves& leaves, int depth) {
  Leaves l, r;
  for (const auto& leaf : leaves) (RefBit(leaf.first, depth) ? r : l).push_back(leaf);
  return {l, r};
}

// Empty: zero hash; one leaf: its leaf hash (at any depth); more: an inner node.
Hash RefRoot(const Leaves& leaves, int depth = 0) {
  if (leaves.empty()) return Hash{};
  if (leaves.size() == 1) return RefLeaf(leaves[0].first, leaves[0].second);
  auto [l, r] = Split(leaves, depth);
  return Sha(0x13, {RefRoot(l, depth + 1), RefRoot(r, depth + 1)});
}

MapProof RefProof(Leaves leaves, const Key& key) {
  MapProof p;
  p.key = key;
  for (int depth = 0;; ++depth) {
    if (leaves.size() <= 1) {
      p.end = leaves.empty() ? End::kEmpty : leaves[0].first == key ? End::kLeaf : End::kOtherLeaf;
      if (p.end == End::kLeaf) p.value = leaves[0].second;
      if (p.end == End::kOtherLeaf) p.other_key = leaves[0].first;
      if (p.end == End::kOtherLeaf) p.other_value = RefValue(leaves[0].second);
      return p;
    }
    auto [l, r] = Split(leaves, depth);
    p.siblings.push_back(RefRoot(RefBit(key, depth) ? l : r, depth + 1));
    leaves = RefBit(key, depth) ? r : l;
  }
}

constexpr Event kSettling[] = {Event::kInquiryRefused, Event::kProvided, Event::kNotHeld,
                               Event::kFailed, Event::kTimedOut};
bool Settles(Event e) {
  return std::ranges::find(kSettling, e) != std::end(kSettling);
}

Key RandomKey(std::mt19937_64& rng) {
  Key k;
  for (auto& b : k) b = static_cast<uint8_t>(rng());
  return k;
}
Key Flip(Key k, int bit) {
  k[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
  return k;
}

// The map under test beside the reference state and each chain's record leaf hashes.
struct World {
  PersonMap map;
  Persons ref;
  std::map<Key, std::vector<Hash>> leaves[2];  // [0] disclosed, [1] withheld
  std::mt19937_64 rng;
  explicit World(uint64_t seed) : rng(seed) {}

  void Add(const Key& key, Event event, bool non_disclosure) {
    Record r;
    r.record_symbol = key;
    r.event = event;
    r.non_disclosure = non_disclosure;
    r.request_id = "req-" + std::to_string(rng());
    const Hash leaf = RecordLeafHash(r);
    map.Apply(r, leaf);
    if (!Settles(event) || key == kAuditRecordSymbol) return;
    PersonHistories& p = ref[key];
    p.key = key;
    HistoryState& s = non_disclosure ? p.withheld : p.disclosed;
    s.chain = Sha(0x10, {s.chain, leaf});
    ++s.count;
    leaves[non_disclosure][key].push_back(leaf);
  }
  void Settle(const Key& key, bool withheld) { Add(key, kSettling[rng() % 5], withheld); }
  HistoryState Want(const Key& key, bool withheld) const {
    auto it = ref.find(key);
    return it == ref.end() ? HistoryState{} : withheld ? it->second.withheld : it->second.disclosed;
  }
};

// Freezes `w` and checks both roots against the reference; every person and probe proves
// (exactly the reference proof for the first `exact` keys: probes, then persons) and verifies to
// its state.
std::shared_ptr<const PersonMap::Snapshot> Check(World& w, std::vector<Key> keys,
                                                 size_t exact = SIZE_MAX) {
  auto snap = w.map.Freeze();
  for (const auto& [key, p] : w.ref) keys.push_back(key);
  for (bool withheld : {false, true}) {
    const Leaves leaves = LeavesOf(w.ref, withheld);
    const Hash root = RefRoot(leaves);
    EXPECT_EQ(withheld ? snap->withheld_root() : snap->disclosed_root(), root);
    for (size_t i = 0; i < keys.size(); ++i) {
      const MapProof proof = snap->Prove(keys[i], withheld);
      EXPECT_TRUE(i >= exact || proof == RefProof(leaves, keys[i])) << i << " " << withheld;
      Result<HistoryState> got = VerifyMapProof(proof, root);
      EXPECT_TRUE(got.ok() && *got == w.Want(keys[i], withheld)) << i << " withheld " << withheld;
    }
  }
  return snap;
}

void ExpectCorrupt(const MapProof& proof, const Hash& root, const std::string& what) {
  Result<HistoryState> r = VerifyMapProof(proof, root);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << what;
}

TEST(CompletePersonMapTest, EmptyMapAndOnePerson) {
  World w(1);
  const Key a = RandomKey(w.rng);
  auto empty = Check(w, {Key{}, a});
  EXPECT_TRUE(empty->disclosed_root() == Hash{} && empty->withheld_root() == Hash{});
  EXPECT_EQ(empty->Prove(a, false), (MapProof{a, End::kEmpty, {}, {}, {}, {}}));
  w.Settle(a, false);
  w.Settle(a, false);
  auto one = Check(w, {Flip(a, 255), Flip(a, 0), Flip(a, 14)});
  EXPECT_EQ(one->disclosed_root(), RefLeaf(a, w.Want(a, false)));  // a lone leaf is the root
  EXPECT_EQ(one->withheld_root(), Hash{});
  EXPECT_EQ(one->Prove(a, false), (MapProof{a, End::kLeaf, w.Want(a, false), {}, {}, {}}));
  const MapProof q = one->Prove(Flip(a, 255), false);
  EXPECT_TRUE(q.end == End::kOtherLeaf && q.other_key == a && q.siblings.empty());
  EXPECT_EQ(w.map.persons(), 1u);
}

TEST(CompletePersonMapTest, LongSharedPrefixSplitsBelowTheBuckets) {
  World w(3);
  const Key a = RandomKey(w.rng);
  Key b = a;
  b[20] ^= 0x01;  // first 167 bits equal: the split is at depth 167
  w.Settle(a, false);
  w.Settle(b, false);
  w.Settle(b, true);  // withheld map: b alone
  auto snap = Check(w, {Flip(a, 100), Flip(a, 255), Flip(b, 255), Flip(a, 3), Flip(a, 166)});
  const MapProof p = snap->Prove(a, false);
  ASSERT_EQ(p.siblings.size(), 168u);
  for (int d = 0; d < 167; ++d) EXPECT_EQ(p.siblings[d], Hash{}) << d;
  EXPECT_EQ(p.siblings[167], RefLeaf(b, w.Want(b, false)));
  const MapProof e = snap->Prove(Flip(a, 100), false);
  EXPECT_TRUE(e.end == End::kEmpty && e.siblings.size() == 101u);
  EXPECT_EQ(snap->withheld_root(), RefLeaf(b, w.Want(b, true)));
}

TEST(CompletePersonMapTest, SameAndDifferentBuckets) {
  World w(4);
  const Key a = RandomKey(w.rng);
  const std::vector<Key> present = {a,           Flip(a, 14), Flip(a, 15),           Flip(a, 30),
                                    Flip(a, 13), Flip(a, 0),  Flip(Flip(a, 14), 200)};
  for (size_t i = 0; i < present.size(); ++i) {
    for (size_t n = 0; n <= i % 3; ++n) w.Settle(present[i], (i + n) % 2 == 1);
  }
  Check(w, {Flip(a, 16), Flip(a, 255), Flip(Flip(a, 14), 199), Flip(a, 12), Flip(a, 1),
            Flip(Flip(a, 13), 14), Key{}});
  EXPECT_EQ(w.map.persons(), present.size());
}

TEST(CompletePersonMapTest, TwoThousandRandomPersonsMatchTheReference) {
  World w(5);
  std::vector<Key> probes;
  for (int i = 0; i < 2000; ++i) {
    const Key k = RandomKey(w.rng);
    const int records = 1 + static_cast<int>(w.rng() % 4);
    for (int n = 0; n < records; ++n) {
      w.Add(k, static_cast<Event>(w.rng() % 9), w.rng() % 3 == 0);
    }
    if (i % 50 == 0) {
      for (int bit : {255, 14, 20, 40}) probes.push_back(Flip(k, bit));
      probes.push_back(RandomKey(w.rng));
    }
  }
  ASSERT_GT(w.ref.size(), 1500u);
  Check(w, probes, probes.size() + 150);
}

TEST(CompletePersonMapTest, TamperedProofsFail) {
  World w(6);
  std::vector<Key> keys;
  for (int i = 0; i < 60; ++i) keys.push_back(RandomKey(w.rng));
  keys.push_back(Flip(keys[0], 200));
  for (const Key& k : keys) {
    w.Settle(k, false);
    w.Settle(k, true);
  }
  auto snap = Check(w, {});
  const Hash root = snap->disclosed_root();
  const MapProof good = snap->Prove(keys[0], false);
  ASSERT_EQ(good.end, End::kLeaf);
  ASSERT_GE(good.siblings.size(), 3u);
  ASSERT_TRUE(VerifyMapProof(good, root).ok());
  for (size_t d = 0; d < good.siblings.size(); ++d) {
    MapProof t = good;
    t.siblings[d][d % 32] ^= 0x01;
    ExpectCorrupt(t, root, "sibling " + std::to_string(d));
  }
  auto corrupt = [&](MapProof t, const char* what, auto change) {
    change(t);
    ExpectCorrupt(t, root, what);
  };
  corrupt(good, "count + 1", [](MapProof& t) { ++t.value.count; });
  corrupt(good, "count 0", [](MapProof& t) { t.value.count = 0; });
  corrupt(good, "chain", [](MapProof& t) { t.value.chain[5] ^= 0x40; });
  corrupt(good, "dropped last sibling", [](MapProof& t) { t.siblings.pop_back(); });
  corrupt(good, "dropped first", [](MapProof& t) { t.siblings.erase(t.siblings.begin()); });
  corrupt(good, "extra sibling", [](MapProof& t) { t.siblings.push_back(Hash{}); });
  corrupt(good, "extra 1st", [](MapProof& t) { t.siblings.insert(t.siblings.begin(), Hash{}); });
  corrupt(good, "257 siblings", [](MapProof& t) { t.siblings.resize(257); });
  corrupt(good, "leaf to empty", [](MapProof& t) { t.end = End::kEmpty; });
  corrupt(good, "end 0", [](MapProof& t) { t.end = static_cast<End>(0); });
  corrupt(good, "another key", [](MapProof& t) { t.key = Flip(t.key, 255); });
  ExpectCorrupt(good, snap->withheld_root(), "the withheld root");
  World v(7);
  v.Settle(keys[0], false);
  ExpectCorrupt(good, v.map.Freeze()->disclosed_root(), "another map's root");
  // kOtherLeaf: an absent key beside keys[0]; kEmpty: one whose path meets an empty subtree.
  const MapProof other = snap->Prove(Flip(keys[0], 255), false);
  ASSERT_TRUE(other.end == End::kOtherLeaf && other.other_key == keys[0]);
  ASSERT_TRUE(VerifyMapProof(other, root).ok());
  corrupt(other, "other key is the key", [](MapProof& t) { t.other_key = t.key; });
  corrupt(other, "other key off path", [](MapProof& t) { t.other_key = Flip(t.other_key, 0); });
  corrupt(other, "other value", [](MapProof& t) { t.other_value[0] ^= 1; });
  corrupt(other, "other leaf to empty", [](MapProof& t) { t.end = End::kEmpty; });
  corrupt(other, "other's sibling", [](MapProof& t) { t.siblings.back()[31] ^= 1; });
  const MapProof empty = snap->Prove(Flip(keys[0], 150), false);
  ASSERT_EQ(empty.end, End::kEmpty);
  ASSERT_TRUE(VerifyMapProof(empty, root).ok());
  corrupt(empty, "empty's sibling", [](MapProof& t) { t.siblings.back()[0] ^= 1; });
  corrupt(empty, "empty to leaf", [](MapProof& t) { t.end = End::kLeaf, t.value.count = 1; });
}

// Roots built by hand so that only the kOtherLeaf rules, not the hashes, can fail.
TEST(CompletePersonMapTest, OtherLeafMustBeOnThePathAndNotTheKey) {
  std::mt19937_64 rng(8);
  Key key = RandomKey(rng);
  key[0] |= 0x80;  // goes right at depth 0
  const Hash sibling = RandomKey(rng);
  const HistoryState state{RandomKey(rng), 3};
  auto root_with = [&](const Key& k, HistoryState s) {
    return Sha(0x13, {sibling, RefLeaf(k, s)});
  };
  MapProof p{key, End::kOtherLeaf, {}, Flip(key, 9), RefValue(state), {sibling}};
  Result<HistoryState> absent = VerifyMapProof(p, root_with(p.other_key, state));  // on path
  EXPECT_TRUE(absent.ok() && *absent == HistoryState{}) << absent.status().ToString();
  p.other_key = Flip(key, 0);
  ExpectCorrupt(p, root_with(p.other_key, state), "off the path");
  p.other_key = key;  // would hide the key's own records
  ExpectCorrupt(p, root_with(key, state), "the key itself");
  p.end = End::kLeaf;
  p.value = state;
  Result<HistoryState> present = VerifyMapProof(p, root_with(key, state));
  EXPECT_TRUE(present.ok() && *present == state);
  p.value.count = 0;  // a leaf holding no records is never in a map
  ExpectCorrupt(p, root_with(key, p.value), "a leaf with no records");
}

TEST(CompletePersonMapTest, OnlySettlingRecordsExtendAChain) {
  for (int e = 0; e <= static_cast<int>(Event::kOperatorAction); ++e) {
    for (bool nd : {false, true}) {
      Record r;
      r.event = static_cast<Event>(e);
      r.non_disclosure = nd;
      r.record_symbol = Flip(Key{}, 7);
      const HistoryKind want = !Settles(r.event) ? HistoryKind::kNone
                               : nd              ? HistoryKind::kWithheld
                                                 : HistoryKind::kDisclosed;
      EXPECT_EQ(HistoryKindOf(r), want) << EventName(r.event) << " " << nd;
      r.record_symbol = kAuditRecordSymbol;
      EXPECT_EQ(HistoryKindOf(r), HistoryKind::kNone) << EventName(r.event) << " " << nd;
    }
  }
  // Applying kNone records (accepted, forwarded, received, operator actions, anything under
  // the audit symbol) changes no root, adds no person and marks none changed.
  World w(9);
  const Key a = RandomKey(w.rng), b = RandomKey(w.rng);
  w.Settle(a, false);
  w.Settle(a, true);
  auto before = w.map.Freeze();
  ASSERT_EQ(w.map.TakeChanged().size(), 1u);
  for (bool nd : {false, true}) {
    for (Event e :
         {Event::kInquiryAccepted, Event::kForwarded, Event::kReceived, Event::kOperatorAction}) {
      w.Add(a, e, nd);
      w.Add(b, e, nd);
    }
    for (Event e : kSettling) w.Add(kAuditRecordSymbol, e, nd);
  }
  auto after = Check(w, {b, Key{}});
  EXPECT_EQ(after->disclosed_root(), before->disclosed_root());
  EXPECT_EQ(after->withheld_root(), before->withheld_root());
  EXPECT_EQ(w.map.persons(), 1u);
  EXPECT_FALSE(w.map.Get(b).has_value() || w.map.Get(kAuditRecordSymbol).has_value());
  EXPECT_TRUE(w.map.TakeChanged().empty());
}

// The disclosed map of a map that saw a person's withheld records equals, proof for proof,
// that of a map that never saw them.
TEST(CompletePersonMapTest, WithheldOnlyPersonLooksAbsent) {
  World with(10), without(10);  // same seed: same leaf hashes for the same calls
  std::mt19937_64 rng(11);
  std::vector<Key> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(RandomKey(rng));
  // Most likely alone in its bucket; kOtherLeaf beside keys[0]; in keys[1]'s bucket.
  const std::vector<Key> hidden = {RandomKey(rng), Flip(keys[0], 255), Flip(keys[1], 20)};
  for (const Key& k : keys) {
    with.Settle(k, false);
    without.Settle(k, false);
  }
  for (const Key& k : hidden) {
    for (int n = 0; n < 3; ++n) with.Settle(k, true);
    without.Add(k, Event::kForwarded, false);  // settles nothing
  }
  auto a = Check(with, hidden), b = Check(without, hidden);
  EXPECT_EQ(a->disclosed_root(), b->disclosed_root());
  EXPECT_NE(a->withheld_root(), b->withheld_root());
  for (const Key& k : hidden) {
    EXPECT_EQ(a->Prove(k, false), b->Prove(k, false));
    EXPECT_NE(a->Prove(k, false).end, End::kLeaf);
    EXPECT_EQ(a->Prove(k, true).value.count, 3u);
    EXPECT_EQ(with.map.Get(k).value_or(PersonHistories{}).disclosed, HistoryState{});
  }
  EXPECT_EQ(a->Prove(hidden[1], false).end, End::kOtherLeaf);
}

TEST(CompletePersonMapTest, SnapshotsAreImmutable) {
  World w(12);
  std::vector<Key> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(RandomKey(w.rng));
    w.Settle(keys.back(), i % 4 == 0);
  }
  auto s1 = Check(w, {}, 50);
  std::vector<MapProof> p1[2];
  for (bool wh : {false, true}) {
    for (const Key& k : keys) p1[wh].push_back(s1->Prove(k, wh));
  }
  const Hash d1 = s1->disclosed_root(), w1 = s1->withheld_root();
  auto check_first = [&] {
    EXPECT_TRUE(s1->disclosed_root() == d1 && s1->withheld_root() == w1);
    for (bool wh : {false, true}) {
      for (size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ(s1->Prove(keys[i], wh), p1[wh][i]);
        EXPECT_TRUE(VerifyMapProof(p1[wh][i], wh ? w1 : d1).ok());
      }
    }
  };
  for (int i = 0; i < 100; ++i) w.Settle(keys[i], i % 3 == 0);       // in place
  for (int i = 0; i < 50; ++i) w.Settle(Flip(keys[i], 200), false);  // new, same buckets
  for (int i = 0; i < 50; ++i) w.Settle(RandomKey(w.rng), true);     // new
  auto s2 = Check(w, {}, 50);
  EXPECT_TRUE(s2->disclosed_root() != d1 && s2->withheld_root() != w1);
  check_first();
  // Each proven chain is ChainOf over the person's record leaf hashes, in order.
  for (bool wh : {false, true}) {
    for (const auto& [key, hashes] : w.leaves[wh]) {
      Result<HistoryState> got =
          VerifyMapProof(s2->Prove(key, wh), wh ? s2->withheld_root() : s2->disclosed_root());
      EXPECT_TRUE(got.ok() && *got == ChainOf(hashes));
    }
  }
  s2.reset();  // buckets only the map holds now change in place; s1 keeps its own
  for (int i = 100; i < 200; ++i) w.Settle(keys[i], false);
  Check(w, {}, 50);
  check_first();
  { PersonMap gone = std::move(w.map); }  // a snapshot outlives its map
  check_first();
}

TEST(CompletePersonMapTest, TakeChangedCodecAndReload) {
  World w(13);
  std::vector<Key> keys;
  for (int i = 0; i < 500; ++i) {
    keys.push_back(RandomKey(w.rng));
    for (int n = 0; n <= i % 3; ++n) w.Settle(keys.back(), w.rng() % 2 == 0);
  }
  auto expect_persons = [&](const std::vector<PersonHistories>& got, std::vector<Key> want) {
    std::sort(want.begin(), want.end());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].key, want[i]);
      EXPECT_EQ(got[i].disclosed, w.Want(want[i], false));
      EXPECT_EQ(got[i].withheld, w.Want(want[i], true));
    }
  };
  const std::vector<PersonHistories> all = w.map.TakeChanged();
  expect_persons(all, keys);
  EXPECT_TRUE(w.map.TakeChanged().empty());
  w.Settle(keys[7], true);
  w.Settle(keys[3], false);
  w.Settle(keys[7], false);
  w.Add(keys[9], Event::kReceived, false);
  const std::vector<PersonHistories> changed = w.map.TakeChanged();
  expect_persons(changed, {keys[3], keys[7]});
  EXPECT_TRUE(w.map.TakeChanged().empty());
  // Codec: key | chain | u64 count | chain | u64 count; any other size is Corruption.
  const PersonHistories big{keys[0], {RandomKey(w.rng), 0x0102030405060708}, {Hash{}, ~0ull}};
  const std::string bytes = EncodePersonHistories(big);
  ASSERT_EQ(bytes.size(), 112u);
  EXPECT_EQ(bytes.substr(0, 32), std::string(keys[0].begin(), keys[0].end()));
  EXPECT_EQ(bytes.substr(64, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  EXPECT_EQ(bytes.substr(104, 8), std::string(8, '\xff'));
  Result<PersonHistories> back = DecodePersonHistories(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->key == big.key && back->disclosed == big.disclosed &&
              back->withheld == big.withheld);
  for (size_t n : {0, 40, 111, 113}) {
    Result<PersonHistories> bad = DecodePersonHistories(std::string(n, '\x07'));
    EXPECT_TRUE(!bad.ok() && bad.status().code() == Status::Code::kCorruption) << n;
  }
  // Reload: the first save (every person) then the second, decoded and Set into a fresh
  // map, give the same roots and proofs.
  auto now = w.map.Freeze();
  PersonMap reloaded;
  for (const auto& saved : {all, changed}) {
    for (const PersonHistories& p : saved) {
      Result<PersonHistories> d = DecodePersonHistories(EncodePersonHistories(p));
      ASSERT_TRUE(d.ok());
      reloaded.Set(*d);
    }
  }
  auto r = reloaded.Freeze();
  EXPECT_EQ(r->disclosed_root(), now->disclosed_root());
  EXPECT_EQ(r->withheld_root(), now->withheld_root());
  EXPECT_EQ(reloaded.persons(), w.map.persons());
  for (const Key& k : {keys[3], keys[7], keys[400], Flip(keys[5], 100)}) {
    EXPECT_EQ(r->Prove(k, false), now->Prove(k, false));
    EXPECT_EQ(r->Prove(k, true), now->Prove(k, true));
  }
  reloaded.Set(PersonHistories{keys[3], {}, {}});  // Set overwrites
  EXPECT_EQ(reloaded.Get(keys[3])->disclosed, HistoryState{});
  EXPECT_NE(reloaded.Freeze()->disclosed_root(), now->disclosed_root());
}

}  // namespace
}  // namespace ipn::records
