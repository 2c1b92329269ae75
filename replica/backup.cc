// Backup: encrypted backups of one replica (see backup.h).
#include "replica/backup.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/file_util.h"
#include "ipn/v1/backup.pb.h"
#include "records/record_store.h"
#include "replica/backup_stream.h"
#include "replica/record_replicator.h"
#include "symbol/issuance_file.h"
#include "symbol/symbol_service.h"

namespace ipn::replica {
namespace {

namespace fs = std::filesystem;

constexpr char kRecordsDb[] = "records";
constexpr char kIssuanceDb[] = "issuance";
constexpr size_t kPartBytes = size_t{4} << 20;  // rows per sealed part, well under the limit
constexpr uint64_t kProgressEvery = 10'000;

Status FromRocks(const rocksdb::Status& s, const std::string& context) {
  return Status::IoError(context + ": " + s.ToString());
}

std::string IssuanceDir(const std::string& data_dir) {
  return data_dir + "/" + kSymbolsDirName + "/" + symbol::SymbolService::kIssuanceDirName;
}

// Gathers one database's rows into parts of about kPartBytes, one family at a time.
class RowsWriter {
 public:
  RowsWriter(BackupWriter* out, std::string database, const BackupProgress& progress)
      : out_(out), database_(std::move(database)), progress_(progress) {}

  // Opens the database in the backup with every column family of the one in `dir`.
  Status Begin(const std::string& dir) {
    std::vector<std::string> families;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &families);
    if (!s.ok()) return FromRocks(s, "cannot open " + dir);
    v1::BackupPart part;
    part.mutable_database()->set_name(database_);
    for (const std::string& f : families) part.mutable_database()->add_column_families(f);
    return out_->Write(part);
  }
  Status Add(std::string_view family, std::string_view key, std::string_view value) {
    if (pending_bytes_ != 0 && (family != part_.rows().column_family() ||
                                pending_bytes_ + key.size() + value.size() > kPartBytes)) {
      IPN_RETURN_IF_ERROR(Flush());
    }
    v1::BackupRows* rows = part_.mutable_rows();
    if (pending_bytes_ == 0) rows->set_column_family(std::string(family));
    rows->add_keys(key.data(), key.size());
    rows->add_values(value.data(), value.size());
    pending_bytes_ += key.size() + value.size() + 8;
    if (++rows_ % kProgressEvery == 0 && progress_) progress_(database_, rows_);
    return Status::Ok();
  }
  Status Finish() {
    IPN_RETURN_IF_ERROR(Flush());
    if (progress_) progress_(database_, rows_);
    return Status::Ok();
  }
  uint64_t rows() const { return rows_; }

 private:
  Status Flush() {
    if (pending_bytes_ == 0) return Status::Ok();
    Status s = out_->Write(part_);
    part_.Clear();
    pending_bytes_ = 0;
    return s;
  }

