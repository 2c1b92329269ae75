// AllocationCounter: how many times the calling thread called global operator new, for tests
// and benchmarks that promise "no allocation per call". Only binaries that list
// allocation_counter.cc among their sources count (it replaces the global operator new);
// it is deliberately not part of ipn_test_support, so other test binaries are untouched.
#pragma once

#include <cstdint>

namespace ipn::testing {

// Allocations by the calling thread since it started (0 when not counting).
uint64_t ThreadAllocations();

// Counts the calling thread's allocations from construction: `AllocationCounter c; ...;
// EXPECT_EQ(c.count(), 0u);`.
class AllocationCounter {
 public:
  AllocationCounter() : start_(ThreadAllocations()) {}
  uint64_t count() const { return ThreadAllocations() - start_; }

 private:
  uint64_t start_;
};

}  // namespace ipn::testing
