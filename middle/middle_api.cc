// MiddleApi: the HTTP/JSON API (see middle_api.h). Each route is one handler: it finds
// the caller's session, checks the role, does the one thing, and audits it.
#include <sodium.h>

#include <charconv>

#include "common/encoding.h"
#include "common/http_listen.h"
#include "common/http_task_queue.h"
#include "common/limits.h"
#include "middle/api_impl.h"
#include "middle/openapi_document.h"
#include "middle/tls_ca.h"

namespace ipn::middle {
namespace {

constexpr size_t kHttpWorkers = 64;  // connections served at once (each kept one holds one)
constexpr size_t kMaxAuditPage = 1'000;

}  // namespace

void Reply(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kPermissionDenied: return 403;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kAlreadyExists: return 409;
    case Status::Code::kFailedPrecondition: return 409;
    case Status::Code::kResourceExhausted: return 429;
    case Status::Code::kUnavailable: return 503;
    default: return 500;
  }
}

void ReplyError(httplib::Response& res, const Status& s) {
  Reply(res, HttpStatus(s), {{"error", s.message()}});
}

std::string Field(const Json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool PageParams(const httplib::Request& req, httplib::Response& res, uint64_t* after,
                uint64_t* limit) {
  for (auto [name, out] : {std::pair{"after", after}, std::pair{"limit", limit}}) {
    if (!req.has_param(name)) continue;
    const std::string text = req.get_param_value(name);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      Reply(res, 400, {{"error", "after and limit are whole numbers"}});
      return false;
    }
  }
  return true;
}

Status MiddleApi::Impl::Init() {
  if (options_.store == nullptr) return Status::InvalidArgument("the middle store is required");
  if (options_.tls_dir.empty()) {
    if (!IsLoopback(options_.host)) {
      return Status::InvalidArgument("plain HTTP is for loopback only; serve " + options_.host +
                                     " with HTTPS (ipn-middle ca init, then --tls DIR)");
    }
    server_ = std::make_unique<httplib::Server>();
  } else {
    const TlsFiles files = TlsFilesIn(options_.tls_dir);
    auto tls = std::make_unique<httplib::SSLServer>(files.certificate.c_str(), files.key.c_str());
    if (!tls->is_valid()) {
      return Status::InvalidArgument("cannot use the certificate and key in " + options_.tls_dir +
                                     " (ipn-middle ca init)");
    }
    server_ = std::move(tls);
  }
  IPN_RETURN_IF_ERROR(batches_.Start());
  Route();
  server_->new_task_queue = [] {
    return new BoundedTaskQueue(kHttpWorkers, limits::kMaxHttpConnectionsWaiting);
  };
  server_->set_payload_max_length(kMaxImportBytes);
  // A reply is written in pieces (headers, body): without this, Nagle's algorithm holds
  // the body for the client's delayed ACK, some 40 ms per inquiry.
  server_->set_tcp_nodelay(true);
  // An agency's system keeps its connection for many requests (httplib's default closes
  // it after 5, and each new one is a TCP handshake, or a TLS one, on the inquiry's path).
  server_->set_keep_alive_max_count(1000);
  server_->set_keep_alive_timeout(5);  // an idle one frees its worker soon
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  port_ = options_.port == 0 ? server_->bind_to_any_port(options_.host)
          : server_->bind_to_port(options_.host, options_.port) ? options_.port
                                                                : -1;
  if (port_ < 0) {
    return Status::Unavailable("cannot bind " + options_.host + ":" +
                               std::to_string(options_.port));
  }
  return ListenInBackground(*server_, &thread_);
}

