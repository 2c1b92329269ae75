// `ipn records verify|stats` on a core's data directory: the record store (DATA/records)
// opened with the record keys held in the core's key ring (--key-ring DATA/symbols), the
// passphrase from IPN_PASSPHRASE as for `ipn keys`; and the errors for a wrong passphrase, a
// missing key-ring directory and missing or conflicting key options.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "common/clock.h"
#include "common/file_util.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"
#include "tests/support/temp_dir.h"

namespace ipn::cli {
namespace {

using ipn::testing::TempDir;

constexpr char kPassphrase[] = "records cli test passphrase";
constexpr int64_t kT0 = 1743465600000000;  // 2025-04-01T00:00:00Z
constexpr uint64_t kRecords = 12;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class RecordsCliTest : public ::testing::Test {
 protected:
  // A core's data directory as the core leaves it: DATA/symbols (the key ring) and
  // DATA/records (the store, under the key ring's record keys) with kRecords records.
  void SetUp() override {
    symbol::SymbolServiceOptions options;
    options.kdf = symbol::KdfStrength::kMinimumForTests;
    ASSERT_TRUE(symbol::SymbolService::Create(KeyRing(), kPassphrase, options).ok());
    auto service = symbol::SymbolService::Open(KeyRing(), kPassphrase, options);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    auto keys = (*service)->GetRecordKeys();
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    records::RecordStoreOptions ropts;
    ropts.dir = Store();
    ropts.encryption_keys = std::move(keys->encryption);
    ropts.signing_secret_key = std::move(keys->signing_secret_key);
    // Heads only at close, signed at the clock's time, so verify prints a known head time.
    ropts.clock = &clock_;
    ropts.tree_head_every_records = 0;
    ropts.tree_head_every_us = 0;
    ropts.purge_every_us = 0;
    auto store = records::RecordStore::Open(std::move(ropts));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (uint64_t i = 0; i < kRecords; ++i) {
      records::Record r;
      r.time_unix_us = kT0 + static_cast<int64_t>(i) * 1'000'000;
      r.event = i % 2 == 0 ? records::Event::kInquiryAccepted : records::Event::kInquiryRefused;
      r.record_symbol.fill(static_cast<uint8_t>(i % 3 + 1));
      r.inquirer = i % 3 == 0 ? "PEN-0001" : "MUN-131016";
      r.provider = "MUN-271004";
      r.business = "np-benefit";
      r.item = "local-tax";
      r.request_id = "req-" + std::to_string(i);
      r.outcome = i % 2 == 0 ? "" : "NO_SUCH_LINK";
      ASSERT_TRUE((*store)->Append(r).ok());
    }
    // The store and the key ring close here, as when the core stops.
  }

  std::string KeyRing() const { return tmp_.Sub("data/symbols"); }
  std::string Store() const { return tmp_.Sub("data/records"); }

  // Runs `ipn <args>` with stdin from /dev/null and IPN_PASSPHRASE=`passphrase`.
  CliRun Ipn(const std::string& args, const std::string& passphrase = kPassphrase) {
    const std::string out = tmp_.Sub("stdout"), err = tmp_.Sub("stderr");
    const std::string command = "env IPN_PASSPHRASE='" + passphrase + "' " +
                                ipn::testing::BinDir() + "/ipn " + args + " </dev/null >" + out +
                                " 2>" + err;
    const int status = std::system(command.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(out).value();
    run.err = ReadFile(err).value();
    return run;
  }

  TempDir tmp_;
  ManualClock clock_{kT0 + static_cast<int64_t>(kRecords) * 1'000'000};
};

TEST_F(RecordsCliTest, VerifyOpensTheCoresStoreWithItsKeyRing) {
  CliRun run = Ipn("records verify --threads 1 --dir " + Store() + " --key-ring " + KeyRing());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  // The root hashes the records' contents (not their sealed form), so it is the same in
  // every run; the head is signed at the store's clock when it closes.
  EXPECT_EQ(run.out,
            "tree size 12, purged below 0; 12 records, 24 index entries and 1 signed heads "
            "checked\n"
            "latest good head: size 12, root "
            "60b769de03b0de2b4d3a3c277fe97fff4da5e2189ff58d4862d957d7aceb5031, signed "
            "2025-04-01T00:00:12.000000Z\n"
            "OK: the log verifies\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(RecordsCliTest, StatsOpensTheCoresStoreWithItsKeyRing) {
  CliRun run = Ipn("records stats --format csv --from 2025-04-01 --to 2025-05-01 --dir " + Store() +
                   " --key-ring " + KeyRing());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "month,inquirer,provider,business,event,outcome,count\n"
            "2025-04,MUN-131016,MUN-271004,np-benefit,inquiry_accepted,,4\n"
            "2025-04,MUN-131016,MUN-271004,np-benefit,inquiry_refused,NO_SUCH_LINK,4\n"
            "2025-04,PEN-0001,MUN-271004,np-benefit,inquiry_accepted,,2\n"
            "2025-04,PEN-0001,MUN-271004,np-benefit,inquiry_refused,NO_SUCH_LINK,2\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(RecordsCliTest, AWrongPassphraseIsRefusedClearly) {
  CliRun run =
      Ipn("records verify --dir " + Store() + " --key-ring " + KeyRing(), "not the passphrase");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "ipn records verify: PermissionDenied: --key-ring " + KeyRing() +
                         ": cannot open the key ring " + KeyRing() +
                         "/keyring.ipnk: wrong passphrase (or the file was altered)\n");
}

TEST_F(RecordsCliTest, AMissingKeyRingDirectoryIsRefusedClearly) {
  const std::string missing = tmp_.Sub("data/nope");
  CliRun run = Ipn("records stats --from 2025-04-01 --to 2025-05-01 --dir " + Store() +
                   " --key-ring " + missing);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "ipn records stats: NotFound: --key-ring " + missing + " is not a directory\n");
}

TEST_F(RecordsCliTest, OneKeySourceIsRequired) {
  CliRun neither = Ipn("records verify --dir " + Store());
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_EQ(neither.err,
            "ipn records verify: InvalidArgument: --key-ring or --key-file is required\n");
  CliRun both = Ipn("records verify --dir " + Store() + " --key-ring " + KeyRing() +
                    " --key-file " + tmp_.Sub("keys"));
  EXPECT_NE(both.exit_code, 0);
  EXPECT_EQ(both.err, "--key-ring excludes --key-file\nRun with --help for more information.\n");
}

}  // namespace
}  // namespace ipn::cli
