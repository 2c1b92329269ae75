// `ipn inquire`: one inquiry, or a batch file of them (pipelined, with a progress bar),
// through an agency's interface node — what an agency integrator runs by hand.
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "common/encoding.h"
#include "interface/agency_client.h"
#include "ipn/v1/wire_names.h"
#include "symbol/symbol_types.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

using interface::AgencyClient;
using interface::InquiryReply;
using interface::InquiryRequest;

struct InquireFlags {
  std::string node;
  std::string symbol, business, provider, item;
  std::vector<std::string> params;
  std::string input, output;
  int window = 256;
  double timeout_s = 30;
};

// An empty cell, not "NONE", when nothing was refused.
std::string DenyName(v1::DenyReason r) {
  return r == v1::DENY_REASON_NONE ? "" : std::string(v1::DenyReasonName(r));
}

Status ParseRequest(const std::string& symbol, const std::string& business,
                    const std::string& provider, const std::string& item,
                    const std::vector<std::string>& params, InquiryRequest* r) {
  Result<symbol::AgencySymbol> s = symbol::AgencySymbol::FromPrintable(symbol);
  if (!s.ok()) return Status::InvalidArgument("symbol: " + s.status().message());
  r->symbol.assign(s->bytes.begin(), s->bytes.end());
  r->business = business;
  r->provider = provider;
  r->item = item;
  for (const std::string& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("parameter '" + p + "' is not key=value");
    }
    r->parameters[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (business.empty() || provider.empty() || item.empty()) {
    return Status::InvalidArgument("business, provider and item are required");
  }
  return Status::Ok();
}

int RunOne(const InquireFlags& f) {
  InquiryRequest r;
  Status s = ParseRequest(f.symbol, f.business, f.provider, f.item, f.params, &r);
  if (!s.ok()) {
    std::fprintf(stderr, "ipn inquire: %s\n", s.message().c_str());
    return 2;
  }
  auto client = AgencyClient::Connect(f.node);
  if (!client.ok()) {
    std::fprintf(stderr, "ipn inquire: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto reply = (*client)->Inquire(
      std::move(r), std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000)));
  if (!reply.ok()) {
    std::fprintf(stderr, "ipn inquire: %s\n", reply.status().ToString().c_str());
    return 1;
  }
  std::printf("outcome: %s\n", std::string(v1::OutcomeName(reply->outcome)).c_str());
  if (reply->deny_reason != v1::DENY_REASON_NONE) {
    std::printf("reason: %s\n", DenyName(reply->deny_reason).c_str());
  }
  if (!reply->explanation.empty()) std::printf("explanation: %s\n", reply->explanation.c_str());
  if (reply->outcome == v1::OUTCOME_PROVIDED) std::printf("answer: %s\n", reply->payload.c_str());
  sodium_memzero(reply->payload.data(), reply->payload.size());
  return reply->outcome == v1::OUTCOME_PROVIDED || reply->outcome == v1::OUTCOME_NOT_HELD ? 0 : 1;
}