void MiddleApi::Impl::Route() {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server_->Get(R"(/(v1/)?openapi\.json)", [](Req, Res res) {
    const EmbeddedFile& doc = kOpenApiFiles[0];
    res.set_content(reinterpret_cast<const char*>(doc.data), doc.size,
                    "application/json; charset=utf-8");
  });
  server_->Post("/v1/session", [this](Req q, Res r) { LogIn(q, r); });
  server_->Delete("/v1/session", [this](Req q, Res r) { LogOut(q, r); });
  server_->Post("/v1/tenants", [this](Req q, Res r) { CreateTenant(q, r); });
  server_->Post("/v1/accounts", [this](Req q, Res r) { CreateAccount(q, r); });
  server_->Post("/v1/copies", [this](Req q, Res r) { PutCopy(q, r, false); });
  server_->Put("/v1/copies", [this](Req q, Res r) { PutCopy(q, r, true); });
  server_->Get("/v1/copies", [this](Req q, Res r) { GetCopy(q, r); });
  server_->Delete("/v1/copies", [this](Req q, Res r) { DeleteCopy(q, r); });
  server_->Post("/v1/copies/import", [this](Req q, Res r) { Import(q, r); });
  server_->Post("/v1/inquiries", [this](Req q, Res r) { Inquire(q, r); });
  server_->Get("/v1/audit", [this](Req q, Res r) { ReadAudit(q, r); });
  server_->Get("/v1/symbols", [this](Req q, Res r) { ReadSymbol(q, r); });
  server_->Get("/v1/exchanges", [this](Req q, Res r) { ReadExchanges(q, r); });
  server_->Post("/v1/batches", [this](Req q, Res r) { SubmitBatch(q, r); });
  server_->Get("/v1/by-hand", [this](Req q, Res r) { ByHand(q, r, false); });
  server_->Put("/v1/by-hand", [this](Req q, Res r) { ByHand(q, r, true); });
  server_->Get(R"(/v1/batches/(\d{1,19}))", [this](Req q, Res r) { ReadBatch(q, r, false); });
  server_->Get(R"(/v1/batches/(\d{1,19})/results)",
               [this](Req q, Res r) { ReadBatch(q, r, true); });
  // Before any body is read: a body must say its length, and only a caller already known
  // may send an import's 64 MiB or a batch file (read whole, so that its 413 reaches a
  // client that writes the body before it reads: 4 MiB); everything else is 64 KiB. An outsider
  // cannot make the server hold more than that per connection.
  server_->set_pre_routing_handler([this](Req req, Res res) {
    if (req.has_header("Transfer-Encoding")) {
      Reply(res, 411, {{"error", "send the body with a Content-Length"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    const uint64_t length = req.get_header_value<uint64_t>("Content-Length");
    if (length <= kMaxJsonBody) return httplib::Server::HandlerResponse::Unhandled;
    if (req.path != "/v1/copies/import" && req.path != "/v1/batches") {
      Reply(res, 413, {{"error", "a request body is at most 64 KiB here"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    std::optional<Account> who = Caller(req, res);
    if (!who) return httplib::Server::HandlerResponse::Handled;
    const char* role = req.path == "/v1/batches" ? "inquirer" : "registrar";
    if (!who->Has(role)) {  // only those who may send the file may make the server read it
      Audit(who->tenant, who->name, req.path == "/v1/batches" ? "submit_batch" : "import",
            std::string("the role ") + role + " is needed", false);
      Reply(res, 403, {{"error", std::string("the role ") + role + " is needed"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Anything else, and any method a path does not document: 404 with a JSON reason.
  server_->set_error_handler([](Req, Res res) {
    if (!res.body.empty()) return;  // a handler's own reason stands
    if (res.status == 404 || res.status == 405) {
      Reply(res, 404, {{"error", "no such path or method (see /v1/openapi.json)"}});
    } else if (res.status == 413) {
      Reply(res, 413, {{"error", "the request body is over the limit (64 MiB for an import)"}});
    }
  });
  server_->set_exception_handler([](Req, Res res, std::exception_ptr) {
    Reply(res, 500, {{"error", "internal error"}});
  });
}

bool MiddleApi::Impl::Audit(const std::string& tenant, const std::string& account,
                            const std::string& action, const std::string& detail, bool allowed) {
  return AuditOrLog(audit_, options_.log, tenant, account, action, detail, allowed);
}

std::optional<Account> MiddleApi::Impl::Caller(const httplib::Request& req,
                                               httplib::Response& res) {
  const std::string auth = req.get_header_value("Authorization");
  std::optional<Account> who;
  if (auth.starts_with("Bearer ")) {
    const std::string token = auth.substr(7);
    // A session token is hex; a system account's API key is TENANT:NAME:SECRET.
    if (token.find(':') == std::string::npos) {
      who = sessions_.Find(token);
    } else if (Result<Account> system = accounts_.Authenticate(token); system.ok()) {
      who = std::move(*system);
    }
  }
  if (!who) {
    Reply(res, 401, {{"error", "log in first (POST /v1/session); the session may have ended"}});
  }
  return who;
}

std::optional<Json> MiddleApi::Impl::Body(const httplib::Request& req, httplib::Response& res) {
  if (req.body.size() > kMaxJsonBody) {
    Reply(res, 413, {{"error", "a JSON body is at most 64 KiB"}});
    return std::nullopt;
  }
  Json body = Json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    Reply(res, 400, {{"error", "the body must be a JSON object"}});
    return std::nullopt;
  }
  return body;
}

bool MiddleApi::Impl::Allowed(const Account& who, const char* role, const Json& body,
                              const char* action, httplib::Response& res) {
  const std::string named = Field(body, "tenant");
  std::string why;
  if (!named.empty() && named != who.tenant) {
    why = "account of " + who.tenant + " may not act for " + named;
  } else if (!who.Has(role)) {
    why = std::string("the role ") + role + " is needed";
  }
  if (why.empty()) return true;
  Audit(who.tenant, who.name, action, why, false);
  Reply(res, 403, {{"error", why}});
  return false;
}

void MiddleApi::Impl::LogIn(const httplib::Request& req, httplib::Response& res) {
  auto body = Body(req, res);
  if (!body) return;
  const std::string tenant = Field(*body, "tenant"), name = Field(*body, "account");
  bool known = false;
  Result<Account> who =
      accounts_.LogIn(tenant, name, Field(*body, "password"), Field(*body, "code"), &known);
  if (!who.ok()) {
    // Audited for an account that exists (its lockout bounds how many); a made-up name is
    // nobody's to audit, and an outsider could otherwise grow a tenant's log at will.
    if (known) Audit(tenant, name, "login", who.status().message(), false);
    return Reply(res, who.status().code() == Status::Code::kPermissionDenied ? 401 : 500,
                 {{"error", who.status().message()}});
  }
  Audit(tenant, name, "login", "", true);
  Reply(res, 201, {{"token", sessions_.Open(*who)}, {"tenant", tenant}, {"roles", who->roles}});
}

void MiddleApi::Impl::LogOut(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  sessions_.Close(req.get_header_value("Authorization").substr(7));
  Audit(who->tenant, who->name, "logout", "", true);
  res.status = 204;
}

// The platform's operators create tenants (and each tenant's first admin, below); they
// hold no role in any tenant.
void MiddleApi::Impl::CreateTenant(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  auto body = Body(req, res);
  if (!body) return;
  const std::string tenant = Field(*body, "tenant");
  if (!who->Has("operator")) {
    Audit(who->tenant, who->name, "create_tenant", "the role operator is needed", false);
    return Reply(res, 403, {{"error", "the role operator is needed"}});
  }
  Status made = tenant == kPlatformTenant
                    ? Status::InvalidArgument("the platform's own tenant is reserved")
                    : options_.store->CreateTenant(tenant);
  Audit(who->tenant, who->name, "create_tenant", tenant + (made.ok() ? "" : ": " + made.message()),
        made.ok());
  if (!made.ok()) return ReplyError(res, made);
  Reply(res, 201, {{"tenant", tenant}});
}

// A tenant's admin creates its accounts; an operator only a tenant's admins.
void MiddleApi::Impl::CreateAccount(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  auto body = Body(req, res);
  if (!body) return;
  Account account;
  account.name = Field(*body, "account");
  account.tenant = who->Has("operator") ? Field(*body, "tenant") : who->tenant;
  for (const char* list : {"roles", "businesses"}) {
    auto it = body->find(list);
    if (it == body->end()) continue;
    if (!it->is_array()) return Reply(res, 400, {{"error", std::string(list) + " is a list"}});
    for (const Json& v : *it) {
      if (!v.is_string()) return Reply(res, 400, {{"error", std::string(list) + " are strings"}});
      (list[0] == 'r' ? account.roles : account.businesses).insert(v.get<std::string>());
    }
  }
  if (who->Has("operator")) {
    // Only a tenant's first admin: later ones are the tenant's own to make, or an operator
    // could make itself an admin of a running tenant and read its data.
    Result<bool> staffed = account.tenant == kPlatformTenant
                               ? Result<bool>(true)
                               : options_.store->HasAccounts(account.tenant);
    if (!staffed.ok()) return ReplyError(res, staffed.status());
    if (*staffed || account.roles != std::set<std::string>{"admin"}) {
      const std::string why = "an operator creates a new tenant's first admin only";
      Audit(who->tenant, who->name, "create_account", why, false);
      return Reply(res, 403, {{"error", why}});
    }
  } else if (!Allowed(*who, "admin", *body, "create_account", res)) {
    return;
  }
  auto system = body->find("system");
  if (system != body->end() && !system->is_boolean()) {
    return Reply(res, 400, {{"error", "system is true or false"}});
  }
  account.system = system != body->end() && system->get<bool>();
  if (account.system && who->Has("operator")) {
    const std::string why = "an operator creates a new tenant's first admin only";
    Audit(who->tenant, who->name, "create_account", why, false);
    return Reply(res, 403, {{"error", why}});
  }
  if (account.system) {
    Result<std::string> key = accounts_.CreateSystem(account);
    Audit(who->tenant, who->name, "create_account",
          account.tenant + "/" + account.name + " (system)" +
              (key.ok() ? "" : ": " + key.status().message()),
          key.ok());
    if (!key.ok()) return ReplyError(res, key.status());
    return Reply(res, 201,
                 {{"account", account.name}, {"tenant", account.tenant}, {"api_key", *key}});
  }
  Result<Enrolment> made = accounts_.Create(account, Field(*body, "password"));
  const std::string detail = account.tenant + "/" + account.name;
  Audit(who->tenant, who->name, "create_account",
        detail + (made.ok() ? "" : ": " + made.status().message()), made.ok());
  if (made.ok() && account.tenant != who->tenant) {
    Audit(account.tenant, who->name, "create_account", "by the platform: " + account.name, true);
  }
  if (!made.ok()) return ReplyError(res, made.status());
  Reply(res, 201,
        {{"account", account.name},
         {"tenant", account.tenant},
         {"totp_secret", made->totp_secret},
         {"totp_uri", made->totp_uri}});
}

void MiddleApi::Impl::ReadAudit(const httplib::Request& req, httplib::Response& res) {
  auto who = Caller(req, res);
  if (!who) return;
  Json named = {{"tenant", req.get_param_value("tenant")}};
  if (!Allowed(*who, who->Has("operator") ? "operator" : "admin", named, "read_audit", res)) {
    return;
  }
  uint64_t after = 0, limit = 100;
  if (!PageParams(req, res, &after, &limit)) return;
  // The head first, and no entry past it: every page is covered by the head it carries.
  Result<AuditHead> head = audit_.Head(who->tenant);
  if (!head.ok()) return ReplyError(res, head.status());
  const size_t room = head->size > after ? static_cast<size_t>(head->size - after) : 0;
  auto entries = audit_.List(who->tenant, after, std::min<uint64_t>({limit, kMaxAuditPage, room}));
  if (!entries.ok()) return ReplyError(res, entries.status());
  Audit(who->tenant, who->name, "read_audit", "after " + std::to_string(after), true);
  Json out = Json::array();
  for (const AuditEntry& e : *entries) {
    out.push_back({{"seq", e.seq},
                   {"at_unix_us", e.at_unix_us},
                   {"account", e.account},
                   {"action", e.action},
                   {"detail", e.detail},
                   {"allowed", e.allowed},
                   {"raw", e.raw}});
  }
  Reply(res, 200, {{"entries", out}, {"head", {{"size", head->size}, {"root", head->root}}}});
}

MiddleApi::MiddleApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MiddleApi::~MiddleApi() {
  impl_->Stop();
}
int MiddleApi::port() const {
  return impl_->port_;
}

Result<std::unique_ptr<MiddleApi>> MiddleApi::Start(MiddleApiOptions options) {
  auto impl = std::make_unique<Impl>(options);
  IPN_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<MiddleApi>(new MiddleApi(std::move(impl)));
}

}  // namespace ipn::middle
