// Pkcs11Token: Ed25519 keys and AES key-encryption keys inside a PKCS#11 token.
#include "token/pkcs11_token.h"

#include <sodium.h>

#include <cstring>

#include "token/pkcs11_session.h"

namespace ipn::token {
namespace {

// DER of the Ed25519 curve's OID, 1.3.101.112 (RFC 8410): CKA_EC_PARAMS of its keys.
constexpr CK_BYTE kEd25519Params[] = {0x06, 0x03, 0x2B, 0x65, 0x70};
CK_BBOOL kTrue = CK_TRUE;
CK_BBOOL kFalse = CK_FALSE;

// CKA_EC_POINT of an Ed25519 public key: the 32 bytes, DER OCTET STRING-wrapped by most
// modules (SoftHSM2 among them), bare by some.
Result<Ed25519PublicKey> ParsePoint(const std::string& point) {
  Ed25519PublicKey key;
  if (point.size() == 34 && static_cast<uint8_t>(point[0]) == 0x04 && point[1] == 32) {
    std::memcpy(key.data(), point.data() + 2, 32);
    return key;
  }
  if (point.size() == 32) {
    std::memcpy(key.data(), point.data(), 32);
    return key;
  }
  return Status::Corruption("the token's Ed25519 public key has an unexpected encoding");
}

std::string PointOf(const Ed25519PublicKey& key) {
  std::string point{static_cast<char>(0x04), static_cast<char>(32)};
  point.append(reinterpret_cast<const char*>(key.data()), key.size());
  return point;
}

}  // namespace

std::string TokenAddress::Describe() const {
  std::string d = "pkcs11:token=" + token;
  if (module != kSoftHsmModule) d += ";module=" + module;
  return d;
}

Pkcs11Token::Pkcs11Token(TokenAddress address, std::unique_ptr<Session> session)
    : address_(std::move(address)), session_(std::move(session)) {}

Pkcs11Token::~Pkcs11Token() = default;

Result<std::shared_ptr<Pkcs11Token>> Pkcs11Token::Open(const TokenAddress& address,
                                                       std::string_view pin) {
  Result<std::shared_ptr<Pkcs11Token>> token = OpenUnauthenticated(address);
  if (!token.ok()) return token.status();
  IPN_RETURN_IF_ERROR((*token)->Login(pin));
  return token;
}

Result<std::shared_ptr<Pkcs11Token>> Pkcs11Token::OpenUnauthenticated(const TokenAddress& address) {
  if (address.token.empty()) return Status::InvalidArgument("no token label given");
  Result<std::unique_ptr<Session>> session = Session::Open(address);
  if (!session.ok()) return session.status();
  return std::shared_ptr<Pkcs11Token>(new Pkcs11Token(address, std::move(*session)));
}

Status Pkcs11Token::Login(std::string_view pin) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Login(pin);
}

Result<Ed25519PublicKey> Pkcs11Token::GenerateEd25519(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto existing = s.Find(CKO_PRIVATE_KEY, label);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status::AlreadyExists("token " + address_.token + " already holds a key labelled " +
                                 std::string(label));
  }
  std::string l(label);
  CK_ULONG label_size = l.size();
  CK_ATTRIBUTE public_template[] = {
      {CKA_TOKEN, &kTrue, sizeof(kTrue)},
      {CKA_LABEL, l.data(), label_size},
      {CKA_EC_PARAMS, const_cast<CK_BYTE*>(kEd25519Params), sizeof(kEd25519Params)},
      {CKA_VERIFY, &kTrue, sizeof(kTrue)}};
  CK_ATTRIBUTE private_template[] = {
      {CKA_TOKEN, &kTrue, sizeof(kTrue)},         {CKA_LABEL, l.data(), label_size},
      {CKA_PRIVATE, &kTrue, sizeof(kTrue)},       {CKA_SENSITIVE, &kTrue, sizeof(kTrue)},
      {CKA_EXTRACTABLE, &kFalse, sizeof(kFalse)}, {CKA_SIGN, &kTrue, sizeof(kTrue)}};
  CK_MECHANISM mechanism{CKM_EC_EDWARDS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_GenerateKeyPair(s.handle(), &mechanism, public_template, 4, private_template,
                                      6, &public_key, &private_key);
  if (rv != CKR_OK) return CkFailure("generating an Ed25519 key in token " + address_.token, rv);
  auto point = s.Attribute(public_key, CKA_EC_POINT);
  if (!point.ok()) return point.status();
  if (!point->has_value()) return Status::Internal("the token did not give the new public key");
  return ParsePoint(**point);
}

