// CoreStats: the core's metrics, declared once (Envoy's stats macros are the model). Every
// counter, including one per deny reason and per outcome, is created when the core
// starts, so counting on the hot path is one relaxed atomic add: no lock, no map, no
// string. Label values come from one function per wire enum (MetricLabel).
//
//   ipn_core_decisions_total{decision="accepted"|"refused"}   every inquiry decided
//   ipn_core_refusals_total{reason="no_such_link"|…}          refused, by deny reason
//   ipn_core_outcomes_total{outcome="provided"|"not_held"|"failed"|"timed_out"|"unreachable"}
//                                                              accepted exchanges' ends
#pragma once

#include <array>
#include <string>

#include "common/metric_labels.h"
#include "common/metrics.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::core {

struct CoreStats {
  explicit CoreStats(Metrics& metrics);

  void Refused(v1::DenyReason reason);
  void Ended(v1::Outcome outcome);

  Counter& accepted;
  Counter& refused;
  Counter& duplicates;     // repeated request ids (answered, not recorded again)
  Counter& decided_again;  // inquiries sent again for an open exchange (after a failover)
  Counter& resumed;        // exchanges a new leader took over from the log
  Counter& unexpected_outcomes;
  Counter& unexpected_receipts;
  Counter& refusal_aggregates;      // aggregate records of refusals filed under no person
  Counter& receipts_not_confirmed;  // closed at the receipt deadline without a receipt
  Counter& symbols_issued;
  Counter& symbols_refused;
  Counter& records_appended;
  Counter& policy_loads_refused;  // bundles not loaded (bad signature, missing approvals)
  Gauge& open_exchanges;
  Gauge& connected_nodes;
  Gauge& policy_version;      // the bundle in force
  Gauge& handshakes_refused;  // unauthenticated connections refused (ZAP)
  Gauge& backlog;             // messages waiting for slow nodes (PeerBacklog)
  Gauge& backlog_dropped;     // waiting messages dropped past the limit or for gone nodes
  Gauge& records_available;   // 1 while the record store takes appends; 0 after a failed write
  Gauge& records;             // the log's size (a follower's: how far it has applied)
  Gauge& leading;             // 1 while this core leads (replication)
  Histogram& decision_latency;
  Histogram& exchange_latency;
  Histogram& commit_latency;
  std::array<Counter*, v1::DenyReason_ARRAYSIZE> by_reason{};
  std::array<Counter*, v1::Outcome_ARRAYSIZE> by_outcome{};
};

}  // namespace ipn::core
