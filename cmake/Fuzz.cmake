# LUONG_FUZZ=ON builds the libFuzzer harnesses of tests/fuzz: the host's
# core library and the plugins get coverage instrumentation with ASan and
# UBSan (-fsanitize=fuzzer-no-link), each harness links -fsanitize=fuzzer.
# A separate configuration with its own build folder, compiled by clang:
#   cmake -B build-fuzz -DCMAKE_C_COMPILER=clang -DLUONG_FUZZ=ON
# tests/fuzz/run_ci.sh and scripts/fuzz.sh do this.
option(LUONG_FUZZ "Build the libFuzzer harnesses (clang only)" OFF)
if(LUONG_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LUONG_FUZZ=ON needs clang: -DCMAKE_C_COMPILER=clang")
  endif()
  # In CMAKE_C_FLAGS, not add_compile_options: luong_add_plugin() looks
  # there to leave sanitizer symbols to the executable that loads a plugin.
  string(APPEND CMAKE_C_FLAGS " -fsanitize=fuzzer-no-link,address,undefined"
    " -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    " -Wno-unknown-warning-option")
  add_link_options(-fsanitize=address,undefined)
endif()
