// Passphrase input: environment variable, or a terminal prompt with echo disabled (termios).
#include "symbol/passphrase.h"

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ipn::symbol {
namespace {

constexpr size_t kMaxLine = 1024;

}  // namespace

Result<SecretBytes> ReadHiddenLine(std::string_view prompt) {
  std::FILE* tty = std::fopen("/dev/tty", "r+");
  std::FILE* in = tty != nullptr ? tty : stdin;
  std::FILE* out = tty != nullptr ? tty : stderr;
  int fd = fileno(in);
  termios old_mode{};
  bool restore = tcgetattr(fd, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::fprintf(out, "%.*s", static_cast<int>(prompt.size()), prompt.data());
  std::fflush(out);
  SecretBytes buffer(kMaxLine + 2);
  char* line = reinterpret_cast<char*>(buffer.data());
  bool got = std::fgets(line, static_cast<int>(buffer.size()), in) != nullptr;
  if (restore) tcsetattr(fd, TCSAFLUSH, &old_mode);
  if (tty != nullptr) std::fclose(tty);
  if (!got) return Status::FailedPrecondition("nothing was entered");
  size_t n = std::strlen(line);
  if (n > 0 && line[n - 1] == '\n') {
    --n;
  } else if (n > kMaxLine) {
    return Status::InvalidArgument("the line is longer than 1024 characters");
  }
  if (n > 0 && line[n - 1] == '\r') --n;
  SecretBytes passphrase(n);
  if (n > 0) std::memcpy(passphrase.data(), line, n);
  return passphrase;
}

Result<SecretBytes> ReadPassphrase(std::string_view prompt, bool confirm, const char* env_var) {
  if (const char* env = std::getenv(env_var); env != nullptr) {
    size_t n = std::strlen(env);
    SecretBytes passphrase(n);
    if (n > 0) std::memcpy(passphrase.data(), env, n);
    return passphrase;
  }
  if (!isatty(STDIN_FILENO)) {
    return Status::FailedPrecondition(std::string("no passphrase: set ") + env_var +
                                      " or run from a terminal to be prompted");
  }
  auto first = ReadHiddenLine(prompt);
  if (!first.ok() || !confirm) return first;
  auto second = ReadHiddenLine("Repeat the passphrase: ");
  if (!second.ok()) return second.status();
  if (first->size() != second->size() ||
      (first->size() > 0 && sodium_memcmp(first->data(), second->data(), first->size()) != 0)) {
    return Status::InvalidArgument("the two passphrases do not match");
  }
  return first;
}

}  // namespace ipn::symbol
