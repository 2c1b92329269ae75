// Certificates and small public data objects in a token (a card's certificate, its
// PIN-try counter).
#include "token/pkcs11_session.h"
#include "token/pkcs11_token.h"

namespace ipn::token {
namespace {
CK_BBOOL kYes = CK_TRUE;
CK_BBOOL kNo = CK_FALSE;
}  // namespace

Status Pkcs11Token::PutCertificate(std::string_view label, std::string_view der,
                                   std::string_view subject) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto existing = s.Find(CKO_CERTIFICATE, label);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status::AlreadyExists("token " + address_.token + " already holds a certificate " +
                                 std::string(label));
  }
  std::string l(label), value(der), name(subject);
  CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE type = CKC_X_509;
  CK_ATTRIBUTE attributes[] = {{CKA_CLASS, &cls, sizeof(cls)},
                               {CKA_CERTIFICATE_TYPE, &type, sizeof(type)},
                               {CKA_TOKEN, &kYes, sizeof(kYes)},
                               {CKA_PRIVATE, &kNo, sizeof(kNo)},
                               {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())},
                               {CKA_SUBJECT, name.data(), static_cast<CK_ULONG>(name.size())},
                               {CKA_VALUE, value.data(), static_cast<CK_ULONG>(value.size())}};
  CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_CreateObject(s.handle(), attributes, 7, &object);
  if (rv != CKR_OK) return CkFailure("storing a certificate in token " + address_.token, rv);
  return Status::Ok();
}

Result<std::string> Pkcs11Token::Certificate(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto object = s.Find(CKO_CERTIFICATE, label);
  if (!object.ok()) return object.status();
  if (!object->has_value()) {
    return Status::NotFound("token " + address_.token + " holds no certificate " +
                            std::string(label));
  }
  auto value = s.Attribute(**object, CKA_VALUE);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return Status::Corruption("a certificate object has no value");
  return **value;
}

namespace {

Result<std::vector<CK_OBJECT_HANDLE>> DataObjects(Pkcs11Token::Session& s, std::string_view label) {
  std::string l(label);
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_ATTRIBUTE search[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())}};
  CK_RV rv = s.f()->C_FindObjectsInit(s.handle(), search, 2);
  if (rv != CKR_OK) return CkFailure("searching the token", rv);
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[16];
  CK_ULONG n = 0;
  do {
    rv = s.f()->C_FindObjects(s.handle(), batch, 16, &n);
    if (rv != CKR_OK) break;
    found.insert(found.end(), batch, batch + n);
  } while (n == 16);
  s.f()->C_FindObjectsFinal(s.handle());
  if (rv != CKR_OK) return CkFailure("searching the token", rv);
  return found;
}

}  // namespace

Result<size_t> Pkcs11Token::CountPublicData(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = DataObjects(*session_, label);
  if (!found.ok()) return found.status();
  return found->size();
}

Status Pkcs11Token::AddPublicData(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  std::string l(label);
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_ATTRIBUTE attributes[] = {{CKA_CLASS, &cls, sizeof(cls)},
                               {CKA_TOKEN, &kYes, sizeof(kYes)},
                               {CKA_PRIVATE, &kNo, sizeof(kNo)},
                               {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())}};
  CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
  CK_RV rv = s.f()->C_CreateObject(s.handle(), attributes, 4, &created);
  if (rv != CKR_OK) return CkFailure("creating a data object in token " + address_.token, rv);
  return Status::Ok();
}

Status Pkcs11Token::RemovePublicData(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto found = DataObjects(s, label);
  if (!found.ok()) return found.status();
  for (CK_OBJECT_HANDLE h : *found) {
    CK_RV rv = s.f()->C_DestroyObject(s.handle(), h);
    if (rv != CKR_OK) return CkFailure("removing a data object in token " + address_.token, rv);
  }
  return Status::Ok();
}

}  // namespace ipn::token