// Batch: input CSV rows "symbol,business,provider,item[,key=value;key=value]" (a header
// row starting with "symbol" is skipped); output CSV "line,outcome,reason,provider,answer,
// explanation" in input order.
int RunBatch(const InquireFlags& f) {
  std::ifstream in(f.input);
  if (!in) {
    std::fprintf(stderr, "ipn inquire: cannot read %s\n", f.input.c_str());
    return 2;
  }
  std::vector<std::pair<int, InquiryRequest>> rows;
  std::string line;
  int number = 0, bad = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("symbol", 0) == 0)) continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, ',')) cols.push_back(col);
    std::vector<std::string> params;
    if (cols.size() >= 5) {
      std::stringstream ps(cols[4]);
      std::string p;
      while (std::getline(ps, p, ';')) params.push_back(p);
    }
    InquiryRequest r;
    Status s = cols.size() < 4 ? Status::InvalidArgument("expected symbol,business,provider,item")
                               : ParseRequest(cols[0], cols[1], cols[2], cols[3], params, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "ipn inquire: %s line %d: %s\n", f.input.c_str(), number,
                   s.message().c_str());
      ++bad;
      continue;
    }
    rows.emplace_back(number, std::move(r));
  }
  if (bad > 0) {
    std::fprintf(stderr, "ipn inquire: %d bad lines; nothing was sent\n", bad);
    return 2;
  }
  auto client = AgencyClient::Connect(f.node);
  if (!client.ok()) {
    std::fprintf(stderr, "ipn inquire: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const std::string tmp = f.output + ".partial";
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "ipn inquire: cannot write %s\n", tmp.c_str());
    return 2;
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::map<std::string, int> line_of;  // request id -> input line
  std::map<int, std::string> results;  // input line -> output row
  size_t next = 0, done = 0;
  std::map<std::string, int> tally;
  AgencyClient::Callbacks cb;
  cb.on_reply = [&](InquiryReply r) {
    auto it = line_of.find(r.request_id);
    if (it == line_of.end()) return;
    ++tally[std::string(v1::OutcomeName(r.outcome))];
    results[it->second] = std::to_string(it->second) + "," +
                          std::string(v1::OutcomeName(r.outcome)) + "," + DenyName(r.deny_reason) +
                          "," + CsvField(r.provider) + "," + CsvField(r.payload) + "," +
                          CsvField(r.explanation);
    sodium_memzero(r.payload.data(), r.payload.size());
    line_of.erase(it);
    ++done;
  };
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000));
  auto last_progress = std::chrono::steady_clock::now();
  auto last_reply = last_progress;
  while (done < rows.size()) {
    while (next < rows.size() && line_of.size() < static_cast<size_t>(f.window)) {
      InquiryRequest& r = rows[next].second;
      r.request_id = (*client)->NextRequestId();
      line_of[r.request_id] = rows[next].first;
      Status s = (*client)->Submit(std::move(r));
      if (!s.ok()) {
        std::fprintf(stderr, "ipn inquire: %s\n", s.ToString().c_str());
        return 1;
      }
      ++next;
    }
    size_t before = done;
    Status s = (*client)->Poll(std::chrono::milliseconds(100), cb);
    if (!s.ok()) {
      std::fprintf(stderr, "ipn inquire: %s\n", s.ToString().c_str());
      return 1;
    }
    auto now = std::chrono::steady_clock::now();
    if (done != before) last_reply = now;
    if (now - last_reply > timeout) {
      std::fprintf(stderr, "\nipn inquire: no result for %zu inquiries in %.0f s; stopping\n",
                   line_of.size(), f.timeout_s);
      return 1;
    }
    if (tty && (now - last_progress > std::chrono::milliseconds(200) || done == rows.size())) {
      last_progress = now;
      int width = 40;
      int filled = static_cast<int>(width * done / std::max<size_t>(1, rows.size()));
      std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), done, rows.size());
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  out << "line,outcome,reason,provider,answer,explanation\n";
  for (auto& [n, row] : results) {
    out << row << "\n";
    sodium_memzero(row.data(), row.size());
  }
  out.close();
  if (!out || std::rename(tmp.c_str(), f.output.c_str()) != 0) {
    std::fprintf(stderr, "ipn inquire: cannot write %s\n", f.output.c_str());
    return 1;
  }
  std::string summary;
  for (const auto& [k, v] : tally) summary += " " + k + "=" + std::to_string(v);
  std::fprintf(stderr, "ipn inquire: %zu inquiries:%s -> %s\n", rows.size(), summary.c_str(),
               f.output.c_str());
  return 0;
}

}  // namespace

void RegisterInquireCommand(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<InquireFlags>();
  CLI::App* cmd = app.add_subcommand(
      "inquire", "Send one inquiry, or a batch file of them, through an agency's node");
  cmd->add_option("--node", f->node, "The node's local endpoint (ipc://PATH)")->required();
  cmd->add_option("--symbol", f->symbol, "The agency's printable symbol for the person");
  cmd->add_option("--business", f->business, "Business (事務) code");
  cmd->add_option("--provider", f->provider, "Provider agency code");
  cmd->add_option("--item", f->item, "Item code");
  cmd->add_option("--param", f->params, "Query condition key=value (repeatable)");
  auto* input =
      cmd->add_option("--input", f->input, "Batch CSV: symbol,business,provider,item[,k=v;k=v]");
  cmd->add_option("--output", f->output, "Batch results CSV")->needs(input);
  input->needs(cmd->get_option("--output"));
  cmd->add_option("--window", f->window, "Inquiries in flight at once (batch)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--timeout", f->timeout_s, "Seconds to wait for results")->capture_default_str();
  cmd->callback([f, &ctx] { ctx.exit_code = f->input.empty() ? RunOne(*f) : RunBatch(*f); });
}

}  // namespace ipn::cli