  BackupWriter* out_;
  std::string database_;
  const BackupProgress& progress_;
  v1::BackupPart part_;
  size_t pending_bytes_ = 0;
  uint64_t rows_ = 0;
};

// Every row of the RocksDB database in `dir`, read-only: RocksDB's read-only mode takes no
// lock and changes nothing, and shows the database as of its opening, so this works while
// the core has it open.
Status DumpReadOnly(const std::string& dir, RowsWriter& rows) {
  std::vector<std::string> names;
  rocksdb::DBOptions dbo;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(dbo, dir, &names);
  if (!s.ok()) return FromRocks(s, "cannot open " + dir);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(dbo, dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "cannot open " + dir + " read-only");
  std::unique_ptr<rocksdb::DB> db(raw);
  Status result = Status::Ok();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  for (rocksdb::ColumnFamilyHandle* cf : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    for (it->SeekToFirst(); result.ok() && it->Valid(); it->Next()) {
      result = rows.Add(cf->GetName(), it->key().ToStringView(), it->value().ToStringView());
    }
    if (result.ok() && !it->status().ok()) result = FromRocks(it->status(), "cannot read " + dir);
    if (!result.ok()) break;
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
  return result;
}

// Writes one restored database: a new RocksDB (it must not exist) filled without the
// write-ahead log and flushed at the end (a restore that stops half-way is discarded whole).
class DatabaseLoader {
 public:
  static Result<std::unique_ptr<DatabaseLoader>> Create(const std::string& dir,
                                                        const v1::BackupDatabase& database) {
    IPN_RETURN_IF_ERROR(EnsureDirectory(fs::path(dir).parent_path().string()));
    rocksdb::Options o;
    o.create_if_missing = true;
    o.error_if_exists = true;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
    if (!s.ok()) return FromRocks(s, "cannot create " + dir);
    std::unique_ptr<DatabaseLoader> l(new DatabaseLoader());
    l->db_.reset(raw);
    l->dir_ = dir;
    l->families_[rocksdb::kDefaultColumnFamilyName] = raw->DefaultColumnFamily();
    // Every family, empty ones too: the store opens only with all of its families.
    for (const std::string& name : database.column_families()) {
      if (name == rocksdb::kDefaultColumnFamilyName) continue;
      if (l->families_.count(name) != 0) return Status::Corruption("a column family twice");
      rocksdb::ColumnFamilyHandle* h = nullptr;
      s = raw->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &h);
      if (!s.ok()) return FromRocks(s, "cannot create a column family in " + dir);
      l->families_[name] = h;
    }
    return l;
  }
  ~DatabaseLoader() {
    for (auto& [name, h] : families_) {
      if (h != db_->DefaultColumnFamily()) db_->DestroyColumnFamilyHandle(h);
    }
  }

  Status Write(const v1::BackupRows& rows) {
    if (rows.keys_size() != rows.values_size()) {
      return Status::Corruption("a backup part has " + std::to_string(rows.keys_size()) +
                                " keys and " + std::to_string(rows.values_size()) + " values");
    }
    auto found = families_.find(rows.column_family());
    if (found == families_.end()) {
      return Status::Corruption("rows of column family '" + rows.column_family() +
                                "', which the database does not list");
    }
    rocksdb::ColumnFamilyHandle* cf = found->second;
    rocksdb::WriteBatch batch;
    for (int i = 0; i < rows.keys_size(); ++i) batch.Put(cf, rows.keys(i), rows.values(i));
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;  // flushed (and synced) once at the end
    rocksdb::Status s = db_->Write(wo, &batch);
    if (!s.ok()) return FromRocks(s, "cannot write " + dir_);
    rows_ += static_cast<uint64_t>(rows.keys_size());
    return Status::Ok();
  }
  Status Finish() {
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (auto& [name, h] : families_) all.push_back(h);
    rocksdb::FlushOptions fo;
    fo.wait = true;
    rocksdb::Status s = db_->Flush(fo, all);
    if (s.ok()) s = db_->SyncWAL();
    if (!s.ok()) return FromRocks(s, "cannot flush " + dir_);
    return Status::Ok();
  }
  uint64_t rows() const { return rows_; }

 private:
  DatabaseLoader() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
  uint64_t rows_ = 0;
};

records::RecordStoreOptions StoreOptions(const std::string& dir, const symbol::KeyRing& ring) {
  symbol::RecordKeys keys = ring.CloneRecordKeys();
  records::RecordStoreOptions o;
  o.dir = dir;
  o.encryption_keys = std::move(keys.encryption);
  o.signing_secret_key = std::move(keys.signing_secret_key);
  o.read_only = true;
  o.purge_every_us = 0;
  o.block_cache_bytes = size_t{32} << 20;
  return o;
}

Result<uint64_t> AppliedEntry(const records::RecordStore& store) {
  Result<std::optional<uint64_t>> kept = KeptAppliedEntry(store);
  if (!kept.ok()) return kept.status();
  return kept->value_or(0);
}

// Reads the backup into `staging` (a new directory laid out as a core's data directory)
// and checks it. Every failure leaves `staging` for the caller to remove.
Result<BackupSummary> RestoreInto(const std::string& backup_path, const std::string& staging,
                                  const symbol::KeyRing& ring, const RestoreOptions& options) {
  symbol::RecordKeys keys = ring.CloneRecordKeys();
  auto reader = BackupReader::Open(backup_path, keys.encryption);
  if (!reader.ok()) return reader.status();
  BackupSummary summary;
  summary.key_version = (*reader)->header().key_version();
  summary.created_unix_us = (*reader)->header().created_unix_us();
  std::unique_ptr<DatabaseLoader> loader;
  std::string database;
  std::vector<std::pair<std::string, uint64_t>> loaded;
  auto close_database = [&]() -> Status {
    if (!loader) return Status::Ok();
    IPN_RETURN_IF_ERROR(loader->Finish());
    loaded.emplace_back(database, loader->rows());
    if (options.progress) options.progress(database, loader->rows());
    loader.reset();
    return Status::Ok();
  };
  v1::BackupEnd end;
  for (bool final = false; !final;) {
    Result<v1::BackupPart> part = (*reader)->Next(&final);
    if (!part.ok()) return part.status();
    if (final != part->has_end()) {
      return Status::Corruption(backup_path + ": its final part is not its end");
    }
    if (part->has_database()) {
      IPN_RETURN_IF_ERROR(close_database());
      database = part->database().name();
      std::string dir;
      if (database == kRecordsDb) {
        dir = staging + "/" + kRecordsDirName;
      } else if (database == kIssuanceDb) {
        dir = IssuanceDir(staging);
      } else {
        return Status::Corruption(backup_path + " holds an unknown database '" + database + "'");
      }
      for (const auto& [name, rows] : loaded) {
        if (name == database) return Status::Corruption(backup_path + " holds " + name + " twice");
      }
      auto created = DatabaseLoader::Create(dir, part->database());
      if (!created.ok()) return created.status();
      loader = std::move(*created);
    } else if (part->has_rows()) {
      if (!loader) return Status::Corruption(backup_path + ": rows before any database");
      const uint64_t before = loader->rows();
      IPN_RETURN_IF_ERROR(loader->Write(part->rows()));
      if (options.progress && before / kProgressEvery != loader->rows() / kProgressEvery) {
        options.progress(database, loader->rows());
      }
    } else if (part->has_end()) {
      IPN_RETURN_IF_ERROR(close_database());
      end = part->end();
    } else {
      return Status::Corruption(backup_path + ": an empty part");
    }
  }
  summary.bytes = (*reader)->bytes_read();
  if (loaded.size() != 2 || loaded[0].first != kRecordsDb || loaded[1].first != kIssuanceDb ||
      end.rows_size() != 2 || end.rows(0) != loaded[0].second || end.rows(1) != loaded[1].second) {
    return Status::Corruption(backup_path +
                              ": its databases or row counts differ from what its end says");
  }
  summary.record_rows = loaded[0].second;
  summary.issuance_rows = loaded[1].second;

  // The record log must verify against its own signed heads, and say what the end says.
  auto store = records::RecordStore::Open(StoreOptions(staging + "/" + kRecordsDirName, ring));
  if (!store.ok()) return store.status().WithContext("opening the restored record store");
  records::VerifyOptions vo;
  vo.threads = options.verify_threads;
  Result<records::VerifyReport> report = (*store)->Verify(vo);
  if (!report.ok()) return report.status().WithContext("verifying the restored record log");
  if (!report->ok()) {
    return Status::Corruption(
        "the restored record log does not verify: " +
        std::to_string(report->findings.size() + report->findings_omitted) +
        " findings (ipn records verify on the restored directory names them)");
  }
  Result<uint64_t> applied = AppliedEntry(**store);
  if (!applied.ok()) return applied.status();
  if ((*store)->Size() != end.tree_size() || *applied != end.applied_entry()) {
    return Status::Corruption(
        backup_path + ": the restored log holds " + std::to_string((*store)->Size()) +
        " records at log entry " + std::to_string(*applied) + ", its end says " +
        std::to_string(end.tree_size()) + " at " + std::to_string(end.applied_entry()));
  }
  summary.tree_size = end.tree_size();
  summary.applied_entry = end.applied_entry();
  summary.verify = std::move(*report);
  store->reset();
  // The issuance file must belong to this key ring (its sealed check row opens).
  auto issuance = symbol::IssuanceFile::Open(IssuanceDir(staging), ring);
  if (!issuance.ok()) return issuance.status().WithContext("opening the restored issuance file");
  return summary;
}

bool IsEmptyOrAbsent(const std::string& dir, std::string* why) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) {
    *why = dir + " exists and is not a directory";
    return false;
  }
  if (!fs::is_empty(dir, ec)) {
    *why = dir + " is not empty: a restore never writes over a data directory";
    return false;
  }
  return true;
}

void SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Result<BackupSummary> CreateBackup(const std::string& data_dir, const std::string& out_path,
                                   const symbol::KeyRing& ring, const BackupProgress& progress) {
  symbol::RecordKeys keys = ring.CloneRecordKeys();
  if (keys.encryption.empty()) return Status::FailedPrecondition("the key ring has no records key");
  BackupSummary summary;
  summary.key_version = keys.encryption.back().first;
  summary.created_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  // The record store first: the issuance file read after it holds every issuance of the
  // log entries the store says it applied (each site applies entries in order and syncs
  // each issuance), so a restore may resume after that entry.
  auto store = records::RecordStore::Open(StoreOptions(data_dir + "/" + kRecordsDirName, ring));
  if (!store.ok()) return store.status().WithContext("opening " + data_dir + "/records");
  Result<uint64_t> applied = AppliedEntry(**store);
  if (!applied.ok()) return applied.status();

  v1::BackupHeader header;
  header.set_key_version(summary.key_version);
  header.set_created_unix_us(summary.created_unix_us);
  auto out = BackupWriter::Create(out_path, header, keys.encryption.back().second);
  if (!out.ok()) return out.status();

  RowsWriter record_rows(out->get(), kRecordsDb, progress);
  IPN_RETURN_IF_ERROR(record_rows.Begin(data_dir + "/" + kRecordsDirName));
  IPN_RETURN_IF_ERROR((*store)->ForEachRow(
      [&](std::string_view family, std::string_view key, std::string_view value) {
        return record_rows.Add(family, key, value);
      }));
  IPN_RETURN_IF_ERROR(record_rows.Finish());
  summary.tree_size = (*store)->Size();
  summary.applied_entry = *applied;
  summary.record_rows = record_rows.rows();
  store->reset();

  RowsWriter issuance_rows(out->get(), kIssuanceDb, progress);
  IPN_RETURN_IF_ERROR(issuance_rows.Begin(IssuanceDir(data_dir)));
  IPN_RETURN_IF_ERROR(DumpReadOnly(IssuanceDir(data_dir), issuance_rows));
  IPN_RETURN_IF_ERROR(issuance_rows.Finish());
  summary.issuance_rows = issuance_rows.rows();

  v1::BackupPart end;
  end.mutable_end()->add_rows(summary.record_rows);
  end.mutable_end()->add_rows(summary.issuance_rows);
  end.mutable_end()->set_tree_size(summary.tree_size);
  end.mutable_end()->set_applied_entry(summary.applied_entry);
  IPN_RETURN_IF_ERROR((*out)->Finish(end));
  summary.bytes = (*out)->bytes();
  return summary;
}

