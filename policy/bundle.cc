// Signed bundle files and administrator keys.
#include "policy/bundle.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/encoding.h"
#include "common/file_util.h"
#include "ipn/v1/policy.pb.h"

namespace ipn::policy {
namespace {

constexpr std::string_view kFormat = "ipn-policy-bundle/1";
constexpr std::string_view kSignatureContext = "ipn-policy-bundle/1\n";

std::vector<uint8_t> SignedMessage(std::string_view bundle_bytes) {
  std::vector<uint8_t> message(kSignatureContext.size() + bundle_bytes.size());
  std::memcpy(message.data(), kSignatureContext.data(), kSignatureContext.size());
  if (!bundle_bytes.empty()) {
    std::memcpy(message.data() + kSignatureContext.size(), bundle_bytes.data(),
                bundle_bytes.size());
  }
  return message;
}

Result<ipn::v1::SignedPolicyBundle> ParseFile(std::span<const uint8_t> file) {
  ipn::v1::SignedPolicyBundle signed_bundle;
  if (file.empty() || file.size() > static_cast<size_t>(INT32_MAX) ||
      !signed_bundle.ParseFromArray(file.data(), static_cast<int>(file.size())) ||
      signed_bundle.format() != kFormat || signed_bundle.bundle().empty()) {
    return Status::InvalidArgument("not a policy bundle file (unparseable, or format is not " +
                                   std::string(kFormat) + ")");
  }
  return signed_bundle;
}

std::vector<uint8_t> Serialize(const ipn::v1::SignedPolicyBundle& message) {
  std::string out;
  message.SerializeToString(&out);
  return {out.begin(), out.end()};
}

std::string TrimText(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

AdminKeyPair GenerateAdminKeyPair() {
  if (sodium_init() < 0) std::abort();
  AdminKeyPair pair{{}, SecretBytes(crypto_sign_SECRETKEYBYTES)};
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Status WriteAdminKeyPair(const AdminKeyPair& pair, const std::string& secret_key_path,
                         const std::string& public_key_path) {
  if (secret_key_path == public_key_path) {
    return Status::InvalidArgument("the secret and public key files must differ");
  }
  for (const std::string* path : {&secret_key_path, &public_key_path}) {
    if (FileExists(*path)) {
      return Status::AlreadyExists("key file " + *path + " already exists; not overwriting it");
    }
  }
  // The hex text of the secret key lives in locked memory too.
  SecretBytes text(crypto_sign_SECRETKEYBYTES * 2 + 1);
  sodium_bin2hex(reinterpret_cast<char*>(text.data()), text.size(), pair.secret_key.data(),
                 pair.secret_key.size());
  text.data()[text.size() - 1] = '\n';
  IPN_RETURN_IF_ERROR(WriteFileAtomic(secret_key_path, text.span()));
  return WriteFileAtomic(public_key_path, HexEncode(pair.public_key) + "\n");
}

Result<SecretBytes> ReadAdminSecretKey(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status().WithContext("admin secret key");
  std::string& text = *content;
  SecretBytes key(crypto_sign_SECRETKEYBYTES);
  size_t bin_len = 0;
  const char* end = nullptr;
  const bool parsed = sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), " \t\r\n",
                                     &bin_len, &end) == 0 &&
                      bin_len == key.size() &&
                      std::string_view(end, static_cast<size_t>(text.data() + text.size() - end))
                              .find_first_not_of(" \t\r\n") == std::string_view::npos;
  sodium_memzero(text.data(), text.size());
  if (!parsed) {
    return Status::InvalidArgument("admin secret key file " + path +
                                   " does not hold 64 bytes in hex (make one with "
                                   "`ipn policy keygen`)");
  }
  return key;
}

Result<AdminPublicKey> ParseAdminPublicKey(std::string_view text) {
  auto bytes = HexDecode(TrimText(std::string(text)));
  if (!bytes.ok() || bytes->size() != 32) {
    return Status::InvalidArgument("an admin public key is 64 hex digits (32 bytes)");
  }
  AdminPublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

Result<AdminPublicKey> ReadAdminPublicKey(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status().WithContext("admin public key");
  auto key = ParseAdminPublicKey(*content);
  if (!key.ok()) return key.status().WithContext("admin public key file " + path);
  return key;
}

std::vector<uint8_t> WrapUnsignedBundle(std::span<const uint8_t> bundle_bytes) {
  ipn::v1::SignedPolicyBundle file;
  file.set_format(std::string(kFormat));
  file.set_bundle(bundle_bytes.data(), bundle_bytes.size());
  return Serialize(file);
}

Result<std::vector<uint8_t>> SignBundle(std::span<const uint8_t> bundle_file,
                                        std::span<const uint8_t> admin_secret_key) {
  if (admin_secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("an admin secret key is 64 bytes");
  }
  auto file = ParseFile(bundle_file);
  if (!file.ok()) return file.status();
  ipn::v1::PolicyBundle contents;
  if (!contents.ParseFromString(file->bundle()) || contents.version() == 0) {
    return Status::InvalidArgument("the bundle file holds no parseable, versioned policy");
  }
  const std::vector<uint8_t> message = SignedMessage(file->bundle());
  std::array<uint8_t, crypto_sign_BYTES> signature;
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                       admin_secret_key.data());
  file->set_signature(signature.data(), signature.size());
  // libsodium's secret key ends with the public key.
  file->set_signer_public_key(admin_secret_key.data() + crypto_sign_SEEDBYTES,
                              crypto_sign_PUBLICKEYBYTES);
  return Serialize(*file);
}

Result<std::vector<uint8_t>> VerifyBundle(std::span<const uint8_t> bundle_file,
                                          const AdminPublicKey& admin_public_key) {
  auto file = ParseFile(bundle_file);
  if (!file.ok()) return file.status();
  if (file->signature().empty()) {
    return Status::PermissionDenied("policy bundle is not signed (run `ipn policy sign`)");
  }
  const std::vector<uint8_t> message = SignedMessage(file->bundle());
  if (file->signature().size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(file->signature().data()),
                                  message.data(), message.size(), admin_public_key.data()) != 0) {
    std::string detail;
    if (file->signer_public_key().size() == 32 &&
        sodium_memcmp(file->signer_public_key().data(), admin_public_key.data(), 32) != 0) {
      detail = " (it names signer key " + HexEncode(AsBytes(file->signer_public_key())) +
               ", not the admin key " + HexEncode(admin_public_key) + ")";
    }
    return Status::PermissionDenied("policy bundle signature does not verify with the admin key" +
                                    detail);
  }
  return std::vector<uint8_t>(file->bundle().begin(), file->bundle().end());
}

}  // namespace ipn::policy
