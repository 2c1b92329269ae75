// Approvals files: one operator's signed approval appended.
#include "tools/ipn/approval_file.h"

#include <sodium.h>

#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/bundle.h"
#include "policy/two_person.h"

namespace ipn::cli {
namespace {

Result<std::unique_ptr<Ed25519Signer>> ApproverSigner(const ApproverArgs& a) {
  if (!a.token.token.empty()) return OpenTokenSigner(a.token);
  if (a.key_file.empty()) {
    return Status::InvalidArgument(
        "approving needs --token LABEL (your operator token) or --key FILE");
  }
  auto key = policy::ReadAdminSecretKey(a.key_file);
  if (!key.ok()) return key.status();
  return MakeSodiumSigner(std::move(*key));
}

}  // namespace

void AddApproverOptions(CLI::App& cmd, ApproverArgs& args) {
  cmd.add_option("--operator", args.operator_id, "Your operator id on the roster")->required();
  auto* key_option =
      cmd.add_option("--key", args.key_file, "Your operator secret key file (ipn policy keygen)");
  AddTokenKeyOptions(cmd, args.token, "the approval")->excludes(key_option);
}

Result<size_t> AddApproval(const ApproverArgs& approver, const std::string& action,
                           const std::string& subject_path, const std::string& approvals_path) {
  Result<std::unique_ptr<Ed25519Signer>> signer = ApproverSigner(approver);
  if (!signer.ok()) return signer.status();
  Result<std::string> subject = ReadFile(subject_path);
  if (!subject.ok()) return subject.status();
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(subject->data()),
                                       subject->size());
  Result<std::string> line = policy::ApprovalLine(action, bytes, approver.operator_id, **signer);
  if (!line.ok()) return line.status();
  std::array<uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), bytes.data(), bytes.size());
  const std::string header =
      "# approvals of " + action + " for the file with SHA-256 " + HexEncode(digest) + "\n";
  Result<std::string> existing = ReadFile(approvals_path);
  std::string kept = header;
  if (existing.ok() && existing->rfind(header, 0) == 0) {
    for (const std::string& id : policy::NamedApprovers(*existing)) {
      if (id == approver.operator_id) {
        return Status::AlreadyExists(approver.operator_id + " already approved " + approvals_path);
      }
    }
    kept = *existing;
  }
  kept += *line;
  IPN_RETURN_IF_ERROR(WriteFileAtomic(approvals_path, kept));
  return policy::NamedApprovers(kept).size();
}

}  // namespace ipn::cli
