// Exchange recovery: closing what a stopped core left open.
#include "core/exchange_recovery.h"

#include <algorithm>
#include <array>
#include <map>
#include <span>
#include <string>
#include <utility>

namespace ipn::core {
namespace {

// Exchanges whose acceptance is older than the window and whose history is read back
// (FindOpenExchanges): at most this many per call, each at most kHistoryPages pages.
constexpr size_t kMaxBackfills = 1000;
constexpr int kHistoryPages = 4;

// What the log says of one exchange so far.
struct Seen {
  records::Record opening;  // its accepted record: the facts every closing record carries
  bool accepted = false, outcome = false, receipt = false, timed_out = false;
  bool non_disclosure = false;
  records::Event outcome_event = records::Event::kProvided;
};

// A "not held" refusal (the provider was never issued the person) is recorded with the
// event of a not-held outcome; its text says which (DENY_REASON_NOT_ISSUED_TO_PROVIDER).
bool IsRefusal(const records::Record& r) {
  return r.event == records::Event::kInquiryRefused ||
         (r.event == records::Event::kNotHeld && r.outcome != "NOT_HELD");
}

void Note(Seen& s, const records::Record& r) {
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
}

// An outcome or receipt in the window whose acceptance is not: the exchange was accepted
// earlier (it may have been carried over several failovers in a row, each leader dying
// before it closed it), or it closed across the window's start. The person's history,
// newest first, says which: everything of that exchange is read back to its acceptance.
Status Backfill(const records::RecordStore& store, const std::string& inquirer,
                const std::string& request_id, std::span<const uint8_t, 32> person, Seen& s) {
  Seen whole;
  std::string token;
  for (int page = 0; page < kHistoryPages; ++page) {
    Result<records::RecordStore::HistoryPage> h = store.History(person, 1000, token);
    if (!h.ok()) return h.status();
    for (const records::Record& r : h->records) {
      if (r.inquirer != inquirer || r.request_id != request_id || IsRefusal(r)) continue;
      Note(whole, r);
      if (r.event == records::Event::kInquiryAccepted) {
        s = whole;
        return Status::Ok();
      }
    }
    if (h->next_page_token.empty()) break;
    token = h->next_page_token;
  }
  return Status::Ok();  // no acceptance found: nothing of it is open
}

}  // namespace

Result<std::vector<OpenExchange>> FindOpenExchanges(const records::RecordStore& store,
                                                    int64_t since_us, int64_t now_us) {
  // An exchange is (inquirer, request id): unique for as long as its records are kept.
  std::map<std::pair<std::string, std::string>, Seen> seen;
  std::map<std::pair<std::string, std::string>, std::array<uint8_t, 32>> persons;
  IPN_RETURN_IF_ERROR(store.Pull(since_us, now_us + 1, "", [&](const records::Record& r) {
    if (r.event == records::Event::kOperatorAction || r.request_id.empty() || IsRefusal(r)) {
      return true;
    }
    std::pair<std::string, std::string> key{r.inquirer, r.request_id};
    Note(seen[key], r);
    persons.emplace(std::move(key), r.record_symbol);
    return true;
  }));
  size_t backfills = 0;
  std::vector<OpenExchange> out;
  for (auto& [key, s] : seen) {
    if (!s.accepted && backfills++ < kMaxBackfills) {
      IPN_RETURN_IF_ERROR(Backfill(store, key.first, key.second, persons[key], s));
    }
    // A timed-out exchange is closed by its timeout (the inquirer's node sends no receipt).
    if (!s.accepted || s.timed_out || (s.outcome && s.receipt)) continue;
    OpenExchange x;
    x.opening = std::move(s.opening);
    if (s.outcome) x.outcome = s.outcome_event;
    x.has_receipt = s.receipt;
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
