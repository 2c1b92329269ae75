// Limits: every bound on what an outsider (an agency, its systems, a peer node, an
// unauthenticated client) can make the broker hold or write, named in one place.
// docs/limits.md explains each one and what happens at the limit; a change here is a
// change of the network's published behaviour.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ipn::limits {

// --- Frames (ZMQ_MAXMSGSIZE): a larger frame closes the sender's connection in libzmq
//     before the application sees it. Set a little above the largest message the
//     application accepts, so that everything between is refused with a clear answer.
inline constexpr int64_t kMaxCoreFrameBytes = 256 << 10;                 // node -> core
inline constexpr int64_t kMaxAnswerFrameBytes = (1 << 20) + (16 << 10);  // node -> node
inline constexpr int64_t kMaxLocalFrameBytes = 2 << 20;                  // agency system -> node
inline constexpr int64_t kMaxFromCoreFrameBytes = 16 << 20;  // core -> node (record pages)
inline constexpr int64_t kMaxFromNodeFrameBytes = 16 << 20;  // node -> agency system

// --- Messages and fields, checked by the receiver (refused with the limit named).
inline constexpr size_t kMaxInquiryBytes = 64 << 10;       // one encoded inquiry
inline constexpr size_t kMaxAnswerPayloadBytes = 1 << 20;  // one answer's content
inline constexpr size_t kMaxSymbolBytes = 128;             // an agency symbol
inline constexpr size_t kMaxParameters = 16;               // query conditions
inline constexpr size_t kMaxParameterKeyBytes = 64;
inline constexpr size_t kMaxParameterValueBytes = 256;
inline constexpr size_t kMaxEndpointBytes = 256;  // Hello.answer_endpoint
inline constexpr size_t kMaxSoftwareVersionBytes = 64;
inline constexpr size_t kMaxDetailBytes = 256;  // ProvisionOutcome.detail
inline constexpr size_t kMaxPersonRefBytes = 128;
inline constexpr size_t kMaxPageTokenBytes = 256;

// --- State held per outsider.
inline constexpr size_t kMaxBacklogPerNode = 50'000;      // core: messages for a slow node
inline constexpr size_t kMaxParkedForwards = 1'000;       // node: forwards with no server
inline constexpr int64_t kParkUs = 2'000'000;             // … held at most this long
inline constexpr int64_t kRefusalIntervalUs = 1'000'000;  // core: aggregate refusal records
inline constexpr int64_t kMaxRateHoldUs = 60'000'000;     // node: longest local hold after
                                                          // a RATE_LIMITED decision
inline constexpr size_t kMaxQueuedReads = 64;  // core: record reads waiting for the reader
// Core: record reads are paced to this many reply bytes a second (about ten pages of a
// pull with proofs), so that a whole-log pull cannot take the CPU from inquiries.
inline constexpr double kMaxReadBytesPerSecond = 8 << 20;
// Core: a pull's page ends at this many encoded bytes even below its page size (about 250
// records with proofs), so that no single message holds the core's I/O thread, or the
// commission's node, for long while other agencies' messages wait behind it.
inline constexpr size_t kMaxPullPageBytes = 256 << 10;
// Core: unauthenticated handshakes refused are logged at most once per this interval,
// with the count since the last line.
inline constexpr int64_t kRefusedHandshakeLogIntervalUs = 10'000'000;
// HTTP servers (portal, desk, middle): accepted connections waiting for a worker; past it
// the accepting thread serves the next one itself and the kernel's backlog holds the rest
// (common/http_task_queue.h).
inline constexpr size_t kMaxHttpConnectionsWaiting = 256;

}  // namespace ipn::limits
