// Pkcs11Token: one logged-in session with a PKCS#11 token (an HSM, a smart card, or
// SoftHSM2 standing in for either), and the few things the broker asks of it:
//   - Ed25519 keys generated or imported inside the token, never readable out of it; their
//     signatures (CKM_EDDSA) are what libsodium would give for the same key;
//   - AES-256 key-encryption keys that wrap and unwrap a data key inside the token
//     (CKM_AES_KEY_WRAP, RFC 3394) and can do nothing else.
// MakeSigner and MakeWrapper adapt them to common/key_custody.h, so the record store and
// the key ring file use a token without knowing it. docs/security.md: how a token is
// initialised, which objects it holds, how it is backed up.
//
// Thread-safe (one mutex around the session). The PIN is used for C_Login and wiped.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/key_custody.h"
#include "common/secret.h"
#include "common/status.h"

namespace ipn::token {

// Debian's SoftHSM2 module (package softhsm2): the development and test stand-in.
inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

// Object labels the broker uses by default.
inline constexpr const char* kDefaultKekLabel = "ipn-kek";
inline constexpr const char* kDefaultRecordsSigningLabel = "ipn-records-signing";

// The token PIN for daemons and scripts (otherwise asked at the terminal).
inline constexpr const char* kTokenPinEnv = "IPN_TOKEN_PIN";

struct TokenAddress {
  std::string module = kSoftHsmModule;  // path of the PKCS#11 library
  std::string token;                    // the token's label
  std::string Describe() const;         // "pkcs11:token=<label>" (+ module when not SoftHSM2)
};

// A key in a token, as a key ring file's header names it:
// "pkcs11:token=<label>[;module=<path>];object=<label>".
struct KeyLocator {
  TokenAddress address;
  std::string object;
  std::string Describe() const;
};
Result<KeyLocator> ParseKeyLocator(std::string_view text);
// The PKCS#11 module a program may load: IPN_TOKEN_MODULE if set, else SoftHSM2's. A
// module named in a file (a key ring's header) is loaded only if it is this one: the file
// is read before it can be authenticated, and loading a library runs its code.
std::string ConfiguredModule();
Status CheckModule(const KeyLocator& locator, const std::string& configured);

// One object in the token, as `ipn token list` shows it. Values are never read.
struct TokenObject {
  std::string label;
  std::string kind;  // "ed25519-private", "ed25519-public", "aes-kek", "other"
  bool sensitive = false;
  bool extractable = false;
  std::optional<Ed25519PublicKey> public_key;  // for Ed25519 objects
};

class Pkcs11Token : public std::enable_shared_from_this<Pkcs11Token> {
 public:
  // Loads the module, finds the token by label, opens a session and logs in with `pin`.
  // NotFound: no module at that path, or no token with that label (the message lists the
  // tokens present). PermissionDenied: wrong PIN, or the PIN is locked.
  static Result<std::shared_ptr<Pkcs11Token>> Open(const TokenAddress& address,
                                                   std::string_view pin);
  // The session without logging in: only public objects (PublicData) until Login.
  static Result<std::shared_ptr<Pkcs11Token>> OpenUnauthenticated(const TokenAddress& address);
  // PermissionDenied for a wrong or locked PIN.
  Status Login(std::string_view pin);
  ~Pkcs11Token();
  Pkcs11Token(const Pkcs11Token&) = delete;
  Pkcs11Token& operator=(const Pkcs11Token&) = delete;

  const TokenAddress& address() const { return address_; }

  // Ed25519. Generate makes the pair inside the token; Import puts an existing libsodium
  // secret key (64 bytes) in, sensitive and not extractable. Both AlreadyExists if the
  // label is taken.
  Result<Ed25519PublicKey> GenerateEd25519(std::string_view label);
  Result<Ed25519PublicKey> ImportEd25519(std::string_view label, const SecretBytes& secret_key);
  Result<Ed25519PublicKey> FindEd25519(std::string_view label);
  Result<Ed25519Signature> SignEd25519(std::string_view label, std::span<const uint8_t> message);

  // AES-256 key-encryption key: generated in the token, sensitive, not extractable, usable
  // only to wrap and unwrap. AlreadyExists if the label is taken.
  Status GenerateKek(std::string_view label);
  Result<std::string> WrapKey(std::string_view kek_label, const SecretBytes& key);
  Result<SecretBytes> UnwrapKey(std::string_view kek_label, std::span<const uint8_t> wrapped);

  Result<std::vector<TokenObject>> List();

  // An X.509 certificate object (DER, with its subject name's DER) beside a key, as a
  // card carries its own.
  Status PutCertificate(std::string_view label, std::string_view der, std::string_view subject);
  Result<std::string> Certificate(std::string_view label);
  // Public data objects (readable and writable before Login), counted by label: each Add
  // creates one more, Remove destroys them all. (Tokens may refuse to change an object's
  // value, so a count of objects is what a counter can be made of.)
  Result<size_t> CountPublicData(std::string_view label);
  Status AddPublicData(std::string_view label);
  Status RemovePublicData(std::string_view label);

  // Adapters to common/key_custody.h; each keeps the token open while it lives. NotFound
  // if there is no such key.
  Result<std::unique_ptr<Ed25519Signer>> MakeSigner(std::string_view label);
  Result<std::unique_ptr<KeyWrapper>> MakeWrapper(std::string_view kek_label);

  class Session;  // the module's function list and the open session (pkcs11_token.cc)

 private:
  Pkcs11Token(TokenAddress address, std::unique_ptr<Session> session);
  TokenAddress address_;
  // Finds and signs, retrying once with a fresh lookup if a cached handle went stale.
  Result<Ed25519Signature> SignLocked(std::string_view label, std::span<const uint8_t> message,
                                      bool cached);
  std::mutex mu_;
  std::unique_ptr<Session> session_;
  // Signing keys' handles by label: a search per signature would cost more than the
  // signature (bench/RESULTS.md, token).
  std::map<std::string, unsigned long, std::less<>> signing_handles_;
};

}  // namespace ipn::token
