// DeskServer: routes, log-in, audited views (oversight/desk_server.h).
#include "oversight/desk_server.h"

#include <httplib.h>

#include <thread>

#include "common/encoding.h"
#include "common/http_assets.h"
#include "common/http_listen.h"
#include "common/http_task_queue.h"
#include "common/limits.h"
#include "oversight/desk_views.h"
#include "oversight/desk_web_assets.h"

namespace ipn::oversight {
namespace {

constexpr size_t kHttpWorkers = 16;
constexpr time_t kHttpTimeoutS = 5;
constexpr size_t kDrillLimit = 2000;
constexpr size_t kHeadsShown = 1000;  // the newest; the answer says how many there are
constexpr char kCookie[] = "desk_session";

void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void Error(httplib::Response& res, int status, const char* code, const std::string& message) {
  Reply(res, status, {{"error", code}, {"message", message}});
}

void StatusError(httplib::Response& res, const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return Error(res, 400, "bad_request", s.message());
    case Status::Code::kNotFound: return Error(res, 404, "not_found", s.message());
    case Status::Code::kFailedPrecondition: return Error(res, 409, "unavailable", s.message());
    case Status::Code::kCorruption: return Error(res, 502, "finding", s.message());
    default: return Error(res, 503, "unavailable", s.message());
  }
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(at, end - at);
    const size_t start = part.find_first_not_of(' ');
    if (start != std::string::npos) part = part.substr(start);
    if (part.starts_with(name + "=")) return part.substr(name.size() + 1);
    at = end + 1;
  }
  return "";
}

bool IsJson(const httplib::Request& req) {
  return req.get_header_value("Content-Type").starts_with("application/json");
}

}  // namespace

