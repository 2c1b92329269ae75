// ReplicatedLog: fenced appends, ordered reads and trimming of the batch window in etcd.
#include "replica/replicated_log.h"

#include <cstdio>
#include <utility>

namespace ipn::replica {

ReplicatedLog::ReplicatedLog(EtcdClient* etcd, std::string prefix)
    : etcd_(etcd), prefix_(std::move(prefix)) {}

std::string ReplicatedLog::KeyOf(uint64_t seq) const {
  char digits[21];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  return prefix_ + digits;
}

std::optional<uint64_t> ReplicatedLog::SeqOf(std::string_view key) const {
  if (key.size() != prefix_.size() + 20 || key.substr(0, prefix_.size()) != prefix_) {
    return std::nullopt;
  }
  return ParseDecimal(key.substr(prefix_.size()));
}

Result<int64_t> ReplicatedLog::Append(const Fence& fence, uint64_t seq, std::string_view bytes) {
  if (fence.revision == 0) return Status::FailedPrecondition("not the leader: nothing appended");
  const std::string key = KeyOf(seq);
  Result<TxnResult> txn =
      etcd_->Txn({Compare{fence.key, Compare::Target::kCreateRevision, fence.revision, ""},
                  Compare{key, Compare::Target::kCreateRevision, 0, ""}},
                 {PutOp{key, std::string(bytes), 0}}, {key, fence.key});
  if (!txn.ok()) return txn.status();
  if (txn->succeeded) return txn->revision;
  const KeyValue* entry = nullptr;
  bool fence_holds = false;
  for (const KeyValue& kv : txn->reads) {
    if (kv.key == key) entry = &kv;
    if (kv.key == fence.key && kv.create_revision == fence.revision) fence_holds = true;
  }
  // Our own append, repeated after its answer was lost: it is in.
  if (entry != nullptr && entry->value == bytes) return entry->mod_revision;
  if (!fence_holds) {
    return Status::FailedPrecondition("leadership lost (the fence " + fence.key + "@" +
                                      std::to_string(fence.revision) +
                                      " no longer holds): nothing appended");
  }
  return Status::AlreadyExists("log entry " + std::to_string(seq) + " already holds another batch");
}

Result<std::vector<LogEntry>> ReplicatedLog::Read(uint64_t from_seq, int64_t limit) {
  Result<std::vector<KeyValue>> kvs =
      etcd_->Range(KeyOf(from_seq), PrefixEnd(prefix_), limit, false);
  if (!kvs.ok()) return kvs.status();
  std::vector<LogEntry> out;
  out.reserve(kvs->size());
  for (KeyValue& kv : *kvs) {
    std::optional<uint64_t> seq = SeqOf(kv.key);
    if (!seq) return Status::Corruption("unexpected key in the log window: " + kv.key);
    out.push_back(LogEntry{*seq, std::move(kv.value), kv.mod_revision});
  }
  return out;
}

Result<std::optional<uint64_t>> ReplicatedLog::Last() {
  Result<std::vector<KeyValue>> kvs = etcd_->Range(prefix_, PrefixEnd(prefix_), 1, true);
  if (!kvs.ok()) return kvs.status();
  if (kvs->empty()) return std::optional<uint64_t>();
  std::optional<uint64_t> seq = SeqOf(kvs->front().key);
  if (!seq) return Status::Corruption("unexpected key in the log window: " + kvs->front().key);
  return seq;
}

Result<int64_t> ReplicatedLog::Trim(uint64_t seq) {
  if (seq == 0) return int64_t{0};
  return etcd_->DeleteRange(KeyOf(0), KeyOf(seq));
}

}  // namespace ipn::replica
