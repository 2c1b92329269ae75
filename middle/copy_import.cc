// Bulk registration of copies from CSV or JSON Lines: every row checked first, then all
// applied in one synced write, so a bad row leaves the store as it was.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "middle/store_impl.h"
#include "policy/csv.h"

namespace ipn::middle {
namespace {

struct Row {
  Copy copy;
  int line = 0;
};

Status AtLine(int line, const Status& s) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + s.message());
}

Result<bool> ParseFlag(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0" || text.empty()) return false;
  return Status::InvalidArgument("non_disclosure must be true or false");
}

Result<std::vector<Row>> ParseCsvRows(std::string_view text) {
  auto table = policy::ParseCsv(text, "copies");
  if (!table.ok()) return Status::InvalidArgument(table.status().message());
  const std::vector<std::string> expected = {"person", "item", "content", "as_of",
                                             "non_disclosure"};
  if (table->header != expected) {
    return Status::InvalidArgument(
        "line 1: the header must be person,item,content,as_of,non_disclosure");
  }
  std::vector<Row> rows;
  for (size_t i = 0; i < table->records.size(); ++i) {
    const std::vector<std::string>& f = table->records[i];
    Row row;
    row.line = table->lines[i];
    row.copy = Copy{f[0], f[1], f[2], f[3], false, 0};
    Result<bool> flag = ParseFlag(f[4]);
    if (!flag.ok()) return AtLine(row.line, flag.status());
    row.copy.non_disclosure = *flag;
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<Row>> ParseJsonLines(std::string_view text) {
  std::vector<Row> rows;
  std::istringstream in{std::string(text)};
  int line = 0;
  for (std::string l; std::getline(in, l);) {
    ++line;
    if (l.empty() || l == "\r") continue;
    nlohmann::json j = nlohmann::json::parse(l, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return AtLine(line, Status::InvalidArgument("not a JSON object"));
    Row row;
    row.line = line;
    for (const auto& [name, field] :
         {std::pair{"person", &row.copy.person}, std::pair{"item", &row.copy.item},
          std::pair{"content", &row.copy.content}, std::pair{"as_of", &row.copy.as_of}}) {
      if (!j.contains(name) || !j[name].is_string()) {
        return AtLine(line, Status::InvalidArgument(std::string(name) + " must be a string"));
      }
      *field = j[name].get<std::string>();
    }
    if (j.contains("non_disclosure")) {
      if (!j["non_disclosure"].is_boolean()) {
        return AtLine(line, Status::InvalidArgument("non_disclosure must be true or false"));
      }
      row.copy.non_disclosure = j["non_disclosure"].get<bool>();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

Result<size_t> MiddleStore::Import(std::string_view tenant, std::string_view text,
                                   ImportFormat format,
                                   const std::function<Status(const Copy&)>& check) {
  if (text.size() > kMaxImportBytes) {
    return Status::InvalidArgument("the file is over 64 MiB; split it");
  }
  Result<std::vector<Row>> rows =
      format == ImportFormat::kCsv ? ParseCsvRows(text) : ParseJsonLines(text);
  if (!rows.ok()) return rows.status();
  if (rows->size() > kMaxImportRows) {
    return Status::InvalidArgument("the file has over 1,000,000 rows; split it");
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const Row& row : *rows) {
    if (Status s = CheckCopy(row.copy); !s.ok()) return AtLine(row.line, s);
    if (check) {
      if (Status s = check(row.copy); !s.ok()) return AtLine(row.line, s);
    }
    if (!seen.emplace(row.copy.person, row.copy.item).second) {
      return AtLine(row.line, Status::InvalidArgument(
                                  "a second row for the same person and item in this file"));
    }
  }
  std::lock_guard<std::mutex> write(impl_->write_mu);
  auto keys = impl_->Keys(tenant);
  if (!keys.ok()) return keys.status();
  // Each row's work (its keyed hash, reading and opening the copy it supersedes, sealing
  // the new one) is independent of the others': split over the cores, then one write.
  std::vector<std::string> row_keys(rows->size()), sealed(rows->size());
  const size_t workers = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  const size_t per = (rows->size() + workers - 1) / workers;
  std::vector<Status> failed(workers);
  auto work = [&](size_t w) {
    for (size_t i = w * per; i < std::min(rows->size(), (w + 1) * per); ++i) {
      Copy& copy = (*rows)[i].copy;
      row_keys[i] = Impl::RowKey(kCopyRow, tenant, **keys, copy.person, copy.item);
      auto existing = ReadCopy(*impl_, **keys, row_keys[i]);
      if (!existing.ok()) {
        failed[w] = existing.status();
        return;
      }
      copy.version = existing->has_value() ? (*existing)->version + 1 : 1;
      sealed[i] = Impl::Seal(**keys, row_keys[i], EncodeCopy(copy));
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (std::thread& t : threads) t.join();
  for (const Status& s : failed) IPN_RETURN_IF_ERROR(s);
  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < rows->size(); ++i) batch.Put(row_keys[i], sealed[i]);
  IPN_RETURN_IF_ERROR(impl_->Write(&batch));
  return rows->size();
}

}  // namespace ipn::middle
