// CSV reader for the policy source.
#include "policy/csv.h"

#include <cstdint>

namespace ipn::policy {
namespace {

// Returns the offset of the first invalid UTF-8 sequence, or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong =
        (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int LineOf(std::string_view text, size_t pos) {
  int line = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// Reads one record starting at *pos (not a blank or comment line); advances *pos and *line
// past its end of line.
Status ReadRecord(std::string_view text, const std::string& name, size_t* pos, int* line,
                  std::vector<std::string>* fields) {
  auto error = [&](const char* what) {
    return Status::InvalidArgument(name + " line " + std::to_string(*line) + ": " + what);
  };
  fields->clear();
  size_t& p = *pos;
  while (true) {
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    std::string field;
    if (p < text.size() && text[p] == '"') {
      const int opened_on = *line;
      ++p;
      while (true) {
        if (p >= text.size()) {
          *line = opened_on;
          return error("a quoted field is not closed");
        }
        const char c = text[p];
        if (c == '"') {
          if (p + 1 < text.size() && text[p + 1] == '"') {
            field += '"';
            p += 2;
            continue;
          }
          ++p;
          break;
        }
        if (c == '\n') ++*line;
        field += c;
        ++p;
      }
      while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
      if (p < text.size() && text[p] != ',' && text[p] != '\r' && text[p] != '\n') {
        return error("text after a closing quote");
      }
    } else {
      const size_t start = p;
      while (p < text.size() && text[p] != ',' && text[p] != '\r' && text[p] != '\n') {
        if (text[p] == '"') return error("a quote inside an unquoted field");
        ++p;
      }
      field = std::string(Trim(text.substr(start, p - start)));
    }
    fields->push_back(std::move(field));
    if (p >= text.size()) return Status::Ok();
    const char c = text[p];
    if (c == ',') {
      ++p;
      continue;
    }
    if (c == '\r') {
      if (p + 1 >= text.size() || text[p + 1] != '\n') return error("stray carriage return");
      ++p;
    }
    ++p;  // the '\n'
    ++*line;
    return Status::Ok();
  }
}

}  // namespace

Result<CsvTable> ParseCsv(std::string_view text, std::string_view file_name) {
  const std::string name(file_name);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Status::InvalidArgument(name + " line " + std::to_string(LineOf(text, bad)) +
                                   ": text is not valid UTF-8");
  }
  CsvTable table;
  bool have_header = false;
  size_t pos = 0;
  int line = 1;
  std::vector<std::string> fields;
  while (pos < text.size()) {
    const size_t eol = text.find('\n', pos);
    const size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view trimmed = Trim(text.substr(pos, next - pos));
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
      trimmed.remove_suffix(1);
    }
    trimmed = Trim(trimmed);
    if (trimmed.empty() || trimmed.front() == '#') {  // blank or comment line
      pos = next;
      ++line;
      continue;
    }
    const int record_line = line;
    IPN_RETURN_IF_ERROR(ReadRecord(text, name, &pos, &line, &fields));
    if (!have_header) {
      table.header = fields;
      have_header = true;
      continue;
    }
    if (fields.size() != table.header.size()) {
      return Status::InvalidArgument(
          name + " line " + std::to_string(record_line) + ": " + std::to_string(fields.size()) +
          " fields, but the header has " + std::to_string(table.header.size()));
    }
    table.records.push_back(fields);
    table.lines.push_back(record_line);
  }
  if (!have_header) return Status::InvalidArgument(name + ": empty file (no header row)");
  return table;
}

}  // namespace ipn::policy
