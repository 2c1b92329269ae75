// Key changes under the two-person rule: the request, its check, and the journal.
#include "policy/key_change.h"

#include <sodium.h>

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "common/encoding.h"
#include "common/file_util.h"

namespace ipn::policy {
namespace {

constexpr std::string_view kMagic = "ipn-key-change/1";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string RingStateHash(std::string_view summary) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), Bytes(summary).data(), summary.size());
  return HexEncode(h);
}

std::string FormatKeyChangeRequest(const KeyChange& change) {
  return std::string(kMagic) + "\nchange " + change.what + "\nring " + change.ring_before + "\n";
}

Result<KeyChange> ParseKeyChangeRequest(std::string_view text) {
  auto line = [&](size_t n) -> std::string_view {
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      start = text.find('\n', start);
      if (start == std::string_view::npos) return {};
      ++start;
    }
    const size_t end = text.find('\n', start);
    return end == std::string_view::npos ? std::string_view() : text.substr(start, end - start);
  };
  if (line(0) != kMagic)
    return Status::InvalidArgument("not a key change request (ipn-key-change/1)");
  KeyChange c;
  const std::string_view change = line(1), ring = line(2);
  if (!change.starts_with("change ") || change.size() <= 7) {
    return Status::InvalidArgument("a key change request's second line is: change <what>");
  }
  if (!ring.starts_with("ring ") || ring.size() != 5 + 2 * crypto_hash_sha256_BYTES) {
    return Status::InvalidArgument("a key change request's third line is: ring <64 hex>");
  }
  c.what = std::string(change.substr(7));
  c.ring_before = std::string(ring.substr(5));
  if (FormatKeyChangeRequest(c) != text) {
    return Status::InvalidArgument("a key change request has exactly three lines");
  }
  return c;
}

Result<std::vector<std::string>> CheckKeyChange(const OperatorRoster& roster,
                                                std::string_view request_text,
                                                std::string_view approvals_text,
                                                std::string_view what,
                                                std::string_view summary_before) {
  Result<KeyChange> request = ParseKeyChangeRequest(request_text);
  if (!request.ok()) return request.status();
  if (request->what != what) {
    return Status::PermissionDenied("the request is for '" + request->what + "', not '" +
                                    std::string(what) + "'");
  }
  if (request->ring_before != RingStateHash(summary_before)) {
    return Status::PermissionDenied(
        "the request was made for the key ring as it was before another change: request and "
        "approve this change again");
  }
  return CheckApprovals(roster, kKeyChangeAction, Bytes(request_text), approvals_text);
}

namespace {

Status AppendJournal(const std::string& dir, const nlohmann::json& line) {
  const std::string path = dir + "/" + kKeyChangeJournal;
  Result<std::string> existing = ReadFile(path);
  if (!existing.ok() && existing.status().code() != Status::Code::kNotFound) {
    return existing.status().WithContext("the key change journal");
  }
  std::string text = existing.ok() ? *existing : std::string();
  text += line.dump() + "\n";
  return WriteFileAtomic(path, text);
}

std::set<std::string_view> Entries(std::string_view summary) {
  std::set<std::string_view> out;
  while (!summary.empty()) {
    const size_t comma = summary.find(',');
    out.insert(summary.substr(0, comma));
    summary = comma == std::string_view::npos ? std::string_view() : summary.substr(comma + 1);
  }
  return out;
}

}  // namespace

Status JournalKeyChange(const std::string& dir, std::string_view summary_before,
                        std::string_view summary_after, std::string_view request_text,
                        std::string_view approvals_text) {
  return AppendJournal(dir, {{"before", std::string(summary_before)},
                             {"after", std::string(summary_after)},
                             {"request", std::string(request_text)},
                             {"approvals", std::string(approvals_text)}});
}

Status JournalKeyChangeBy(const std::string& dir, std::string_view summary_before,
                          std::string_view summary_after, std::string_view what,
                          std::string_view by) {
  return AppendJournal(dir, {{"before", std::string(summary_before)},
                             {"after", std::string(summary_after)},
                             {"change", std::string(what)},
                             {"by", std::string(by)}});
}