Result<Ed25519PublicKey> Pkcs11Token::ImportEd25519(std::string_view label,
                                                    const SecretBytes& secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("an Ed25519 secret key is 64 bytes");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto existing = s.Find(CKO_PRIVATE_KEY, label);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status::AlreadyExists("token " + address_.token + " already holds a key labelled " +
                                 std::string(label));
  }
  SecretBytes seed(crypto_sign_SEEDBYTES);
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_key.data());
  Ed25519PublicKey public_key;
  crypto_sign_ed25519_sk_to_pk(public_key.data(), secret_key.data());
  std::string point = PointOf(public_key);
  std::string l(label);
  CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
  CK_KEY_TYPE type = CKK_EC_EDWARDS;
  CK_ATTRIBUTE private_template[] = {
      {CKA_CLASS, &private_class, sizeof(private_class)},
      {CKA_KEY_TYPE, &type, sizeof(type)},
      {CKA_TOKEN, &kTrue, sizeof(kTrue)},
      {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())},
      {CKA_PRIVATE, &kTrue, sizeof(kTrue)},
      {CKA_SENSITIVE, &kTrue, sizeof(kTrue)},
      {CKA_EXTRACTABLE, &kFalse, sizeof(kFalse)},
      {CKA_SIGN, &kTrue, sizeof(kTrue)},
      {CKA_EC_PARAMS, const_cast<CK_BYTE*>(kEd25519Params), sizeof(kEd25519Params)},
      {CKA_VALUE, seed.data(), static_cast<CK_ULONG>(seed.size())}};
  CK_ATTRIBUTE public_template[] = {
      {CKA_CLASS, &public_class, sizeof(public_class)},
      {CKA_KEY_TYPE, &type, sizeof(type)},
      {CKA_TOKEN, &kTrue, sizeof(kTrue)},
      {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())},
      {CKA_VERIFY, &kTrue, sizeof(kTrue)},
      {CKA_EC_PARAMS, const_cast<CK_BYTE*>(kEd25519Params), sizeof(kEd25519Params)},
      {CKA_EC_POINT, point.data(), static_cast<CK_ULONG>(point.size())}};
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_CreateObject(s.handle(), private_template, 10, &private_key);
  if (rv != CKR_OK) return CkFailure("importing an Ed25519 key into token " + address_.token, rv);
  CK_OBJECT_HANDLE public_object = CK_INVALID_HANDLE;
  rv = s.f()->C_CreateObject(s.handle(), public_template, 7, &public_object);
  if (rv != CKR_OK) {
    s.f()->C_DestroyObject(s.handle(), private_key);  // nothing half-imported
    return CkFailure("importing an Ed25519 public key into token " + address_.token, rv);
  }
  return public_key;
}

Result<Ed25519PublicKey> Pkcs11Token::FindEd25519(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto object = s.Find(CKO_PUBLIC_KEY, label);
  if (!object.ok()) return object.status();
  if (!object->has_value()) {
    return Status::NotFound("token " + address_.token + " holds no Ed25519 key labelled " +
                            std::string(label));
  }
  auto point = s.Attribute(**object, CKA_EC_POINT);
  if (!point.ok()) return point.status();
  if (!point->has_value()) return Status::Corruption("a token public key has no EC point");
  return ParsePoint(**point);
}

