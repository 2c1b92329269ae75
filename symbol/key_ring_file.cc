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

Result<std::pair<KeyRingFile, KeyRing>> KeyRingFile::Open(const std::string& path,
                                                          std::string_view passphrase) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("there is no key ring at " + path);
  }
  auto contents = ReadFile(path);
  if (!contents.ok()) return contents.status();
  const auto* bytes = reinterpret_cast<const uint8_t*>(contents->data());
  size_t size = contents->size();
  Result<KeyRingFileHeader> header =
      ParseKeyRingFileHeader(std::span<const uint8_t>(bytes, size), path);
  if (!header.ok()) return header.status();
  KeyRingFile file;
  file.path_ = path;
  file.opslimit_ = header->opslimit;
  file.memlimit_ = header->memlimit;
  file.salt_ = header->salt;
  const uint8_t* nonce = header->nonce.data();
  auto key = DeriveKey(passphrase, file.salt_, file.opslimit_, file.memlimit_);
  if (!key.ok()) return key.status();
  file.key_ = std::move(key).value();

  size_t ciphertext_size = size - kHeaderSize;
  SecretBytes plain(ciphertext_size - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long plain_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_size, nullptr,
                                                 bytes + kHeaderSize, ciphertext_size, bytes,
                                                 kHeaderSize, nonce, file.key_.data()) != 0) {
    return Status::PermissionDenied("cannot open the key ring " + path +
                                    ": wrong passphrase (or the file was altered)");
  }
  auto ring = KeyRing::Deserialize(plain.span().first(plain_size));
  if (!ring.ok()) return ring.status().WithContext(path);
  return std::make_pair(std::move(file), std::move(ring).value());
}

Status KeyRingFile::Save(const KeyRing& ring) const {
  SecretBytes plain = ring.Serialize();
  std::vector<uint8_t> out(kHeaderSize + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, sizeof(kMagic));
  PutBigEndian32(kFileFormat, p + 8);
  p[12] = kAlgArgon2id;
  PutBigEndian64(opslimit_, p + 13);
  PutBigEndian64(memlimit_, p + 21);
  std::memcpy(p + 29, salt_.data(), kSaltSize);
  uint8_t* nonce = p + 29 + kSaltSize;
  randombytes_buf(nonce, kNonceSize);
  unsigned long long ciphertext_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + kHeaderSize, &ciphertext_size, plain.data(),
                                             plain.size(), p, kHeaderSize, nullptr, nonce,
                                             key_.data());
  return WriteFileAtomic(path_, out);
}

}  // namespace ipn::symbol
