// The key ring: encrypted at rest under the passphrase (wrong passphrase, tampering),
// the lifecycle (rotate, retire, destroy) as operators see it, and directory handling.
#include "symbol/key_ring.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/file_util.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_service.h"
#include "tests/support/temp_dir.h"
#include "tests/symbol/test_codes.h"

namespace ipn::symbol {
namespace {

using ipn::testing::TempDir;
using testing::FastOptions;
using testing::kPassphrase;

constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";

std::unique_ptr<SymbolService> MustOpen(const std::string& dir) {
  auto opened = SymbolService::Open(dir, kPassphrase, FastOptions());
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

TEST(KeyRingTest, SerialisationRoundTripsEveryKeyAndState) {
  KeyRing ring = KeyRing::Generate();
  ASSERT_TRUE(ring.AddAgency(kMun, 10).ok());
  ASSERT_TRUE(ring.AddAgency(kPen, 11).ok());
  ASSERT_TRUE(ring.RotateAgency(kMun, 12).ok());
  ASSERT_TRUE(ring.RotateAgency(kMun, 13).ok());
  ASSERT_TRUE(ring.DestroyAgencyVersion(kMun, 1, 14).ok());
  ring.RotateRecordEncryptionKey();
  SecretBytes bytes = ring.Serialize();
  auto back = KeyRing::Deserialize(bytes.span());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(sodium_memcmp(back->linkage_key().data(), ring.linkage_key().data(), 32), 0);
  EXPECT_EQ(sodium_memcmp(back->record_symbol_key().data(), ring.record_symbol_key().data(), 32),
            0);
  auto list = back->List();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].agency, kMun);
  EXPECT_EQ(list[0].state, KeyState::kDestroyed);
  EXPECT_EQ(list[0].changed_us, 14);
  EXPECT_EQ(list[1].state, KeyState::kRetired);
  EXPECT_EQ(list[2].state, KeyState::kActive);
  EXPECT_EQ(list[2].version, 3);
  EXPECT_EQ(list[3].agency, kPen);
  const AgencyKeys* mun = back->FindAgency(kMun);
  ASSERT_NE(mun, nullptr);
  EXPECT_TRUE(mun->Find(1)->key.empty());
  EXPECT_EQ(sodium_memcmp(mun->Find(3)->key.data(), ring.FindAgency(kMun)->Find(3)->key.data(), 64),
            0);
  EXPECT_EQ(back->CloneRecordKeys().encryption.size(), 2u);

  // Truncated or extended contents are damage, not a silent partial ring.
  EXPECT_FALSE(KeyRing::Deserialize(bytes.span().first(bytes.size() - 1)).ok());
  std::vector<uint8_t> longer(bytes.span().begin(), bytes.span().end());
  longer.push_back(0);
  EXPECT_FALSE(KeyRing::Deserialize(longer).ok());
}

TEST(KeyRingTest, WrongPassphraseIsAClearError) {
  TempDir tmp;
  ASSERT_TRUE(SymbolService::Create(tmp.Sub("core"), kPassphrase, FastOptions()).ok());
  auto opened = SymbolService::Open(tmp.Sub("core"), "not the passphrase", FastOptions());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(opened.status().message().find("wrong passphrase"), std::string::npos)
      << opened.status().message();
  EXPECT_TRUE(SymbolService::Open(tmp.Sub("core"), kPassphrase, FastOptions()).ok());
}

TEST(KeyRingTest, TamperedFileIsRejectedAndNeverPartlyLoaded) {
  TempDir tmp;
  std::string dir = tmp.Sub("core");
  ASSERT_TRUE(SymbolService::Create(dir, kPassphrase, FastOptions()).ok());
  std::string path = dir + "/" + SymbolService::kKeyRingFileName;
  auto original = ReadFile(path);
  ASSERT_TRUE(original.ok());
  // Flip one byte in the ciphertext, in the salt, and in the magic.
  for (size_t offset : {original->size() - 5, size_t{30}, size_t{0}}) {
    std::string bad = *original;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x01);
    ASSERT_TRUE(WriteFileAtomic(path, bad).ok());
    auto opened = SymbolService::Open(dir, kPassphrase, FastOptions());
    ASSERT_FALSE(opened.ok()) << "offset " << offset;
    EXPECT_TRUE(opened.status().code() == Status::Code::kPermissionDenied ||
                opened.status().code() == Status::Code::kCorruption)
        << opened.status().ToString();
  }
  ASSERT_TRUE(WriteFileAtomic(path, std::string("short")).ok());
  auto opened = SymbolService::Open(dir, kPassphrase, FastOptions());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("not an IPN key ring"), std::string::npos);
}

