// MiddleApi, the data routes: copies (one by one and in bulk) and inquiries.
#include <sodium.h>

#include "common/encoding.h"
#include "middle/api_impl.h"

namespace ipn::middle {

// An item this tenant may provide under the permitted-link list: as a named provider, or
// as a member of a provider class. Without a policy (development), every item.
Status MiddleApi::Impl::CheckProvidedItem(const std::string& tenant, const Copy& copy) const {
  if (!options_.provided_items) return Status::Ok();
  auto it = options_.provided_items->find(tenant);
  if (it == options_.provided_items->end() || it->second.count(copy.item) == 0) {
    return Status::InvalidArgument("item " + copy.item.substr(0, kMaxItemCode) + " is not one " +
                                   tenant + " provides under the permitted-link list");
  }
  return Status::Ok();
}

void MiddleApi::Impl::PutCopy(const httplib::Request& req, httplib::Response& res, bool supersede) {
  auto who = Caller(req, res);
  if (!who) return;
  auto body = Body(req, res);
  if (!body) return;
  const char* action = supersede ? "supersede" : "register";
  if (!Allowed(*who, "registrar", *body, action, res)) return;
  Copy copy;
  copy.person = Field(*body, "person");
  copy.item = Field(*body, "item");
  copy.content = Field(*body, "content");
  copy.as_of = Field(*body, "as_of");
  auto flag = body->find("non_disclosure");
  if (flag != body->end() && !flag->is_boolean()) {
    return Reply(res, 400, {{"error", "non_disclosure is true or false"}});
  }
  copy.non_disclosure = flag != body->end() && flag->get<bool>();
  const Status provided = CheckProvidedItem(who->tenant, copy);
  Result<uint32_t> version = !provided.ok() ? Result<uint32_t>(provided)
                             : supersede    ? options_.store->Supersede(who->tenant, copy)
                                            : options_.store->Register(who->tenant, copy);
  Audit(who->tenant, who->name, action,
        copy.person.substr(0, kMaxPersonNumber) + " " + copy.item.substr(0, kMaxItemCode) +
            (version.ok() ? "" : ": " + version.status().message()),
        version.ok());
  if (!version.ok()) return ReplyError(res, version.status());
  Reply(res, supersede ? 200 : 201, {{"version", *version}});
}

void MiddleApi::Impl::GetCopy(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  if (!Allowed(*who, "registrar", named, "read_copy", res)) return;
  const std::string person = req.get_param_value("person"), item = req.get_param_value("item");
  Result<Copy> copy = options_.store->Find(who->tenant, person, item);
  Audit(who->tenant, who->name, "read_copy",
        person.substr(0, kMaxPersonNumber) + " " + item.substr(0, kMaxItemCode), copy.ok());
  if (!copy.ok()) return ReplyError(res, copy.status());
  Reply(res, 200,
        {{"person", copy->person},
         {"item", copy->item},
         {"content", copy->content},
         {"as_of", copy->as_of},
         {"non_disclosure", copy->non_disclosure},
         {"version", copy->version}});
}

void MiddleApi::Impl::DeleteCopy(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  if (!Allowed(*who, "registrar", named, "delete", res)) return;
  const std::string person = req.get_param_value("person"), item = req.get_param_value("item");
  Status gone = options_.store->Delete(who->tenant, person, item);
  Audit(who->tenant, who->name, "delete",
        person.substr(0, kMaxPersonNumber) + " " + item.substr(0, kMaxItemCode) +
            (gone.ok() ? "" : ": " + gone.message()),
        gone.ok());
  if (!gone.ok()) return ReplyError(res, gone);
  res.status = 204;
}

// A bulk file in the body: text/csv, or application/x-ndjson for JSON Lines. All or
// nothing (MiddleStore::Import).
void MiddleApi::Impl::Import(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  if (!Allowed(*who, "registrar", named, "import", res)) return;
  const std::string type = req.get_header_value("Content-Type");
  const bool csv = type.starts_with("text/csv");
  if (!csv && !type.starts_with("application/x-ndjson")) {
    return Reply(res, 415, {{"error", "send text/csv or application/x-ndjson"}});
  }
  Result<size_t> rows = options_.store->Import(
      who->tenant, req.body, csv ? ImportFormat::kCsv : ImportFormat::kJsonLines,
      [&](const Copy& copy) { return CheckProvidedItem(who->tenant, copy); });
  Audit(who->tenant, who->name, "import",
        (rows.ok() ? std::to_string(*rows) + " rows" : rows.status().message()), rows.ok());
  if (!rows.ok()) return ReplyError(res, rows.status());
  Reply(res, 200, {{"rows", *rows}});
}

void MiddleApi::Impl::Inquire(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  auto body = Body(req, res);
  if (!body) return;
  if (!Allowed(*who, "inquirer", *body, "inquire", res)) return;
  const std::string person = Field(*body, "person"), provider = Field(*body, "provider"),
                    business = Field(*body, "business"), item = Field(*body, "item");
  const std::string detail = person.substr(0, kMaxPersonNumber) + " " + provider.substr(0, 64) +
                             " " + business.substr(0, 64) + " " + item.substr(0, kMaxItemCode);
  if (who->businesses.count(business) == 0) {
    Audit(who->tenant, who->name, "inquire", detail + ": not one of this account's businesses",
          false);
    return Reply(res, 403, {{"error", "business " + business + " is not one of this account's"}});
  }
  if (options_.inquirer == nullptr) {
    return Reply(res, 503, {{"error", "this platform is not connected to the network"}});
  }
  Result<std::string> symbol = options_.store->SymbolOf(who->tenant, person);
  if (!symbol.ok()) {
    Audit(who->tenant, who->name, "inquire", detail + ": " + symbol.status().message(), false);
    return ReplyError(res, symbol.status());
  }
  // The request id links this staff member to the core's provision records (which know
  // agencies, not staff): the entry naming it is written before the inquiry leaves.
  uint8_t raw_id[12];
  randombytes_buf(raw_id, sizeof(raw_id));
  const std::string request_id = "api-" + HexEncode(raw_id);
  if (!Audit(who->tenant, who->name, "inquire", detail + " as " + request_id, true)) {
    return Reply(res, 503, {{"error", "the audit log cannot be written: no inquiry goes out"}});
  }
  Result<InquiryAnswer> answer =
      options_.inquirer->Inquire(who->tenant, *symbol, provider, business, item, request_id);
  if (!answer.ok()) {
    Audit(who->tenant, who->name, "inquire", request_id + ": " + answer.status().message(), false);
    return ReplyError(res, answer.status());
  }
  Json out = {{"outcome", answer->outcome},
              {"request_id", request_id},
              {"exchange_id", answer->exchange_id}};
  if (!answer->explanation.empty()) out["explanation"] = answer->explanation;
  if (answer->outcome == "provided") out["content"] = answer->content;
  Reply(res, 200, out);
}

}  // namespace ipn::middle
