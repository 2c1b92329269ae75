// `ipn backup`: encrypted backups of one replica's stores (replica/backup.h,
// docs/operations.md).
//   create   back up a data directory (the core may be running) to a new file
//   verify   open a backup, restore it into a scratch directory and verify it there
//   restore  restore a backup into a new data directory, verified before it is in place
// The backup is sealed under the records key: every command opens the site's key ring file
// (DATA/symbols/keyring.ipnk; the passphrase from IPN_PASSPHRASE or a prompt), which the
// backup never holds. Exit status: 0 done, 1 the backup is damaged or does not verify,
// 2 could not run (bad arguments, missing files, wrong passphrase).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/time_text.h"
#include "replica/backup.h"
#include "symbol/key_ring_file.h"
#include "symbol/passphrase.h"
#include "symbol/symbol_service.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

struct BackupArgs {
  std::string data_dir;
  std::string file;
  std::string key_ring;  // the key ring file
  std::string scratch;
  bool json = false;
};

int Fail(const char* command, const Status& s) {
  std::fprintf(stderr, "ipn backup %s: %s\n", command, s.ToString().c_str());
  return s.code() == Status::Code::kCorruption ? 1 : 2;
}

std::string DefaultKeyRing(const std::string& data_dir) {
  return data_dir + "/" + replica::kSymbolsDirName + "/" + symbol::SymbolService::kKeyRingFileName;
}

// The key ring alone, from its file: it opens while the core runs (the issuance file,
// which the core holds locked, is not needed to read the keys).
Result<symbol::KeyRing> OpenKeyRing(const std::string& path) {
  std::error_code ec;
  // Checked before the passphrase is asked for: a mistyped path should not cost a prompt.
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("key ring file " + path + " does not exist");
  }
  Result<SecretBytes> passphrase = symbol::ReadPassphrase("Key ring passphrase: ");
  if (!passphrase.ok()) return passphrase.status();
  auto opened = symbol::KeyRingFile::Open(path, symbol::AsStringView(*passphrase));
  if (!opened.ok()) return opened.status().WithContext("key ring " + path);
  return std::move(opened->second);
}

// Progress on the terminal only (a log or a test reads the summary).
replica::BackupProgress Progress(const char* command) {
  if (::isatty(STDERR_FILENO) == 0) return {};
  return [command](std::string_view database, uint64_t rows) {
    std::fprintf(stderr, "\ripn backup %s: %.*s %llu rows   ", command,
                 static_cast<int>(database.size()), database.data(),
                 static_cast<unsigned long long>(rows));
    std::fflush(stderr);
  };
}

void EndProgress() {
  if (::isatty(STDERR_FILENO) != 0) std::fprintf(stderr, "\n");
}

void Print(const char* what, const std::string& file, const replica::BackupSummary& s, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    j["backup"] = file;
    j["result"] = what;
    j["records"] = s.tree_size;
    j["applied_entry"] = s.applied_entry;
    j["record_rows"] = s.record_rows;
    j["issuance_rows"] = s.issuance_rows;
    j["bytes"] = s.bytes;
    j["key_version"] = s.key_version;
    j["created"] = FormatUtc(s.created_unix_us);
    if (s.verify.latest_head) j["verified_head_size"] = s.verify.latest_head->tree_size;
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s: %s\n", what, file.c_str());
  std::printf("  made        %s, sealed under records key version %u\n",
              FormatUtc(s.created_unix_us).c_str(), s.key_version);
  std::printf("  records     %llu (replicated log entry %llu)\n",
              static_cast<unsigned long long>(s.tree_size),
              static_cast<unsigned long long>(s.applied_entry));
  std::printf("  rows        %llu record store, %llu issuance file; %llu bytes\n",
              static_cast<unsigned long long>(s.record_rows),
              static_cast<unsigned long long>(s.issuance_rows),
              static_cast<unsigned long long>(s.bytes));
  if (s.verify.latest_head) {
    std::printf("  verified    %llu records against %llu signed heads\n",
                static_cast<unsigned long long>(s.verify.records_checked),
                static_cast<unsigned long long>(s.verify.heads_checked));
  }
}