Result<BackupSummary> RestoreBackup(const std::string& backup_path, const std::string& data_dir,
                                    const symbol::KeyRing& ring, const RestoreOptions& options) {
  std::string why;
  if (!IsEmptyOrAbsent(data_dir, &why)) return Status::AlreadyExists(why);
  std::string target = fs::path(data_dir).lexically_normal().string();
  while (target.size() > 1 && target.back() == '/') target.pop_back();  // "dir/" is "dir"
  const std::string staging = target + ".restoring";
  std::error_code ec;
  fs::remove_all(staging, ec);  // a restore that stopped before: its own name, never served
  IPN_RETURN_IF_ERROR(EnsureDirectory(staging));
  Result<BackupSummary> summary = RestoreInto(backup_path, staging, ring, options);
  if (summary.ok() && !options.key_ring_file.empty()) {
    Result<std::string> ring_file = ReadFile(options.key_ring_file);
    if (!ring_file.ok()) {
      summary = ring_file.status().WithContext("copying the key ring in");
    } else {
      const std::string to =
          staging + "/" + kSymbolsDirName + "/" + symbol::SymbolService::kKeyRingFileName;
      Status copied = WriteFileAtomic(to, *ring_file);
      if (!copied.ok()) summary = copied;
    }
  }
  if (!summary.ok()) {
    fs::remove_all(staging, ec);
    return summary;
  }
  // Every directory made durable before the one rename that publishes them all.
  SyncDirectory(staging + "/" + kRecordsDirName);
  SyncDirectory(staging + "/" + kSymbolsDirName);
  SyncDirectory(staging);
  // All checked: the directory appears whole under its name, or not at all.
  fs::remove(target, ec);  // the empty directory the operator may have made
  if (::rename(staging.c_str(), target.c_str()) != 0) {
    fs::remove_all(staging, ec);
    return Status::IoError("cannot move the restored directory to " + target);
  }
  SyncDirectory(fs::path(target).parent_path().string().empty()
                    ? "."
                    : fs::path(target).parent_path().string());
  return summary;
}

Result<BackupSummary> VerifyBackup(const std::string& backup_path, const std::string& scratch_dir,
                                   const symbol::KeyRing& ring, const BackupProgress& progress) {
  std::string tmpl = scratch_dir + "/ipn-backup-verify-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::IoError("cannot make a scratch directory under " + scratch_dir);
  }
  RestoreOptions options;
  options.progress = progress;
  Result<BackupSummary> summary = RestoreInto(backup_path, tmpl, ring, options);
  std::error_code ec;
  fs::remove_all(tmpl, ec);
  return summary;
}

}  // namespace ipn::replica
