// `ipn symbol`: symbols on local files for operators and tests — issue (a file of resident
// codes in, a CSV of `line number,printable agency symbol` out; codes are never echoed),
// translate (one agency's symbol into another's), check (validate resident codes, naming
// the rule that failed). Exit status: 0 success, 1 failure (nothing issued), 3 some lines
// were rejected (the others were issued and written).
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/logger.h"
#include "symbol/passphrase.h"
#include "symbol/resident_code.h"
#include "symbol/symbol_service.h"
#include "tools/ipn/commands.h"
#include "tools/ipn/key_ring_session.h"

namespace ipn::cli {
namespace {

using symbol::SymbolService;

constexpr size_t kChunk = 4096;
constexpr int kExitPartial = 3;

struct SymbolArgs {
  std::string dir;
  std::string agency;
  std::string input;
  std::string output;
  bool force = false;
  std::string from;
  std::string to;
  std::string symbol;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn symbol: %s\n", s.ToString().c_str());
  return 1;
}

void WipeString(std::string* s) {
  if (!s->empty()) sodium_memzero(s->data(), s->size());
  s->clear();
}

// Splits `text` into lines (without '\n', '\r' or surrounding blanks); a final newline
// does not start another line. Views point into `text`.
std::vector<std::string_view> Lines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// "\r[#########           ]  45%  4500/10000" on a terminal.
void DrawProgress(size_t done, size_t total) {
  constexpr int kWidth = 30;
  int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), ' ');
  std::fprintf(stderr, "\r[%s] %3d%%  %zu/%zu lines", bar.c_str(),
               total == 0 ? 100 : static_cast<int>(100 * done / total), done, total);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

// Writes to PATH.tmp (mode 0600) and renames it over PATH on Commit, after fsync.
class OutputFile {
 public:
  ~OutputFile() {
    if (file_ != nullptr) {
      std::fclose(file_);
      ::unlink(tmp_.c_str());
    }
  }
  Status Open(const std::string& path) {
    path_ = path;
    tmp_ = path + ".tmp";
    int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IoError("cannot create " + tmp_ + ": " + std::strerror(errno));
    file_ = ::fdopen(fd, "w");
    if (file_ == nullptr) {
      ::close(fd);
      return Status::IoError("cannot open " + tmp_);
    }
    return Status::Ok();
  }
  void Line(size_t number, const std::string& symbol) {
    std::fprintf(file_, "%zu,%s\n", number, symbol.c_str());
  }
  Status Commit() {
    bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    if (!ok || ::rename(tmp_.c_str(), path_.c_str()) != 0) {
      ::unlink(tmp_.c_str());
      return Status::IoError("cannot write " + path_ + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
};

int RunIssue(const SymbolArgs& a) {
  std::error_code ec;
  if (!a.force && std::filesystem::exists(a.output, ec)) {
    return Fail(Status::AlreadyExists(a.output + " exists; use --force to replace it"));
  }
  if (std::filesystem::exists(a.input, ec) && std::filesystem::exists(a.output, ec) &&
      std::filesystem::equivalent(a.input, a.output, ec)) {
    return Fail(Status::InvalidArgument("--input and --output are the same file"));
  }
  Status agency_ok = symbol::ValidateAgencyCode(a.agency);
  if (!agency_ok.ok()) return Fail(agency_ok);
  auto contents = ReadFile(a.input);
  if (!contents.ok()) return Fail(contents.status());
  std::string text = std::move(contents).value();
  auto lines = Lines(text);

  auto session = OpenKeyRingSession(a.dir, "ipn-symbol");
  if (!session.ok()) {
    WipeString(&text);
    return Fail(session.status());
  }
  OutputFile out;
  Status opened = out.Open(a.output);
  if (!opened.ok()) {
    WipeString(&text);
    return Fail(opened);
  }
  const bool progress = isatty(STDERR_FILENO) != 0;
  size_t issued = 0, rejected = 0;
  Status failure;
  std::vector<std::string> chunk;
  for (size_t from = 0; from < lines.size() && failure.ok(); from += kChunk) {
    size_t to = std::min(lines.size(), from + kChunk);
    chunk.clear();
    for (size_t i = from; i < to; ++i) chunk.emplace_back(lines[i]);
    auto results = session->service->IssueBatch(chunk, a.agency);
    for (auto& code : chunk) WipeString(&code);
    for (size_t i = 0; i < results.size(); ++i) {
      size_t line_number = from + i + 1;
      if (results[i].ok()) {
        out.Line(line_number, results[i]->ToPrintable());
        ++issued;
        continue;
      }
      const Status& s = results[i].status();
      if (s.code() != Status::Code::kInvalidArgument) {
        failure = s;  // the service failed (disk, ...): stop, keep nothing
        break;
      }
      if (progress) std::fprintf(stderr, "\r\033[K");
      std::fprintf(stderr, "line %zu: %s\n", line_number, s.message().c_str());
      ++rejected;
    }
    if (progress && failure.ok()) DrawProgress(to, lines.size());
  }
  WipeString(&text);
  if (!failure.ok()) return Fail(failure.WithContext("issuance stopped; no output written"));
  Status committed = out.Commit();
  if (!committed.ok()) return Fail(committed);
  if (session->log != nullptr) {
    session->log->Info("symbol.issue_file", {{"agency", a.agency},
                                             {"lines", lines.size()},
                                             {"issued", issued},
                                             {"rejected", rejected}});
  }
  std::fprintf(stderr, "issued %zu symbol%s for agency %s into %s; %zu line%s rejected\n", issued,
               issued == 1 ? "" : "s", a.agency.c_str(), a.output.c_str(), rejected,
               rejected == 1 ? "" : "s");
  return rejected == 0 ? 0 : kExitPartial;
}

int RunTranslate(const SymbolArgs& a) {
  std::string printable = a.symbol;
  if (printable.empty()) {
    if (isatty(STDIN_FILENO)) std::fprintf(stderr, "Symbol at %s: ", a.from.c_str());
    std::getline(std::cin, printable);
    while (!printable.empty() && (printable.back() == '\r' || printable.back() == ' ')) {
      printable.pop_back();
    }
  }
  auto symbol = symbol::AgencySymbol::FromPrintable(printable);
  if (!symbol.ok()) return Fail(symbol.status());
  auto session = OpenKeyRingSession(a.dir, "ipn-symbol");
  if (!session.ok()) return Fail(session.status());
  auto t = session->service->Translate(symbol->bytes, a.from, a.to);
  if (!t.ok()) return Fail(t.status());
  bool has_symbol = t->provider_symbol.key_version() != 0;
  std::printf("provider_symbol: %s\n", has_symbol ? t->provider_symbol.ToPrintable().c_str() : "-");
  std::printf("provider_issued: %s\n", t->provider_issued ? "yes" : "no");
  std::printf("record_symbol: %s\n", HexEncode(t->record_symbol.bytes).c_str());
  return 0;
}

int RunCheck(const SymbolArgs& a) {
  std::string text;
  if (!a.input.empty()) {
    auto contents = ReadFile(a.input);
    if (!contents.ok()) return Fail(contents.status());
    text = std::move(contents).value();
  } else if (isatty(STDIN_FILENO)) {
    auto typed = symbol::ReadHiddenLine("Resident code (not echoed): ");
    if (!typed.ok()) return Fail(typed.status());
    text.assign(symbol::AsStringView(*typed));
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto lines = Lines(text);
  size_t bad = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto rule = symbol::CheckResidentCode(lines[i]);
    if (rule != symbol::ResidentCodeRule::kValid) ++bad;
    std::printf("line %zu: %s\n", i + 1,
                rule == symbol::ResidentCodeRule::kValid ? "valid"
                                                         : symbol::DescribeResidentCodeRule(rule));
  }
  WipeString(&text);
  if (lines.empty()) return Fail(Status::InvalidArgument("no resident code given"));
  return bad == 0 ? 0 : 1;
}

}  // namespace

void RegisterSymbolCommand(CLI::App& app, Context& ctx) {
  auto* sym = app.add_subcommand("symbol", "Issue, translate and check symbols on local files");
  sym->require_subcommand(1);
  auto args = std::make_shared<SymbolArgs>();

  auto* issue = sym->add_subcommand(
      "issue", "Issue agency symbols for a file of resident codes (one per line)");
  issue->add_option("--dir", args->dir, "Directory of the key ring")->required();
  issue->add_option("--agency", args->agency, "Agency that gets the symbols")->required();
  issue->add_option("--input", args->input, "File of resident codes, one per line")->required();
  issue->add_option("--output", args->output, "CSV to write: line number,printable agency symbol")
      ->required();
  issue->add_flag("--force", args->force, "Replace --output if it exists");
  issue->callback([&ctx, args] { ctx.exit_code = RunIssue(*args); });

  auto* translate = sym->add_subcommand(
      "translate", "Translate one agency's symbol into another's (symbol from stdin if omitted)");
  translate->add_option("--dir", args->dir, "Directory of the key ring")->required();
  translate->add_option("--from", args->from, "Agency the symbol belongs to")->required();
  translate->add_option("--to", args->to, "Agency to translate to")->required();
  translate->add_option("--symbol", args->symbol, "Printable symbol (80 characters)");
  translate->callback([&ctx, args] { ctx.exit_code = RunTranslate(*args); });

  auto* check = sym->add_subcommand(
      "check", "Validate resident codes from --input or stdin, naming the rule each breaks");
  check->add_option("--input", args->input, "File of resident codes, one per line");
  check->callback([&ctx, args] { ctx.exit_code = RunCheck(*args); });
}

}  // namespace ipn::cli