Result<Ed25519Signature> Pkcs11Token::SignEd25519(std::string_view label,
                                                  std::span<const uint8_t> message) {
  std::lock_guard<std::mutex> lock(mu_);
  return SignLocked(label, message, /*cached=*/true);
}

Result<Ed25519Signature> Pkcs11Token::SignLocked(std::string_view label,
                                                 std::span<const uint8_t> message, bool cached) {
  Session& s = *session_;
  auto it = signing_handles_.find(label);
  if (!cached || it == signing_handles_.end()) {
    auto key = s.Find(CKO_PRIVATE_KEY, label);
    if (!key.ok()) return key.status();
    if (!key->has_value()) {
      return Status::NotFound("token " + address_.token + " holds no signing key labelled " +
                              std::string(label));
    }
    it = signing_handles_.insert_or_assign(std::string(label), **key).first;
    cached = false;
  }
  CK_MECHANISM mechanism{CKM_EDDSA, nullptr, 0};  // no parameters: pure Ed25519 (RFC 8032)
  CK_RV rv = s.f()->C_SignInit(s.handle(), &mechanism, it->second);
  if (cached && (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID)) {
    signing_handles_.erase(it);  // the object was replaced since: look it up again
    return SignLocked(label, message, /*cached=*/false);
  }
  if (rv != CKR_OK) return CkFailure("signing with token " + address_.token, rv);
  Ed25519Signature signature;
  CK_ULONG size = signature.size();
  rv = s.f()->C_Sign(s.handle(), const_cast<CK_BYTE*>(message.data()), message.size(),
                     signature.data(), &size);
  if (rv != CKR_OK) return CkFailure("signing with token " + address_.token, rv);
  if (size != signature.size()) return Status::Internal("the token's signature is not 64 bytes");
  return signature;
}

Status Pkcs11Token::GenerateKek(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto existing = s.Find(CKO_SECRET_KEY, label);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status::AlreadyExists("token " + address_.token + " already holds a key labelled " +
                                 std::string(label));
  }
  std::string l(label);
  CK_ULONG length = 32;
  // Wrap and unwrap only: a KEK that could also decrypt would hand out what it protects.
  CK_ATTRIBUTE attributes[] = {{CKA_TOKEN, &kTrue, sizeof(kTrue)},
                               {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())},
                               {CKA_PRIVATE, &kTrue, sizeof(kTrue)},
                               {CKA_SENSITIVE, &kTrue, sizeof(kTrue)},
                               {CKA_EXTRACTABLE, &kFalse, sizeof(kFalse)},
                               {CKA_WRAP, &kTrue, sizeof(kTrue)},
                               {CKA_UNWRAP, &kTrue, sizeof(kTrue)},
                               {CKA_ENCRYPT, &kFalse, sizeof(kFalse)},
                               {CKA_DECRYPT, &kFalse, sizeof(kFalse)},
                               {CKA_VALUE_LEN, &length, sizeof(length)}};
  CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_GenerateKey(s.handle(), &mechanism, attributes, 10, &key);
  if (rv != CKR_OK) return CkFailure("generating an AES key in token " + address_.token, rv);
  return Status::Ok();
}