TEST(KeyRingTest, KeyRingFileHoldsNoKeyInClear) {
  KeyRing ring = KeyRing::Generate();
  ASSERT_TRUE(ring.AddAgency(kMun, 1).ok());
  TempDir tmp;
  auto file = KeyRingFile::Prepare(tmp.Sub("ring"), kPassphrase, KdfStrength::kMinimumForTests);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file->Save(ring).ok());
  auto on_disk = ReadFile(tmp.Sub("ring"));
  ASSERT_TRUE(on_disk.ok());
  auto contains = [&](const SecretBytes& key) {
    return on_disk->find(std::string(reinterpret_cast<const char*>(key.data()), 16)) !=
           std::string::npos;
  };
  EXPECT_FALSE(contains(ring.linkage_key()));
  EXPECT_FALSE(contains(ring.record_symbol_key()));
  EXPECT_FALSE(contains(ring.FindAgency(kMun)->Find(1)->key));
  EXPECT_EQ(on_disk->find(kMun), std::string::npos) << "agency names are inside the ciphertext";
  EXPECT_EQ(
      std::filesystem::status(tmp.Sub("ring")).permissions() & std::filesystem::perms::others_all,
      std::filesystem::perms::none);
}

TEST(KeyRingTest, RotationKeepsOldSymbolsOpenAndReissuesUnderTheNewVersion) {
  TempDir tmp;
  std::string dir = tmp.Sub("core");
  ASSERT_TRUE(SymbolService::Create(dir, kPassphrase, FastOptions()).ok());
  auto service = MustOpen(dir);
  ASSERT_NE(service, nullptr);
  auto v1 = service->Issue("49428595750", kMun);
  ASSERT_TRUE(v1.ok());
  ASSERT_TRUE(service->Issue("49428595750", kPen).ok());
  EXPECT_EQ(v1->key_version(), 1);

  auto rotated = service->RotateAgencyKey(kMun);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(*rotated, 2);
  auto v2 = service->Issue("49428595750", kMun);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->key_version(), 2);
  EXPECT_NE(*v2, *v1);

  // Both versions open to the same person.
  auto from_v1 = service->Translate(v1->bytes, kMun, kPen);
  auto from_v2 = service->Translate(v2->bytes, kMun, kPen);
  ASSERT_TRUE(from_v1.ok()) << from_v1.status().ToString();
  ASSERT_TRUE(from_v2.ok());
  EXPECT_EQ(from_v1->provider_symbol, from_v2->provider_symbol);
  EXPECT_EQ(from_v1->record_symbol, from_v2->record_symbol);
  // Translating towards MUN now gives the new version.
  auto to_mun = service->Translate(from_v1->provider_symbol.bytes, kPen, kMun);
  ASSERT_TRUE(to_mun.ok());
  EXPECT_EQ(to_mun->provider_symbol, *v2);
  // The issuance entry is the same one (rotation is not a new issuance).
  auto entries = service->IssuanceOf(v2->bytes, kMun);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 2u);

  auto keys = service->ListKeys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].agency, kMun);
  EXPECT_EQ(keys[0].state, KeyState::kRetired);
  EXPECT_EQ(keys[1].state, KeyState::kActive);
  EXPECT_EQ(keys[2].agency, kPen);

  // The rotation was saved: after reopening, the old symbol still opens.
  service.reset();
  service = MustOpen(dir);
  ASSERT_NE(service, nullptr);
  EXPECT_TRUE(service->Translate(v1->bytes, kMun, kPen).ok());
  EXPECT_EQ(*service->Issue("49428595750", kMun), *v2);
}

