// CoreStats: the core's metrics, created once at start.
#include "core/core_stats.h"

namespace ipn::core {

CoreStats::CoreStats(Metrics& m)
    : accepted(m.GetCounter("ipn_core_decisions_total", "Inquiries decided, by decision",
                            {{"decision", "accepted"}})),
      refused(m.GetCounter("ipn_core_decisions_total", "Inquiries decided, by decision",
                           {{"decision", "refused"}})),
      duplicates(m.GetCounter("ipn_core_duplicates_total",
                              "Repeated request ids (answered, not recorded again)")),
      decided_again(m.GetCounter("ipn_core_decided_again_total",
                                 "Inquiries sent again for an open exchange, answered with "
                                 "its decision again (a node's session changed: failover)")),
      resumed(m.GetCounter("ipn_core_resumed_exchanges_total",
                           "Open exchanges a new leader took over from the log")),
      unexpected_outcomes(m.GetCounter("ipn_core_unexpected_outcomes_total",
                                       "Outcomes naming no open exchange of their sender")),
      unexpected_receipts(m.GetCounter("ipn_core_unexpected_receipts_total",
                                       "Receipts naming no open exchange of their sender")),
      refusal_aggregates(m.GetCounter("ipn_core_refusal_aggregates_total",
                                      "Aggregate records of refusals filed under no person")),
      receipts_not_confirmed(
          m.GetCounter("ipn_core_receipts_not_confirmed_total",
                       "Exchanges closed at their receipt deadline with no receipt")),
      symbols_issued(m.GetCounter("ipn_core_symbol_issuance_total", "Symbol issuance requests",
                                  {{"result", "issued"}})),
      symbols_refused(m.GetCounter("ipn_core_symbol_issuance_total", "Symbol issuance requests",
                                   {{"result", "refused"}})),
      records_appended(
          m.GetCounter("ipn_core_records_appended_total", "Provision records made durable")),
      policy_loads_refused(m.GetCounter("ipn_core_policy_loads_refused_total",
                                        "Policy bundles refused while running (signature, "
                                        "approvals, contents)")),
      open_exchanges(
          m.GetGauge("ipn_core_open_exchanges", "Inquiries accepted and not yet closed")),
      connected_nodes(m.GetGauge("ipn_core_connected_nodes", "Agency nodes that said Hello")),
      policy_version(m.GetGauge("ipn_core_policy_version", "The policy bundle's version in force")),
      handshakes_refused(m.GetGauge("ipn_core_handshakes_refused",
                                    "Connections refused at the CurveZMQ handshake (unknown key)")),
      backlog(m.GetGauge("ipn_core_backlog_messages", "Messages waiting for slow nodes")),
      backlog_dropped(m.GetGauge("ipn_core_backlog_dropped_messages",
                                 "Waiting messages dropped (past the limit, or node gone)")),
      records_available(m.GetGauge("ipn_core_records_available",
                                   "1 while provision records can be written; 0 while the core "
                                   "refuses what it could not record (disk full, write error)")),
      records(m.GetGauge("ipn_core_records",
                         "Provision records in this core's log (its Merkle tree's size)")),
      leading(m.GetGauge("ipn_core_leading",
                         "1 while this core leads (a replicated core; always 1 for a core of "
                         "its own), 0 while it follows")),
      decision_latency(m.GetHistogram("ipn_core_decision_latency_seconds",
                                      "Time from an inquiry's arrival to its durable decision")),
      exchange_latency(m.GetHistogram("ipn_core_exchange_latency_seconds",
                                      "Time from acceptance to the inquirer's receipt")),
      commit_latency(
          m.GetHistogram("ipn_core_commit_seconds", "Time to make one batch of records durable")) {
  for (int r = 1; r < v1::DenyReason_ARRAYSIZE; ++r) {
    if (!v1::DenyReason_IsValid(r)) continue;
    by_reason[r] = &m.GetCounter("ipn_core_refusals_total", "Refused inquiries by reason",
                                 {{"reason", MetricLabel(static_cast<v1::DenyReason>(r))}});
  }
  for (int o = 1; o < v1::Outcome_ARRAYSIZE; ++o) {
    if (!v1::Outcome_IsValid(o) || o == v1::OUTCOME_REFUSED) continue;
    by_outcome[o] = &m.GetCounter("ipn_core_outcomes_total", "Accepted exchanges by how they ended",
                                  {{"outcome", MetricLabel(static_cast<v1::Outcome>(o))}});
  }
}

void CoreStats::Refused(v1::DenyReason reason) {
  refused.Add();
  if (reason > 0 && reason < v1::DenyReason_ARRAYSIZE && by_reason[reason] != nullptr) {
    by_reason[reason]->Add();
  }
}

void CoreStats::Ended(v1::Outcome outcome) {
  if (outcome > 0 && outcome < v1::Outcome_ARRAYSIZE && by_outcome[outcome] != nullptr) {
    by_outcome[outcome]->Add();
  }
}

}  // namespace ipn::core
