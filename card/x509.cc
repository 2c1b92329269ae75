// OpenSSL conversions for the card parts.
#include "card/x509.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <cctype>

namespace ipn::card {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string Drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

BioPtr ReadBio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

}  // namespace

KeyPtr PrivateKey(const SecretBytes& ed25519_secret_key) {
  SecretBytes seed(crypto_sign_SEEDBYTES);
  crypto_sign_ed25519_sk_to_seed(seed.data(), ed25519_secret_key.data());
  return KeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
}

KeyPtr PublicKey(const Ed25519PublicKey& key) {
  return KeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
}

Result<Ed25519PublicKey> RawPublicKey(X509* certificate) {
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return Status::InvalidArgument("the certificate's key is not an Ed25519 key");
  }
  Ed25519PublicKey raw;
  size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &size) != 1 || size != raw.size()) {
    return Status::InvalidArgument("cannot read the certificate's Ed25519 key");
  }
  return raw;
}

NamePtr CommonName(std::string_view cn) {
  NamePtr name(X509_NAME_new());
  const std::string value(cn);
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  return name;
}

IntegerPtr SerialFromHex(std::string_view hex) {
  BIGNUM* bn = nullptr;
  const std::string text(hex);
  if (BN_hex2bn(&bn, text.c_str()) == 0) return nullptr;
  IntegerPtr serial(BN_to_ASN1_INTEGER(bn, nullptr));
  BN_free(bn);
  return serial;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string ToPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), certificate);
  return Drain(bio.get());
}

std::string ToPem(X509_CRL* crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl);
  return Drain(bio.get());
}

std::string ToDer(X509* certificate) {
  unsigned char* der = nullptr;
  const int size = i2d_X509(certificate, &der);
  if (size <= 0) return "";
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

X509Ptr CertificateFromPem(std::string_view pem) {
  BioPtr bio = ReadBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

X509Ptr CertificateFromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr certificate(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  // Trailing bytes after the certificate are not part of what was signed: refuse them.
  if (certificate && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return nullptr;
  }
  return certificate;
}

CrlPtr CrlFromPem(std::string_view pem) {
  BioPtr bio = ReadBio(pem);
  return CrlPtr(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace ipn::card
