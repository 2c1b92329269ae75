// Exchange recovery: closing what a stopped core left open.
#include "core/exchange_recovery.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace ipn::core {
namespace {

// What the log says of one exchange so far.
struct Seen {
  records::Record opening;  // its accepted record: the facts every closing record carries
  bool accepted = false, outcome = false, receipt = false, timed_out = false;
  bool non_disclosure = false;
  bool any = false;  // some record of it is in the window
  records::Event outcome_event = records::Event::kProvided;
};

}  // namespace

Result<std::vector<OpenExchange>> FindOpenExchanges(const records::RecordStore& store,
                                                    int64_t since_us, int64_t now_us) {
  // An exchange is (inquirer, request id): unique for as long as its records are kept.
  std::map<std::pair<std::string, std::string>, Seen> seen;
  IPN_RETURN_IF_ERROR(store.Pull(since_us, now_us + 1, "", [&](const records::Record& r) {
    if (r.event == records::Event::kOperatorAction || r.request_id.empty()) return true;
    Seen& s = seen[{r.inquirer, r.request_id}];
    if (!s.accepted && !s.any) s.opening = r;  // the facts, until its accepted record shows
    s.any = true;
    switch (r.event) {
      case records::Event::kInquiryAccepted:
        s.accepted = true;
        s.opening = r;
        break;
      case records::Event::kProvided:
      case records::Event::kNotHeld:
      case records::Event::kFailed:
        s.outcome = true;
        s.outcome_event = r.event;
        break;
      case records::Event::kTimedOut: s.outcome = s.timed_out = true; break;
      case records::Event::kReceived: s.receipt = true; break;
      default: break;
    }
    s.non_disclosure = s.non_disclosure || r.non_disclosure;
    return true;
  }));
  std::vector<OpenExchange> out;
  for (auto& [key, s] : seen) {
    // A timed-out exchange is closed by its timeout (the inquirer's node sends no receipt).
    if (s.timed_out || (s.outcome && s.receipt)) continue;
    // An outcome or receipt whose acceptance is older than the window: the exchange was
    // carried over several failovers in a row, each leader dying before it closed it. It
    // is open, and long past its deadline: dated to the window's start, it closes at once.
    if (!s.accepted && !s.outcome && !s.receipt) continue;  // refusals and the like
    OpenExchange x;
    x.opening = std::move(s.opening);
    if (!s.accepted) {
      x.opening.event = records::Event::kInquiryAccepted;
      x.opening.outcome = "ACCEPTED";
      x.opening.time_unix_us = since_us;
    }
    if (s.outcome) x.outcome = s.outcome_event;
    x.non_disclosure = s.non_disclosure;
    out.push_back(std::move(x));
  }
  std::sort(out.begin(), out.end(), [](const OpenExchange& a, const OpenExchange& b) {
    return a.opening.sequence < b.opening.sequence;
  });
  return out;
}

Result<std::vector<records::Record>> CloseInterruptedExchanges(const records::RecordStore& store,
                                                               int64_t since_us, int64_t now_us) {
  Result<std::vector<OpenExchange>> open = FindOpenExchanges(store, since_us, now_us);
  if (!open.ok()) return open.status();
  std::vector<records::Record> out;
  for (OpenExchange& x : *open) {
    records::Record r = std::move(x.opening);
    r.time_unix_us = now_us;
    r.non_disclosure = x.non_disclosure;
    if (!x.outcome) {
      r.event = records::Event::kTimedOut;
      r.outcome = "CORE_RESTARTED";
    } else {
      r.event = records::Event::kReceived;
      r.outcome = "NOT_CONFIRMED";
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ipn::core
