// BackupStream: the sealed container of a backup file. A clear header names the format and
// the records key version; then parts, each sealed with libsodium's secretstream
// (XChaCha20-Poly1305) under subkey 2 of that records key (crypto_kdf, context
// "ipnbkup1"). secretstream numbers its messages and marks the last one, so a part that
// is altered, dropped, reordered or cut off, or a file that ends early, fails to open.
//
//   "IPNBKUP1" | u32 header length | BackupHeader | secretstream header (24 bytes)
//   then per part: u32 sealed length | sealed part
//
// The writer fills "<path>.partial" and renames it over `path` only when the final part
// is sealed and synced: a backup file that exists is whole.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "common/status.h"
#include "ipn/v1/backup.pb.h"

namespace ipn::replica {

// The largest sealed part a reader accepts (docs/limits.md): parts are written up to a
// few MiB; anything larger is a damaged or hostile file, refused before it is read.
inline constexpr uint32_t kMaxBackupPartBytes = 64u << 20;

// The backup key of one records key (32 bytes): its own subkey, so a backup and a
// stored record never share a key.
SecretBytes BackupKey(const SecretBytes& records_key);

class BackupWriter {
 public:
  // Creates "<path>.partial" (0600) and writes the header. Fails if `path` exists.
  static Result<std::unique_ptr<BackupWriter>> Create(const std::string& path,
                                                      const v1::BackupHeader& header,
                                                      const SecretBytes& records_key);
  ~BackupWriter();  // an unfinished backup's partial file is removed
  BackupWriter(const BackupWriter&) = delete;
  BackupWriter& operator=(const BackupWriter&) = delete;

  Status Write(const v1::BackupPart& part);
  // Seals `end` as the final part, syncs, and renames the file into place.
  Status Finish(const v1::BackupPart& end);
  uint64_t bytes() const { return bytes_; }

 private:
  BackupWriter() = default;
  Status Push(const v1::BackupPart& part, bool final);

  std::string path_;
  std::FILE* file_ = nullptr;
  SecretBytes key_;
  std::vector<uint8_t> state_;  // crypto_secretstream_xchacha20poly1305_state
  std::string header_;          // associated data of the first part
  bool first_ = true;
  bool finished_ = false;
  uint64_t bytes_ = 0;
};

class BackupReader {
 public:
  // Opens `path` and reads its header. `keys`: (version, records key) of the ring; the
  // header's version must be among them.
  static Result<std::unique_ptr<BackupReader>> Open(
      const std::string& path, const std::vector<std::pair<uint32_t, SecretBytes>>& keys);
  ~BackupReader();
  BackupReader(const BackupReader&) = delete;
  BackupReader& operator=(const BackupReader&) = delete;

  const v1::BackupHeader& header() const { return header_; }
  // The next part. `*final` is set on the last one; reading past it, or a file that ends
  // before it, is an error.
  Result<v1::BackupPart> Next(bool* final);
  uint64_t bytes_read() const { return bytes_; }

 private:
  BackupReader() = default;

  std::string path_;
  std::FILE* file_ = nullptr;
  v1::BackupHeader header_;
  std::string header_bytes_;
  std::vector<uint8_t> state_;
  bool first_ = true;
  bool done_ = false;
  uint64_t bytes_ = 0;
};

}  // namespace ipn::replica
