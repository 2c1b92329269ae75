// `ipn trust sign`: the trust root's holder signs the portal's trust document — the
// records-signing keys and the commission's witness keys the disclosure page accepts
// (portal/trust_document.h). The portal serves it with `ipn-portal --trust FILE`.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/curve_keys.h"
#include "common/file_util.h"
#include "common/time_text.h"
#include "policy/bundle.h"
#include "portal/trust_document.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

struct TrustFlags {
  std::string key, out;
  std::vector<std::string> records_keys, witness_keys, policy_keys;
  uint64_t version = 1;
};

Result<records::PublicKey> PublicKeyArg(const std::string& hex, const char* flag) {
  Result<PublicKey> key = ParsePublicKeyHex(hex);
  if (!key.ok()) return key.status().WithContext(flag);
  return *key;
}

int Usage(const Status& s) {
  std::fprintf(stderr, "ipn trust: %s\n", s.message().c_str());
  return 2;
}

int RunTrustSign(const TrustFlags& f) {
  portal::TrustDocument doc;
  doc.version = f.version;
  doc.issued_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  for (const std::string& k : f.records_keys) {
    Result<records::PublicKey> key = PublicKeyArg(k, "--records-key");
    if (!key.ok()) return Usage(key.status());
    doc.records_keys.push_back(*key);
  }
  for (const std::string& k : f.witness_keys) {
    Result<records::PublicKey> key = PublicKeyArg(k, "--witness-key");
    if (!key.ok()) return Usage(key.status());
    doc.witness_keys.push_back(*key);
  }
  for (const std::string& k : f.policy_keys) {
    Result<records::PublicKey> key = PublicKeyArg(k, "--policy-key");
    if (!key.ok()) return Usage(key.status());
    doc.policy_keys.push_back(*key);
  }
  Result<SecretBytes> secret = policy::ReadAdminSecretKey(f.key);
  if (!secret.ok()) {
    std::fprintf(stderr, "ipn trust: --key: %s\n", secret.status().message().c_str());
    return 2;
  }
  Result<std::string> signed_doc = portal::SignTrustDocument(doc, secret->span());
  if (!signed_doc.ok()) {
    std::fprintf(stderr, "ipn trust: %s\n", signed_doc.status().ToString().c_str());
    return 1;
  }
  if (Status s = WriteFileAtomic(f.out, *signed_doc + "\n"); !s.ok()) {
    std::fprintf(stderr, "ipn trust: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("wrote trust document version %llu to %s\n",
              static_cast<unsigned long long>(doc.version), f.out.c_str());
  return 0;
}

}  // namespace

void RegisterTrustCommand(CLI::App& app, Context& ctx) {
  CLI::App* group =
      app.add_subcommand("trust", "The disclosure page's trust document (pinned keys)");
  group->require_subcommand(1);
  auto f = std::make_shared<TrustFlags>();
  CLI::App* sign = group->add_subcommand(
      "sign", "Sign the trust document: the records keys and witness keys the page accepts");
  sign->add_option("--key", f->key, "The trust root's secret key file (`ipn policy keygen`)")
      ->required();
  sign->add_option("--records-key", f->records_keys, "A records-signing public key (hex)")
      ->required();
  sign->add_option("--witness-key", f->witness_keys, "A commission witness public key (hex)")
      ->required();
  sign->add_option("--policy-key", f->policy_keys,
                   "A policy administrator's public key (hex): the page checks the names it "
                   "shows against the bundle it signed");
  sign->add_option("--version", f->version, "The document's version (increase on each change)")
      ->capture_default_str();
  sign->add_option("--out", f->out, "Where to write it (served by `ipn-portal --trust`)")
      ->required();
  sign->callback([&ctx, f] { ctx.exit_code = RunTrustSign(*f); });
}

}  // namespace ipn::cli
