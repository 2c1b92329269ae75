// Backups of a replica (replica/backup.h): a backup taken while the stores are open
// restores into a data directory whose log is the same (size, root, heads) and whose
// issuance file answers the same; an altered, cut-off, extended or foreign backup is
// refused with nothing left behind; a restore never writes over anything.
#include "replica/backup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "common/file_util.h"
#include "records/record_store.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_service.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::replica {
namespace {

namespace fs = std::filesystem;
using records::RecordStore;
using records::testing::SampleRecord;

constexpr char kPassphrase[] = "backup test passphrase";
constexpr char kMun[] = "MUN-131016";
constexpr char kPen[] = "PEN-0001";
constexpr int64_t kT0 = 1'780'000'000'000'000;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("east");
    symbol::SymbolServiceOptions so;
    so.kdf = symbol::KdfStrength::kMinimumForTests;
    ASSERT_TRUE(symbol::SymbolService::Create(data_ + "/symbols", kPassphrase, so).ok());
    auto service = symbol::SymbolService::Open(data_ + "/symbols", kPassphrase, so);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    symbols_ = std::move(*service);
    for (const char* code : {"49428595750", "12345678903"}) {
      ASSERT_TRUE(symbols_->Issue(code, kMun).ok());
      ASSERT_TRUE(symbols_->Issue(code, kPen).ok());
    }
    store_ = OpenStore(data_ + "/records", false);
    ASSERT_NE(store_, nullptr);
    for (uint64_t n = 0; n < 300; ++n) {
      records::Record r = SampleRecord(n % 7, n, kT0 + static_cast<int64_t>(n));
      ASSERT_TRUE(store_->Append(r).ok());
    }
    ASSERT_TRUE(store_->SignTreeHead().ok());
    ASSERT_TRUE(store_->PutMeta("replica.applied_entry", "42").ok());
    ring_.emplace(Ring(data_ + "/symbols/keyring.ipnk"));
  }

  std::unique_ptr<RecordStore> OpenStore(const std::string& dir, bool read_only) {
    Result<symbol::RecordKeys> keys = symbols_->GetRecordKeys();
    EXPECT_TRUE(keys.ok());
    records::RecordStoreOptions o;
    o.dir = dir;
    o.encryption_keys = std::move(keys->encryption);
    o.signing_secret_key = std::move(keys->signing_secret_key);
    o.read_only = read_only;
    o.purge_every_us = 0;
    auto store = RecordStore::Open(std::move(o));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static symbol::KeyRing Ring(const std::string& file) {
    auto opened = symbol::KeyRingFile::Open(file, kPassphrase);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return std::move(opened->second);
  }

  std::string Backup(const std::string& name) {
    const std::string file = dir_.Sub(name);
    auto made = CreateBackup(data_, file, *ring_);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return file;
  }

  static void Corrupt(const std::string& file, size_t at) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
  }

  ipn::testing::TempDir dir_;
  std::string data_;
  std::unique_ptr<symbol::SymbolService> symbols_;  // open: the backup is taken "live"
  std::unique_ptr<RecordStore> store_;
  std::optional<symbol::KeyRing> ring_;
};

TEST_F(BackupTest, LiveBackupRestoresTheSameLogAndIssuances) {
  const std::string file = dir_.Sub("east.ipnbak");
  std::vector<std::string> progress;
  auto made = CreateBackup(data_, file, *ring_,
                           [&](std::string_view db, uint64_t) { progress.emplace_back(db); });
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->tree_size, 300u);
  EXPECT_EQ(made->applied_entry, 42u);
  EXPECT_GT(made->record_rows, 300u);  // records, their indexes, the tree, the head
  EXPECT_GE(made->issuance_rows, 4u);  // two persons at two agencies, plus the check row
  EXPECT_EQ(made->bytes, fs::file_size(file));
  EXPECT_FALSE(fs::exists(file + ".partial"));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), "issuance");

  // Restored into a new directory (the key ring copied in), the stores are the same.
  const std::string west = dir_.Sub("west");
  RestoreOptions options;
  options.key_ring_file = data_ + "/symbols/keyring.ipnk";
  auto restored = RestoreBackup(file, west, *ring_, options);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->tree_size, 300u);
  EXPECT_EQ(restored->record_rows, made->record_rows);
  EXPECT_TRUE(restored->verify.ok());
  EXPECT_EQ(restored->verify.records_checked, 300u);
  EXPECT_FALSE(fs::exists(west + ".restoring"));
  auto copy = OpenStore(west + "/records", true);
  ASSERT_NE(copy, nullptr);
  ASSERT_EQ(copy->Size(), 300u);
  EXPECT_EQ(*copy->RootHash(300), *store_->RootHash(300));
  EXPECT_EQ(copy->TreeHeads()->size(), store_->TreeHeads()->size());
  EXPECT_EQ(*copy->GetMeta("replica.applied_entry"), "42");
  EXPECT_EQ(copy->Get(299)->request_id, store_->Get(299)->request_id);

  // The restored issuance file is the same person's: issuing again there keeps the symbol
  // (and the first-issued time), and the restored key ring opens with the passphrase.
  store_.reset();
  auto first = symbols_->Issue("49428595750", kPen);
  ASSERT_TRUE(first.ok());
  auto east_entries = symbols_->IssuanceOf(first->bytes, kPen);
  ASSERT_TRUE(east_entries.ok());
  symbols_.reset();
  symbol::SymbolServiceOptions so;
  so.kdf = symbol::KdfStrength::kMinimumForTests;
  auto there = symbol::SymbolService::Open(west + "/symbols", kPassphrase, so);
  ASSERT_TRUE(there.ok()) << there.status().ToString();
  auto west_entries = (*there)->IssuanceOf(first->bytes, kPen);
  ASSERT_TRUE(west_entries.ok());
  ASSERT_EQ(west_entries->size(), east_entries->size());
  ASSERT_EQ(west_entries->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*west_entries)[i].agency_code, (*east_entries)[i].agency_code);
    EXPECT_EQ((*west_entries)[i].first_issued_us, (*east_entries)[i].first_issued_us);
  }
}

