// The card issuer: its CA, the cards it issued (cards.tsv) and their revocation list.
#include <openssl/x509v3.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "card/card.h"
#include "card/x509.h"
#include "common/encoding.h"
#include "common/file_util.h"

namespace ipn::card {
namespace {

constexpr int64_t kDay = 86400;

std::string KeyPath(const std::string& dir) {
  return dir + "/issuer.key";
}
std::string RegisterPath(const std::string& dir) {
  return dir + "/cards.tsv";
}

Status AddExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Status::Internal("cannot make a certificate extension");
  const int added = X509_add_ext(certificate, ext, -1);
  X509_EXTENSION_free(ext);
  return added == 1 ? Status::Ok() : Status::Internal("cannot add a certificate extension");
}

// A certificate for `subject_key` signed by `issuer_key`; `issuer` null: self-signed.
Result<X509Ptr> MakeCertificate(std::string_view serial_hex, std::string_view subject,
                                EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
                                int64_t now_s, int valid_days, bool ca) {
  X509Ptr c(X509_new());
  IntegerPtr serial = SerialFromHex(serial_hex);
  NamePtr name = CommonName(subject);
  if (!c || !serial || !name) return Status::Internal("OpenSSL: " + OpenSslError());
  X509_set_version(c.get(), 2);  // v3
  X509_set_serialNumber(c.get(), serial.get());
  X509_set_subject_name(c.get(), name.get());
  X509_set_issuer_name(c.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name.get());
  ASN1_TIME_set(X509_getm_notBefore(c.get()), static_cast<time_t>(now_s));
  ASN1_TIME_set(X509_getm_notAfter(c.get()), static_cast<time_t>(now_s + valid_days * kDay));
  X509_set_pubkey(c.get(), subject_key);
  X509* signer = issuer != nullptr ? issuer : c.get();
  IPN_RETURN_IF_ERROR(AddExtension(c.get(), signer, NID_basic_constraints,
                                   ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  IPN_RETURN_IF_ERROR(
      AddExtension(c.get(), signer, NID_key_usage,
                   ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"));
  // Ed25519 signs the whole to-be-signed structure itself: no separate digest (null md).
  if (X509_sign(c.get(), issuer_key, nullptr) <= 0) {
    return Status::Internal("cannot sign the certificate: " + OpenSslError());
  }
  return c;
}

std::string NewSerial() {
  std::array<uint8_t, 16> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  bytes[0] = static_cast<uint8_t>((bytes[0] & 0x7f) | 0x40);  // positive, 16 bytes long
  return HexEncode(bytes);
}

}  // namespace

CardIssuer::~CardIssuer() = default;

Status CardIssuer::Init(const std::string& dir, std::string_view name, int64_t now_s) {
  std::error_code ec;
  if (std::filesystem::exists(KeyPath(dir), ec)) {
    return Status::AlreadyExists("a card issuer already exists in " + dir);
  }
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("the issuer's name must be 1 to 64 characters");
  }
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir));
  ::chmod(dir.c_str(), 0700);
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  Ed25519PublicKey public_key;
  crypto_sign_keypair(public_key.data(), secret.data());
  KeyPtr key = PrivateKey(secret);
  Result<X509Ptr> certificate = MakeCertificate(NewSerial(), name, key.get(), nullptr, key.get(),
                                                now_s, 20 * 365, /*ca=*/true);
  if (!certificate.ok()) return certificate.status();
  // The key file first (0600, written once), then what is published.
  IPN_RETURN_IF_ERROR(WriteFileAtomic(KeyPath(dir), HexEncode(secret.span()) + "\n"));
  ::chmod(KeyPath(dir).c_str(), 0600);
  IPN_RETURN_IF_ERROR(WriteFileAtomic(CertificatePath(dir), ToPem(certificate->get())));
  IPN_RETURN_IF_ERROR(WriteFileAtomic(RegisterPath(dir), "# serial\tissued\trevoked\n"));
  Result<std::unique_ptr<CardIssuer>> issuer = Open(dir);
  if (!issuer.ok()) return issuer.status();
  return (*issuer)->PublishRevocations(now_s);
}

Result<std::unique_ptr<CardIssuer>> CardIssuer::Open(const std::string& dir) {
  std::unique_ptr<CardIssuer> issuer(new CardIssuer());
  issuer->dir_ = dir;
  Result<std::string> key = ReadFile(KeyPath(dir));
  if (!key.ok()) return Status::NotFound("no card issuer in " + dir + " (ipn card init-issuer)");
  Result<std::vector<uint8_t>> bytes = HexDecode(key->substr(0, key->find('\n')));
  if (!bytes.ok() || bytes->size() != crypto_sign_SECRETKEYBYTES) {
    if (bytes.ok()) sodium_memzero(bytes->data(), bytes->size());
    return Status::Corruption(KeyPath(dir) + " is not an Ed25519 secret key");
  }
  issuer->ca_secret_key_ = SecretBytes(bytes->size());
  std::copy(bytes->begin(), bytes->end(), issuer->ca_secret_key_.data());
  sodium_memzero(bytes->data(), bytes->size());
  sodium_memzero(key->data(), key->size());
  Result<std::string> pem = ReadFile(CertificatePath(dir));
  if (!pem.ok()) return pem.status();
  issuer->ca_certificate_pem_ = *pem;
  Result<std::string> text = ReadFile(RegisterPath(dir));
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    CardEntry e;
    std::string status;
    if (!(fields >> e.serial >> e.issued_s >> status)) {
      return Status::Corruption(RegisterPath(dir) + ": malformed line: " + line);
    }
    e.revoked = status != "-";
    if (e.revoked) e.revoked_s = std::stoll(status);
    issuer->cards_.push_back(e);
  }
  return issuer;
}

