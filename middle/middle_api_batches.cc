// MiddleApi, the routes an existing system uses beside single inquiries: the symbol a
// person number is bound to, the tenant's exchange log, batch inquiry files, and the items
// the tenant answers by hand.
#include <charconv>

#include "common/encoding.h"
#include "middle/api_impl.h"

namespace ipn::middle {
namespace {

constexpr size_t kMaxExchangePage = 1'000;

Json ProgressJson(const BatchProgress& p) {
  return {{"batch", p.id},
          {"account", p.account},
          {"submitted_unix_us", p.submitted_unix_us},
          {"rows", p.rows},
          {"done", p.done},
          {"outcomes", p.outcomes},
          {"state", p.finished() ? "finished" : "running"}};
}

}  // namespace

// The agency symbol bound to an internal person number (hex), for a system that talks to
// the network through the SDK too. Staff who register or inquire may read it; an admin
// may not (no access to the tenant's persons).
void MiddleApi::Impl::ReadSymbol(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  const char* role = who->Has("registrar") ? "registrar" : "inquirer";
  if (!Allowed(*who, role, named, "read_symbol", res)) return;
  const std::string person = req.get_param_value("person");
  Result<std::string> symbol = options_.store->SymbolOf(who->tenant, person);
  Audit(who->tenant, who->name, "read_symbol",
        person.substr(0, kMaxPersonNumber) + (symbol.ok() ? "" : ": " + symbol.status().message()),
        symbol.ok());
  if (!symbol.ok()) return ReplyError(res, symbol.status());
  Reply(res, 200,
        {{"person", person},
         {"symbol",
          HexEncode(std::span(reinterpret_cast<const uint8_t*>(symbol->data()), symbol->size()))}});
}

// The tenant's exchange log: an admin reads all of it; an inquirer its own inquiries only
// (not other staff's, nor which of its persons other agencies asked about).
void MiddleApi::Impl::ReadExchanges(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  const bool admin = who->Has("admin");
  if (!Allowed(*who, admin ? "admin" : "inquirer", named, "read_exchanges", res)) return;
  uint64_t after = 0, limit = 100;
  if (!PageParams(req, res, &after, &limit)) return;
  auto entries = exchanges_->List(who->tenant, after, std::min<uint64_t>(limit, kMaxExchangePage));
  if (!entries.ok()) return ReplyError(res, entries.status());
  Audit(who->tenant, who->name, "read_exchanges", "after " + std::to_string(after), true);
  Json out = Json::array();
  uint64_t last = after;
  for (const ExchangeEntry& e : *entries) {
    last = e.seq;
    if (!admin && (e.role != "inquirer" || e.account != who->name)) continue;
    Json entry = {{"seq", e.seq},
                  {"at_unix_us", e.at_unix_us},
                  {"role", e.role},
                  {"person", e.person},
                  {"peer", e.peer},
                  {"business", e.business},
                  {"item", e.item},
                  {"outcome", e.outcome},
                  {"request_id", e.request_id},
                  {"exchange_id", e.exchange_id}};
    if (!e.account.empty()) entry["account"] = e.account;
    if (!e.batch.empty()) entry["batch"] = e.batch;
    out.push_back(std::move(entry));
  }
  // `next_after` lets a filtered reader page on past entries it was not shown.
  Reply(res, 200, {{"entries", out}, {"next_after", last}});
}

void MiddleApi::Impl::SubmitBatch(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  if (!Allowed(*who, "inquirer", named, "submit_batch", res)) return;
  if (!req.get_header_value("Content-Type").starts_with("text/csv")) {
    return Reply(res, 415, {{"error", "send the batch file as text/csv"}});
  }
  if (req.body.size() > kMaxBatchBytes) {
    Audit(who->tenant, who->name, "submit_batch", "over 4 MiB", false);
    return Reply(res, 413, {{"error", "a batch file is at most 4 MiB"}});
  }
  Result<BatchProgress> made = batches_.Submit(*who, req.body);
  Audit(who->tenant, who->name, "submit_batch",
        made.ok()
            ? "batch " + std::to_string(made->id) + ": " + std::to_string(made->rows) + " rows"
            : made.status().message(),
        made.ok());
  if (!made.ok()) return ReplyError(res, made.status());
  res.set_header("Location", "/v1/batches/" + std::to_string(made->id));
  Reply(res, 202, ProgressJson(*made));
}

void MiddleApi::Impl::ReadBatch(const httplib::Request& req, httplib::Response& res, bool results) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  if (!Allowed(*who, "inquirer", named, results ? "read_batch_results" : "read_batch", res)) {
    return;
  }
  uint64_t id = 0;
  const std::string text = req.matches[1];
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc()) return Reply(res, 404, {{"error", "no batch " + text}});
  if (!results) {
    Result<BatchProgress> p = batches_.Progress(*who, id);
    if (!p.ok()) return ReplyError(res, p.status());
    return Reply(res, 200, ProgressJson(*p));
  }
  const Status ready = batches_.CheckResults(*who, id);
  Audit(who->tenant, who->name, "read_batch_results",
        "batch " + text + (ready.ok() ? "" : ": " + ready.message()), ready.ok());
  if (!ready.ok()) return ReplyError(res, ready);
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Disposition", "attachment; filename=\"batch-" + text + "-results.csv\"");
  // Streamed a page at a time (chunked): a 10,000-row file is never held whole.
  res.set_chunked_content_provider(
      "text/csv; charset=utf-8", [this, who = *who, id](size_t, httplib::DataSink& sink) {
        const Status written = batches_.WriteResults(who, id, [&](std::string_view piece) {
          return sink.write(piece.data(), piece.size());
        });
        if (written.ok()) sink.done();
        return written.ok();
      });
}

// The items the tenant answers by hand (its existing system names them to the node when it
// connects to serve): the admin sets them; the platform then answers none from copies.
void MiddleApi::Impl::ByHand(const httplib::Request& req, httplib::Response& res, bool set) {
  auto who = Caller(req, res);
  if (!who) return;
  std::optional<Json> body = set ? Body(req, res) : Json{{"tenant", req.get_param_value("tenant")}};
  if (!body) return;
  if (!Allowed(*who, "admin", *body, set ? "set_by_hand" : "read_by_hand", res)) return;
  if (!set) {
    Result<std::set<std::string>> items = options_.store->ByHandItems(who->tenant);
    if (!items.ok()) return ReplyError(res, items.status());
    return Reply(res, 200, {{"items", *items}});
  }
  auto list = body->find("items");
  if (list == body->end() || !list->is_array()) {
    return Reply(res, 400, {{"error", "items is a list of item codes"}});
  }
  std::set<std::string> items;
  Status made = Status::Ok();
  for (const Json& item : *list) {
    if (!item.is_string()) return Reply(res, 400, {{"error", "items are strings"}});
    items.insert(item.get<std::string>());
    if (made.ok())
      made = CheckProvidedItem(*who, Copy{"x", item.get<std::string>(), "", "", false, 0});
  }
  if (made.ok()) made = options_.store->SetByHandItems(who->tenant, items);
  std::string detail;
  for (const std::string& item : items) detail += (detail.empty() ? "" : ",") + item.substr(0, 64);
  Audit(who->tenant, who->name, "set_by_hand",
        detail.substr(0, 1024) + (made.ok() ? "" : ": " + made.message()), made.ok());
  if (!made.ok()) return ReplyError(res, made);
  Reply(res, 200, {{"items", items}});
}

}  // namespace ipn::middle
