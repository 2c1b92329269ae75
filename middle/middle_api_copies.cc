// MiddleApi, the data routes: copies (one by one and in bulk) and single inquiries.
#include "middle/api_impl.h"

namespace ipn::middle {

// An item this tenant may provide under the permitted-link list (as a named provider, or
// as a member of a provider class), and, for a registrar whose account lists businesses,
// one provided for one of them. Without a policy (development), every item.
Status MiddleApi::Impl::CheckProvidedItem(const Account& who, const Copy& copy) const {
  if (!options_.provided_items) return Status::Ok();
  auto tenant = options_.provided_items->find(who.tenant);
  auto item = tenant == options_.provided_items->end() ? decltype(tenant->second.end()){}
                                                       : tenant->second.find(copy.item);
  if (tenant == options_.provided_items->end() || item == tenant->second.end()) {
    return Status::InvalidArgument("item " + copy.item.substr(0, kMaxItemCode) + " is not one " +
                                   who.tenant + " provides under the permitted-link list");
  }
  if (who.businesses.empty()) return Status::Ok();  // a registrar of all the tenant's items
  for (const std::string& business : item->second) {
    if (who.businesses.count(business) != 0) return Status::Ok();
  }
  return Status::PermissionDenied("item " + copy.item.substr(0, kMaxItemCode) +
                                  " is provided for none of this account's businesses");
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
  const Status provided = CheckProvidedItem(*who, copy);
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
  const Status mine = CheckProvidedItem(*who, Copy{person, item, "", "", false, 0});
  Result<Copy> copy = mine.ok() ? options_.store->Find(who->tenant, person, item) : mine;
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
  Status gone = CheckProvidedItem(*who, Copy{person, item, "", "", false, 0});
  if (gone.ok()) gone = options_.store->Delete(who->tenant, person, item);
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
      [&](const Copy& copy) { return CheckProvidedItem(*who, copy); });
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
  InquiryRow row{Field(*body, "person"), Field(*body, "provider"), Field(*body, "business"),
                 Field(*body, "item"), ""};
  SentInquiry sent;
  Status asked = sender_.Send(*who, row, &sent);
  if (!asked.ok()) {
    Json error = {{"error", asked.message()}};
    if (!sent.request_id.empty()) error["request_id"] = sent.request_id;  // it went out
    return Reply(res, HttpStatus(asked), error);
  }
  const InquiryAnswer& answer = sent.answer;
  Json out = {{"outcome", answer.outcome},
              {"request_id", sent.request_id},
              {"exchange_id", answer.exchange_id}};
  if (!answer.explanation.empty()) out["explanation"] = answer.explanation;
  if (answer.outcome == "provided") out["content"] = answer.content;
  Reply(res, 200, out);
}

}  // namespace ipn::middle
