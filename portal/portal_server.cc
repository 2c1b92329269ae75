// PortalServer: routes, enrolment through the registry link, log-in, history.
//
//   HTTP ─► Route ─┬─► Enrol ─► RequestSymbol (registry node) ─► SymbolIssued (own node)
//                  │          ─► EnrolmentStore::Add
//                  ├─► Challenge / Login / Logout ─► LoginService
//   (Enrol, Challenge, Login and History first pass Admit: per client, per account)
//                  └─► History ─► LoginService::SessionOwner ─► EnrolmentStore::Find
//                                ─► AgencyClient::QueryRecords ─► HistoryJson / HistoryCsv
#include "portal/portal_server.h"

#include <httplib.h>
#include <sodium.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "common/civil_time.h"
#include "common/encoding.h"
#include "common/envelope_io.h"
#include "common/secret.h"
#include "common/time_text.h"
#include "interface/agency_client.h"
#include "portal/enrolment_store.h"
#include "portal/history_view.h"
#include "portal/login.h"
#include "portal/request_fields.h"
#include "portal/web_assets.h"

namespace ipn::portal {
namespace {

constexpr auto kCoreTimeout = std::chrono::seconds(10);
constexpr size_t kHttpWorkers = 64;      // concurrent connections served
constexpr time_t kHttpReadTimeoutS = 2;  // a request not read by then is cut off

void JsonReply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Text from the request (a malformed date, say) may be invalid UTF-8: replaced, never a
  // 500 from the serialiser.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void ErrorReply(httplib::Response& res, int status, const std::string& message) {
  JsonReply(res, status, {{"error", message}});
}

// The session tokens the request may carry: each cookie half joined to its header half.
std::vector<std::string> SessionsOf(const httplib::Request& req) {
  return SessionTokens(req.get_header_value("Cookie"), req.get_header_value("Authorization"));
}

}  // namespace

class PortalServer::Impl {
 public:
  Status Init(PortalOptions options);
  int port() const { return port_; }
  Status Run(const std::atomic<bool>& stop);

 private:
  void Route();
  void Enrol(const httplib::Request& req, httplib::Response& res);
  void Challenge(const httplib::Request& req, httplib::Response& res);
  // Counts an attempt at `action` against `limiter` under `key`; when refused, answers 429
  // with when to try again (and logs the first refusal of a run) and returns false.
  bool Admit(AttemptLimiter& limiter, const std::string& key, const char* action, const char* scope,
             httplib::Response& res);
  void Login(const httplib::Request& req, httplib::Response& res);
  void Logout(const httplib::Request& req, httplib::Response& res);
  void History(const httplib::Request& req, httplib::Response& res, bool csv);
  // Parses a JSON POST body; answers 415/400 itself and returns nullopt on failure.
  std::optional<nlohmann::json> JsonBody(const httplib::Request& req, httplib::Response& res);
  Result<v1::RecordPage> FetchHistory(const Enrolment& enrolment);
  Result<std::vector<uint8_t>> IssuePortalSymbol(std::string& resident_code,
                                                 const std::string& person_ref);

  PortalOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  std::unique_ptr<EnrolmentStore> enrolments_;
  std::unique_ptr<LoginService> login_;
  std::mutex network_mu_;  // the two clients below are used by one request at a time
  std::unique_ptr<interface::AgencyClient> own_node_;
  std::unique_ptr<interface::AgencyClient> registry_;
  httplib::Server server_;
  int port_ = -1;
  struct Limiters {
    Limiters(const PortalLimits& l, const Clock* c)
        : challenge_client(l.challenge_per_client, c),
          login_client(l.login_per_client, c),
          login_account(l.login_per_account, c),
          enrol_client(l.enrol_per_client, c),
          enrol_account(l.enrol_per_account, c),
          history_client(l.history_per_client, c),
          history_account(l.history_per_account, c) {}
    AttemptLimiter challenge_client, login_client, login_account, enrol_client, enrol_account,
        history_client, history_account;
  };
  std::unique_ptr<Limiters> limits_;
};

