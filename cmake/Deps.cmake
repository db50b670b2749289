# System libraries, all from Debian (see README "Dependencies").
find_package(PkgConfig REQUIRED)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(CRYPTO REQUIRED IMPORTED_TARGET libcrypto)
pkg_check_modules(CHECK IMPORTED_TARGET check)

# libev and libjq ship no pkg-config file in Debian 12.
find_path(EV_INCLUDE_DIR ev.h REQUIRED)
find_library(EV_LIBRARY ev REQUIRED)
add_library(luong_dep_ev INTERFACE)
target_include_directories(luong_dep_ev INTERFACE ${EV_INCLUDE_DIR})
target_link_libraries(luong_dep_ev INTERFACE ${EV_LIBRARY})

find_path(JQ_INCLUDE_DIR jq.h REQUIRED)
find_library(JQ_LIBRARY jq REQUIRED)
add_library(luong_dep_jq INTERFACE)
target_include_directories(luong_dep_jq INTERFACE ${JQ_INCLUDE_DIR})
target_link_libraries(luong_dep_jq INTERFACE ${JQ_LIBRARY})

find_package(Threads REQUIRED)