int RunCreate(const BackupArgs& a) {
  Result<symbol::KeyRing> ring =
      OpenKeyRing(a.key_ring.empty() ? DefaultKeyRing(a.data_dir) : a.key_ring);
  if (!ring.ok()) return Fail("create", ring.status());
  auto s = replica::CreateBackup(a.data_dir, a.file, *ring, Progress("create"));
  EndProgress();
  if (!s.ok()) return Fail("create", s.status());
  Print("backed up", a.file, *s, a.json);
  return 0;
}

int RunVerify(const BackupArgs& a) {
  Result<symbol::KeyRing> ring = OpenKeyRing(a.key_ring);
  if (!ring.ok()) return Fail("verify", ring.status());
  std::string scratch = a.scratch;
  if (scratch.empty()) {
    std::error_code ec;
    scratch = std::filesystem::temp_directory_path(ec).string();
    if (ec) scratch = "/tmp";
  }
  auto s = replica::VerifyBackup(a.file, scratch, *ring, Progress("verify"));
  EndProgress();
  if (!s.ok()) return Fail("verify", s.status());
  Print("verified", a.file, *s, a.json);
  return 0;
}

int RunRestore(const BackupArgs& a) {
  Result<symbol::KeyRing> ring = OpenKeyRing(a.key_ring);
  if (!ring.ok()) return Fail("restore", ring.status());
  replica::RestoreOptions options;
  options.key_ring_file = a.key_ring;
  options.progress = Progress("restore");
  auto s = replica::RestoreBackup(a.file, a.data_dir, *ring, options);
  EndProgress();
  if (!s.ok()) return Fail("restore", s.status());
  Print("restored", a.file, *s, a.json);
  if (!a.json) {
    std::printf("  into        %s (start ipn-core on it: it catches up from etcd)\n",
                a.data_dir.c_str());
  }
  return 0;
}

}  // namespace

void RegisterBackupCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<BackupArgs>();
  auto* group = app.add_subcommand(
      "backup", "Encrypted backups of a replica's record store and issuance file");
  group->require_subcommand(1);

  auto* create = group->add_subcommand(
      "create", "Back up a core's data directory (it may be running) to a new file");
  create->add_option("--data-dir", args->data_dir, "The core's data directory")->required();
  create->add_option("--out", args->file, "The backup file to write (must not exist)")->required();
  create->add_option("--key-ring", args->key_ring,
                     "Key ring file (default DATA/symbols/keyring.ipnk); passphrase from "
                     "IPN_PASSPHRASE or a prompt");
  create->add_flag("--json", args->json, "Print the summary as JSON");
  create->callback([&ctx, args] { ctx.exit_code = RunCreate(*args); });

  auto* verify = group->add_subcommand(
      "verify",
      "Open a backup, restore it into a scratch directory and verify its log there "
      "(exit 0 verified, 1 damaged, 2 could not verify)");
  verify->add_option("file", args->file, "The backup file")->required();
  verify->add_option("--key-ring", args->key_ring, "The site's key ring file")->required();
  verify->add_option("--scratch", args->scratch,
                     "Where to restore it for the check (default /tmp)");
  verify->add_flag("--json", args->json, "Print the summary as JSON");
  verify->callback([&ctx, args] { ctx.exit_code = RunVerify(*args); });

  auto* restore = group->add_subcommand(
      "restore", "Restore a backup into a new data directory, verified before it is in place");
  restore->add_option("file", args->file, "The backup file")->required();
  restore->add_option("--data-dir", args->data_dir, "The new data directory (absent or empty)")
      ->required();
  restore
      ->add_option("--key-ring", args->key_ring,
                   "The site's key ring file (copied into the new directory)")
      ->required();
  restore->add_flag("--json", args->json, "Print the summary as JSON");
  restore->callback([&ctx, args] { ctx.exit_code = RunRestore(*args); });
}

}  // namespace ipn::cli