Status PortalServer::Impl::Init(PortalOptions options) {
  options_ = std::move(options);
  clock_ = options_.clock != nullptr ? options_.clock : &system_clock_;
  log_ = options_.logger;
  if (log_ == nullptr) return Status::InvalidArgument("PortalOptions.logger is required");
  if (!options_.names) return Status::InvalidArgument("PortalOptions.names is required");
  Result<std::unique_ptr<EnrolmentStore>> store = EnrolmentStore::Open(options_.data_dir);
  if (!store.ok()) return store.status().WithContext("enrolments");
  enrolments_ = std::move(*store);
  login_ = std::make_unique<LoginService>(clock_);
  limits_ = std::make_unique<Limiters>(options_.limits, clock_);
  auto own = interface::AgencyClient::Connect(options_.node_endpoint);
  if (!own.ok()) return own.status().WithContext("the portal's node");
  own_node_ = std::move(*own);
  auto reg = interface::AgencyClient::Connect(options_.registry_endpoint);
  if (!reg.ok()) return reg.status().WithContext("the registry link's node");
  registry_ = std::move(*reg);

  Route();
  server_.set_payload_max_length(64 * 1024);
  // A handful of slow clients must not stop the portal answering anyone (there is no
  // reverse proxy in front of it): enough workers, and a client that does not finish its
  // request within the timeout is cut off.
  server_.new_task_queue = [] { return new httplib::ThreadPool(kHttpWorkers); };
  server_.set_read_timeout(kHttpReadTimeoutS, 0);
  server_.set_write_timeout(kHttpReadTimeoutS, 0);
  server_.set_keep_alive_timeout(kHttpReadTimeoutS);
  server_.set_keep_alive_max_count(100);
  if (options_.port == 0) {
    port_ = server_.bind_to_any_port(options_.host);
  } else if (server_.bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  }
  if (port_ < 0) {
    return Status::Unavailable("cannot bind " + options_.host + ":" +
                               std::to_string(options_.port));
  }
  return Status::Ok();
}

Status PortalServer::Impl::Run(const std::atomic<bool>& stop) {
  std::thread http([this] { server_.listen_after_bind(); });
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server_.stop();
  http.join();
  return Status::Ok();
}

