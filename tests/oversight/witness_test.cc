// The commission as a witness: cosigning heads of a real record store as it grows, and
// refusing what would let a core show different logs to different readers — a head signed
// by another key, a rollback, and a split view (two stores under the same signing key that
// share a prefix and then fork: the core shows the commission one and a citizen the other).
#include "oversight/witness.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

using records::Record;
using records::RecordStore;
using records::SignedTreeHead;
using records::testing::SampleRecord;

constexpr int64_t kT0 = 1780000000000000;

SecretBytes WitnessKey(records::PublicKey* public_key) {
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(public_key->data(), secret.data());
  return secret;
}

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    witness_secret_ = WitnessKey(&witness_public_);
    a_ = Open("a");
    b_ = Open("b");
    ASSERT_TRUE(a_ && b_);
    // The shared prefix: the same 10 records, same times, in both stores.
    for (uint64_t i = 0; i < 10; ++i) {
      Record r = SampleRecord(i % 3, i, kT0 + static_cast<int64_t>(i));
      ASSERT_TRUE(a_->Append(r).ok());
      ASSERT_TRUE(b_->Append(r).ok());
    }
  }

  std::unique_ptr<RecordStore> Open(const std::string& name) {
    auto store = RecordStore::Open(keys_.Options(dir_.Sub(name)));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static void Grow(RecordStore* store, uint64_t n, uint64_t salt) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t k = store->Size() + salt;
      Record r = SampleRecord(k % 5, k, kT0 + static_cast<int64_t>(k));
      ASSERT_TRUE(store->Append(r).ok());
    }
  }

  static std::vector<records::Hash> Proof(const RecordStore& store, uint64_t from, uint64_t to) {
    auto proof = store.ConsistencyProof(from, to);
    EXPECT_TRUE(proof.ok()) << proof.status().ToString();
    return proof.ok() ? *proof : std::vector<records::Hash>{};
  }

  records::PublicKey LogKey() {
    return records::SigningPublicKey(keys_.signing.signing_secret_key.span()).value();
  }

  Witness MakeWitness(std::optional<SignedTreeHead> latest = std::nullopt) {
    Result<Witness> w = Witness::Create(LogKey(), witness_secret_.Clone(), latest);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return std::move(*w);
  }

  testing::TempDir dir_;
  records::testing::TestKeys keys_;
  records::PublicKey witness_public_{};
  SecretBytes witness_secret_;
  std::unique_ptr<RecordStore> a_, b_;
};

TEST_F(WitnessTest, CosignsAGrowingLogAndEachCosignatureVerifies) {
  Witness w = MakeWitness();
  SignedTreeHead h10 = a_->SignTreeHead().value();
  Cosignature c10 = w.Observe(h10, {}, kT0 + 1).value();
  Grow(a_.get(), 7, 0);
  SignedTreeHead h17 = a_->SignTreeHead().value();
  Cosignature c17 = w.Observe(h17, Proof(*a_, 10, 17), kT0 + 2).value();
  EXPECT_EQ(w.latest()->tree_size, 17u);
  EXPECT_EQ(w.public_key(), witness_public_);
  EXPECT_TRUE(VerifyCosignature(c10, witness_public_));
  EXPECT_TRUE(VerifyCosignature(c17, witness_public_));
  // The same head seen again is cosigned again (equal sizes, empty proof).
  EXPECT_TRUE(w.Observe(h17, {}, kT0 + 3).ok());
  EXPECT_EQ(ParseCosignatureJson(CosignatureJson(c17)).value(), c17);
}

TEST_F(WitnessTest, CosignaturesDoNotTransferToAnotherHeadOrWitness) {
  Witness w = MakeWitness();
  Cosignature c = w.Observe(a_->SignTreeHead().value(), {}, kT0).value();
  records::PublicKey other{};
  SecretBytes other_secret = WitnessKey(&other);
  EXPECT_FALSE(VerifyCosignature(c, other));
  Cosignature moved = c;
  moved.head.root_hash[0] ^= 1;
  EXPECT_FALSE(VerifyCosignature(moved, witness_public_));
  Cosignature later = c;
  later.cosigned_unix_us += 1;
  EXPECT_FALSE(VerifyCosignature(later, witness_public_));
}

