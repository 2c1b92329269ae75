// NodeStats: an interface node's metrics, declared once; every counter exists from the
// start, so counting is one relaxed atomic add (labels: common/metric_labels.h).
//
//   ipn_node_inquiries_total{outcome}    this agency's inquiries, by how they ended
//   ipn_node_provisions_total{outcome}   forwarded inquiries answered, by outcome
#pragma once

#include <array>

#include "common/metric_labels.h"
#include "common/metrics.h"

namespace ipn::interface {

struct NodeStats {
  explicit NodeStats(Metrics& m)
      : latency(m.GetHistogram("ipn_node_inquiry_latency_seconds",
                               "Time from the agency's inquiry to its result")),
        outgoing(m.GetGauge("ipn_node_outgoing_inquiries", "Inquiries awaiting their end")),
        incoming(m.GetGauge("ipn_node_incoming_inquiries",
                            "Forwarded inquiries awaiting the agency's answer")),
        dropped_answers(m.GetCounter("ipn_node_dropped_answers_total",
                                     "Answers from other nodes dropped (not expected)")),
        held_at_node(m.GetCounter("ipn_node_held_over_rate_total",
                                  "Inquiries refused at this node: the agency over its rate")),
        held_answers(m.GetCounter("ipn_node_answers_held_unopened_total",
                                  "Answers from a peer not vouched for at that moment, held "
                                  "until the core's decision vouched for it again")),
        resent(m.GetCounter("ipn_node_sent_again_total",
                            "Inquiries, outcomes and receipts sent to the core again when its "
                            "session changed (a failover)")) {
    for (int o = 1; o < v1::Outcome_ARRAYSIZE; ++o) {
      if (!v1::Outcome_IsValid(o)) continue;
      const std::string label = MetricLabel(static_cast<v1::Outcome>(o));
      inquiries[o] = &m.GetCounter("ipn_node_inquiries_total", "Inquiries by how they ended",
                                   {{"outcome", label}});
      provisions[o] =
          &m.GetCounter("ipn_node_provisions_total", "Forwarded inquiries answered, by outcome",
                        {{"outcome", label}});
    }
  }
  static void Count(const std::array<Counter*, v1::Outcome_ARRAYSIZE>& by, v1::Outcome o) {
    if (o > 0 && o < v1::Outcome_ARRAYSIZE && by[o] != nullptr) by[o]->Add();
  }

  Histogram& latency;
  Gauge& outgoing;
  Gauge& incoming;
  Counter& dropped_answers;
  Counter& held_at_node;
  Counter& held_answers;
  Counter& resent;
  std::array<Counter*, v1::Outcome_ARRAYSIZE> inquiries{};
  std::array<Counter*, v1::Outcome_ARRAYSIZE> provisions{};
};

}  // namespace ipn::interface