void PortalServer::Impl::Route() {
  server_.set_default_headers({
      {"Content-Security-Policy",
       "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  });
  for (size_t i = 0; i < kWebAssetCount; ++i) {
    const EmbeddedFile& f = kWebAssets[i];
    const std::string name = f.name;
    const std::string type = name.ends_with(".html")  ? "text/html; charset=utf-8"
                             : name.ends_with(".js")  ? "text/javascript; charset=utf-8"
                             : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                      : "application/octet-stream";
    const std::string body(reinterpret_cast<const char*>(f.data), f.size);
    auto serve = [body, type](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, type.c_str());
    };
    server_.Get("/" + name, serve);
    if (name == "index.html") server_.Get("/", serve);
  }
  server_.Get("/favicon.ico",
              [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  server_.Post("/api/enrol",
               [this](const httplib::Request& q, httplib::Response& r) { Enrol(q, r); });
  server_.Post("/api/challenge",
               [this](const httplib::Request& q, httplib::Response& r) { Challenge(q, r); });
  server_.Post("/api/login",
               [this](const httplib::Request& q, httplib::Response& r) { Login(q, r); });
  server_.Post("/api/logout",
               [this](const httplib::Request& q, httplib::Response& r) { Logout(q, r); });
  server_.Get("/api/history",
              [this](const httplib::Request& q, httplib::Response& r) { History(q, r, false); });
  server_.Get("/api/history.csv",
              [this](const httplib::Request& q, httplib::Response& r) { History(q, r, true); });
  server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) ErrorReply(res, res.status, "not found");
  });
}

bool PortalServer::Impl::Admit(AttemptLimiter& limiter, const std::string& key, const char* action,
                               const char* scope, httplib::Response& res) {
  const AttemptDecision d = limiter.Attempt(key);
  if (d.allowed) return true;
  const int64_t now = clock_->NowMicros();
  const int64_t wait_s = std::max<int64_t>(1, (d.retry_at_unix_us - now + 999'999) / 1'000'000);
  const DayTime jst = JstDayTime(d.retry_at_unix_us);
  char jst_text[64];
  std::snprintf(jst_text, sizeof jst_text, "%02lld:%02lld:%02lld",
                static_cast<long long>(jst.micros_of_day / kMicrosPerHour),
                static_cast<long long>(jst.micros_of_day / kMicrosPerMinute % 60),
                static_cast<long long>(jst.micros_of_day / kMicrosPerSecond % 60));
  if (d.first_refusal) {
    log_->Warn("rate_limited",
               {{"action", action}, {"scope", scope}, {"retry_at", FormatUtc(d.retry_at_unix_us)}});
  }
  res.set_header("Retry-After", std::to_string(wait_s));
  JsonReply(res, 429,
            {{"error", std::string("too many ") + action + " attempts from this " + scope +
                           "; try again at " + jst_text + " JST (" + jst_text +
                           " 以降にもう一度お試しください)"},
             {"retry_at", FormatUtc(d.retry_at_unix_us)},
             {"retry_at_unix_ms", d.retry_at_unix_us / 1000},
             {"retry_after_s", wait_s}});
  return false;
}

std::optional<nlohmann::json> PortalServer::Impl::JsonBody(const httplib::Request& req,
                                                           httplib::Response& res) {
  // A JSON content type cannot be sent cross-site without a CORS preflight, which this
  // server never grants: with the SameSite cookie, that rules out request forgery.
  if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    ErrorReply(res, 415, "send application/json");
    return std::nullopt;
  }
  Result<nlohmann::json> body = ParseJsonObject(req.body);
  if (!body.ok()) {
    ErrorReply(res, 400, body.status().message());
    return std::nullopt;
  }
  return std::move(*body);
}

Result<std::vector<uint8_t>> PortalServer::Impl::IssuePortalSymbol(std::string& resident_code,
                                                                   const std::string& person_ref) {
  std::lock_guard lock(network_mu_);
  const std::string request_id = registry_->NextRequestId();
  // A copy goes out (RequestSymbol wipes it); the original, maybe in a short string's
  // inline buffer that a move would leave behind, is wiped here.
  Status sent = registry_->RequestSymbol(options_.agency_code, person_ref,
                                         std::string(resident_code), request_id);
  WipeString(&resident_code);
  IPN_RETURN_IF_ERROR(sent);
  const auto deadline = std::chrono::steady_clock::now() + kCoreTimeout;
  std::optional<v1::IssueSymbolResponse> response;
  interface::AgencyClient::Callbacks reg_cb;
  reg_cb.on_issue_response = [&](const v1::IssueSymbolResponse& r) {
    if (r.person_ref() == person_ref) response = r;
  };
  IPN_RETURN_IF_ERROR(registry_->PollUntil(
      deadline, reg_cb, [&] { return response.has_value(); }, "the registry link did not answer"));
  if (response->error_code() == v1::ERROR_CODE_INVALID_RESIDENT_CODE) {
    return Status::InvalidArgument(response->reason());
  }
  if (response->error_code() != v1::ERROR_CODE_NONE) return Status::Unavailable(response->reason());
  std::optional<std::vector<uint8_t>> symbol;
  interface::AgencyClient::Callbacks own_cb;
  own_cb.on_symbol = [&](interface::IssuedSymbol s) {
    if (s.person_ref == person_ref) symbol = std::move(s.symbol);
  };
  // The same deadline as the registry's answer: the whole enrolment has kCoreTimeout.
  IPN_RETURN_IF_ERROR(own_node_->PollUntil(
      deadline, own_cb, [&] { return symbol.has_value(); }, "the symbol did not arrive"));
  return std::move(*symbol);
}

void PortalServer::Impl::Enrol(const httplib::Request& req, httplib::Response& res) {
  // The resident code passes through here once: out of the request into the registry
  // link's request, then wiped; it is never logged or stored.
  std::string& raw_body = const_cast<std::string&>(req.body);
  if (!Admit(limits_->enrol_client, req.remote_addr, "enrolment", "address", res)) {
    WipeString(&raw_body);
    return;
  }
  std::optional<nlohmann::json> body = JsonBody(req, res);
  WipeString(&raw_body);
  if (!body) return;
  std::string code;
  if (body->contains("resident_code") && (*body)["resident_code"].is_string()) {
    std::string& inside = (*body)["resident_code"].get_ref<std::string&>();
    code = inside;
    WipeString(&inside);
  }
  Result<CredentialKey> key = PublicKeyField(*body);
  if (code.empty()) return ErrorReply(res, 400, "enter your resident code (住民票コード)");
  if (!key.ok()) {
    WipeString(&code);
    return ErrorReply(res, 400, key.status().message());
  }
  const CredentialKey credential = *key;
  if (!Admit(limits_->enrol_account, HexEncode(credential), "enrolment", "credential", res)) {
    WipeString(&code);
    return;
  }
  if (enrolments_->Find(credential).ok()) {
    WipeString(&code);
    return ErrorReply(res, 409, "this credential is already enrolled");
  }
  uint8_t ref_bytes[12];
  randombytes_buf(ref_bytes, sizeof ref_bytes);
  const std::string person_ref = "enrol-" + HexEncode(ref_bytes);
  Result<std::vector<uint8_t>> symbol = IssuePortalSymbol(code, person_ref);
  if (!symbol.ok()) {
    log_->Warn("enrolment_failed",
               {{"enrolment", person_ref}, {"reason", symbol.status().message()}});
    return ErrorReply(res, symbol.status().code() == Status::Code::kInvalidArgument ? 400 : 503,
                      symbol.status().message());
  }
  Enrolment e;
  e.agency_symbol = std::move(*symbol);
  e.enrolled_unix_us = clock_->NowMicros();
  Status added = enrolments_->Add(credential, e);
  sodium_memzero(e.agency_symbol.data(), e.agency_symbol.size());
  if (!added.ok()) {
    return ErrorReply(res, added.code() == Status::Code::kAlreadyExists ? 409 : 500,
                      added.message());
  }
  log_->Info("enrolled", {{"enrolment", person_ref}});
  JsonReply(res, 201, {{"enrolment", "ok"}});
}

void PortalServer::Impl::Challenge(const httplib::Request& req, httplib::Response& res) {
  if (!Admit(limits_->challenge_client, req.remote_addr, "challenge", "address", res)) return;
  const std::array<uint8_t, 32> c = login_->NewChallenge();
  JsonReply(res, 200,
            {{"challenge", Base64UrlEncode(c)}, {"expires_in", kChallengeLifetimeUs / 1'000'000}});
}

void PortalServer::Impl::Login(const httplib::Request& req, httplib::Response& res) {
  if (!Admit(limits_->login_client, req.remote_addr, "log-in", "address", res)) return;
  std::optional<nlohmann::json> body = JsonBody(req, res);
  if (!body) return;
  Result<LoginRequest> login = ParseLoginRequest(*body);
  if (!login.ok()) return ErrorReply(res, 400, login.status().message());
  const CredentialKey& credential = login->credential;
  if (!Admit(limits_->login_account, HexEncode(credential), "log-in", "credential", res)) return;
  // The challenge is consumed before the enrolment is looked up, so a probe of whether
  // a key is enrolled costs a fresh challenge like any other attempt.
  Result<std::string> token = login_->Login(credential, login->challenge, login->signature);
  if (!token.ok()) {
    log_->Info("login_refused", {{"reason", token.status().message()}});
    return ErrorReply(res, 401, token.status().message());
  }
  if (!enrolments_->Find(credential).ok()) {
    login_->Logout(*token);
    log_->Info("login_refused", {{"reason", "not enrolled"}});
    return ErrorReply(res, 401, "this credential is not enrolled");
  }
  // Half the token in an HttpOnly cookie, half to the page (see request_fields.h): a
  // browser sends cookies to every server on this host, whatever its port.
  const SessionHalves halves = SplitSessionToken(*token);
  res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + halves.cookie +
                                   "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                                   std::to_string(kSessionLifetimeUs / 1'000'000));
  log_->Info("login");
  JsonReply(res, 200, {{"ok", true}, {"session", halves.header}});
}

void PortalServer::Impl::Logout(const httplib::Request& req, httplib::Response& res) {
  // JSON only, as every other POST: a form or text/plain post from another origin (which
  // needs no preflight) cannot log a citizen out.
  if (!JsonBody(req, res)) return;
  for (const std::string& token : SessionsOf(req)) login_->Logout(token);
  res.set_header("Set-Cookie",
                 std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  JsonReply(res, 200, {{"ok", true}});
}

Result<v1::RecordPage> PortalServer::Impl::FetchHistory(const Enrolment& enrolment) {
  v1::RecordQuery q;
  q.set_person_symbol(enrolment.agency_symbol.data(), enrolment.agency_symbol.size());
  q.set_with_proofs(true);
  std::lock_guard lock(network_mu_);
  Result<v1::RecordPage> page = own_node_->QueryRecords(std::move(q), kCoreTimeout);
  return page;
}

void PortalServer::Impl::History(const httplib::Request& req, httplib::Response& res, bool csv) {
  // The period first: a bad date is the request's fault whoever sends it.
  if (!Admit(limits_->history_client, req.remote_addr, "history", "address", res)) return;
  Result<Period> period = ParsePeriod(req.get_param_value("from"), req.get_param_value("to"));
  if (!period.ok()) return ErrorReply(res, 400, period.status().message());

  // Whose history: the session's credential, and nothing in the request can change it.
  Result<CredentialKey> owner = Status::PermissionDenied("no session");
  for (const std::string& token : SessionsOf(req)) {
    owner = login_->SessionOwner(token);
    if (owner.ok()) break;
  }
  if (!owner.ok()) return ErrorReply(res, 401, owner.status().message());
  if (!Admit(limits_->history_account, HexEncode(*owner), "history", "credential", res)) return;
  Result<Enrolment> enrolment = enrolments_->Find(*owner);
  if (!enrolment.ok()) return ErrorReply(res, 401, "this credential is not enrolled");
  Result<v1::RecordPage> page = FetchHistory(*enrolment);
  sodium_memzero(enrolment->agency_symbol.data(), enrolment->agency_symbol.size());
  if (!page.ok()) {
    log_->Warn("history_failed", {{"reason", page.status().message()}});
    return ErrorReply(res, 503, "the network could not be asked: " + page.status().message());
  }
  log_->Info("history_served", {{"records", page->records_size()}, {"csv", csv}});
  if (csv) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition", "attachment; filename=\"ipn-history.csv\"");
    const bool japanese = req.get_param_value("lang") != "en";
    res.set_content(HistoryCsv(*page, *options_.names, *period, japanese),
                    "text/csv; charset=utf-8");
    return;
  }
  JsonReply(res, 200, HistoryJson(*page, *options_.names, *period));
}

PortalServer::PortalServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PortalServer::~PortalServer() = default;

Result<std::unique_ptr<PortalServer>> PortalServer::Open(PortalOptions options) {
  auto impl = std::make_unique<Impl>();
  IPN_RETURN_IF_ERROR(impl->Init(std::move(options)));
  return std::unique_ptr<PortalServer>(new PortalServer(std::move(impl)));
}

int PortalServer::port() const {
  return impl_->port();
}
Status PortalServer::Run(const std::atomic<bool>& stop) {
  return impl_->Run(stop);
}

}  // namespace ipn::portal
