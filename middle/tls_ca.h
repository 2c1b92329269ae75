// The middle-server platform's own certificate authority, for its HTTPS API
// (`ipn-middle ca init`): a CA key and certificate, and the API's serving key and
// certificate signed by it for the names and addresses the agencies' systems connect to.
// The agencies' systems trust the CA certificate (DIR/ca.crt), handed to them out of band.
// ECDSA P-256 with SHA-256: what every TLS client in use (Java, .NET, curl, Python)
// accepts. X.509 through OpenSSL, as the card issuer's: no hand-written ASN.1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::middle {

struct TlsFiles {
  std::string ca_certificate;  // DIR/ca.crt: what clients trust
  std::string certificate;     // DIR/server.crt: the API's chain (its certificate, then the CA's)
  std::string key;             // DIR/server.key (0600)
};

TlsFiles TlsFilesIn(const std::string& dir);

// Creates the CA (10 years) and the serving certificate (2 years) for `hosts` — IP
// addresses or DNS names, at least one. AlreadyExists if DIR holds a CA; the CA's key
// (DIR/ca.key, 0600) is written first and only once.
Status InitTlsCa(const std::string& dir, const std::vector<std::string>& hosts, int64_t now_s);

// 127.0.0.0/8, ::1 or localhost: where plain HTTP is allowed (development only).
bool IsLoopback(const std::string& host);

}  // namespace ipn::middle
