// The key ring under a token's key-encryption key (format 2 of key_ring_file.h), against a
// real SoftHSM2 token: once protected, only that token opens it, and the file holds no key.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>

#include "common/file_util.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_service.h"
#include "tests/support/softhsm.h"
#include "tests/support/temp_dir.h"
#include "token/pkcs11_token.h"

namespace ipn::token {
namespace {

using ipn::testing::kTestTokenPin;
using symbol::KeyRingFile;
using symbol::SymbolService;
using symbol::SymbolServiceOptions;

constexpr char kPassphrase[] = "correct horse battery staple";
constexpr char kCode[] = "49428595750";
constexpr char kMun[] = "MUN-131016";

class TokenKeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    ASSERT_TRUE(hsm_.InitToken("core-east"));
    ASSERT_TRUE(hsm_.InitToken("core-west"));
    for (const char* label : {"core-east", "core-west"}) {
      auto t = Pkcs11Token::Open({kSoftHsmModule, label}, kTestTokenPin);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      ASSERT_TRUE((*t)->GenerateKek(kDefaultKekLabel).ok());
      auto w = (*t)->MakeWrapper(kDefaultKekLabel);
      ASSERT_TRUE(w.ok());
      wrappers_.push_back(std::move(*w));
    }
    options_.kdf = symbol::KdfStrength::kMinimumForTests;
    dir_ = tmp_.Sub("symbols");
    ASSERT_TRUE(SymbolService::Create(dir_, kPassphrase, options_).ok());
  }
  std::string RingPath() const { return dir_ + "/" + SymbolService::kKeyRingFileName; }

  ipn::testing::TempDir tmp_;
  ipn::testing::SoftHsm hsm_{tmp_};
  std::vector<std::unique_ptr<KeyWrapper>> wrappers_;  // east, west
  SymbolServiceOptions options_;
  std::string dir_;
};

TEST_F(TokenKeyRingTest, ARingMovedIntoTheTokenOpensOnlyWithThatToken) {
  symbol::AgencySymbol issued;
  {
    auto service = SymbolService::Open(dir_, kPassphrase, options_);
    ASSERT_TRUE(service.ok());
    auto symbol = (*service)->Issue(kCode, kMun);
    ASSERT_TRUE(symbol.ok());
    issued = *symbol;
    EXPECT_EQ((*service)->protection(), "passphrase");
    ASSERT_TRUE((*service)->ProtectWith(*wrappers_[0]).ok());
    EXPECT_EQ((*service)->protection(), "pkcs11:token=core-east;object=ipn-kek");
    // A change after the move is saved under the token's key too.
    ASSERT_TRUE((*service)->RotateRecordEncryptionKey().ok());
  }
  auto by_passphrase = SymbolService::Open(dir_, kPassphrase, options_);
  ASSERT_FALSE(by_passphrase.ok());
  EXPECT_EQ(by_passphrase.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(by_passphrase.status().message().find("protected by pkcs11:token=core-east"),
            std::string::npos)
      << by_passphrase.status().ToString();

  SymbolServiceOptions west = options_;
  west.key_wrapper = wrappers_[1].get();
  auto by_other_token = SymbolService::Open(dir_, "", west);
  ASSERT_FALSE(by_other_token.ok());
  EXPECT_EQ(by_other_token.status().code(), Status::Code::kPermissionDenied)
      << by_other_token.status().ToString();

  SymbolServiceOptions east = options_;
  east.key_wrapper = wrappers_[0].get();
  auto by_token = SymbolService::Open(dir_, "", east);
  ASSERT_TRUE(by_token.ok()) << by_token.status().ToString();
  auto again = (*by_token)->Issue(kCode, kMun);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, issued);  // the same keys: the same person gets the same symbol
  auto keys = (*by_token)->GetRecordKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->encryption.size(), 2u);  // the rotation made under the token stuck
}

TEST_F(TokenKeyRingTest, TheFileHoldsNoKeyOfTheRingAndRefusesAlteration) {
  {
    auto service = SymbolService::Open(dir_, kPassphrase, options_);
    ASSERT_TRUE(service.ok());
    ASSERT_TRUE((*service)->ProtectWith(*wrappers_[0]).ok());
  }
  auto opened = KeyRingFile::OpenWrapped(RingPath(), *wrappers_[0]);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const symbol::KeyRing& ring = opened->second;
  auto on_disk = ReadFile(RingPath());
  ASSERT_TRUE(on_disk.ok());
  auto holds = [&](const SecretBytes& key) {
    return on_disk->find(std::string(reinterpret_cast<const char*>(key.data()), 16)) !=
           std::string::npos;
  };
  EXPECT_FALSE(holds(ring.linkage_key()));
  EXPECT_FALSE(holds(ring.record_symbol_key()));
  EXPECT_FALSE(holds(ring.issuance_data_key()));
  symbol::RecordKeys keys = ring.CloneRecordKeys();
  EXPECT_FALSE(holds(keys.signing_secret_key));
  EXPECT_FALSE(holds(keys.encryption[0].second));

  // Altering the wrapped key or the ciphertext is refused, never half-opened.
  const size_t wrapped_at = on_disk->find("ipn-kek") + 7 + 2;
  for (size_t offset : {wrapped_at + 5, on_disk->size() - 3}) {
    std::string altered = *on_disk;
    altered[offset] ^= 0x20;
    ASSERT_TRUE(WriteFileAtomic(RingPath(), altered).ok());
    auto refused = KeyRingFile::OpenWrapped(RingPath(), *wrappers_[0]);
    EXPECT_FALSE(refused.ok()) << "offset " << offset;
    EXPECT_TRUE(refused.status().code() == Status::Code::kPermissionDenied ||
                refused.status().code() == Status::Code::kCorruption)
        << refused.status().ToString();
  }
}

}  // namespace
}  // namespace ipn::token
