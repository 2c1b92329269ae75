// Key changes under the two-person rule: the request, its check, and the journal.
#include "policy/key_change.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"

namespace ipn::policy {
namespace {

constexpr std::string_view kMagic = "ipn-key-change/1";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string RingStateHash(std::string_view summary) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), Bytes(summary).data(), summary.size());
  return HexEncode(h);
}

std::string FormatKeyChangeRequest(const KeyChange& change) {
  return std::string(kMagic) + "\nchange " + change.what + "\nring " + change.ring_before + "\n";
}

Result<KeyChange> ParseKeyChangeRequest(std::string_view text) {
  auto line = [&](size_t n) -> std::string_view {
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      start = text.find('\n', start);
      if (start == std::string_view::npos) return {};
      ++start;
    }
    const size_t end = text.find('\n', start);
    return end == std::string_view::npos ? std::string_view() : text.substr(start, end - start);
  };
  if (line(0) != kMagic)
    return Status::InvalidArgument("not a key change request (ipn-key-change/1)");
  KeyChange c;
  const std::string_view change = line(1), ring = line(2);
  if (!change.starts_with("change ") || change.size() <= 7) {
    return Status::InvalidArgument("a key change request's second line is: change <what>");
  }
  if (!ring.starts_with("ring ") || ring.size() != 5 + 2 * crypto_hash_sha256_BYTES) {
    return Status::InvalidArgument("a key change request's third line is: ring <64 hex>");
  }
  c.what = std::string(change.substr(7));
  c.ring_before = std::string(ring.substr(5));
  if (FormatKeyChangeRequest(c) != text) {
    return Status::InvalidArgument("a key change request has exactly three lines");
  }
  return c;
}

Result<std::vector<std::string>> CheckKeyChange(const OperatorRoster& roster,
                                                std::string_view request_text,
                                                std::string_view approvals_text,
                                                std::string_view what,
                                                std::string_view summary_before) {
  Result<KeyChange> request = ParseKeyChangeRequest(request_text);
  if (!request.ok()) return request.status();
  if (request->what != what) {
    return Status::PermissionDenied("the request is for '" + request->what + "', not '" +
                                    std::string(what) + "'");
  }
  if (request->ring_before != RingStateHash(summary_before)) {
    return Status::PermissionDenied(
        "the request was made for the key ring as it was before another change: request and "
        "approve this change again");
  }
  return CheckApprovals(roster, kKeyChangeAction, Bytes(request_text), approvals_text);
}

Status JournalKeyChange(const std::string& dir, std::string_view summary_after,
                        std::string_view request_text, std::string_view approvals_text) {
  const std::string path = dir + "/" + kKeyChangeJournal;
  Result<std::string> existing = ReadFile(path);
  std::string text = existing.ok() ? *existing : std::string();
  nlohmann::json line = {{"after", RingStateHash(summary_after)},
                         {"request", std::string(request_text)},
                         {"approvals", std::string(approvals_text)}};
  text += line.dump() + "\n";
  return WriteFileAtomic(path, text);
}

Result<std::string> KeyChangeApprovers(const std::string& dir, std::string_view summary_after,
                                       const OperatorRoster* roster) {
  Result<std::string> text = ReadFile(dir + "/" + kKeyChangeJournal);
  if (!text.ok()) return Status::NotFound("no key change journal");
  const std::string after = RingStateHash(summary_after);
  std::string_view rest = *text;
  std::optional<nlohmann::json> found;  // the last entry for this state counts
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view l = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    nlohmann::json j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_object() && j.value("after", "") == after) found = std::move(j);
  }
  if (!found) return Status::NotFound("the journal has no change leaving the ring as it is");
  const std::string request = found->value("request", "");
  const std::string approvals = found->value("approvals", "");
  std::vector<std::string> names;
  if (roster != nullptr) {
    Result<std::vector<std::string>> checked =
        CheckApprovals(*roster, kKeyChangeAction, Bytes(request), approvals);
    if (!checked.ok()) return checked.status();
    names = std::move(*checked);
  } else {
    names = NamedApprovers(approvals);
  }
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : "+") + n;
  return out;
}

}  // namespace ipn::policy