Status CardIssuer::SaveRegister() const {
  std::string out = "# serial\tissued\trevoked\n";
  for (const CardEntry& e : cards_) {
    out += e.serial + "\t" + std::to_string(e.issued_s) + "\t" +
           (e.revoked ? std::to_string(e.revoked_s) : "-") + "\n";
  }
  return WriteFileAtomic(RegisterPath(dir_), out);
}

Result<std::string> CardIssuer::Issue(token::Pkcs11Token& card, int64_t now_s, int valid_days) {
  Result<Ed25519PublicKey> card_key = card.GenerateEd25519(kCardKeyLabel);
  if (!card_key.ok()) return card_key.status().WithContext("the card's key");
  X509Ptr ca = CertificateFromPem(ca_certificate_pem_);
  KeyPtr ca_key = PrivateKey(ca_secret_key_);
  KeyPtr subject_key = PublicKey(*card_key);
  if (!ca || !ca_key || !subject_key) return Status::Internal("OpenSSL: " + OpenSslError());
  const std::string serial = NewSerial();
  // No personal data: the subject names the card, not its holder.
  Result<X509Ptr> certificate =
      MakeCertificate(serial, "IPN card " + serial, subject_key.get(), ca.get(), ca_key.get(),
                      now_s, valid_days, /*ca=*/false);
  if (!certificate.ok()) return certificate.status();
  unsigned char* subject = nullptr;
  const int subject_size = i2d_X509_NAME(X509_get_subject_name(certificate->get()), &subject);
  if (subject_size <= 0) return Status::Internal("OpenSSL: " + OpenSslError());
  const std::string subject_der(reinterpret_cast<const char*>(subject),
                                static_cast<size_t>(subject_size));
  OPENSSL_free(subject);
  // The register first: a certificate that reached a card can always be revoked.
  cards_.push_back(CardEntry{serial, now_s, false, 0});
  IPN_RETURN_IF_ERROR(SaveRegister());
  IPN_RETURN_IF_ERROR(card.PutCertificate(kCardKeyLabel, ToDer(certificate->get()), subject_der));
  return serial;
}

Status CardIssuer::Revoke(std::string_view serial, int64_t now_s, int crl_valid_days) {
  auto it = std::find_if(cards_.begin(), cards_.end(),
                         [&](const CardEntry& e) { return e.serial == serial; });
  if (it == cards_.end()) return Status::NotFound("no card " + std::string(serial));
  if (!it->revoked) {
    it->revoked = true;
    it->revoked_s = now_s;
    IPN_RETURN_IF_ERROR(SaveRegister());
  }
  // Published again even when already marked: a publication that failed after the
  // register was saved is completed by revoking again.
  return PublishRevocations(now_s, crl_valid_days);
}

Status CardIssuer::PublishRevocations(int64_t now_s, int crl_valid_days) {
  X509Ptr ca = CertificateFromPem(ca_certificate_pem_);
  KeyPtr ca_key = PrivateKey(ca_secret_key_);
  CrlPtr crl(X509_CRL_new());
  if (!ca || !ca_key || !crl) return Status::Internal("OpenSSL: " + OpenSslError());
  X509_CRL_set_version(crl.get(), 1);  // v2
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get()));
  ASN1_TIME* last = ASN1_TIME_set(nullptr, static_cast<time_t>(now_s));
  ASN1_TIME* next = ASN1_TIME_set(nullptr, static_cast<time_t>(now_s + crl_valid_days * kDay));
  X509_CRL_set1_lastUpdate(crl.get(), last);
  X509_CRL_set1_nextUpdate(crl.get(), next);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  for (const CardEntry& e : cards_) {
    if (!e.revoked) continue;
    // Every call checked: a list that silently left a card out would be signed all the same.
    std::unique_ptr<X509_REVOKED, decltype(&X509_REVOKED_free)> r(X509_REVOKED_new(),
                                                                  &X509_REVOKED_free);
    IntegerPtr serial = SerialFromHex(e.serial);
    std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> when(
        ASN1_TIME_set(nullptr, static_cast<time_t>(e.revoked_s)), &ASN1_TIME_free);
    if (!r || !serial || !when || X509_REVOKED_set_serialNumber(r.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(r.get(), when.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), r.get()) != 1) {
      return Status::Internal("cannot list revoked card " + e.serial + ": " + OpenSslError());
    }
    r.release();  // the list owns it now
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), ca_key.get(), nullptr) <= 0) {
    return Status::Internal("cannot sign the revocation list: " + OpenSslError());
  }
  return WriteFileAtomic(RevocationListPath(dir_), ToPem(crl.get()));
}

}  // namespace ipn::card
