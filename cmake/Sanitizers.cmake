# LUONG_SANITIZE=ON builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer; the test command uses it.
option(LUONG_SANITIZE "Build with ASan and UBSan" OFF)
if(LUONG_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
