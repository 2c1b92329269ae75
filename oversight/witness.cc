// The commission's witness: cosign heads proven consistent with the last one (witness.h).
#include "oversight/witness.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/big_endian.h"
#include "common/encoding.h"
#include "common/time_text.h"
#include "oversight/pulled_set.h"

namespace ipn::oversight {
namespace {

template <size_t N>
Status HexInto(const nlohmann::json& j, const char* name, std::array<uint8_t, N>* out) {
  if (!j.contains(name) || !j[name].is_string()) {
    return Status::InvalidArgument(std::string("cosignature: no \"") + name + "\"");
  }
  Result<std::vector<uint8_t>> bytes = HexDecode(j[name].get<std::string>());
  if (!bytes.ok() || bytes->size() != N) {
    return Status::InvalidArgument(std::string("cosignature: \"") + name + "\" must be " +
                                   std::to_string(2 * N) + " hex digits");
  }
  std::copy(bytes->begin(), bytes->end(), out->begin());
  return Status::Ok();
}

}  // namespace

bool VerifyCosignature(const Cosignature& c, const records::PublicKey& witness_key) {
  if (sodium_memcmp(c.witness.data(), witness_key.data(), witness_key.size()) != 0) return false;
  return records::VerifyCosignatureOf(c.head, witness_key, c.cosigned_unix_us, c.signature);
}

std::string CosignatureJson(const Cosignature& c) {
  nlohmann::ordered_json j;
  j["head"] = nlohmann::json::parse(TreeHeadJson(c.head));
  j["witness"] = HexEncode(c.witness);
  j["cosigned_unix_us"] = c.cosigned_unix_us;
  j["cosigned"] = FormatUtc(c.cosigned_unix_us);
  j["signature"] = HexEncode(c.signature);
  return j.dump();
}

Result<Cosignature> ParseCosignatureJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("head") || !j["head"].is_object()) {
    return Status::InvalidArgument("cosignature: not a JSON object with a \"head\"");
  }
  Cosignature c;
  Result<records::SignedTreeHead> head = ParseTreeHeadJson(j["head"].dump());
  if (!head.ok()) return head.status().WithContext("cosignature");
  c.head = *head;
  IPN_RETURN_IF_ERROR(HexInto(j, "witness", &c.witness));
  IPN_RETURN_IF_ERROR(HexInto(j, "signature", &c.signature));
  if (!j.contains("cosigned_unix_us") || !j["cosigned_unix_us"].is_number_integer()) {
    return Status::InvalidArgument("cosignature: no \"cosigned_unix_us\"");
  }
  c.cosigned_unix_us = j["cosigned_unix_us"].get<int64_t>();
  return c;
}

Result<Witness> Witness::Create(const records::PublicKey& log_key, SecretBytes witness_secret_key,
                                std::optional<records::SignedTreeHead> latest) {
  if (witness_secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("the witness's secret key must be 64 bytes");
  }
  if (latest && !records::VerifyTreeHeadSignature(*latest, log_key)) {
    return Status::PermissionDenied(
        "the witness's kept head is not signed by the log's key: the state or the key is wrong");
  }
  Witness w;
  w.log_key_ = log_key;
  crypto_sign_ed25519_sk_to_pk(w.public_key_.data(), witness_secret_key.data());
  w.secret_key_ = std::move(witness_secret_key);
  w.latest_ = std::move(latest);
  return w;
}

Result<Cosignature> Witness::Observe(const records::SignedTreeHead& head,
                                     std::span<const records::Hash> consistency_path,
                                     int64_t now_unix_us) {
  if (!records::VerifyTreeHeadSignature(head, log_key_)) {
    return Status::PermissionDenied("the head of size " + std::to_string(head.tree_size) +
                                    " is not signed by the log's key (signer " +
                                    HexEncode(head.signer) + ")");
  }
  if (latest_) {
    if (head.tree_size < latest_->tree_size) {
      return Status::Corruption("rollback: the head of size " + std::to_string(head.tree_size) +
                                " is smaller than the head of size " +
                                std::to_string(latest_->tree_size) + " already cosigned");
    }
    // Equal sizes: an empty proof and equal roots; else the RFC 9162 proof that the
    // cosigned tree is a prefix of this one. Either failing means two different logs
    // were signed with the log's key.
    if (!records::VerifyConsistency(latest_->tree_size, head.tree_size, latest_->root_hash,
                                    head.root_hash, consistency_path)) {
      return Status::Corruption("split view: the head of size " + std::to_string(head.tree_size) +
                                " (root " + HexEncode(head.root_hash) +
                                ") is not proven to extend the head of size " +
                                std::to_string(latest_->tree_size) + " (root " +
                                HexEncode(latest_->root_hash) + ") already cosigned");
    }
  }
  Cosignature c;
  c.head = head;
  c.witness = public_key_;
  c.cosigned_unix_us = now_unix_us;
  const std::string m = records::CosigningInput(head, now_unix_us);
  crypto_sign_detached(c.signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                       secret_key_.data());
  latest_ = head;
  return c;
}

}  // namespace ipn::oversight
