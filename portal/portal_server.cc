// PortalServer: routes, card enrolment and log-in, history.
//
//   node ─► CardLinks (own thread) ─► EnrolmentStore::Link        (the issuer linked a card)
//   HTTP ─► Route ─┬─► Challenge ─► LoginService::NewChallenge
//                  ├─► Enrol ─► CheckCard ─► CardLinks::WaitForLink ─► EnrolmentStore::Enrol
//                  │                                                 ─► StartSession
//                  ├─► Login ─► CheckCard ─► EnrolmentStore::Find ─► StartSession
//                  │   (CheckCard: LoginService::ConsumeChallenge, then CardTrust::Verify)
//                  ├─► Logout ─► LoginService::Logout
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
#include "common/file_util.h"
#include "common/http_assets.h"
#include "common/http_listen.h"
#include "common/http_task_queue.h"
#include "common/limits.h"
#include "common/secret.h"
#include "common/time_text.h"
#include "interface/agency_client.h"
#include "portal/card_links.h"
#include "portal/card_trust.h"
#include "portal/enrolment_store.h"
#include "portal/history_view.h"
#include "portal/login.h"
#include "portal/request_fields.h"
#include "portal/trust_document.h"
#include "portal/web_assets.h"

namespace ipn::portal {
namespace {

constexpr auto kCoreTimeout = std::chrono::seconds(10);
// An enrolment may arrive just before the card's link (the issuer's confirmation and the
// portal's copy of the link travel separately): it waits this long for it.
constexpr auto kLinkWait = std::chrono::seconds(2);
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
  const std::string& origin() const { return options_.origin; }
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
  void Trust(httplib::Response& res);
  void SignedPolicy(httplib::Response& res);
  // Parses a JSON POST body; answers 415/400 itself and returns nullopt on failure.
  std::optional<nlohmann::json> JsonBody(const httplib::Request& req, httplib::Response& res);
  // The body's card answer checked: the challenge used up, then the card's signature over
  // it and this portal's origin. The card's serial, or nullopt after answering 400/401.
  std::optional<std::string> CheckCard(const httplib::Request& req, httplib::Response& res,
                                       const char* action);
  // Opens a session for `serial`: half the token in an HttpOnly cookie, half in the body.
  void StartSession(httplib::Response& res, int status, const std::string& serial,
                    nlohmann::json body);
  Result<v1::RecordPage> FetchHistory(const Enrolment& enrolment);

  PortalOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  std::unique_ptr<EnrolmentStore> enrolments_;
  std::unique_ptr<LoginService> login_;
  std::unique_ptr<CardTrust> cards_;
  std::unique_ptr<CardLinks> links_;
  std::mutex network_mu_;  // the client below is used by one request at a time
  std::unique_ptr<interface::AgencyClient> own_node_;
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
  Result<std::unique_ptr<CardTrust>> trust =
      CardTrust::Load(options_.card_issuer_certificate, options_.card_revocation_list,
                      options_.data_dir + "/card_crl_seen");
  if (!trust.ok()) return trust.status().WithContext("the card issuer");
  cards_ = std::move(*trust);
  auto own = interface::AgencyClient::Connect(options_.node_endpoint);
  if (!own.ok()) return own.status().WithContext("the portal's node");
  own_node_ = std::move(*own);
  Result<std::unique_ptr<CardLinks>> links =
      CardLinks::Start(options_.node_endpoint, enrolments_.get(), clock_, log_);
  if (!links.ok()) return links.status();
  links_ = std::move(*links);

