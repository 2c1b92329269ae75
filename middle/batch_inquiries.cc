// BatchInquiries: checking and storing a file, the worker, progress and results.
//   header row  B tenant 0 id                 {account, roles, businesses, submitted, rows}
//   line rows   R tenant 0 id line-index      {line, person, provider, business, item,
//                                              and once sent: outcome, request_id, …}
#include "middle/batch_inquiries.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/big_endian.h"
#include "common/encoding.h"
#include "policy/csv.h"

namespace ipn::middle {
namespace {

using Json = nlohmann::json;
constexpr auto kHeader = MiddleStore::Ordered::kBatch;
constexpr auto kLine = MiddleStore::Ordered::kBatchLine;
constexpr size_t kPage = 1'000;       // rows read from the store at a time
constexpr size_t kResultsPage = 100;  // rows of a results file written at a time

std::string Key(uint64_t a) {
  std::string key;
  AppendBigEndian64(a, key);
  return key;
}

std::string Key(uint64_t a, uint64_t b) {
  return Key(a) + Key(b);
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status AtLine(int line, const Status& s) {
  return s.WithContext("line " + std::to_string(line));
}

// The rules of a row, before anything is stored.
Status CheckRow(const Account& who, const InquiryRow& row) {
  if (row.person.empty() || row.person.size() > kMaxPersonNumber || row.item.empty() ||
      row.item.size() > kMaxItemCode) {
    return Status::InvalidArgument("person (1–32 characters) and item (1–64) are required");
  }
  if (row.provider.empty() || row.provider.size() > 64 || row.business.empty() ||
      row.business.size() > 64) {
    return Status::InvalidArgument("provider and business are 1 to 64 characters");
  }
  if (who.businesses.count(row.business) == 0) {
    return Status::PermissionDenied("business " + row.business + " is not one of this account's");
  }
  return Status::Ok();
}

}  // namespace

void BatchInquiries::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

BatchInquiries::~BatchInquiries() {
  Stop();
  if (worker_.joinable()) worker_.join();
}

Status BatchInquiries::Start() {
  std::lock_guard<std::mutex> lock(mu_);  // a file submitted before Start is queued once
  for (const std::string& tenant : store_->Tenants()) {
    std::string after;
    for (;;) {
      auto headers = store_->ListOrdered(kHeader, tenant, "", after, kPage);
      if (!headers.ok()) return headers.status();
      for (const auto& [key, value] : *headers) Resume(tenant, key, value);
      if (headers->size() < kPage) break;
      after = headers->back().first;
    }
  }
  if (waiting_ != 0 && log_ != nullptr) {
    log_->Info("middle_batches_resumed", {{"batches", std::to_string(waiting_)}});
  }
  worker_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void BatchInquiries::Resume(const std::string& tenant, const std::string& key,
                            const std::string& value) {
  Result<BatchProgress> progress =
      key.size() == 8 ? Load(tenant, GetBigEndian64(key.data()))
                      : Result<BatchProgress>(Status::Corruption("a batch header's key"));
  if (!progress.ok()) {
    // One unreadable file does not keep the platform (and every other file) down.
    if (log_ != nullptr) {
      log_->Error("middle_batch_unreadable",
                  {{"tenant", tenant}, {"reason", progress.status().message()}});
    }
    return;
  }
  if (progress->finished() || open_.count({tenant, progress->id}) != 0) return;  // or queued
  Json header = Json::parse(value, nullptr, false);
  Open open;
  open.who.tenant = tenant;
  open.who.name = header.value("account", "");
  open.who.businesses = header.value("businesses", std::set<std::string>());
  open.next = progress->done;  // rows are done in order, one writer per file
  open.progress = std::move(*progress);
  const uint64_t id = open.progress.id;
  open_.emplace(std::pair{tenant, id}, std::move(open));
  Queue({tenant, id});
}

Result<BatchProgress> BatchInquiries::Submit(const Account& who, std::string_view csv) {
  if (csv.size() > kMaxBatchBytes) {
    return Status::InvalidArgument("a batch file is at most 4 MiB");
  }
  if (!sender_->connected()) {
    return Status::Unavailable("this platform is not connected to the network");
  }
  auto table = policy::ParseCsv(csv, "the file");
  if (!table.ok()) return Status::InvalidArgument(table.status().message());
  if (table->header != std::vector<std::string>{"person", "provider", "business", "item"}) {
    return Status::InvalidArgument("line 1: the header must be person,provider,business,item");
  }
  if (table->records.empty()) return Status::InvalidArgument("the file has no rows");
  if (table->records.size() > kMaxBatchRows) {
    return Status::InvalidArgument("a batch file has at most " + std::to_string(kMaxBatchRows) +
                                   " rows");
  }
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(table->records.size() + 1);
  for (size_t i = 0; i < table->records.size(); ++i) {
    const auto& f = table->records[i];
    InquiryRow row{f[0], f[1], f[2], f[3], ""};
    IPN_RETURN_IF_ERROR([&] {
      Status s = CheckRow(who, row);
      return s.ok() ? s : AtLine(table->lines[i], s);
    }());
    rows.emplace_back("", Dump({{"line", table->lines[i]},
                                {"person", row.person},
                                {"provider", row.provider},
                                {"business", row.business},
                                {"item", row.item}}));
  }
  std::lock_guard<std::mutex> lock(mu_);  // one submission at a time: ids in order
  size_t open_here = 0;
  for (const auto& [key, open] : open_) open_here += key.first == who.tenant ? 1 : 0;
  if (open_here >= kMaxOpenBatches) {
    return Status::ResourceExhausted(std::to_string(kMaxOpenBatches) +
                                     " batch files are running already; wait for one to finish");
  }
  auto last = store_->LastOrdered(kHeader, who.tenant, "");
  if (!last.ok()) return last.status();
  const uint64_t id = last->has_value() ? GetBigEndian64((*last)->data()) + 1 : 1;
  for (size_t i = 0; i < rows.size(); ++i) rows[i].first = Key(id, i);
  BatchProgress progress;
  progress.id = id;
  progress.account = who.name;
  progress.submitted_unix_us = clock_->NowMicros();
  progress.rows = rows.size();
  // The lines first, then the header: a file without its header is never read (Start
  // lists headers), so a crash between leaves nothing half-submitted; and lines left under
  // this id by such a crash go first, so that none of them joins this file.
  IPN_RETURN_IF_ERROR(store_->DeleteOrdered(kLine, who.tenant, Key(id)));
  IPN_RETURN_IF_ERROR(store_->PutOrdered(kLine, who.tenant, rows));
  IPN_RETURN_IF_ERROR(store_->PutOrdered(kHeader, who.tenant,
                                         {{Key(id), Dump({{"account", who.name},
                                                          {"businesses", who.businesses},
                                                          {"submitted", progress.submitted_unix_us},
                                                          {"rows", progress.rows}})}}));
  // Past kKeptBatches files, the oldest finished ones go (results and all): the header
  // first, so that a crash between never leaves a header without its lines.
  auto headers = store_->ListOrdered(kHeader, who.tenant, "", "", kKeptBatches + kMaxOpenBatches);
  if (headers.ok() && headers->size() > kKeptBatches) {
    size_t extra = headers->size() - kKeptBatches;
    for (const auto& [key, value] : *headers) {
      if (extra == 0) break;
      if (open_.count({who.tenant, GetBigEndian64(key.data())}) != 0) continue;
      if (store_->DeleteOrdered(kHeader, who.tenant, key).ok()) {
        (void)store_->DeleteOrdered(kLine, who.tenant, key);
        --extra;
      }
    }
  }
  Open open{progress, who, 0};
  open_.emplace(std::pair{who.tenant, id}, std::move(open));
  Queue({who.tenant, id});
  cv_.notify_all();
  return progress;
}

Result<BatchProgress> BatchInquiries::Load(const std::string& tenant, uint64_t id) const {
  auto header = store_->ListOrdered(kHeader, tenant, Key(id), "", 1);
  if (!header.ok()) return header.status();
  if (header->empty()) return Status::NotFound("no batch " + std::to_string(id));
  Json h = Json::parse(header->front().second, nullptr, false);
  BatchProgress p;
  p.id = id;
  p.account = h.value("account", "");
  p.submitted_unix_us = h.value("submitted", int64_t{0});
  p.rows = h.value("rows", size_t{0});
  std::string after;
  for (;;) {
    auto page = store_->ListOrdered(kLine, tenant, Key(id), after, kPage);
    if (!page.ok()) return page.status();
    for (const auto& [key, value] : *page) {
      Json row = Json::parse(value, nullptr, false);
      if (!row.contains("outcome")) continue;
      ++p.done;
      ++p.outcomes[row.value("outcome", "")];
    }
    if (page->size() < kPage) break;
    after = page->back().first;
  }
  return p;
}

Result<BatchProgress> BatchInquiries::Progress(const Account& who, uint64_t id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find({who.tenant, id});
    if (it != open_.end()) {
      if (it->second.progress.account == who.name) return it->second.progress;
      return Status::NotFound("no batch " + std::to_string(id) + " of this account");
    }
  }
  Result<BatchProgress> p = Load(who.tenant, id);
  if (p.ok() && p->account != who.name) {
    return Status::NotFound("no batch " + std::to_string(id) + " of this account");
  }
  return p;
}

Status BatchInquiries::CheckResults(const Account& who, uint64_t id) const {
  Result<BatchProgress> p = Progress(who, id);
  if (!p.ok()) return p.status();
  if (!p->finished()) {
    return Status::FailedPrecondition("batch " + std::to_string(id) +
                                      " is still running: " + std::to_string(p->done) + " of " +
                                      std::to_string(p->rows) + " rows done");
  }
  return Status::Ok();
}

Status BatchInquiries::WriteResults(const Account& who, uint64_t id,
                                    const std::function<bool(std::string_view)>& out) const {
  IPN_RETURN_IF_ERROR(CheckResults(who, id));
  if (!out("line,person,provider,business,item,outcome,request_id,exchange_id,explanation,"
           "content\r\n")) {
    return Status::Unavailable("the reader went away");
  }
  // A page at a time (at most kResultsPage rows of up to 16 KiB of content each), so that a
  // 10,000-row file is never held whole.
  std::string after;
  for (;;) {
    auto page = store_->ListOrdered(kLine, who.tenant, Key(id), after, kResultsPage);
    if (!page.ok()) return page.status();
    std::string text;
    for (const auto& [key, value] : *page) {
      Json row = Json::parse(value, nullptr, false);
      text += std::to_string(row.value("line", 0));
      for (const char* name : {"person", "provider", "business", "item", "outcome", "request_id",
                               "exchange_id", "explanation", "content"}) {
        text += ',' + CsvField(row.value(name, ""));
      }
      text += "\r\n";
    }
    if (!out(text)) return Status::Unavailable("the reader went away");
    if (page->size() < kResultsPage) return Status::Ok();
    after = page->back().first;
  }
}

Result<std::string> BatchInquiries::Results(const Account& who, uint64_t id) const {
  std::string file;
  IPN_RETURN_IF_ERROR(WriteResults(who, id, [&](std::string_view piece) {
    file += piece;
    return true;
  }));
  return file;
}

void BatchInquiries::SendOne(const std::pair<std::string, uint64_t>& key) {
  Account who;
  size_t index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Open& open = open_.at(key);
    who = open.who;
    index = open.next;
  }
  const auto& [tenant, id] = key;
  auto stored = store_->ListOrdered(kLine, tenant, Key(id, index), "", 1);
  Json row = stored.ok() && !stored->empty() ? Json::parse(stored->front().second, nullptr, false)
                                             : Json();
  if (!row.is_object()) {
    // The file's rows cannot be read: stop it here rather than spin on it.
    if (log_ != nullptr) {
      log_->Error("middle_batch_unreadable",
                  {{"tenant", tenant},
                   {"batch", std::to_string(id)},
                   {"reason", stored.ok() ? "a row is missing" : stored.status().message()}});
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_.erase(key);
    return;
  }
  InquiryRow inquiry{row.value("person", ""), row.value("provider", ""), row.value("business", ""),
                     row.value("item", ""), std::to_string(id)};
  SentInquiry sent;
  const Status asked = sender_->Send(who, inquiry, &sent);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Stopping: this row's result is not kept, so a restart asks it again (as after a
    // crash), rather than half of a shutdown writing what the other half cannot sync.
    if (stop_) return;
    if (!asked.ok() && sent.request_id.empty() && asked.code() == Status::Code::kUnavailable) {
      // Nothing went out (the tenant's inquiries are queued full, the audit log cannot be
      // written): the row waits, the file tries again later.
      open_.at(key).retry_at = std::chrono::steady_clock::now() + kRetryAfter;
      Queue(key);
      return;
    }
  }
  row["request_id"] = sent.request_id;
  if (asked.ok()) {
    row["outcome"] = sent.answer.outcome;
    row["exchange_id"] = sent.answer.exchange_id;
    row["explanation"] = sent.answer.explanation;
    if (sent.answer.outcome == "provided") row["content"] = sent.answer.content;
  } else {
    // Refused here (no symbol for the person number, say: not_sent), or out and no
    // answer came back (no_result: the core's records know it by its request id).
    row["outcome"] = sent.request_id.empty() ? "not_sent" : "no_result";
    row["explanation"] = asked.message();
  }
  // In the write-ahead log now, on disk with the exchange log's next sync (or the file's
  // own at its end).
  Status kept = store_->PutOrdered(kLine, tenant, {{Key(id, index), Dump(row)}}, /*sync=*/false);
  std::lock_guard<std::mutex> lock(mu_);
  Open& open = open_.at(key);
  if (!kept.ok()) {
    // Stop the file here rather than send the row again and again: a restart resumes it
    // at this row (a second exchange for it, audited as such).
    if (log_ != nullptr) {
      log_->Error("middle_batch_row_not_kept",
                  {{"tenant", tenant}, {"batch", std::to_string(id)}, {"reason", kept.message()}});
    }
    open_.erase(key);
    return;
  }
  ++open.next;
  ++open.progress.done;
  ++open.progress.outcomes[row.value("outcome", "")];
  if (open.progress.finished()) {
    open_.erase(key);
    (void)store_->SyncAudit();  // the file's last results on disk before it reads finished
  } else {
    Queue(key);
  }
}

void BatchInquiries::Queue(const std::pair<std::string, uint64_t>& key) {
  std::deque<uint64_t>& files = file_turn_[key.first];
  if (files.empty() &&
      std::find(tenant_turn_.begin(), tenant_turn_.end(), key.first) == tenant_turn_.end()) {
    tenant_turn_.push_back(key.first);
  }
  files.push_back(key.second);
  ++waiting_;
}

std::optional<std::pair<std::string, uint64_t>> BatchInquiries::TakeReady(
    std::chrono::steady_clock::time_point now) {
  for (auto tenant = tenant_turn_.begin(); tenant != tenant_turn_.end(); ++tenant) {
    std::deque<uint64_t>& files = file_turn_[*tenant];
    for (auto file = files.begin(); file != files.end(); ++file) {
      const std::pair<std::string, uint64_t> key{*tenant, *file};
      if (open_.at(key).retry_at > now) continue;
      files.erase(file);
      --waiting_;
      // The tenant has had its turn: to the back, or out of the rotation while it has no
      // file waiting (Queue puts it back).
      tenant_turn_.erase(tenant);
      if (!files.empty()) {
        tenant_turn_.push_back(key.first);
      } else {
        file_turn_.erase(key.first);
      }
      return key;
    }
  }
  return std::nullopt;
}

void BatchInquiries::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    if (auto key = TakeReady(now)) {
      lock.unlock();
      SendOne(*key);
      lock.lock();
      continue;
    }
    if (waiting_ == 0) {
      cv_.wait(lock, [&] { return stop_ || waiting_ != 0; });
    } else {
      auto earliest = std::chrono::steady_clock::time_point::max();
      for (const auto& [tenant, files] : file_turn_) {
        for (uint64_t id : files) earliest = std::min(earliest, open_.at({tenant, id}).retry_at);
      }
      cv_.wait_until(lock, earliest);
    }
  }
}

}  // namespace ipn::middle
