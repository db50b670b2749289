/* console_files.h - the console's files, built in (cmake/embed_files.cmake
 * makes console_files.c from host/console at build time). */
#ifndef LUONG_CONSOLE_FILES_H
#define LUONG_CONSOLE_FILES_H

#include <stddef.h>

struct console_asset {
	const char *path; /* "/console/app.js" */
	const unsigned char *data;
	size_t len;
};
extern const struct console_asset console_assets[];
extern const size_t console_n_assets;

#endif
