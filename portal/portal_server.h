// PortalServer: the citizens' disclosure portal (情報提供等記録開示システム) on loopback.
// It is an agency of its own (class "portal") with its own interface node: it holds,
// per card, its own agency symbol for the card's holder — which the core issues it when
// the card issuer links the card (CardLinks) — and asks the core for that person's
// records by it. It never sees a resident code. Enrolment and log-in each take a fresh
// signature by the citizen's card over the portal's challenge and origin, from a card of
// the pinned issuer that is not revoked (CardTrust); every API answer is about the
// logged-in citizen only — no request names a person. Serves the page (portal/web,
// compiled in) and a small JSON API (docs/portal.md).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "policy/policy.h"
#include "portal/attempt_limiter.h"

namespace ipn::portal {

// How often one client (address) and one account (card) may try each thing;
// a refusal is 429 with "try again at …" (docs/portal.md, "Limits").
struct PortalLimits {
  AttemptLimit challenge_per_client{60, 1'000'000};
  AttemptLimit login_per_client{30, 2'000'000};
  AttemptLimit login_per_account{10, 30'000'000};
  AttemptLimit enrol_per_client{10, 60'000'000};
  AttemptLimit enrol_per_account{3, 3'600'000'000};
  AttemptLimit history_per_client{120, 500'000};
  AttemptLimit history_per_account{60, 1'000'000};
};

struct PortalOptions {
  std::string agency_code = "PORTAL-0001";
  std::string node_endpoint;  // the portal's own node, local endpoint (ipc://…)
  std::string data_dir;       // enrolments and the portal's data key
  // The card issuer the portal trusts: its certificate (pinned) and its revocation list.
  std::string card_issuer_certificate;
  std::string card_revocation_list;
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  // The origin cards sign for (scheme://host:port as the browser sees the page); default
  // http://HOST:PORT of the bound address. Behind a TLS front end, its https:// origin.
  std::string origin;
  std::shared_ptr<const policy::Policy> names;  // agencies', businesses', items' names
  // The signed policy bundle file `names` was loaded from, exactly as on disk: served at
  // /api/policy so that the page checks every name it shows against the administrator's
  // signature. Empty (names from elsewhere): 404, and the page says names are unchecked.
  std::string signed_policy;
  // The signed trust document served at /api/trust (portal/trust_document.h), read at each
  // request so that a new one takes effect at once; empty or absent: 404.
  std::string trust_document;
  Logger* logger = nullptr;      // required
  const Clock* clock = nullptr;  // default: the system clock
  PortalLimits limits;
};

class PortalServer {
 public:
  static Result<std::unique_ptr<PortalServer>> Open(PortalOptions options);
  ~PortalServer();
  PortalServer(const PortalServer&) = delete;
  PortalServer& operator=(const PortalServer&) = delete;

  int port() const;
  const std::string& origin() const;
  // Serves until `stop` becomes true.
  Status Run(const std::atomic<bool>& stop);

  class Impl;

 private:
  explicit PortalServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::portal
