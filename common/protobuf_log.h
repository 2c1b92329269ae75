// ProtobufLog: what libprotobuf itself prints, held to a rate. libprotobuf writes one
// ERROR line to stderr for every message it parses with invalid UTF-8 in a string field —
// something any authenticated agency can send as often as it likes, so a daemon's stderr
// file would grow without bound (found by fuzz/core_envelope_fuzzer's log). Such a message
// is refused all the same (the parse fails); its line is now counted, and at most one
// line per kProtobufLogIntervalUs reaches stderr, saying how many were suppressed.
// Fatal messages are never held back.
#pragma once

#include <cstdint>

namespace ipn {

inline constexpr int64_t kProtobufLogIntervalUs = 10'000'000;

// Installs the handler for the whole process (libprotobuf has one handler per process);
// idempotent. Called by every executable's LastResort and by the fuzz targets.
void LimitProtobufLog();

// Lines libprotobuf asked to print since the start, and those actually printed.
uint64_t ProtobufLogLines();
uint64_t ProtobufLogPrinted();

}  // namespace ipn
