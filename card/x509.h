// Internal to card/: the OpenSSL objects the card parts use, owned by unique_ptrs, and the
// few conversions between them and our bytes (Ed25519 keys, serials, PEM, DER).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <span>
#include <string>

#include "common/key_custody.h"
#include "common/secret.h"
#include "common/status.h"

namespace ipn::card {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CrlPtr = std::unique_ptr<X509_CRL, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, X509Free>;
using NamePtr = std::unique_ptr<X509_NAME, X509Free>;
using IntegerPtr = std::unique_ptr<ASN1_INTEGER, X509Free>;

// From a libsodium 64-byte secret key (its seed) / a 32-byte public key.
KeyPtr PrivateKey(const SecretBytes& ed25519_secret_key);
KeyPtr PublicKey(const Ed25519PublicKey& key);
// The raw Ed25519 key of a certificate; InvalidArgument if it is not Ed25519.
Result<Ed25519PublicKey> RawPublicKey(X509* certificate);

NamePtr CommonName(std::string_view cn);
IntegerPtr SerialFromHex(std::string_view hex);
std::string SerialHex(const ASN1_INTEGER* serial);

std::string ToPem(X509* certificate);
std::string ToPem(X509_CRL* crl);
std::string ToDer(X509* certificate);
X509Ptr CertificateFromPem(std::string_view pem);
X509Ptr CertificateFromDer(std::string_view der);
CrlPtr CrlFromPem(std::string_view pem);

// The first error on OpenSSL's queue, for messages (and the queue cleared).
std::string OpenSslError();

}  // namespace ipn::card
