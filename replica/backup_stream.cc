// BackupStream: the sealed container of a backup file (see backup_stream.h).
#include "replica/backup_stream.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/big_endian.h"

namespace ipn::replica {
namespace {

constexpr char kMagic[] = "IPNBKUP1";
constexpr size_t kMagicBytes = 8;
constexpr uint32_t kFormat = 1;
constexpr uint32_t kMaxHeaderBytes = 4096;
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "ipnbkup1";
constexpr uint64_t kBackupSubkey = 2;  // 1 is the replicated log's (record_replicator.cc)

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status WriteAll(std::FILE* f, const void* data, size_t size, const std::string& path) {
  if (size != 0 && std::fwrite(data, 1, size, f) != size) {
    return Status::IoError(Errno("cannot write", path));
  }
  return Status::Ok();
}

// Reads exactly `size` bytes; `*eof` set (and OK) when the file ended before any byte.
Status ReadExactly(std::FILE* f, void* data, size_t size, const std::string& path, bool* eof) {
  size_t got = std::fread(data, 1, size, f);
  if (eof != nullptr) *eof = got == 0 && std::feof(f);
  if (got == size || (eof != nullptr && *eof)) return Status::Ok();
  if (std::ferror(f)) return Status::IoError(Errno("cannot read", path));
  return Status::Corruption(path + " ends inside a part: the backup is cut off");
}

}  // namespace

SecretBytes BackupKey(const SecretBytes& records_key) {
  SecretBytes key(crypto_secretstream_xchacha20poly1305_KEYBYTES);
  crypto_kdf_derive_from_key(key.data(), key.size(), kBackupSubkey, kKdfContext,
                             records_key.data());
  return key;
}

// --- Writing ---

Result<std::unique_ptr<BackupWriter>> BackupWriter::Create(const std::string& path,
                                                           const v1::BackupHeader& header,
                                                           const SecretBytes& records_key) {
  if (records_key.size() != crypto_kdf_KEYBYTES) {
    return Status::InvalidArgument("the records key is not 32 bytes");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return Status::AlreadyExists(path + " exists; a backup never overwrites a file");
  }
  std::unique_ptr<BackupWriter> w(new BackupWriter());
  w->path_ = path;
  const std::string partial = path + ".partial";
  // O_EXCL: a second backup to the same file at the same time is refused, not interleaved.
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    return Status::AlreadyExists(partial + " exists: another backup to " + path +
                                 " is under way, or one stopped (remove it)");
  }
  if (fd < 0) return Status::IoError(Errno("cannot create", partial));
  w->file_ = ::fdopen(fd, "wb");
  if (w->file_ == nullptr) {
    ::close(fd);
    return Status::IoError(Errno("cannot open", partial));
  }
  v1::BackupHeader h = header;
  h.set_format(kFormat);
  if (!h.SerializeToString(&w->header_)) return Status::Internal("cannot serialize a header");
  w->key_ = BackupKey(records_key);
  w->state_.resize(sizeof(crypto_secretstream_xchacha20poly1305_state));
  uint8_t stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(
      reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(w->state_.data()),
      stream_header, w->key_.data());
  uint8_t len[4];
  PutBigEndian32(static_cast<uint32_t>(w->header_.size()), len);
  IPN_RETURN_IF_ERROR(WriteAll(w->file_, kMagic, kMagicBytes, partial));
  IPN_RETURN_IF_ERROR(WriteAll(w->file_, len, sizeof len, partial));
  IPN_RETURN_IF_ERROR(WriteAll(w->file_, w->header_.data(), w->header_.size(), partial));
  IPN_RETURN_IF_ERROR(WriteAll(w->file_, stream_header, sizeof stream_header, partial));
  w->bytes_ = kMagicBytes + sizeof len + w->header_.size() + sizeof stream_header;
  return w;
}

BackupWriter::~BackupWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) ::unlink((path_ + ".partial").c_str());
  if (!state_.empty()) sodium_memzero(state_.data(), state_.size());
}

Status BackupWriter::Push(const v1::BackupPart& part, bool final) {
  if (finished_) return Status::FailedPrecondition("the backup is finished");
  std::string plain;
  if (!part.SerializeToString(&plain)) return Status::Internal("cannot serialize a part");
  if (plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES > kMaxBackupPartBytes) {
    return Status::Internal("a backup part is larger than the limit");
  }
  std::vector<uint8_t> sealed(plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES);
  unsigned long long sealed_len = 0;
  // The header is bound to the first part: altering it (say, the key version) fails there.
  const auto* ad = first_ ? reinterpret_cast<const uint8_t*>(header_.data()) : nullptr;
  crypto_secretstream_xchacha20poly1305_push(
      reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(state_.data()), sealed.data(),
      &sealed_len, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), ad,
      first_ ? header_.size() : 0,
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  sodium_memzero(plain.data(), plain.size());
  first_ = false;
  uint8_t len[4];
  PutBigEndian32(static_cast<uint32_t>(sealed_len), len);
  const std::string partial = path_ + ".partial";
  IPN_RETURN_IF_ERROR(WriteAll(file_, len, sizeof len, partial));
  IPN_RETURN_IF_ERROR(WriteAll(file_, sealed.data(), sealed_len, partial));
  bytes_ += sizeof len + sealed_len;
  return Status::Ok();
}

Status BackupWriter::Write(const v1::BackupPart& part) {
  return Push(part, false);
}

