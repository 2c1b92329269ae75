// The desk's hash-chained audit log (oversight/desk_audit.h).
#include "oversight/desk_audit.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/json_fields.h"

namespace ipn::oversight {
namespace {

constexpr size_t kRecentKept = 1000;

std::string Clean(std::string_view s, size_t max) {
  std::string out(s.substr(0, max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string Chain(const std::string& prev, const std::string& body) {
  uint8_t d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const uint8_t*>(prev.data()), prev.size());
  crypto_hash_sha256_update(&st, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  crypto_hash_sha256_final(&st, d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

std::string Body(uint64_t seq, int64_t at, const std::string& who, const std::string& action,
                 const std::string& detail, const std::string& prev) {
  nlohmann::ordered_json j = {
      {"seq", seq},
      {"at_us", at},
      {"who", who},
      {"action", action},
      {"detail", detail},
      {"prev", HexEncode({reinterpret_cast<const uint8_t*>(prev.data()), prev.size()})}};
  // Invalid UTF-8 (a crafted URL) is replaced, never refused: the entry must be written.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<std::unique_ptr<DeskAudit>> DeskAudit::Open(const std::string& path, uint64_t max_bytes,
                                                   const Clock* clock) {
  std::unique_ptr<DeskAudit> a(new DeskAudit(path, max_bytes, clock));
  IPN_RETURN_IF_ERROR(a->Load());
  return a;
}

DeskAudit::~DeskAudit() {
  if (fd_ >= 0) ::close(fd_);
}

Status DeskAudit::Load() {
  chain_.assign(32, '\0');
  std::string text;
  if (::access(path_.c_str(), F_OK) == 0) {
    Result<std::string> r = ReadFile(path_);
    if (!r.ok()) return r.status();
    text = std::move(*r);
  }
  size_t at = 0, line_no = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    ++line_no;
    const std::string where = path_ + " line " + std::to_string(line_no);
    // A last line cut short by a crash was never synced, so never acknowledged: drop it.
    if (nl == std::string::npos) {
      text.resize(at);
      break;
    }
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("chain") || !j["chain"].is_string()) {
      return Status::Corruption(where + ": not an audit entry");
    }
    AuditEntry e;
    try {
      e.seq = JsonUint64(j.at("seq"));
      e.at_us = JsonInt64(j.at("at_us"));
      e.who = j.at("who").get<std::string>();
      e.action = j.at("action").get<std::string>();
      e.detail = j.at("detail").get<std::string>();
      e.chain_hex = j.at("chain").get<std::string>();
    } catch (const std::exception&) {
      return Status::Corruption(where + ": not an audit entry");
    }
    const std::string body = Body(e.seq, e.at_us, e.who, e.action, e.detail, chain_);
    const std::string chain = Chain(chain_, body);
    if (e.seq != next_seq_ ||
        e.chain_hex != HexEncode({reinterpret_cast<const uint8_t*>(chain.data()), 32})) {
      return Status::Corruption(where + ": the chain breaks here (a line changed or removed)");
    }
    chain_ = chain;
    ++next_seq_;
    recent_.push_back(std::move(e));
    if (recent_.size() > kRecentKept) recent_.pop_front();
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Status::IoError("cannot open the audit log " + path_);
  if (::ftruncate(fd_, static_cast<off_t>(text.size())) != 0) {
    return Status::IoError("cannot open the audit log " + path_ + " for appending");
  }
  bytes_ = text.size();
  return Status::Ok();
}

Status DeskAudit::Append(std::string_view who, std::string_view action, std::string_view detail) {
  std::lock_guard lock(mu_);
  AuditEntry e{next_seq_,
               clock_->NowMicros(),
               Clean(who, 64),
               Clean(action, 64),
               Clean(detail, kMaxAuditDetailBytes),
               ""};
  const std::string body = Body(e.seq, e.at_us, e.who, e.action, e.detail, chain_);
  const std::string chain = Chain(chain_, body);
  e.chain_hex = HexEncode({reinterpret_cast<const uint8_t*>(chain.data()), 32});
  std::string line = body;
  line.pop_back();  // the closing brace: the chain goes last
  line += ",\"chain\":\"" + e.chain_hex + "\"}\n";
  if (bytes_ + line.size() > max_bytes_) {
    return Status::ResourceExhausted("the desk's audit log is full (" + std::to_string(max_bytes_) +
                                     " bytes): archive it");
  }
  // Written at the end of what is known good (pwrite: a write cut off by the truncate
  // below leaves no file offset past it, so no hole opens before the next line).
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n =
        ::pwrite(fd_, line.data() + done, line.size() - done, static_cast<off_t>(bytes_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Whatever was written is cut off again, so the file stays a valid chain.
      (void)::ftruncate(fd_, static_cast<off_t>(bytes_));
      return Status::IoError("cannot write the desk's audit log");
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    (void)::ftruncate(fd_, static_cast<off_t>(bytes_));
    return Status::IoError("cannot sync the desk's audit log");
  }
  bytes_ += line.size();
  chain_ = chain;
  ++next_seq_;
  recent_.push_back(std::move(e));
  if (recent_.size() > kRecentKept) recent_.pop_front();
  return Status::Ok();
}

std::vector<AuditEntry> DeskAudit::Recent(size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it) {
    out.push_back(*it);
  }
  return out;
}

std::string DeskAudit::Head() const {
  std::lock_guard lock(mu_);
  return chain_;
}

uint64_t DeskAudit::entries() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

}  // namespace ipn::oversight
