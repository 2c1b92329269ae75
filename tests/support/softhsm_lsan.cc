// For test processes that sign with SoftHSM2: the leak checker ignores the module's known
// leak (softhsm.lsan says which) and nothing else. The sanitizer runtime calls these weak
// hooks at start; in builds without it they are never called. The slow unwinder lets the
// suppression see the module's frames (libcrypto, in between, has no frame pointers).
extern "C" {
const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0";
}
const char* __lsan_default_suppressions() {
  return "leak:libsofthsm2.so\n";
}
}
