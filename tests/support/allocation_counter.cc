// The global operator new replaced by a counting one (see allocation_counter.h). Kept in its
// own translation unit: inlined into a caller, g++ 12 misreports the malloc/free pairing
// (-Wmismatched-new-delete).
#include "tests/support/allocation_counter.h"

#include <cstdlib>
#include <new>

namespace {

// Per thread, so a multi-threaded benchmark counts each thread's own calls, and no atomic
// operation is added to every allocation. constinit: no initialisation can run inside new.
constinit thread_local uint64_t t_allocations = 0;

void* Allocate(size_t size) {
  ++t_allocations;
  return std::malloc(size == 0 ? 1 : size);
}

}  // namespace

namespace ipn::testing {
uint64_t ThreadAllocations() {
  return t_allocations;
}
}  // namespace ipn::testing

// Every replaceable allocation form that the program may use; the aligned forms are not
// replaced (nothing here over-aligns), so they keep the library's own pairing.
void* operator new(size_t size) {
  if (void* p = Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) {
  if (void* p = Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return Allocate(size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return Allocate(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
