// Status: the outcome of an operation that can fail, returned across library
// boundaries instead of throwing. Result<T> carries a value or a failed Status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ipn {

class [[nodiscard]] Status {
 public:
  // Broad classes of failure; the message says precisely what went wrong.
  enum class Code {
    kOk = 0,
    kInvalidArgument = 1,   // the caller's input is malformed
    kNotFound = 2,          // the thing asked for does not exist
    kAlreadyExists = 3,
    kPermissionDenied = 4,  // authenticated but not allowed
    kCorruption = 5,        // stored data failed an integrity check
    kIoError = 6,
    kFailedPrecondition = 7,  // the system is not in a state that allows this
    kUnavailable = 8,       // a peer or resource cannot be reached now
    kDeadlineExceeded = 9,
    kResourceExhausted = 10,  // rate limits, full queues
    kInternal = 11,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string_view m) { return {Code::kInvalidArgument, m}; }
  static Status NotFound(std::string_view m) { return {Code::kNotFound, m}; }
  static Status AlreadyExists(std::string_view m) { return {Code::kAlreadyExists, m}; }
  static Status PermissionDenied(std::string_view m) { return {Code::kPermissionDenied, m}; }
  static Status Corruption(std::string_view m) { return {Code::kCorruption, m}; }
  static Status IoError(std::string_view m) { return {Code::kIoError, m}; }
  static Status FailedPrecondition(std::string_view m) { return {Code::kFailedPrecondition, m}; }
  static Status Unavailable(std::string_view m) { return {Code::kUnavailable, m}; }
  static Status DeadlineExceeded(std::string_view m) { return {Code::kDeadlineExceeded, m}; }
  static Status ResourceExhausted(std::string_view m) { return {Code::kResourceExhausted, m}; }
  static Status Internal(std::string_view m) { return {Code::kInternal, m}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: resident code must be 11 digits"
  std::string ToString() const;
  static const char* CodeName(Code code);

  // Prefixes the message with context, keeping the code.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string_view message) : code_(code), message_(message) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status saying why there is none (an `expected`-style result).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result built from an OK status carries no value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ipn

// Returns early from the enclosing function when `expr` yields a failed Status.
#define IPN_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::ipn::Status ipn_status_ = (expr);        \
    if (!ipn_status_.ok()) return ipn_status_; \
  } while (0)
