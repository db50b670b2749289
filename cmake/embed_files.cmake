# Turns every file of DIR into a C array in OUT (a build step of the
# host; no tool beyond CMake): console_assets[] = {path, bytes, length}.
#   cmake -DDIR=host/console -DOUT=console_files.c -P embed_files.cmake
file(GLOB files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(body "/* generated from host/console by cmake/embed_files.cmake */\n")
string(APPEND body "#include <stddef.h>\n#include \"console_files.h\"\n\n")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ ${DIR}/${f} hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR n "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n\t" bytes "${bytes}")
  string(APPEND body "static const unsigned char f${i}[] = {\n\t${bytes}0\n};\n")
  string(APPEND table "\t{ \"/console/${f}\", f${i}, ${n} },\n")
  math(EXPR i "${i} + 1")
endforeach()
# the last entry ends the table even when the folder is empty
string(APPEND body "\nconst struct console_asset console_assets[] = {\n${table}\t{ 0, 0, 0 },\n};\n")
string(APPEND body "const size_t console_n_assets = ${i};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
