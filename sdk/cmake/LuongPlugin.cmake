# luong_add_plugin(<name> SOURCES <src...> [LIBS <lib...>])
# Builds a Luồng connector plugin: a shared object named <name>.so that
# exports only luong_plugin_entry and links nothing of the host.
# Used by the in-tree plugins and by third parties alike.
function(luong_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden)
  target_link_libraries(${name} PRIVATE luong::sdk ${P_LIBS})
  if(NOT CMAKE_C_FLAGS MATCHES "sanitize" AND NOT LUONG_SANITIZE)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
