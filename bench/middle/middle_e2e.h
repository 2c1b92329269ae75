// The whole network with the middle-server platform (issue #14): the pension service asks
// the municipality the same question two ways, alternating in blocks so that both see the
// same moments of this shared machine — through its own HTTP API at the platform
// (`api_e2e`: POST /v1/inquiries by internal person number, to the JSON result) and
// through the SDK straight to its node (`sdk_e2e`: AgencyClient::Inquire by symbol). The
// municipality runs no program: the platform answers from its copies in both cases.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::bench {

struct MiddleE2eFigures {
  std::vector<double> api_us, sdk_us;  // sorted
  int failures = 0;
};

Result<MiddleE2eFigures> MeasureMiddleE2e(const std::string& bin_dir, const std::string& work_dir,
                                          int samples);

}  // namespace ipn::bench