bool ChangeMatches(std::string_view what, std::string_view before, std::string_view after) {
  const std::set<std::string_view> b = Entries(before), a = Entries(after);
  std::vector<std::string_view> changed;  // the symmetric difference
  std::set_symmetric_difference(b.begin(), b.end(), a.begin(), a.end(),
                                std::back_inserter(changed));
  if (changed.empty()) return false;
  auto all_start_with = [&](const std::string& prefix) {
    return std::all_of(changed.begin(), changed.end(),
                       [&](std::string_view e) { return e.starts_with(prefix); });
  };
  auto word = [&](size_t n) {
    size_t start = 0;
    for (size_t i = 0; i < n && start != std::string_view::npos; ++i) {
      start = what.find(' ', start);
      if (start != std::string_view::npos) ++start;
    }
    if (start == std::string_view::npos) return std::string();
    return std::string(what.substr(start, what.find(' ', start) - start));
  };
  const std::string verb = word(0), agency = word(1);
  if (verb == "rotate-records") return what == verb && all_start_with("#records@");
  if (agency.empty()) return false;
  if (verb == "rotate-agency") {
    // Exactly one rotation: X's active version N retired, version N+1 (the newest) active.
    if (changed.size() != 3 || !all_start_with(agency + "@v")) return false;
    const auto version_of = [&](std::string_view e) {
      return std::string(e.substr(agency.size() + 2, e.find(':') - agency.size() - 2));
    };
    std::string old_active, retired, new_active;
    for (std::string_view e : changed) {
      if (b.count(e) != 0 && e.ends_with(":active")) old_active = version_of(e);
      if (a.count(e) != 0 && e.ends_with(":retired")) retired = version_of(e);
      if (a.count(e) != 0 && e.ends_with(":active")) new_active = version_of(e);
    }
    if (old_active.empty() || old_active != retired || new_active.empty()) return false;
    const auto number = [](const std::string& v) {
      return v.size() <= 5 &&
                     std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })
                 ? std::stoi(v)
                 : -1;
    };
    return number(old_active) >= 1 && number(new_active) == number(old_active) + 1;
  }
  if (verb == "retire") return !word(2).empty() && all_start_with(agency + "@v" + word(2) + ":");
  if (verb == "create-agency") {
    const std::string first = agency + "@v1:active";
    return changed.size() == 1 && changed[0] == first && a.count(first) != 0 &&
           std::none_of(b.begin(), b.end(),
                        [&](std::string_view e) { return e.starts_with(agency + "@"); });
  }
  return false;
}

Result<std::vector<KeyChangeStep>> KeyChangeChain(const std::string& dir, std::string_view previous,
                                                  std::string_view current,
                                                  const OperatorRoster* roster) {
  std::vector<KeyChangeStep> steps;
  if (previous == current) return steps;
  Result<std::string> text = ReadFile(dir + "/" + kKeyChangeJournal);
  if (!text.ok()) return Status::NotFound("the key ring changed and there is no journal of it");
  std::vector<nlohmann::json> journal;
  for (std::string_view rest = *text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    nlohmann::json j = nlohmann::json::parse(rest.substr(0, nl), nullptr, false);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    // Lines a hand edited into another shape are left out: the chain then breaks.
    auto strings = [&](std::initializer_list<const char*> keys) {
      return std::all_of(keys.begin(), keys.end(),
                         [&](const char* k) { return !j.contains(k) || j[k].is_string(); });
    };
    if (j.is_object() && j.contains("before") && j.contains("after") &&
        strings({"before", "after", "request", "approvals", "change", "by"})) {
      journal.push_back(std::move(j));
    }
  }
  // Backwards from the ring as it is: the newest entry that left it so, then the one that
  // left the ring as that entry found it, … until the ring of the last start. A ring can
  // only change forwards, so a walk longer than the journal is a loop in a forged one.
  std::string at(current);
  while (at != previous) {
    if (steps.size() > journal.size()) return Status::PermissionDenied("the journal loops");
    auto it = std::find_if(journal.rbegin(), journal.rend(), [&](const nlohmann::json& j) {
      return j["after"].get<std::string>() == at && j["before"].get<std::string>() != at;
    });
    if (it == journal.rend()) {
      return Status::NotFound("a change that left the key ring as " + at +
                              " is not in the journal (made without ipn keys?)");
    }
    KeyChangeStep step;
    step.before = (*it)["before"].get<std::string>();
    step.after = at;
    const std::string request = it->value("request", "");
    if (it->contains("change")) {  // no request: a creation, or made under no rule
      step.what = it->value("change", "");
      step.actor = it->value("by", "operator");
      const bool rule = roster != nullptr && roster->rules.count(kKeyChangeAction) != 0;
      if (rule && !step.what.starts_with("create-agency ")) {
        return Status::PermissionDenied("'" + step.what + "' was made without approvals");
      }
    } else {
      Result<KeyChange> parsed = ParseKeyChangeRequest(request);
      if (!parsed.ok()) return parsed.status().WithContext("the key change journal");
      if (parsed->ring_before != RingStateHash(step.before)) {
        return Status::PermissionDenied("the request for '" + parsed->what +
                                        "' was made for another ring than the one changed");
      }
      step.what = parsed->what;
      const std::string approvals = it->value("approvals", "");
      if (roster != nullptr) {
        Result<std::vector<std::string>> checked =
            CheckApprovals(*roster, kKeyChangeAction, Bytes(request), approvals);
        if (!checked.ok()) return checked.status().WithContext(step.what);
        step.actor = JoinApprovers(*checked);
      } else {
        step.actor = JoinApprovers(NamedApprovers(approvals));
      }
    }
    if (!ChangeMatches(step.what, step.before, step.after)) {
      return Status::PermissionDenied("the change made is not the one journalled ('" + step.what +
                                      "')");
    }
    const std::set<std::string_view> was = Entries(step.before);
    for (std::string_view e : Entries(step.after)) {
      if (was.count(e) == 0) step.added.emplace_back(e);
    }
    at = step.before;
    steps.push_back(std::move(step));
  }
  std::reverse(steps.begin(), steps.end());
  return steps;
}

}  // namespace ipn::policy
