// The encrypted key ring file: Argon2id + XChaCha20-Poly1305, atomic writes.
#include "symbol/key_ring_file.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/big_endian.h"
#include "common/file_util.h"

namespace ipn::symbol {
namespace {

constexpr char kMagic[8] = {'I', 'P', 'N', 'K', 'R', 'I', 'N', 'G'};
constexpr uint32_t kFileFormat = 1;
constexpr uint8_t kAlgArgon2id = 2;  // crypto_pwhash_ALG_ARGON2ID13
constexpr size_t kSaltSize = crypto_pwhash_SALTBYTES;
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kHeaderSize = 8 + 4 + 1 + 8 + 8 + kSaltSize + kNonceSize;
// Format 2: magic, format, source (3 = token), description length (1 byte) and bytes,
// wrapped key length (2 bytes) and bytes, nonce.
constexpr uint32_t kFormatWrapped = 2;
constexpr uint8_t kSourceToken = 3;
constexpr size_t kFileKeySize = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kMaxWrappedKey = 512;
// Bounds on the stored Argon2id parameters, so a damaged header cannot make Open
// allocate without limit.
constexpr uint64_t kMaxOpslimit = 16;
constexpr uint64_t kMaxMemlimit = 4ull << 30;

static_assert(kSaltSize == 16);
static_assert(crypto_pwhash_ALG_ARGON2ID13 == kAlgArgon2id);

std::pair<uint64_t, uint64_t> ParamsFor(KdfStrength strength) {
  switch (strength) {
    case KdfStrength::kInteractive:
      return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
    case KdfStrength::kModerate:
      return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case KdfStrength::kMinimumForTests:
      return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
  }
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

Result<SecretBytes> DeriveKey(std::string_view passphrase, const std::array<uint8_t, 16>& salt,
                              uint64_t opslimit, uint64_t memlimit) {
  SecretBytes key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    opslimit, static_cast<size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::ResourceExhausted(
        "cannot derive the key ring key from the passphrase (Argon2id ran out of memory)");
  }
  return key;
}

}  // namespace

Result<KdfStrength> ParseKdfStrength(std::string_view text) {
  if (text == "interactive") return KdfStrength::kInteractive;
  if (text == "moderate") return KdfStrength::kModerate;
  if (text == "minimum") return KdfStrength::kMinimumForTests;
  return Status::InvalidArgument(
      "KDF strength must be one of interactive, moderate, minimum (tests only)");
}

const char* KdfStrengthName(KdfStrength strength) {
  switch (strength) {
    case KdfStrength::kInteractive: return "interactive";
    case KdfStrength::kModerate: return "moderate";
    case KdfStrength::kMinimumForTests: return "minimum";
  }
  return "interactive";
}

Result<KeyRingFile> KeyRingFile::Prepare(const std::string& path, std::string_view passphrase,
                                         KdfStrength strength) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Status::AlreadyExists("a key ring already exists at " + path);
  }
  KeyRingFile file;
  file.path_ = path;
  IPN_RETURN_IF_ERROR(file.SetPassphrase(passphrase, strength));
  return file;
}

Result<KeyRingFile> KeyRingFile::WithNewPassphrase(std::string_view passphrase,
                                                   KdfStrength strength) const {
  KeyRingFile file;
  file.path_ = path_;
  IPN_RETURN_IF_ERROR(file.SetPassphrase(passphrase, strength));
  return file;
}

Status KeyRingFile::SetPassphrase(std::string_view passphrase, KdfStrength strength) {
  if (passphrase.empty()) return Status::InvalidArgument("the passphrase must not be empty");
  auto [ops, mem] = ParamsFor(strength);
  std::array<uint8_t, 16> salt;
  randombytes_buf(salt.data(), salt.size());
  auto key = DeriveKey(passphrase, salt, ops, mem);
  if (!key.ok()) return key.status();
  opslimit_ = ops;
  memlimit_ = mem;
  salt_ = salt;
  key_ = std::move(key).value();
  return Status::Ok();
}

Result<KeyRingFileHeader> ParseKeyRingFileHeader(std::span<const uint8_t> contents,
                                                 std::string_view name) {
  const std::string n(name);
  if (contents.size() < kHeaderSize + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
      std::memcmp(kMagic, contents.data(), sizeof(kMagic)) != 0) {
    return Status::Corruption(n + " is not an IPN key ring file");
  }
  const uint8_t* bytes = contents.data();
  uint32_t format = GetBigEndian32(bytes + 8);
  if (format != kFileFormat) {
    return Status::FailedPrecondition(n + " has key ring format " + std::to_string(format) +
                                      ", which this version of ipn does not support");
  }
  KeyRingFileHeader h;
  const uint8_t alg = bytes[12];
  h.opslimit = GetBigEndian64(bytes + 13);
  h.memlimit = GetBigEndian64(bytes + 21);
  if (alg != kAlgArgon2id || h.opslimit < crypto_pwhash_OPSLIMIT_MIN || h.opslimit > kMaxOpslimit ||
      h.memlimit < crypto_pwhash_MEMLIMIT_MIN || h.memlimit > kMaxMemlimit) {
    return Status::Corruption(n + " has a damaged header (key derivation parameters)");
  }
  std::copy(bytes + 29, bytes + 29 + kSaltSize, h.salt.begin());
  std::copy(bytes + 29 + kSaltSize, bytes + kHeaderSize, h.nonce.begin());
  return h;
}