TEST(KeyRingTest, RetiringDestroysARetiredVersionWhoseSymbolsAreThenRejected) {
  TempDir tmp;
  std::string dir = tmp.Sub("core");
  ASSERT_TRUE(SymbolService::Create(dir, kPassphrase, FastOptions()).ok());
  auto service = MustOpen(dir);
  ASSERT_NE(service, nullptr);
  auto v1 = service->Issue("27957422883", kMun);
  ASSERT_TRUE(v1.ok());
  ASSERT_TRUE(service->Issue("27957422883", kPen).ok());

  // The active version cannot be destroyed.
  Status refused = service->DestroyKeyVersion(kMun, 1);
  EXPECT_EQ(refused.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.message().find("active"), std::string::npos);
  EXPECT_EQ(service->DestroyKeyVersion(kMun, 9).code(), Status::Code::kNotFound);
  EXPECT_EQ(service->DestroyKeyVersion("EDU-401307", 1).code(), Status::Code::kNotFound);
  EXPECT_EQ(service->RotateAgencyKey("EDU-401307").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(service->Translate(v1->bytes, kMun, kPen).ok());

  ASSERT_TRUE(service->RotateAgencyKey(kMun).ok());
  auto v2 = service->Issue("27957422883", kMun);
  ASSERT_TRUE(v2.ok());
  ASSERT_TRUE(service->DestroyKeyVersion(kMun, 1).ok());
  EXPECT_EQ(service->DestroyKeyVersion(kMun, 1).code(), Status::Code::kFailedPrecondition);

  auto t = service->Translate(v1->bytes, kMun, kPen);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(t.status().message().find("key version 1 of agency MUN-131016 was destroyed"),
            std::string::npos)
      << t.status().message();
  EXPECT_FALSE(service->RecordSymbolOf(v1->bytes, kMun).ok());
  EXPECT_TRUE(service->Translate(v2->bytes, kMun, kPen).ok());

  // Destruction is permanent: still rejected after reopening.
  service.reset();
  service = MustOpen(dir);
  ASSERT_NE(service, nullptr);
  auto again = service->Translate(v1->bytes, kMun, kPen);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("was destroyed"), std::string::npos);
  EXPECT_EQ(service->ListKeys()[0].state, KeyState::kDestroyed);
}

TEST(KeyRingTest, ChangingThePassphraseReencryptsTheRing) {
  TempDir tmp;
  std::string dir = tmp.Sub("core");
  ASSERT_TRUE(SymbolService::Create(dir, kPassphrase, FastOptions()).ok());
  {
    auto service = MustOpen(dir);
    ASSERT_NE(service, nullptr);
    ASSERT_TRUE(service->Issue("23015956917", kMun).ok());
    EXPECT_FALSE(service->ChangePassphrase("", KdfStrength::kMinimumForTests).ok());
    ASSERT_TRUE(service->ChangePassphrase("a new passphrase", KdfStrength::kMinimumForTests).ok());
  }
  EXPECT_EQ(SymbolService::Open(dir, kPassphrase, FastOptions()).status().code(),
            Status::Code::kPermissionDenied);
  auto reopened = SymbolService::Open(dir, "a new passphrase", FastOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->ListKeys().size(), 1u);
}

TEST(KeyRingTest, DirectoryErrorsAreClear) {
  TempDir tmp;
  std::string dir = tmp.Sub("core");
  auto missing = SymbolService::Open(dir, kPassphrase, FastOptions());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("ipn keys init"), std::string::npos);

  EXPECT_EQ(SymbolService::Create(dir, "", FastOptions()).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(SymbolService::Create(dir, kPassphrase, FastOptions()).ok());
  Status twice = SymbolService::Create(dir, kPassphrase, FastOptions());
  EXPECT_EQ(twice.code(), Status::Code::kAlreadyExists);

  // Only one process (or object) at a time may hold the directory.
  auto first = MustOpen(dir);
  ASSERT_NE(first, nullptr);
  auto second = SymbolService::Open(dir, kPassphrase, FastOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable) << second.status().ToString();
  first.reset();

  // An issuance file from another key ring is refused.
  std::string other = tmp.Sub("other");
  ASSERT_TRUE(SymbolService::Create(other, kPassphrase, FastOptions()).ok());
  std::filesystem::remove_all(dir + "/issuance");
  std::filesystem::rename(other + "/issuance", dir + "/issuance");
  auto mixed = SymbolService::Open(dir, kPassphrase, FastOptions());
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(mixed.status().message().find("does not belong"), std::string::npos);
}

}  // namespace
}  // namespace ipn::symbol
