// Loading a PKCS#11 module, finding a token by label, logging in; object lookups.
#include "token/pkcs11_session.h"

#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace ipn::token {
namespace {

// A module is loaded and C_Initialize'd once per process and never finalised: PKCS#11
// allows one initialisation per process, and finalising while another Pkcs11Token still
// used the module would break it. dlopen is process-wide state already; this map only
// remembers what was initialised (the one exception to "no globals", for that reason).
struct LoadedModules {
  std::mutex mu;
  std::map<std::string, CK_FUNCTION_LIST*> by_path;
};

LoadedModules& Modules() {
  static LoadedModules modules;
  return modules;
}

Result<CK_FUNCTION_LIST*> LoadModule(const std::string& path) {
  LoadedModules& modules = Modules();
  std::lock_guard<std::mutex> lock(modules.mu);
  if (auto it = modules.by_path.find(path); it != modules.by_path.end()) return it->second;
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return Status::NotFound("cannot load the PKCS#11 module " + path + ": " +
                            (why != nullptr ? why : "unknown error") +
                            " (for SoftHSM2: apt-get install softhsm2)");
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  CK_FUNCTION_LIST* functions = nullptr;
  if (get_list == nullptr || get_list(&functions) != CKR_OK || functions == nullptr) {
    return Status::FailedPrecondition(path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;  // the module may use the OS's mutexes between our threads
  CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    return CkFailure("initialising the PKCS#11 module " + path, rv);
  }
  modules.by_path.emplace(path, functions);
  return functions;
}

// Token labels are 32 bytes padded with spaces.
std::string TrimLabel(const unsigned char* label, size_t size) {
  std::string s(reinterpret_cast<const char*>(label), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

const char* CkrName(CK_RV rv) {
  switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
    case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_WRAPPED_KEY_INVALID: return "CKR_WRAPPED_KEY_INVALID";
    case CKR_ENCRYPTED_DATA_INVALID: return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
    case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
    case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_TEMPLATE_INCOMPLETE: return "CKR_TEMPLATE_INCOMPLETE";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
    default: return "CKR_(other)";
  }
}

Status CkFailure(std::string_view what, CK_RV rv) {
  char code[24];
  std::snprintf(code, sizeof(code), " (0x%lx)", static_cast<unsigned long>(rv));
  std::string message = std::string(what) + " failed: " + CkrName(rv) + code;
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LOCKED:
    case CKR_PIN_LEN_RANGE:
    case CKR_WRAPPED_KEY_INVALID:
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_KEY_FUNCTION_NOT_PERMITTED: return Status::PermissionDenied(message);
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
    case CKR_SESSION_HANDLE_INVALID: return Status::Unavailable(message);
    default: return Status::Internal(message);
  }
}

Result<std::unique_ptr<Pkcs11Token::Session>> Pkcs11Token::Session::Open(
    const TokenAddress& address) {
  Result<CK_FUNCTION_LIST*> functions = LoadModule(address.module);
  if (!functions.ok()) return functions.status();
  CK_FUNCTION_LIST* f = *functions;

  CK_ULONG count = 0;
  CK_RV rv = f->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return CkFailure("listing the token slots", rv);
  std::vector<CK_SLOT_ID> slots(count);
  rv = f->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return CkFailure("listing the token slots", rv);
  slots.resize(count);
  std::optional<CK_SLOT_ID> slot;
  std::vector<std::string> present;
  for (CK_SLOT_ID id : slots) {
    CK_TOKEN_INFO info{};
    if (f->C_GetTokenInfo(id, &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    std::string label = TrimLabel(info.label, sizeof(info.label));
    if (label == address.token) slot = id;
    present.push_back(label);
  }
  if (!slot) {
    std::string listed;
    for (const std::string& p : present) listed += (listed.empty() ? "" : ", ") + p;
    return Status::NotFound(
        "no PKCS#11 token labelled '" + address.token + "' in " + address.module +
        " (is the token attached? tokens present: " + (listed.empty() ? "none" : listed) + ")");
  }
  std::unique_ptr<Session> session(new Session());
  session->functions_ = f;
  rv = f->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                        &session->session_);
  if (rv != CKR_OK) return CkFailure("opening a session with token " + address.token, rv);
  session->token_ = address.token;
  return session;
}

Status Pkcs11Token::Session::Login(std::string_view pin) {
  std::string pin_copy(pin);
  CK_RV rv = functions_->C_Login(session_, CKU_USER,
                                 reinterpret_cast<CK_UTF8CHAR*>(pin_copy.data()), pin_copy.size());
  Wipe(pin_copy.data(), pin_copy.size());
  // Login state belongs to the process and token, and a module answers this before it
  // checks the PIN: accepting it would accept any PIN. One open object per token.
  if (rv == CKR_USER_ALREADY_LOGGED_IN) {
    return Status::FailedPrecondition("token '" + token_ +
                                      "' is already open in this process; open it once");
  }
  if (rv == CKR_PIN_INCORRECT) {
    return Status::PermissionDenied("the PIN for token '" + token_ + "' is wrong");
  }
  if (rv == CKR_PIN_LOCKED) {
    return Status::PermissionDenied("the PIN of token '" + token_ +
                                    "' is locked after too many wrong tries");
  }
  if (rv != CKR_OK) return CkFailure("logging in to token " + token_, rv);
  return Status::Ok();
}

Pkcs11Token::Session::~Session() {
  if (functions_ == nullptr || session_ == CK_INVALID_HANDLE) return;
  // Login state belongs to the token, shared by every session of this process: closing
  // the session is enough, and logging out would log out other Pkcs11Token objects too.
  functions_->C_CloseSession(session_);
}

Result<std::optional<CK_OBJECT_HANDLE>> Pkcs11Token::Session::Find(CK_OBJECT_CLASS cls,
                                                                   std::string_view label) {
  std::string l(label);
  CK_ATTRIBUTE search[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, l.data(), static_cast<CK_ULONG>(l.size())}};
  CK_RV rv = functions_->C_FindObjectsInit(session_, search, 2);
  if (rv != CKR_OK) return CkFailure("searching the token", rv);
  CK_OBJECT_HANDLE found[2];
  CK_ULONG n = 0;
  rv = functions_->C_FindObjects(session_, found, 2, &n);
  functions_->C_FindObjectsFinal(session_);
  if (rv != CKR_OK) return CkFailure("searching the token", rv);
  if (n > 1) return Status::Corruption("the token holds several objects labelled " + l);
  if (n == 0) return std::optional<CK_OBJECT_HANDLE>();
  return std::optional<CK_OBJECT_HANDLE>(found[0]);
}

Result<std::vector<CK_OBJECT_HANDLE>> Pkcs11Token::Session::FindAll() {
  CK_RV rv = functions_->C_FindObjectsInit(session_, nullptr, 0);
  if (rv != CKR_OK) return CkFailure("listing the token's objects", rv);
  std::vector<CK_OBJECT_HANDLE> all;
  CK_OBJECT_HANDLE batch[64];
  CK_ULONG n = 0;
  do {
    rv = functions_->C_FindObjects(session_, batch, 64, &n);
    if (rv != CKR_OK) break;
    all.insert(all.end(), batch, batch + n);
  } while (n == 64);
  functions_->C_FindObjectsFinal(session_);
  if (rv != CKR_OK) return CkFailure("listing the token's objects", rv);
  return all;
}

Result<std::optional<std::string>> Pkcs11Token::Session::Attribute(CK_OBJECT_HANDLE object,
                                                                   CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = functions_->C_GetAttributeValue(session_, object, &a, 1);
  if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
      a.ulValueLen == ~CK_ULONG{0}) {  // CK_UNAVAILABLE_INFORMATION
    return std::optional<std::string>();
  }
  if (rv != CKR_OK) return CkFailure("reading an attribute of a token object", rv);
  std::string value(a.ulValueLen, '\0');
  a.pValue = value.data();
  rv = functions_->C_GetAttributeValue(session_, object, &a, 1);
  if (rv != CKR_OK) return CkFailure("reading an attribute of a token object", rv);
  value.resize(a.ulValueLen);
  return std::optional<std::string>(std::move(value));
}

}  // namespace ipn::token