namespace {

// The format field of a file that starts with the magic; Corruption otherwise.
Result<uint32_t> PeekFormat(std::span<const uint8_t> contents, const std::string& name) {
  if (contents.size() < 12 || std::memcmp(kMagic, contents.data(), sizeof(kMagic)) != 0) {
    return Status::Corruption(name + " is not an IPN key ring file");
  }
  return GetBigEndian32(contents.data() + 8);
}

struct WrappedHeader {
  std::string protector;
  std::string wrapped_key;
  size_t size = 0;  // through the nonce
};

Result<WrappedHeader> ParseWrappedHeader(std::span<const uint8_t> contents,
                                         const std::string& name) {
  const Status damaged = Status::Corruption(name + " has a damaged header (token-wrapped key)");
  const uint8_t* b = contents.data();
  size_t p = 12;
  if (contents.size() < p + 2 || b[p] != kSourceToken) return damaged;
  const size_t describe_size = b[p + 1];
  p += 2;
  if (contents.size() < p + describe_size + 2) return damaged;
  WrappedHeader h;
  h.protector.assign(reinterpret_cast<const char*>(b + p), describe_size);
  p += describe_size;
  const size_t wrapped_size = (size_t{b[p]} << 8) | b[p + 1];
  p += 2;
  if (wrapped_size == 0 || wrapped_size > kMaxWrappedKey ||
      contents.size() < p + wrapped_size + kNonceSize + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return damaged;
  }
  h.wrapped_key.assign(reinterpret_cast<const char*>(b + p), wrapped_size);
  h.size = p + wrapped_size + kNonceSize;
  return h;
}

// Decrypts the ring after a header of `header_size` bytes (ending with the nonce).
Result<KeyRing> DecryptRing(std::span<const uint8_t> contents, size_t header_size,
                            const SecretBytes& key, const Status& wrong_key,
                            const std::string& path) {
  const uint8_t* bytes = contents.data();
  const uint8_t* nonce = bytes + header_size - kNonceSize;
  const size_t ciphertext_size = contents.size() - header_size;
  SecretBytes plain(ciphertext_size - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long plain_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_size, nullptr,
                                                 bytes + header_size, ciphertext_size, bytes,
                                                 header_size, nonce, key.data()) != 0) {
    return wrong_key;
  }
  Result<KeyRing> ring = KeyRing::Deserialize(plain.span().first(plain_size));
  if (!ring.ok()) return ring.status().WithContext(path);
  return ring;
}

Result<std::string> ReadRingFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("there is no key ring at " + path);
  }
  return ReadFile(path);
}

std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<std::pair<KeyRingFile, KeyRing>> KeyRingFile::Open(const std::string& path,
                                                          std::string_view passphrase) {
  auto contents = ReadRingFile(path);
  if (!contents.ok()) return contents.status();
  const std::span<const uint8_t> bytes = AsBytes(*contents);
  Result<uint32_t> format = PeekFormat(bytes, path);
  if (!format.ok()) return format.status();
  if (*format == kFormatWrapped) {
    auto header = ParseWrappedHeader(bytes, path);
    if (!header.ok()) return header.status();
    return Status::FailedPrecondition("the key ring " + path + " is protected by " +
                                      header->protector +
                                      ", not a passphrase: open it with that token (--token)");
  }
  Result<KeyRingFileHeader> header = ParseKeyRingFileHeader(bytes, path);
  if (!header.ok()) return header.status();
  KeyRingFile file;
  file.path_ = path;
  file.opslimit_ = header->opslimit;
  file.memlimit_ = header->memlimit;
  file.salt_ = header->salt;
  auto key = DeriveKey(passphrase, file.salt_, file.opslimit_, file.memlimit_);
  if (!key.ok()) return key.status();
  file.key_ = std::move(key).value();
  auto ring = DecryptRing(bytes, kHeaderSize, file.key_,
                          Status::PermissionDenied("cannot open the key ring " + path +
                                                   ": wrong passphrase (or the file was altered)"),
                          path);
  if (!ring.ok()) return ring.status();
  return std::make_pair(std::move(file), std::move(ring).value());
}

