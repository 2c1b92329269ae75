// Internal to token/: a loaded PKCS#11 module and one logged-in session, with the small
// helpers the key operations share (finding an object by class and label, reading an
// attribute, turning a CK_RV into a Status). Not thread-safe; Pkcs11Token locks around it.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "token/pkcs11_token.h"

namespace ipn::token {

// "CKR_PIN_INCORRECT" for messages.
const char* CkrName(CK_RV rv);
// A failed call as a Status: `what` failed with the return value's name.
Status CkFailure(std::string_view what, CK_RV rv);

class Pkcs11Token::Session {
 public:
  // Loads (once per process) and initialises the module, finds the token and opens a
  // read-write session (public objects only until Login).
  static Result<std::unique_ptr<Session>> Open(const TokenAddress& address);
  Status Login(std::string_view pin);
  ~Session();

  CK_FUNCTION_LIST* f() const { return functions_; }
  CK_SESSION_HANDLE handle() const { return session_; }

  // The one object of `cls` labelled `label`; nullopt if none. Corruption if several.
  Result<std::optional<CK_OBJECT_HANDLE>> Find(CK_OBJECT_CLASS cls, std::string_view label);
  // Every object in the token visible to this session.
  Result<std::vector<CK_OBJECT_HANDLE>> FindAll();
  // An attribute's bytes; nullopt when the token refuses to reveal it (sensitive) or the
  // object has no such attribute.
  Result<std::optional<std::string>> Attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

 private:
  Session() = default;
  CK_FUNCTION_LIST* functions_ = nullptr;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
  std::string token_;  // the label, for messages
};

}  // namespace ipn::token