TEST_F(BackupTest, VerifyChecksWithoutLeavingAnything) {
  const std::string file = Backup("b.ipnbak");
  const std::string scratch = dir_.Sub("scratch");
  ASSERT_TRUE(EnsureDirectory(scratch).ok());
  auto verified = VerifyBackup(file, scratch, *ring_);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->tree_size, 300u);
  EXPECT_TRUE(verified->verify.ok());
  EXPECT_TRUE(fs::is_empty(scratch));
}

TEST_F(BackupTest, AlteredCutOffOrExtendedBackupsAreRefused) {
  const std::string file = Backup("good.ipnbak");
  const std::string scratch = dir_.Sub("scratch");
  ASSERT_TRUE(EnsureDirectory(scratch).ok());
  const uint64_t size = fs::file_size(file);
  auto expect_refused = [&](const std::string& bad, const std::string& why) {
    auto v = VerifyBackup(bad, scratch, *ring_);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), Status::Code::kCorruption) << v.status().ToString();
    EXPECT_NE(v.status().message().find(why), std::string::npos) << v.status().ToString();
    // A refused restore leaves no directory behind.
    auto r = RestoreBackup(bad, dir_.Sub("never"), *ring_, {});
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(fs::exists(dir_.Sub("never")));
    EXPECT_FALSE(fs::exists(dir_.Sub("never.restoring")));
  };
  for (size_t at : {size_t{40}, static_cast<size_t>(size / 2), static_cast<size_t>(size - 3)}) {
    const std::string bad = dir_.Sub("altered-" + std::to_string(at));
    fs::copy_file(file, bad);
    Corrupt(bad, at);
    expect_refused(bad, "does not open");
  }
  const std::string cut = dir_.Sub("cut.ipnbak");
  fs::copy_file(file, cut);
  fs::resize_file(cut, size - 100);
  expect_refused(cut, "cut off");
  const std::string extended = dir_.Sub("extended.ipnbak");
  fs::copy_file(file, extended);
  {
    std::ofstream f(extended, std::ios::app | std::ios::binary);
    f << "x";
  }
  expect_refused(extended, "after its final part");
  EXPECT_TRUE(fs::is_empty(scratch));
}

TEST_F(BackupTest, AnotherKeyRingCannotOpenIt) {
  const std::string file = Backup("b.ipnbak");
  const std::string other = dir_.Sub("other");
  symbol::SymbolServiceOptions so;
  so.kdf = symbol::KdfStrength::kMinimumForTests;
  ASSERT_TRUE(symbol::SymbolService::Create(other, kPassphrase, so).ok());
  symbol::KeyRing foreign = Ring(other + "/keyring.ipnk");
  auto v = VerifyBackup(file, dir_.path(), foreign);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("does not open"), std::string::npos) << v.status().ToString();
}

TEST_F(BackupTest, NothingIsOverwritten) {
  const std::string file = Backup("b.ipnbak");
  // Not the backup file...
  auto again = CreateBackup(data_, file, *ring_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kAlreadyExists);
  // ...nor a data directory that holds anything.
  auto over = RestoreBackup(file, data_, *ring_, {});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(store_->Size(), 300u);
  // An empty directory made beforehand is fine.
  const std::string empty = dir_.Sub("empty");
  ASSERT_TRUE(EnsureDirectory(empty).ok());
  auto into = RestoreBackup(file, empty, *ring_, {});
  ASSERT_TRUE(into.ok()) << into.status().ToString();
  EXPECT_TRUE(fs::exists(empty + "/records"));
  EXPECT_FALSE(fs::exists(empty + "/symbols/keyring.ipnk"));  // none was given to copy
}

}  // namespace
}  // namespace ipn::replica
