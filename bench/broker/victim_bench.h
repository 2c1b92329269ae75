// Victim benchmarks (issue #12): one agency asks 20 inquiries a second while something
// else loads the network, measured against the same agency alone in the same run.
//   --flood  another agency floods the core with valid and malformed inquiries as fast as
//            its system can send: victim_p99_us against victim_p99_alone_us; the durable
//            records the flooder's refusals cost per second per reason; the core log's
//            growth per minute.
//   --pull   the commission pulls the whole record log (pre-filled to --records) page by
//            page: victim_p99_us during the pull against alone; the pull's records/s.
//   --control the victim alone for --control-phases phases in a row: how far p99 moves
//            between two phases with no load at all (the measurement's own noise).
//   --hog    as --flood, but the load is --hogs threads spinning on the CPU and sending
//            nothing: what sharing the machine's cores alone costs the victim.
#pragma once

#include <cstdint>
#include <string>

namespace ipn::bench {

struct VictimOptions {
  std::string bin_dir;
  std::string work_dir;          // empty: a fresh one under /var/tmp, removed afterwards
  double phase_s = 15;           // seconds alone, then seconds under load
  double victim_rate = 20;       // inquiries per second
  uint64_t records = 1'000'000;  // --pull: records in the log before the pull
  // --flood: the nice value of the flooder's system (a thread here) and its node. On one
  // 2-core machine the flooder's own machines are modelled by lower priority; 0 runs
  // them at the same priority as the broker (reported as such).
  int flooder_nice = 0;
  int control_phases = 6;  // --control
  int hogs = 2;            // --hog: spinning threads (the flood keeps two cores busy)
  bool json = false;
};

int RunFlood(const VictimOptions& options);
int RunPull(const VictimOptions& options);
int RunControl(const VictimOptions& options);
int RunHog(const VictimOptions& options);

}  // namespace ipn::bench