Status BackupWriter::Finish(const v1::BackupPart& end) {
  IPN_RETURN_IF_ERROR(Push(end, true));
  const std::string partial = path_ + ".partial";
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    return Status::IoError(Errno("cannot sync", partial));
  }
  std::fclose(file_);
  file_ = nullptr;
  // link() rather than rename(): it fails instead of replacing a file that appeared
  // meanwhile, so a backup never overwrites anything.
  if (::link(partial.c_str(), path_.c_str()) != 0) {
    if (errno == EEXIST) return Status::AlreadyExists(path_ + " appeared meanwhile; not replaced");
    return Status::IoError(Errno("cannot put the backup in place at", path_));
  }
  ::unlink(partial.c_str());
  finished_ = true;
  const size_t slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

// --- Reading ---

Result<std::unique_ptr<BackupReader>> BackupReader::Open(
    const std::string& path, const std::vector<std::pair<uint32_t, SecretBytes>>& keys) {
  std::unique_ptr<BackupReader> r(new BackupReader());
  r->path_ = path;
  r->file_ = std::fopen(path.c_str(), "rbe");
  if (r->file_ == nullptr) {
    return errno == ENOENT ? Status::NotFound(path + " does not exist")
                           : Status::IoError(Errno("cannot open", path));
  }
  char magic[kMagicBytes];
  uint8_t len[4];
  bool eof = false;
  IPN_RETURN_IF_ERROR(ReadExactly(r->file_, magic, sizeof magic, path, &eof));
  if (eof || std::memcmp(magic, kMagic, kMagicBytes) != 0) {
    return Status::InvalidArgument(path + " is not an IPN backup (no IPNBKUP1 header)");
  }
  IPN_RETURN_IF_ERROR(ReadExactly(r->file_, len, sizeof len, path, nullptr));
  const uint32_t header_len = GetBigEndian32(len);
  if (header_len > kMaxHeaderBytes) return Status::Corruption(path + ": the header is too long");
  r->header_bytes_.resize(header_len);
  IPN_RETURN_IF_ERROR(ReadExactly(r->file_, r->header_bytes_.data(), header_len, path, nullptr));
  if (!r->header_.ParseFromString(r->header_bytes_)) {
    return Status::Corruption(path + ": the header does not parse");
  }
  if (r->header_.format() != kFormat) {
    return Status::FailedPrecondition(path + " has backup format " +
                                      std::to_string(r->header_.format()) + "; this tool reads " +
                                      std::to_string(kFormat));
  }
  const SecretBytes* records_key = nullptr;
  for (const auto& [version, key] : keys) {
    if (version == r->header_.key_version()) records_key = &key;
  }
  if (records_key == nullptr || records_key->size() != crypto_kdf_KEYBYTES) {
    return Status::PermissionDenied(path + " was sealed under records key version " +
                                    std::to_string(r->header_.key_version()) +
                                    ", which this key ring does not hold");
  }
  uint8_t stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  IPN_RETURN_IF_ERROR(ReadExactly(r->file_, stream_header, sizeof stream_header, path, nullptr));
  SecretBytes key = BackupKey(*records_key);
  r->state_.resize(sizeof(crypto_secretstream_xchacha20poly1305_state));
  if (crypto_secretstream_xchacha20poly1305_init_pull(
          reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(r->state_.data()),
          stream_header, key.data()) != 0) {
    return Status::Corruption(path + ": the stream header is invalid");
  }
  r->bytes_ = kMagicBytes + sizeof len + header_len + sizeof stream_header;
  return r;
}

BackupReader::~BackupReader() {
  if (file_ != nullptr) std::fclose(file_);
  if (!state_.empty()) sodium_memzero(state_.data(), state_.size());
}

Result<v1::BackupPart> BackupReader::Next(bool* final) {
  *final = false;
  if (done_) return Status::FailedPrecondition("the backup's last part was read");
  uint8_t len[4];
  bool eof = false;
  IPN_RETURN_IF_ERROR(ReadExactly(file_, len, sizeof len, path_, &eof));
  if (eof) {
    return Status::Corruption(path_ + " ends before its final part: the backup is cut off");
  }
  const uint32_t sealed_len = GetBigEndian32(len);
  if (sealed_len < crypto_secretstream_xchacha20poly1305_ABYTES ||
      sealed_len > kMaxBackupPartBytes) {
    return Status::Corruption(path_ + ": a part of " + std::to_string(sealed_len) +
                              " bytes (the limit is " + std::to_string(kMaxBackupPartBytes) + ")");
  }
  std::vector<uint8_t> sealed(sealed_len);
  IPN_RETURN_IF_ERROR(ReadExactly(file_, sealed.data(), sealed_len, path_, nullptr));
  std::vector<uint8_t> plain(sealed_len - crypto_secretstream_xchacha20poly1305_ABYTES);
  unsigned long long plain_len = 0;
  unsigned char tag = 0;
  const auto* ad = first_ ? reinterpret_cast<const uint8_t*>(header_bytes_.data()) : nullptr;
  if (crypto_secretstream_xchacha20poly1305_pull(
          reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(state_.data()),
          plain.data(), &plain_len, &tag, sealed.data(), sealed.size(), ad,
          first_ ? header_bytes_.size() : 0) != 0) {
    return Status::Corruption(path_ + ": part at byte " + std::to_string(bytes_) +
                              " does not open: the backup was altered or sealed under another key");
  }
  first_ = false;
  bytes_ += sizeof len + sealed_len;
  v1::BackupPart part;
  const bool parsed = part.ParseFromArray(plain.data(), static_cast<int>(plain_len));
  sodium_memzero(plain.data(), plain.size());
  if (!parsed) return Status::Corruption(path_ + ": a part does not parse");
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
    // Nothing may follow the final part: bytes appended to a backup are refused.
    char extra = 0;
    if (std::fread(&extra, 1, 1, file_) != 0) {
      return Status::Corruption(path_ + " has bytes after its final part");
    }
    *final = true;
    done_ = true;
  }
  return part;
}

}  // namespace ipn::replica
