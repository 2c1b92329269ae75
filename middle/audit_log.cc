// AuditLog: each tenant's sealed, ordered log of its staff's actions (see audit_log.h).
#include "middle/audit_log.h"

#include <nlohmann/json.hpp>

#include "common/big_endian.h"
#include "common/encoding.h"

namespace ipn::middle {
namespace {

// size (8 bytes BE), then the compact range's roots, largest first.
std::string EncodeTree(const records::CompactRange& tree) {
  std::string out;
  AppendBigEndian64(tree.size(), out);
  for (const records::Hash& h : tree.roots()) out.append(h.begin(), h.end());
  return out;
}

Result<records::CompactRange> DecodeTree(std::string_view bytes) {
  if (bytes.size() < 8 || (bytes.size() - 8) % 32 != 0) return Status::Corruption("the audit tree");
  std::vector<records::Hash> roots((bytes.size() - 8) / 32);
  for (size_t i = 0; i < roots.size(); ++i) {
    std::copy_n(bytes.data() + 8 + 32 * i, 32, roots[i].begin());
  }
  return records::CompactRange::FromRoots(GetBigEndian64(bytes.data()), std::move(roots));
}

AuditHead HeadOf(const records::CompactRange& tree) {
  const records::Hash root = tree.Root();
  return AuditHead{tree.size(), HexEncode(root)};
}

}  // namespace

AuditLog::AuditLog(MiddleStore* store, const Clock* clock)
    : store_(store), clock_(clock), syncer_([this] { SyncLoop(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    stop_ = true;
  }
  sync_cv_.notify_all();
  syncer_.join();
}

// Every kAuditSyncUs, if anything was appended since the last sync: one fsync for all.
void AuditLog::SyncLoop() {
  std::unique_lock<std::mutex> lock(sync_mu_);
  for (;;) {
    sync_cv_.wait_for(lock, std::chrono::microseconds(kAuditSyncUs));
    if (dirty_) {
      dirty_ = false;
      lock.unlock();
      (void)store_->SyncAudit();  // a failure shows at the next synced write of the store
      lock.lock();
    }
    if (stop_ && !dirty_) return;
  }
}

AuditHead AuditRoot(const std::vector<std::string>& raw) {
  records::CompactRange tree;
  for (const std::string& text : raw) tree.AppendLeaf(records::LeafHash(AsBytes(text)));
  return HeadOf(tree);
}

Result<records::CompactRange*> AuditLog::Tree(const std::string& tenant) {
  auto it = trees_.find(tenant);
  if (it != trees_.end()) return &it->second;
  auto stored = store_->GetAuditTree(tenant);
  if (!stored.ok()) return stored.status();
  records::CompactRange tree;
  if (stored->has_value()) {
    auto decoded = DecodeTree(**stored);
    if (!decoded.ok()) return decoded.status();
    tree = std::move(*decoded);
  }
  return &trees_.emplace(tenant, std::move(tree)).first->second;
}

Result<AuditHead> AuditLog::Head(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  auto tree = Tree(tenant);
  if (!tree.ok()) return tree.status();
  return HeadOf(**tree);
}

Status AuditLog::Append(const std::string& tenant, AuditEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  auto tree = Tree(tenant);
  if (!tree.ok()) return tree.status();
  entry.seq = (*tree)->size() + 1;  // entry n is leaf n - 1
  entry.at_unix_us = clock_->NowMicros();
  const nlohmann::json row = {{"seq", entry.seq},         {"at", entry.at_unix_us},
                              {"account", entry.account}, {"action", entry.action},
                              {"detail", entry.detail},   {"allowed", entry.allowed}};
  const std::string text = row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  records::CompactRange next = **tree;
  next.AppendLeaf(records::LeafHash(AsBytes(text)));
  IPN_RETURN_IF_ERROR(store_->PutAudit(tenant, entry.seq, text, EncodeTree(next)));
  **tree = std::move(next);  // only once the entry and its tree are written
  std::lock_guard<std::mutex> sync(sync_mu_);
  dirty_ = true;
  return Status::Ok();
}

Result<std::vector<AuditEntry>> AuditLog::List(const std::string& tenant, uint64_t after_seq,
                                               size_t limit) const {
  auto rows = store_->ListAudit(tenant, after_seq, limit);
  if (!rows.ok()) return rows.status();
  std::vector<AuditEntry> out;
  for (const auto& [seq, text] : *rows) {
    nlohmann::json row = nlohmann::json::parse(text, nullptr, false);
    if (row.is_discarded()) return Status::Corruption("an audit entry");
    if (row.value("seq", uint64_t{0}) != seq) return Status::Corruption("an audit entry's place");
    out.push_back(AuditEntry{seq, row.value("at", int64_t{0}), row.value("account", ""),
                             row.value("action", ""), row.value("detail", ""),
                             row.value("allowed", true), text});
  }
  return out;
}

bool AuditOrLog(AuditLog& log, Logger* logger, const std::string& tenant,
                const std::string& account, const std::string& action, const std::string& detail,
                bool allowed) {
  Status s = log.Append(tenant, AuditEntry{0, 0, account, action, detail, allowed, ""});
  if (!s.ok() && logger != nullptr) {
    logger->Error("middle_audit_failed", {{"tenant", tenant}, {"reason", s.message()}});
  }
  return s.ok();
}

}  // namespace ipn::middle
