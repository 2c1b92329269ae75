// The portal's check of a card signature: pinned issuer, revocation, origin, challenge.
#include <openssl/x509v3.h>
#include <sodium.h>

#include "card/card.h"
#include "card/x509.h"
#include "common/file_util.h"

namespace ipn::card {

struct CardVerifier::State {
  X509Ptr issuer;
  KeyPtr issuer_key;
  CrlPtr revocations;
};

CardVerifier::CardVerifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
CardVerifier::~CardVerifier() = default;

Result<std::unique_ptr<CardVerifier>> CardVerifier::Load(const std::string& issuer_certificate_path,
                                                         const std::string& revocation_list_path) {
  auto state = std::make_unique<State>();
  Result<std::string> pem = ReadFile(issuer_certificate_path);
  if (!pem.ok()) return pem.status().WithContext("the card issuer's certificate");
  state->issuer = CertificateFromPem(*pem);
  if (!state->issuer) {
    return Status::InvalidArgument(issuer_certificate_path + " is not a PEM certificate");
  }
  Result<Ed25519PublicKey> issuer_key = RawPublicKey(state->issuer.get());
  if (!issuer_key.ok()) return issuer_key.status().WithContext(issuer_certificate_path);
  state->issuer_key = PublicKey(*issuer_key);
  Result<std::string> crl = ReadFile(revocation_list_path);
  if (!crl.ok()) return crl.status().WithContext("the card revocation list");
  state->revocations = CrlFromPem(*crl);
  if (!state->revocations) {
    return Status::InvalidArgument(revocation_list_path + " is not a PEM revocation list");
  }
  if (X509_NAME_cmp(X509_CRL_get_issuer(state->revocations.get()),
                    X509_get_subject_name(state->issuer.get())) != 0 ||
      X509_CRL_verify(state->revocations.get(), state->issuer_key.get()) != 1) {
    return Status::PermissionDenied(revocation_list_path +
                                    " is not signed by the pinned card issuer");
  }
  return std::unique_ptr<CardVerifier>(new CardVerifier(std::move(state)));
}

namespace {

// A list past its next update could miss a revocation: nothing passes it.
bool ListCurrent(X509_CRL* crl, time_t now) {
  const ASN1_TIME* next_update = X509_CRL_get0_nextUpdate(crl);
  return next_update != nullptr && X509_cmp_time(next_update, &now) == 1;  // 0: an error
}

}  // namespace

Status CardVerifier::CheckSerial(std::string_view serial_hex, int64_t now_s) const {
  if (!ListCurrent(state_->revocations.get(), static_cast<time_t>(now_s))) {
    return Status::PermissionDenied(
        "the card revocation list is out of date; cards cannot be checked");
  }
  IntegerPtr serial = SerialFromHex(serial_hex);
  if (!serial) return Status::PermissionDenied("not a card serial");
  X509_REVOKED* revoked = nullptr;
  if (X509_CRL_get0_by_serial(state_->revocations.get(), &revoked, serial.get()) == 1) {
    return Status::PermissionDenied("the card has been revoked");
  }
  return Status::Ok();
}

int64_t CardVerifier::issued_at_s() const {
  const ASN1_TIME* this_update = X509_CRL_get0_lastUpdate(state_->revocations.get());
  struct tm tm {};
  if (this_update == nullptr || ASN1_TIME_to_tm(this_update, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

Result<std::string> CardVerifier::Verify(const CardSignature& signed_, std::string_view origin,
                                         std::span<const uint8_t> challenge, int64_t now_s) const {
  auto refuse = [](const std::string& why) { return Status::PermissionDenied(why); };
  time_t now = static_cast<time_t>(now_s);
  // The list itself first: a stale one could miss a revocation, so nothing passes.
  if (!ListCurrent(state_->revocations.get(), now)) {
    return refuse("the card revocation list is out of date; cards cannot be checked");
  }
  X509Ptr card = CertificateFromDer(signed_.certificate_der);
  if (!card) return refuse("the card's certificate is malformed");
  if (X509_NAME_cmp(X509_get_issuer_name(card.get()),
                    X509_get_subject_name(state_->issuer.get())) != 0 ||
      X509_verify(card.get(), state_->issuer_key.get()) != 1) {
    return refuse("the card was not issued by the card issuer this portal trusts");
  }
  if (X509_check_ca(card.get()) != 0) return refuse("the certificate is not a card's");
  // X509_cmp_time: -1 before, 1 after, 0 on error; an error never passes.
  if (X509_cmp_time(X509_get0_notBefore(card.get()), &now) != -1 ||
      X509_cmp_time(X509_get0_notAfter(card.get()), &now) != 1) {
    return refuse("the card's certificate is not valid now (expired or not yet valid)");
  }
  X509_REVOKED* revoked = nullptr;
  if (X509_CRL_get0_by_serial(state_->revocations.get(), &revoked,
                              X509_get_serialNumber(card.get())) == 1) {
    return refuse("the card has been revoked");
  }
  Result<Ed25519PublicKey> card_key = RawPublicKey(card.get());
  if (!card_key.ok()) return refuse(card_key.status().message());
  const std::array<uint8_t, 64> message = AuthenticationMessage(origin, challenge);
  if (crypto_sign_verify_detached(signed_.signature.data(), message.data(), message.size(),
                                  card_key->data()) != 0) {
    return refuse("the card's signature is not for this site and challenge");
  }
  return SerialHex(X509_get_serialNumber(card.get()));
}

}  // namespace ipn::card