  Route();
  server_.set_payload_max_length(64 * 1024);
  // A handful of slow clients must not stop the portal answering anyone (there is no
  // reverse proxy in front of it): enough workers, and a client that does not finish its
  // request within the timeout is cut off.
  server_.new_task_queue = [] {
    return new BoundedTaskQueue(kHttpWorkers, limits::kMaxHttpConnectionsWaiting);
  };
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
  if (options_.origin.empty()) {
    options_.origin = "http://" + options_.host + ":" + std::to_string(port_);
  }
  return Status::Ok();
}

Status PortalServer::Impl::Run(const std::atomic<bool>& stop) {
  std::thread http;
  IPN_RETURN_IF_ERROR(ListenInBackground(server_, &http));
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
  ServeEmbeddedFiles(server_, kWebAssets, kWebAssetCount);
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
  server_.Get("/api/trust", [this](const httplib::Request&, httplib::Response& r) { Trust(r); });
  server_.Get("/api/policy",
              [this](const httplib::Request&, httplib::Response& r) { SignedPolicy(r); });
  server_.Get("/api/history.csv",
              [this](const httplib::Request& q, httplib::Response& r) { History(q, r, true); });
  server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) ErrorReply(res, res.status, "not found");
  });
}

// The trust document as signed, after checking it against this build's roots: a file the
// page would refuse is refused here, with the reason in the log.
void PortalServer::Impl::Trust(httplib::Response& res) {
  Result<std::string> text = options_.trust_document.empty()
                                 ? Result<std::string>(Status::NotFound("none configured"))
                                 : ReadFile(options_.trust_document);
  if (!text.ok()) return ErrorReply(res, 404, "this portal publishes no trust document");
  if (text->size() > 64 * 1024) return ErrorReply(res, 503, "the trust document is too large");
  const std::vector<records::PublicKey> roots = BuiltInTrustRoots();
  Result<TrustDocument> doc = VerifyTrustDocument(*text, roots);
  if (!doc.ok()) {
    log_->Error("trust_document_refused", {{"error", doc.status().ToString()}});
    return ErrorReply(res, 503, "the trust document does not verify: " + doc.status().message());
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(*text, "application/json; charset=utf-8");
}

// The signed policy bundle the names come from, as signed: the page verifies it with a
// policy key the trust document names and compares every name it shows.
void PortalServer::Impl::SignedPolicy(httplib::Response& res) {
  if (options_.signed_policy.empty()) {
    return ErrorReply(res, 404, "this portal publishes no signed policy bundle");
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(options_.signed_policy, "application/octet-stream");
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

std::optional<std::string> PortalServer::Impl::CheckCard(const httplib::Request& req,
                                                         httplib::Response& res,
                                                         const char* action) {
  std::optional<nlohmann::json> body = JsonBody(req, res);
  if (!body) return std::nullopt;
  Result<CardLogin> login = ParseCardLogin(*body);
  if (!login.ok()) {
    ErrorReply(res, 400, login.status().message());
    return std::nullopt;
  }
  // The challenge is used up first, whatever follows: a captured answer cannot be
  // replayed, and every guess costs a fresh challenge.
  Status fresh = login_->ConsumeChallenge(login->challenge);
  Result<std::string> serial = fresh.ok()
                                   ? cards_->Verify(login->card, options_.origin, login->challenge,
                                                    clock_->NowMicros() / 1'000'000)
                                   : Result<std::string>(fresh);
  if (!serial.ok()) {
    log_->Info("card_refused", {{"action", action}, {"reason", serial.status().message()}});
    ErrorReply(res, 401, serial.status().message());
    return std::nullopt;
  }
  return std::move(*serial);
}

void PortalServer::Impl::StartSession(httplib::Response& res, int status, const std::string& serial,
                                      nlohmann::json body) {
  // Half the token in an HttpOnly cookie, half to the page (see request_fields.h): a
  // browser sends cookies to every server on this host, whatever its port.
  const SessionHalves halves = SplitSessionToken(login_->OpenSession(serial));
  res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + halves.cookie +
                                   "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                                   std::to_string(kSessionLifetimeUs / 1'000'000));
  body["ok"] = true;
  body["session"] = halves.header;
  JsonReply(res, status, body);
}

void PortalServer::Impl::Enrol(const httplib::Request& req, httplib::Response& res) {
  if (!Admit(limits_->enrol_client, req.remote_addr, "enrolment", "address", res)) return;
  std::optional<std::string> serial = CheckCard(req, res, "enrolment");
  if (!serial) return;
  // Per card, counted only once the card has signed: someone who merely has a copy of a
  // citizen's certificate cannot use up that citizen's attempts.
  if (!Admit(limits_->enrol_account, *serial, "enrolment", "card", res)) return;
  Result<Enrolment> linked = links_->WaitForLink(*serial, kLinkWait);
  if (!linked.ok()) {
    const bool unknown = linked.status().code() == Status::Code::kNotFound;
    log_->Warn("enrolment_refused", {{"reason", linked.status().message()}});
    return ErrorReply(res, unknown ? 403 : 500,
                      unknown ? "this card is not linked to anyone at the portal yet: the card "
                                "issuer links a card when it issues it (ask them to link it)"
                              : linked.status().message());
  }
  sodium_memzero(linked->agency_symbol.data(), linked->agency_symbol.size());
  Result<Enrolment> enrolled = enrolments_->Enrol(*serial, clock_->NowMicros());
  if (!enrolled.ok()) {
    return ErrorReply(res, enrolled.status().code() == Status::Code::kAlreadyExists ? 409 : 500,
                      enrolled.status().message());
  }
  sodium_memzero(enrolled->agency_symbol.data(), enrolled->agency_symbol.size());
  log_->Info("enrolled");
  StartSession(res, 201, *serial, {{"enrolment", "ok"}});
}

void PortalServer::Impl::Challenge(const httplib::Request& req, httplib::Response& res) {
  if (!Admit(limits_->challenge_client, req.remote_addr, "challenge", "address", res)) return;
  const std::array<uint8_t, 32> c = login_->NewChallenge();
  JsonReply(res, 200,
            {{"challenge", Base64UrlEncode(c)},
             {"origin", options_.origin},
             {"expires_in", kChallengeLifetimeUs / 1'000'000}});
}

void PortalServer::Impl::Login(const httplib::Request& req, httplib::Response& res) {
  if (!Admit(limits_->login_client, req.remote_addr, "log-in", "address", res)) return;
  std::optional<std::string> serial = CheckCard(req, res, "log-in");
  if (!serial) return;
  if (!Admit(limits_->login_account, *serial, "log-in", "card", res)) return;
  Result<Enrolment> e = enrolments_->Find(*serial);
  if (e.ok()) sodium_memzero(e->agency_symbol.data(), e->agency_symbol.size());
  if (!e.ok() || e->enrolled_unix_us == 0) {
    log_->Info("login_refused", {{"reason", "not enrolled"}});
    return ErrorReply(res, 401, "this card is not enrolled: enrol with it first");
  }
  log_->Info("login");
  StartSession(res, 200, *serial, {});
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

  // Whose history: the session's card, and nothing in the request can change it.
  Result<std::string> owner = Status::PermissionDenied("no session");
  for (const std::string& token : SessionsOf(req)) {
    owner = login_->SessionOwner(token);
    if (!owner.ok()) continue;
    // A card revoked since the log-in ends its sessions here, not at their expiry.
    if (Status card = cards_->CheckCard(*owner, clock_->NowMicros() / 1'000'000); !card.ok()) {
      login_->Logout(token);
      log_->Info("session_ended", {{"reason", card.message()}});
      owner = Status::PermissionDenied("your session has ended: " + card.message());
      continue;
    }
    break;
  }
  if (!owner.ok()) return ErrorReply(res, 401, owner.status().message());
  if (!Admit(limits_->history_account, *owner, "history", "card", res)) return;
  Result<Enrolment> enrolment = enrolments_->Find(*owner);
  if (!enrolment.ok()) return ErrorReply(res, 401, "this card is not enrolled");
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
const std::string& PortalServer::origin() const {
  return impl_->origin();
}
Status PortalServer::Run(const std::atomic<bool>& stop) {
  return impl_->Run(stop);
}

}  // namespace ipn::portal