Result<std::string> Pkcs11Token::WrapKey(std::string_view kek_label, const SecretBytes& key) {
  if (key.empty() || key.size() % 8 != 0) {
    return Status::InvalidArgument("AES key wrap takes a key of a multiple of 8 bytes");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto kek = s.Find(CKO_SECRET_KEY, kek_label);
  if (!kek.ok()) return kek.status();
  if (!kek->has_value()) {
    return Status::NotFound("token " + address_.token + " holds no key-encryption key labelled " +
                            std::string(kek_label));
  }
  // The data key enters the token as a session object (gone when the session closes),
  // is wrapped there, and is destroyed at once.
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_GENERIC_SECRET;
  CK_ATTRIBUTE attributes[] = {
      {CKA_CLASS, &cls, sizeof(cls)},
      {CKA_KEY_TYPE, &type, sizeof(type)},
      {CKA_TOKEN, &kFalse, sizeof(kFalse)},
      {CKA_EXTRACTABLE, &kTrue, sizeof(kTrue)},
      {CKA_VALUE, const_cast<uint8_t*>(key.data()), static_cast<CK_ULONG>(key.size())}};
  CK_OBJECT_HANDLE data_key = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_CreateObject(s.handle(), attributes, 5, &data_key);
  if (rv != CKR_OK) return CkFailure("loading a key to wrap into token " + address_.token, rv);
  CK_MECHANISM mechanism{CKM_AES_KEY_WRAP, nullptr, 0};
  std::string wrapped(key.size() + 8, '\0');
  CK_ULONG size = wrapped.size();
  rv = s.f()->C_WrapKey(s.handle(), &mechanism, **kek, data_key,
                        reinterpret_cast<CK_BYTE*>(wrapped.data()), &size);
  s.f()->C_DestroyObject(s.handle(), data_key);
  if (rv != CKR_OK) return CkFailure("wrapping a key in token " + address_.token, rv);
  wrapped.resize(size);
  return wrapped;
}

Result<SecretBytes> Pkcs11Token::UnwrapKey(std::string_view kek_label,
                                           std::span<const uint8_t> wrapped) {
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0) {
    return Status::PermissionDenied("the wrapped key is malformed");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto kek = s.Find(CKO_SECRET_KEY, kek_label);
  if (!kek.ok()) return kek.status();
  if (!kek->has_value()) {
    return Status::NotFound("token " + address_.token + " holds no key-encryption key labelled " +
                            std::string(kek_label));
  }
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_GENERIC_SECRET;
  CK_ATTRIBUTE attributes[] = {{CKA_CLASS, &cls, sizeof(cls)},
                               {CKA_KEY_TYPE, &type, sizeof(type)},
                               {CKA_TOKEN, &kFalse, sizeof(kFalse)},
                               {CKA_SENSITIVE, &kFalse, sizeof(kFalse)},
                               {CKA_EXTRACTABLE, &kTrue, sizeof(kTrue)}};
  CK_MECHANISM mechanism{CKM_AES_KEY_WRAP, nullptr, 0};
  CK_OBJECT_HANDLE data_key = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_UnwrapKey(s.handle(), &mechanism, **kek, const_cast<CK_BYTE*>(wrapped.data()),
                                wrapped.size(), attributes, 5, &data_key);
  // The integrity check of RFC 3394 failing is reported differently by modules (SoftHSM2:
  // CKR_GENERAL_ERROR); each means the same to us: not wrapped by this key, or altered.
  if (rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_ENCRYPTED_DATA_INVALID ||
      rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED) {
    return Status::PermissionDenied("the wrapped key does not open with " + std::string(kek_label) +
                                    " in token " + address_.token +
                                    ": it was wrapped by another key, or altered");
  }
  if (rv != CKR_OK) return CkFailure("unwrapping a key in token " + address_.token, rv);
  // Read straight into locked memory, then the token's copy is destroyed.
  SecretBytes key(wrapped.size() - 8);
  CK_ATTRIBUTE value{CKA_VALUE, key.data(), static_cast<CK_ULONG>(key.size())};
  rv = s.f()->C_GetAttributeValue(s.handle(), data_key, &value, 1);
  s.f()->C_DestroyObject(s.handle(), data_key);
  if (rv != CKR_OK || value.ulValueLen != key.size()) {
    return CkFailure("reading the unwrapped key from token " + address_.token,
                     rv == CKR_OK ? CKR_GENERAL_ERROR : rv);
  }
  return key;
}

}  // namespace ipn::token
