// The desk's answers as JSON (the page's API, docs/oversight.md "The desk's API"): one
// function per kind of answer, so that oversight/desk_server.cc only routes.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "oversight/desk_audit.h"
#include "oversight/desk_service.h"
#include "policy/policy.h"

namespace ipn::oversight {

// The head as the portal's page reads it (ipnVerify.verifyHeadSignature).
nlohmann::json HeadJson(const records::SignedTreeHead& head);
nlohmann::json VolumesJson(const std::vector<VolumeRow>& rows);
nlohmann::json CaseJson(const DeskCase& c);
// The flag, its head, its records each with "inclusion_path".
nlohmann::json FlagJson(const FlagDetail& d);
// The newest `limit` heads and findings (newest first), with "heads_total" and
// "findings_total".
nlohmann::json HeadsJson(const std::vector<CommittedHead>& heads,
                         const std::vector<DeskFinding>& findings, size_t limit);
nlohmann::json FeesJson(const DeskFees& fees);
nlohmann::json NamesJson(const policy::Policy* names);
nlohmann::json AuditJson(const std::vector<AuditEntry>& entries);

// A volumes request's parameters read into a query; InvalidArgument names the bad one.
// `get` returns a parameter's value ("" when absent).
Result<VolumeQuery> ParseVolumeQuery(const std::function<std::string(const char*)>& get);

}  // namespace ipn::oversight
