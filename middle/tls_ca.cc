// The platform's certificate authority for the HTTPS API (see tls_ca.h).
#include "middle/tls_ca.h"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "common/file_util.h"

namespace ipn::middle {
namespace {

constexpr int64_t kDay = 86400;

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using X509Ptr = std::unique_ptr<X509, Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

Status OpenSslFailure(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return Status::Internal(what + ": " + text);
}

Status AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslFailure("certificate extension " + value);
  const int added = X509_add_ext(certificate, ext, -1);
  X509_EXTENSION_free(ext);
  return added == 1 ? Status::Ok() : OpenSslFailure("certificate extension");
}

// A certificate for `key` named `cn`, signed by `issuer_key` (self-signed when `issuer`
// is null); `extensions` as OpenSSL's config strings, by NID.
Result<X509Ptr> Certificate(const std::string& cn, EVP_PKEY* key, X509* issuer,
                            EVP_PKEY* issuer_key, int64_t now_s, int64_t days,
                            const std::vector<std::pair<int, std::string>>& extensions) {
  X509Ptr c(X509_new());
  if (!c) return OpenSslFailure("X509_new");
  X509_set_version(c.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslFailure("serial");
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);  // positive, 16 bytes
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  ASN1_INTEGER* sn = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  if (sn == nullptr) return OpenSslFailure("serial");
  X509_set_serialNumber(c.get(), sn);
  ASN1_INTEGER_free(sn);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(c.get()), static_cast<time_t>(now_s - 300));  // skew
  ASN1_TIME_set(X509_getm_notAfter(c.get()), static_cast<time_t>(now_s + days * kDay));
  X509_set_pubkey(c.get(), key);
  X509* signer = issuer != nullptr ? issuer : c.get();
  for (const auto& [nid, value] : extensions) {
    IPN_RETURN_IF_ERROR(AddExtension(c.get(), signer, nid, value));
  }
  if (X509_sign(c.get(), issuer_key, EVP_sha256()) <= 0) return OpenSslFailure("X509_sign");
  return c;
}

Result<std::string> Pem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslFailure("PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Status WriteKey(const std::string& path, EVP_PKEY* key) {
  Result<std::string> pem = Pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!pem.ok()) return pem.status();
  // WriteFileAtomic creates 0600: the key is never readable by others, not even briefly.
  Status s = WriteFileAtomic(path, *pem);
  OPENSSL_cleanse(pem->data(), pem->size());
  return s;
}

}  // namespace

TlsFiles TlsFilesIn(const std::string& dir) {
  return {dir + "/ca.crt", dir + "/server.crt", dir + "/server.key"};
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

Status InitTlsCa(const std::string& dir, const std::vector<std::string>& hosts, int64_t now_s) {
  if (hosts.empty()) return Status::InvalidArgument("name at least one host the API serves");
  std::string san;
  for (const std::string& h : hosts) {
    in6_addr any{};
    const bool ip =
        inet_pton(AF_INET, h.c_str(), &any) == 1 || inet_pton(AF_INET6, h.c_str(), &any) == 1;
    if (!ip && (h.empty() || h.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                                 std::string::npos)) {
      return Status::InvalidArgument("not an IP address or DNS name: " + h);
    }
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + h;
  }
  std::error_code ec;
  if (std::filesystem::exists(dir + "/ca.key", ec)) {
    return Status::AlreadyExists("a CA already exists in " + dir);
  }
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir));
  ::chmod(dir.c_str(), 0700);
  KeyPtr ca_key(EVP_EC_gen("P-256"));
  KeyPtr server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) return OpenSslFailure("EC key");
  auto ca =
      Certificate("IPN middle platform CA", ca_key.get(), nullptr, ca_key.get(), now_s, 10 * 365,
                  {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                   {NID_key_usage, "critical,keyCertSign,cRLSign"},
                   {NID_subject_key_identifier, "hash"}});
  if (!ca.ok()) return ca.status();
  auto server = Certificate(hosts[0], server_key.get(), ca->get(), ca_key.get(), now_s, 2 * 365,
                            {{NID_basic_constraints, "critical,CA:FALSE"},
                             {NID_key_usage, "critical,digitalSignature"},
                             {NID_ext_key_usage, "serverAuth"},
                             {NID_subject_alt_name, san},
                             {NID_authority_key_identifier, "keyid"}});
  if (!server.ok()) return server.status();
  auto ca_pem = Pem([&](BIO* b) { return PEM_write_bio_X509(b, ca->get()); });
  auto server_pem = Pem([&](BIO* b) { return PEM_write_bio_X509(b, server->get()); });
  if (!ca_pem.ok()) return ca_pem.status();
  if (!server_pem.ok()) return server_pem.status();
  // The CA's key first, then the serving key, then what is published.
  IPN_RETURN_IF_ERROR(WriteKey(dir + "/ca.key", ca_key.get()));
  const TlsFiles files = TlsFilesIn(dir);
  IPN_RETURN_IF_ERROR(WriteKey(files.key, server_key.get()));
  IPN_RETURN_IF_ERROR(WriteFileAtomic(files.certificate, *server_pem + *ca_pem));
  IPN_RETURN_IF_ERROR(WriteFileAtomic(files.ca_certificate, *ca_pem));
  ::chmod(files.certificate.c_str(), 0644);  // certificates are public
  ::chmod(files.ca_certificate.c_str(), 0644);
  return Status::Ok();
}

}  // namespace ipn::middle
