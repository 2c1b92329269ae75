# Compiler flags shared by every target: warnings (as errors in CI) and sanitizers.
add_library(ipn_flags INTERFACE)
target_compile_options(ipn_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(IPN_WERROR)
  target_compile_options(ipn_flags INTERFACE -Werror)
endif()
if(IPN_SANITIZE)
  target_compile_options(ipn_flags INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(ipn_flags INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(ipn_flags INTERFACE ${PROJECT_SOURCE_DIR})
if(IPN_FUZZ)
  # Coverage for libFuzzer in every library a fuzz target reaches; AddressSanitizer and
  # UndefinedBehaviorSanitizer so that a memory or UB error is a crash the fuzzer keeps.
  target_compile_options(ipn_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
  target_link_options(ipn_flags INTERFACE -fsanitize=address,undefined)
endif()
