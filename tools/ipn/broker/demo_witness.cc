// The commission's witness in `ipn demo` (demo_witness.h).
#include "tools/ipn/broker/demo_witness.h"

#include <sodium.h>

#include <chrono>

#include "common/curve_keys.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "interface/agency_client.h"
#include "portal/trust_document.h"
#include "tools/ipn/broker/demo_middle.h"

namespace ipn::cli {
namespace {

// The demo's trust root (seed = BLAKE2b("ipn demo trust root (public, demo only)")). Its
// secret is public on purpose: it signs only the demo's trust document. A deployment
// builds the page with its own roots (IPN_TRUST_ROOT_KEYS) and keeps their secrets offline.
constexpr char kDemoTrustRootSecret[] =
    "2ccb6ce99ca1473f06a5474398b01f53331ba5a8f21476940bcece42acea885d"
    "a75be7924aac673983140796cfe6bb7e715efb435c0a4665487a7d614a814c13";

constexpr const char* kCommission = "PPC-0001";

}  // namespace

Result<std::unique_ptr<DemoWitness>> DemoWitness::Start(localnet::LocalNetwork& net,
                                                        const std::string& bin_dir,
                                                        const std::string& dir) {
  auto w = std::unique_ptr<DemoWitness>(new DemoWitness());
  w->bin_dir_ = bin_dir;
  w->dir_ = dir;
  w->node_ = net.LocalEndpoint(kCommission);
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir));

  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> witness_public{};
  SecretBytes witness_secret(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(witness_public.data(), witness_secret.data());
  IPN_RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/witness.secret", HexEncode(witness_secret.span()) + "\n"));

  Result<std::unique_ptr<interface::AgencyClient>> client =
      interface::AgencyClient::Connect(w->node_);
  if (!client.ok()) return client.status().WithContext("the commission's node");
  Result<v1::TreeHeadResponse> head = (*client)->RequestTreeHead(0, 0, std::chrono::seconds(10));
  if (!head.ok()) return head.status().WithContext("the core's records key");
  if (head->head().signer().size() != 32) return Status::Corruption("a malformed head signer");
  portal::TrustDocument doc;
  doc.issued_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  records::PublicKey records_key{};
  std::copy(head->head().signer().begin(), head->head().signer().end(), records_key.begin());
  w->records_key_ = HexEncode(records_key);
  doc.records_keys.push_back(records_key);
  doc.witness_keys.push_back(witness_public);
  Result<PublicKey> policy_key = ParsePublicKeyHex(net.policy_admin_public_hex());
  if (!policy_key.ok()) return policy_key.status().WithContext("the policy administrator's key");
  doc.policy_keys.push_back(*policy_key);
  Result<std::vector<uint8_t>> root = HexDecode(kDemoTrustRootSecret);
  if (!root.ok()) return root.status();
  Result<std::string> signed_doc = portal::SignTrustDocument(doc, *root);
  sodium_memzero(root->data(), root->size());
  if (!signed_doc.ok()) return signed_doc.status();
  IPN_RETURN_IF_ERROR(WriteFileAtomic(net.PortalTrustPath(), *signed_doc + "\n"));
  return w;
}

Status DemoWitness::Round() {
  Result<int> code =
      RunToCompletion({bin_dir_ + "/ipn", "oversight", "witness", "--node", node_, "--records-key",
                       records_key_, "--key", dir_ + "/witness.secret", "--state", dir_ + "/state"},
                      dir_ + "/round.out", dir_ + "/round.stderr");
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return Status::Internal("ipn oversight witness exited " + std::to_string(*code) + " (see " +
                            dir_ + "/round.stderr)");
  }
  return Status::Ok();
}

}  // namespace ipn::cli
