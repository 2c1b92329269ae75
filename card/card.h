// Cards (issue #15, DESIGN.md §10): how a citizen proves who they are — a key generated
// inside their card (a PKCS#11 token; SoftHSM2 stands in for the card), a certificate from
// the card issuer carrying no personal data, a PIN with a retry limit, a revocation list.
// Three parties, three parts:
//   CardIssuer  (the registry's role) keeps the issuer's CA, issues a card's key and
//               certificate into the card, revokes, and publishes the signed revocation
//               list (X.509 CRL);
//   SignWithCard (the citizen's local card application) signs a service's challenge,
//               bound to the service's origin, after the PIN; three wrong PINs lock it;
//   CardVerifier (the portal) accepts a signature only from an unrevoked card of its
//               pinned issuer, for its own origin and the challenge it gave.
// X.509 through OpenSSL (Debian's libssl); Ed25519 throughout. docs/security.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/key_custody.h"
#include "common/status.h"
#include "token/pkcs11_token.h"

namespace ipn::card {

inline constexpr const char* kCardKeyLabel = "card-auth";       // key and certificate
inline constexpr const char* kPinTriesLabel = "ipn-pin-tries";  // the card's retry counter
inline constexpr int kMaxPinTries = 3;

// What a card signs, as Web eID does: SHA-256(origin) ‖ SHA-256(challenge). The origin
// binds the signature to the site that asked (a phishing site's origin differs).
std::array<uint8_t, 64> AuthenticationMessage(std::string_view origin,
                                              std::span<const uint8_t> challenge);

struct CardSignature {
  std::string certificate_der;  // the card's certificate, as stored in the card
  Ed25519Signature signature{};
};

struct CardEntry {
  std::string serial;  // hex, as in the certificate
  int64_t issued_s = 0;
  bool revoked = false;
  int64_t revoked_s = 0;
};

class CardIssuer {
 public:
  // A new issuer in `dir` (created 0700): its CA key (issuer.key, 0600), its self-signed
  // certificate (issuer.crt, PEM: what services pin), an empty register and revocation
  // list. `name` appears in the certificates as the issuer (no personal data).
  static Status Init(const std::string& dir, std::string_view name, int64_t now_s);
  static Result<std::unique_ptr<CardIssuer>> Open(const std::string& dir);
  ~CardIssuer();

  // Generates the card's key inside `card` (logged in), issues its certificate (valid
  // `valid_days`, subject "IPN card <serial>") and stores it in the card. Returns the serial.
  Result<std::string> Issue(token::Pkcs11Token& card, int64_t now_s, int valid_days = 3650);
  // Marks the card revoked and republishes the revocation list (issuer.crl, PEM), valid
  // for `crl_valid_days`. NotFound for an unknown serial.
  Status Revoke(std::string_view serial, int64_t now_s, int crl_valid_days = 7);
  // Republishes the list as is (a new next-update time).
  Status PublishRevocations(int64_t now_s, int crl_valid_days = 7);
  const std::vector<CardEntry>& cards() const { return cards_; }

  static std::string CertificatePath(const std::string& dir) { return dir + "/issuer.crt"; }
  static std::string RevocationListPath(const std::string& dir) { return dir + "/issuer.crl"; }

 private:
  CardIssuer() = default;
  Status SaveRegister() const;
  std::string dir_;
  SecretBytes ca_secret_key_;
  std::string ca_certificate_pem_;
  std::vector<CardEntry> cards_;
};

// The citizen's side: reads the card's retry counter, logs in with `pin` (a wrong one
// counts; the third locks the card for good, before the PIN is even tried again), and
// signs AuthenticationMessage(origin, challenge) inside the card.
Result<CardSignature> SignWithCard(const token::TokenAddress& card, std::string_view pin,
                                   std::string_view origin, std::span<const uint8_t> challenge);

class CardVerifier {
 public:
  // The pinned issuer certificate (PEM) and its current revocation list (PEM), whose
  // signature must be the issuer's.
  static Result<std::unique_ptr<CardVerifier>> Load(const std::string& issuer_certificate_path,
                                                    const std::string& revocation_list_path);
  ~CardVerifier();
  // The card's serial when `signed_` is a valid signature by an unrevoked card of this
  // issuer over AuthenticationMessage(origin, challenge) at `now_s`; PermissionDenied
  // naming what failed otherwise. A revocation list past its next update fails closed.
  Result<std::string> Verify(const CardSignature& signed_, std::string_view origin,
                             std::span<const uint8_t> challenge, int64_t now_s) const;
  // Whether the card with serial `serial_hex` (as Verify returns it) is still good by this
  // list at `now_s`: PermissionDenied when it is revoked or the list is out of date (an
  // open session ends with its card).
  Status CheckSerial(std::string_view serial_hex, int64_t now_s) const;
  // When the issuer issued this list (its thisUpdate, Unix seconds; 0 if unreadable): a
  // list older than one already seen is a rollback that could hide a revocation.
  int64_t issued_at_s() const;

  struct State;  // OpenSSL objects (card_verifier.cc)

 private:
  explicit CardVerifier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ipn::card