TEST_F(WitnessTest, AHeadSignedByAnotherKeyIsRefusedAndNothingChanges) {
  Witness w = MakeWitness();
  ASSERT_TRUE(w.Observe(a_->SignTreeHead().value(), {}, kT0).ok());
  records::testing::TestKeys other_keys;
  auto other = RecordStore::Open(other_keys.Options(dir_.Sub("other")));
  ASSERT_TRUE(other.ok());
  for (uint64_t i = 0; i < 12; ++i) {
    Record r = SampleRecord(1, i, kT0);
    ASSERT_TRUE((*other)->Append(r).ok());
  }
  Result<Cosignature> c = w.Observe((*other)->SignTreeHead().value(), {}, kT0 + 1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(w.latest()->tree_size, 10u);
}

TEST_F(WitnessTest, ARollbackIsRefused) {
  Witness w = MakeWitness();
  SignedTreeHead h10 = a_->SignTreeHead().value();
  Grow(a_.get(), 5, 0);
  ASSERT_TRUE(w.Observe(a_->SignTreeHead().value(), {}, kT0).ok());  // first head: no proof
  Result<Cosignature> back = w.Observe(h10, {}, kT0 + 1);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), Status::Code::kCorruption);
  EXPECT_NE(back.status().message().find("rollback"), std::string::npos);
  EXPECT_EQ(w.latest()->tree_size, 15u);
}

TEST_F(WitnessTest, SplitViewForkedLogIsRefusedAndTheWitnessStaysOnItsLog) {
  Witness w = MakeWitness();
  // The commission is shown store a; a citizen would be shown store b, forked after 10.
  Grow(a_.get(), 5, 0);
  Grow(b_.get(), 6, 1000);
  SignedTreeHead a15 = a_->SignTreeHead().value();
  SignedTreeHead b16 = b_->SignTreeHead().value();
  ASSERT_TRUE(w.Observe(a15, {}, kT0).ok());
  // b's own proof from size 15 to 16 leads from b's root at 15, not the cosigned a's.
  Result<Cosignature> forked = w.Observe(b16, Proof(*b_, 15, 16), kT0 + 1);
  ASSERT_FALSE(forked.ok());
  EXPECT_EQ(forked.status().code(), Status::Code::kCorruption);
  EXPECT_NE(forked.status().message().find("split view"), std::string::npos);
  // Nor does an empty proof, or a's proof, make b's head acceptable.
  EXPECT_FALSE(w.Observe(b16, {}, kT0 + 2).ok());
  Grow(a_.get(), 1, 0);
  EXPECT_FALSE(w.Observe(b16, Proof(*a_, 15, 16), kT0 + 3).ok());
  EXPECT_EQ(w.latest().value(), a15);
  // The honest log goes on being cosigned.
  SignedTreeHead a16 = a_->SignTreeHead().value();
  EXPECT_TRUE(w.Observe(a16, Proof(*a_, 15, 16), kT0 + 4).ok());
}

TEST_F(WitnessTest, SplitViewARestartedWitnessKeepsRefusingTheFork) {
  Grow(a_.get(), 5, 0);
  Grow(b_.get(), 5, 1000);
  SignedTreeHead a15 = a_->SignTreeHead().value();
  SignedTreeHead b15 = b_->SignTreeHead().value();
  ASSERT_NE(a15.root_hash, b15.root_hash);
  Witness restarted = MakeWitness(a15);  // its kept state
  Result<Cosignature> same_size_fork = restarted.Observe(b15, {}, kT0);
  ASSERT_FALSE(same_size_fork.ok());
  EXPECT_NE(same_size_fork.status().message().find("split view"), std::string::npos);
  // A kept head the log's key did not sign is refused at start.
  SignedTreeHead forged = a15;
  forged.root_hash[3] ^= 1;
  Result<Witness> bad = Witness::Create(LogKey(), witness_secret_.Clone(), forged);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kPermissionDenied);
}

}  // namespace
}  // namespace ipn::oversight