class DeskServer::Impl {
 public:
  explicit Impl(DeskServerOptions o) : o_(std::move(o)) {}
  Status Init();
  int port() const { return port_; }
  Status Start() { return ListenInBackground(server_, &thread_); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  using View =
      std::function<void(const std::string& who, const httplib::Request&, httplib::Response&)>;
  void Route();
  bool HostAllowed(const httplib::Request& req) const;
  // A route that needs a session: the investigator, then the audit entry, then the view.
  void Authed(bool post, const std::string& pattern, const char* action, View view);
  void Login(const httplib::Request& req, httplib::Response& res);
  void Summary(const std::string& who, httplib::Response& res);
  void Volumes(const httplib::Request& req, httplib::Response& res);
  void Anomalies(const httplib::Request& req, httplib::Response& res);
  void SetStatus(const std::string& who, const httplib::Request& req, httplib::Response& res);
  void Fees(const httplib::Request& req, httplib::Response& res, bool csv);

  void CountStranger() {
    std::lock_guard lock(stranger_mu_);
    ++strangers_;
    const int64_t now = o_.clock->NowMicros();
    if (now - strangers_logged_us_ >= 60'000'000) {
      o_.logger->Warn("desk_login_refused",
                      {{"unknown_or_locked_names", std::to_string(strangers_)}});
      strangers_logged_us_ = now;
      strangers_ = 0;
    }
  }

  DeskServerOptions o_;
  std::mutex stranger_mu_;
  uint64_t strangers_ = 0;
  int64_t strangers_logged_us_ = INT64_MIN / 2;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

Status DeskServer::Impl::Init() {
  if (!o_.service || !o_.auth || !o_.audit || !o_.logger || !o_.clock) {
    return Status::InvalidArgument("DeskServerOptions: service, auth, audit, logger and clock");
  }
  Route();
  server_.set_payload_max_length(16 * 1024);
  server_.new_task_queue = [] {
    return new BoundedTaskQueue(kHttpWorkers, limits::kMaxHttpConnectionsWaiting);
  };
  server_.set_read_timeout(kHttpTimeoutS, 0);
  server_.set_write_timeout(kHttpTimeoutS, 0);
  server_.set_keep_alive_timeout(kHttpTimeoutS);
  if (o_.port == 0) {
    port_ = server_.bind_to_any_port(o_.host);
  } else if (server_.bind_to_port(o_.host, o_.port)) {
    port_ = o_.port;
  }
  if (port_ < 0) {
    return Status::Unavailable("cannot bind " + o_.host + ":" + std::to_string(o_.port));
  }
  return Status::Ok();
}

void DeskServer::Impl::Authed(bool post, const std::string& pattern, const char* action,
                              View view) {
  auto handler = [this, post, action, view](const httplib::Request& req, httplib::Response& res) {
    if (!HostAllowed(req)) return Error(res, 421, "bad_request", "not this desk's address");
    Result<std::string> who =
        o_.auth->SessionOwner(req.get_header_value("X-Desk-Session"),
                              CookieValue(req.get_header_value("Cookie"), kCookie));
    if (!who.ok()) return Error(res, 401, "unauthenticated", "log in first");
    if (post && !IsJson(req)) {
      (void)o_.audit->Append(*who, "refused", req.path + ": not application/json");
      return Error(res, 415, "bad_request", "a POST carries application/json");
    }
    std::string detail = req.path;
    if (!req.params.empty()) {
      detail += "?";
      for (const auto& [k, v] : req.params) detail += k + "=" + v + "&";
      detail.pop_back();
    }
    if (post && !req.body.empty()) detail += " " + req.body;
    // Nothing is shown that the audit log does not hold first.
    if (Status s = o_.audit->Append(*who, action, detail); !s.ok()) {
      o_.logger->Error("desk_audit_failed", {{"error", s.ToString()}});
      return Error(res, 503, "unavailable", "the desk cannot record this view: " + s.message());
    }
    view(*who, req, res);
  };
  if (post) {
    server_.Post(pattern, handler);
  } else {
    server_.Get(pattern, handler);
  }
}

void DeskServer::Impl::Route() {
  server_.set_default_headers({
      {"Content-Security-Policy",
       "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  });
  ServeEmbeddedFiles(server_, kDeskWebAssets, kDeskWebAssetCount);
  server_.Post("/api/login",
               [this](const httplib::Request& q, httplib::Response& r) { Login(q, r); });
  server_.Post("/api/logout", [this](const httplib::Request& req, httplib::Response& res) {
    o_.auth->LogOut(req.get_header_value("X-Desk-Session"),
                    CookieValue(req.get_header_value("Cookie"), kCookie));
    res.set_header("Set-Cookie",
                   std::string(kCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Reply(res, 200, nlohmann::json::object());
  });
  Authed(false, "/api/summary", "view",
         [this](const std::string& who, const httplib::Request&, httplib::Response& res) {
           Summary(who, res);
         });
  Authed(false, "/api/names", "view",
         [this](const std::string&, const httplib::Request&, httplib::Response& res) {
           Reply(res, 200, NamesJson(o_.names.get()));
         });
  Authed(false, "/api/volumes", "view",
         [this](const std::string&, const httplib::Request& req, httplib::Response& res) {
           Volumes(req, res);
         });
  Authed(false, "/api/anomalies", "view",
         [this](const std::string&, const httplib::Request& req, httplib::Response& res) {
           Anomalies(req, res);
         });
  Authed(false, R"(/api/anomalies/([0-9a-f]{16}))", "view",
         [this](const std::string&, const httplib::Request& req, httplib::Response& res) {
           Result<FlagDetail> d = o_.service->Flag(req.matches[1], kDrillLimit);
           if (!d.ok()) return StatusError(res, d.status());
           Reply(res, 200, FlagJson(*d));
         });
  Authed(true, R"(/api/anomalies/([0-9a-f]{16})/status)", "set_status",
         [this](const std::string& who, const httplib::Request& req, httplib::Response& res) {
           SetStatus(who, req, res);
         });
  Authed(false, "/api/heads", "view",
         [this](const std::string&, const httplib::Request&, httplib::Response& res) {
           Result<std::vector<CommittedHead>> heads = o_.service->store().Heads();
           Result<std::vector<DeskFinding>> findings = o_.service->store().Findings();
           if (!heads.ok()) return StatusError(res, heads.status());
           if (!findings.ok()) return StatusError(res, findings.status());
           Reply(res, 200, HeadsJson(*heads, *findings, kHeadsShown));
         });
  Authed(false, "/api/fees", "view",
         [this](const std::string&, const httplib::Request& req, httplib::Response& res) {
           Fees(req, res, false);
         });
  Authed(false, "/api/fees.csv", "view",
         [this](const std::string&, const httplib::Request& req, httplib::Response& res) {
           Fees(req, res, true);
         });
  Authed(true, "/api/pull", "pull",
         [this](const std::string&, const httplib::Request&, httplib::Response& res) {
           // Never waits behind a running pull (a long catch-up would hold every worker).
           Result<PullRound> round = o_.service->PullNow(/*wait=*/false);
           if (!round.ok()) return StatusError(res, round.status());
           Reply(res, 200, {{"added", round->added}, {"head_size", round->head_size}});
         });
  Authed(false, "/api/audit", "view",
         [this](const std::string&, const httplib::Request&, httplib::Response& res) {
           Reply(res, 200, AuditJson(o_.audit->Recent(200)));
         });
  server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) return Error(res, 404, "not_found", "no such page");
    if (res.status == 413) return Error(res, 413, "bad_request", "the request is too large");
    if (res.status < 500) return Error(res, res.status, "bad_request", "a malformed request");
    Error(res, res.status, "unavailable", "the desk could not answer");
  });
  // An exception's text is not sent to the browser (httplib would put it in a header).
  server_.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr e) {
        std::string what = "unknown";
        try {
          if (e) std::rethrow_exception(e);
        } catch (const std::exception& x) {
          what = x.what();
        } catch (...) {
        }
        o_.logger->Error("desk_request_failed", {{"path", req.path}, {"error", what}});
        Error(res, 500, "unavailable", "the desk could not answer");
      });
}

// The Host the browser asked for must be this desk's own loopback address: a page of
// another site whose name was made to resolve to 127.0.0.1 (DNS rebinding) is refused.
bool DeskServer::Impl::HostAllowed(const httplib::Request& req) const {
  const std::string host = req.get_header_value("Host");
  const std::string port = ":" + std::to_string(port_);
  return host == o_.host + port || host == "127.0.0.1" + port || host == "localhost" + port ||
         host == "[::1]" + port;
}

void DeskServer::Impl::Login(const httplib::Request& req, httplib::Response& res) {
  if (!HostAllowed(req)) return Error(res, 421, "bad_request", "not this desk's address");
  if (!IsJson(req)) return Error(res, 415, "bad_request", "a POST carries application/json");
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      !body.contains("password") || !body["password"].is_string() || !body.contains("code") ||
      !body["code"].is_string()) {
    return Error(res, 400, "bad_request", "name, password and code are strings");
  }
  const std::string name = body["name"].get<std::string>();
  std::string why;  // which factor failed: for the audit and the log, never for the page
  Result<DeskSession> s = o_.auth->LogIn(name, body["password"].get<std::string>(),
                                         body["code"].get<std::string>(), &why);
  if (!s.ok()) {
    const bool locked = s.status().code() == Status::Code::kResourceExhausted;
    // Recorded when the name is an account (refusals of anyone else would let a stranger
    // fill the log); the process log has the rest.
    // An investigator's name refused is recorded (at most kMaxFailures times in each
    // lockout: a locked name is refused without it); any other name is a stranger, who
    // must not fill the logs: counted, and logged once a minute.
    if (!locked && o_.auth->HasAccount(name)) {
      o_.logger->Warn("desk_login_refused", {{"name", name}, {"why", why}});
      (void)o_.audit->Append(name, "login_refused", why);
    } else {
      CountStranger();
    }
    if (locked) {
      nlohmann::json j = {{"error", "locked"},
                          {"message", s.status().message()},
                          {"retry_after_s", o_.auth->LockedForSeconds(name)}};
      return Reply(res, 429, j);
    }
    if (s.status().code() == Status::Code::kUnavailable) {
      return Error(res, 503, "unavailable", s.status().message());
    }
    return Error(res, 401, "unauthenticated", s.status().message());
  }
  // A session the audit log does not hold is not handed out.
  if (Status audited = o_.audit->Append(name, "login", ""); !audited.ok()) {
    o_.auth->LogOut(s->page_half, s->cookie_half);
    o_.logger->Error("desk_audit_failed", {{"error", audited.ToString()}});
    return Error(res, 503, "unavailable",
                 "the desk cannot record this log-in: " + audited.message());
  }
  res.set_header("Set-Cookie", std::string(kCookie) + "=" + s->cookie_half +
                                   "; HttpOnly; SameSite=Strict; Path=/");
  Reply(res, 200, {{"session", s->page_half}, {"name", name}, {"expires_us", s->expires_us}});
}

void DeskServer::Impl::Summary(const std::string& who, httplib::Response& res) {
  DeskStore& store = o_.service->store();
  const std::optional<records::SignedTreeHead> head = store.head();
  const std::optional<LastPull> last = o_.service->last_pull();
  Result<std::vector<DeskFinding>> findings = store.Findings();
  nlohmann::json j = {{"investigator", who},
                      {"size", store.size()},
                      {"staged", store.staged()},
                      {"head", head ? HeadJson(*head) : nlohmann::json(nullptr)},
                      {"records_key", HexEncode(o_.records_key)},
                      {"last_pull", last ? nlohmann::json{{"at_us", last->at_us},
                                                          {"added", last->added},
                                                          {"ok", last->ok},
                                                          {"error", last->error}}
                                         : nlohmann::json(nullptr)},
                      {"findings", findings.ok() ? findings->size() : 0},
                      {"open_anomalies", o_.service->cases().Count(CaseStatus::kOpen)},
                      {"now_us", o_.clock->NowMicros()}};
  Reply(res, 200, j);
}

void DeskServer::Impl::Volumes(const httplib::Request& req, httplib::Response& res) {
  Result<VolumeQuery> q = ParseVolumeQuery(
      [&req](const char* k) { return req.has_param(k) ? req.get_param_value(k) : ""; });
  if (!q.ok()) return StatusError(res, q.status());
  Result<std::vector<VolumeRow>> rows = o_.service->store().Volumes(*q);
  if (!rows.ok()) return StatusError(res, rows.status());
  Reply(res, 200, VolumesJson(*rows));
}

void DeskServer::Impl::Anomalies(const httplib::Request& req, httplib::Response& res) {
  std::optional<CaseStatus> status;
  if (req.has_param("status") && !req.get_param_value("status").empty()) {
    status = ParseCaseStatus(req.get_param_value("status"));
    if (!status) return Error(res, 400, "bad_request", "status is open, under_review or closed");
  }
  nlohmann::json list = nlohmann::json::array();
  for (const DeskCase& c : o_.service->cases().List(status)) list.push_back(CaseJson(c));
  Reply(res, 200, {{"anomalies", std::move(list)}});
}

void DeskServer::Impl::SetStatus(const std::string& who, const httplib::Request& req,
                                 httplib::Response& res) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("status") || !body["status"].is_string() ||
      (body.contains("note") && !body["note"].is_string())) {
    return Error(res, 400, "bad_request", "status is a string, note a string");
  }
  const std::optional<CaseStatus> status = ParseCaseStatus(body["status"].get<std::string>());
  if (!status) return Error(res, 400, "bad_request", "status is open, under_review or closed");
  const std::string note = body.value("note", "");
  Result<DeskCase> c = o_.service->cases().SetStatus(req.matches[1].str(), *status, note, who,
                                                     o_.clock->NowMicros());
  if (!c.ok()) return StatusError(res, c.status());
  Reply(res, 200, CaseJson(*c));
}

void DeskServer::Impl::Fees(const httplib::Request& req, httplib::Response& res, bool csv) {
  Result<DeskFees> fees = o_.service->Fees(req.get_param_value("quarter"));
  if (!fees.ok()) {
    if (fees.status().code() == Status::Code::kFailedPrecondition) {
      return Error(res, 404, "not_found", fees.status().message());
    }
    return StatusError(res, fees.status());
  }
  if (!csv) return Reply(res, 200, FeesJson(*fees));
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Disposition",
                 "attachment; filename=\"fees-" + fees->statement.quarter.name + ".csv\"");
  res.set_content(FeeStatementCsv(fees->statement), "text/csv; charset=utf-8");
}

DeskServer::DeskServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeskServer::~DeskServer() {
  impl_->Stop();
}

Result<std::unique_ptr<DeskServer>> DeskServer::Open(DeskServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  IPN_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<DeskServer>(new DeskServer(std::move(impl)));
}

int DeskServer::port() const {
  return impl_->port();
}
Status DeskServer::Start() {
  return impl_->Start();
}
void DeskServer::Stop() {
  impl_->Stop();
}

}  // namespace ipn::oversight