Result<std::pair<KeyRingFile, KeyRing>> KeyRingFile::OpenWrapped(const std::string& path,
                                                                 const KeyWrapper& wrapper) {
  auto contents = ReadRingFile(path);
  if (!contents.ok()) return contents.status();
  const std::span<const uint8_t> bytes = AsBytes(*contents);
  Result<uint32_t> format = PeekFormat(bytes, path);
  if (!format.ok()) return format.status();
  if (*format != kFormatWrapped) {
    return Status::FailedPrecondition("the key ring " + path +
                                      " is protected by a passphrase, not by a token (move it "
                                      "into the token with `ipn token protect-ring`)");
  }
  auto header = ParseWrappedHeader(bytes, path);
  if (!header.ok()) return header.status();
  auto key = wrapper.Unwrap(AsBytes(header->wrapped_key));
  if (!key.ok()) {
    return key.status().WithContext("the key ring " + path + " is protected by " +
                                    header->protector);
  }
  if (key->size() != kFileKeySize)
    return Status::Corruption(path + ": the unwrapped key is not 32 bytes");
  KeyRingFile file;
  file.path_ = path;
  file.protector_ = header->protector;
  file.wrapped_key_ = header->wrapped_key;
  file.key_ = std::move(key).value();
  auto ring = DecryptRing(bytes, header->size, file.key_,
                          Status::Corruption("the key ring " + path +
                                             " does not decrypt with its unwrapped key: the "
                                             "file was altered"),
                          path);
  if (!ring.ok()) return ring.status();
  return std::make_pair(std::move(file), std::move(ring).value());
}

Result<std::string> KeyRingFile::DescribeProtection(const std::string& path) {
  auto contents = ReadRingFile(path);
  if (!contents.ok()) return contents.status();
  Result<uint32_t> format = PeekFormat(AsBytes(*contents), path);
  if (!format.ok()) return format.status();
  if (*format != kFormatWrapped) return std::string("passphrase");
  auto header = ParseWrappedHeader(AsBytes(*contents), path);
  if (!header.ok()) return header.status();
  return header->protector;
}

Result<KeyRingFile> KeyRingFile::WithWrapper(const KeyWrapper& wrapper) const {
  KeyRingFile file;
  file.path_ = path_;
  file.protector_ = wrapper.Describe();
  if (file.protector_.empty() || file.protector_.size() > 255) {
    return Status::InvalidArgument("a token description must be 1 to 255 bytes");
  }
  file.key_ = SecretBytes::Random(kFileKeySize);
  auto wrapped = wrapper.Wrap(file.key_);
  if (!wrapped.ok()) return wrapped.status().WithContext("wrapping the key ring's file key");
  if (wrapped->empty() || wrapped->size() > kMaxWrappedKey) {
    return Status::Internal("the token's wrapped key has an unexpected size");
  }
  file.wrapped_key_ = std::move(*wrapped);
  return file;
}

// The header through the nonce's place (the nonce itself is filled in by Save).
std::vector<uint8_t> KeyRingFile::Header() const {
  std::vector<uint8_t> h(kMagic, kMagic + sizeof(kMagic));
  h.resize(12);
  if (wrapped_key_.empty()) {
    PutBigEndian32(kFileFormat, h.data() + 8);
    h.resize(kHeaderSize);
    h[12] = kAlgArgon2id;
    PutBigEndian64(opslimit_, h.data() + 13);
    PutBigEndian64(memlimit_, h.data() + 21);
    std::memcpy(h.data() + 29, salt_.data(), kSaltSize);
    return h;
  }
  PutBigEndian32(kFormatWrapped, h.data() + 8);
  h.push_back(kSourceToken);
  h.push_back(static_cast<uint8_t>(protector_.size()));
  h.insert(h.end(), protector_.begin(), protector_.end());
  h.push_back(static_cast<uint8_t>(wrapped_key_.size() >> 8));
  h.push_back(static_cast<uint8_t>(wrapped_key_.size() & 0xff));
  h.insert(h.end(), wrapped_key_.begin(), wrapped_key_.end());
  h.resize(h.size() + kNonceSize);
  return h;
}

Status KeyRingFile::Save(const KeyRing& ring) const {
  SecretBytes plain = ring.Serialize();
  std::vector<uint8_t> out = Header();
  const size_t header_size = out.size();
  out.resize(header_size + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  uint8_t* nonce = out.data() + header_size - kNonceSize;
  randombytes_buf(nonce, kNonceSize);
  unsigned long long ciphertext_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + header_size, &ciphertext_size,
                                             plain.data(), plain.size(), out.data(), header_size,
                                             nullptr, nonce, key_.data());
  return WriteFileAtomic(path_, out);
}

}  // namespace ipn::symbol
