// The citizen's local card application: the PIN, its retry limit, and the signature.
#include <sodium.h>

#include "card/card.h"

namespace ipn::card {

std::array<uint8_t, 64> AuthenticationMessage(std::string_view origin,
                                              std::span<const uint8_t> challenge) {
  std::array<uint8_t, 64> message{};
  crypto_hash_sha256(message.data(), reinterpret_cast<const unsigned char*>(origin.data()),
                     origin.size());
  crypto_hash_sha256(message.data() + 32, challenge.data(), challenge.size());
  return message;
}

// A real card counts wrong PINs in its chip and refuses once locked. SoftHSM2 does not,
// so the stand-in keeps the count in a public object on the card and checks it before
// every try: what a chip enforces, this enforces for every program that goes through
// SignWithCard (docs/security.md says what that does not stop).
Result<CardSignature> SignWithCard(const token::TokenAddress& card, std::string_view pin,
                                   std::string_view origin, std::span<const uint8_t> challenge) {
  auto opened = token::Pkcs11Token::OpenUnauthenticated(card);
  if (!opened.ok()) return opened.status();
  token::Pkcs11Token& t = **opened;
  // One public object per wrong PIN: creating an object is all-or-nothing, so a try is
  // counted before its answer is given, even if the program is killed right after.
  auto tries = t.CountPublicData(kPinTriesLabel);
  if (!tries.ok()) return tries.status();
  int wrong = static_cast<int>(*tries);
  if (wrong >= kMaxPinTries) {
    return Status::PermissionDenied("the card is locked after " + std::to_string(kMaxPinTries) +
                                    " wrong PINs; the issuer must unlock or replace it");
  }
  // The try is counted before it is made and forgiven only once the PIN is right, so
  // neither a kill at the wrong moment nor two tries at once get more than three.
  IPN_RETURN_IF_ERROR(t.AddPublicData(kPinTriesLabel));
  ++wrong;
  if (Status login = t.Login(pin); !login.ok()) {
    if (login.code() != Status::Code::kPermissionDenied) return login;
    if (wrong >= kMaxPinTries) {
      return Status::PermissionDenied("wrong PIN; the card is now locked");
    }
    return Status::PermissionDenied("wrong PIN (" + std::to_string(kMaxPinTries - wrong) +
                                    " tries left before the card locks)");
  }
  IPN_RETURN_IF_ERROR(t.RemovePublicData(kPinTriesLabel));
  CardSignature out;
  auto certificate = t.Certificate(kCardKeyLabel);
  if (!certificate.ok()) return certificate.status().WithContext("this is not an issued card");
  out.certificate_der = std::move(*certificate);
  const std::array<uint8_t, 64> message = AuthenticationMessage(origin, challenge);
  auto signature = t.SignEd25519(kCardKeyLabel, message);
  if (!signature.ok()) return signature.status();
  out.signature = *signature;
  return out;
}

}  // namespace ipn::card
