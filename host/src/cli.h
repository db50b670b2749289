/* cli.h - the `luong` commands that talk to a running host's admin API. */
#ifndef LUONG_CLI_H
#define LUONG_CLI_H

#include "conf.h"

/* argv[0] is the command name. Returns the process exit code. */
int cli_main(const struct conf *conf, int argc, char **argv);
/* `users add|list|remove` (users_cli.c): straight to the store. */
int users_cli(const struct conf *conf, int argc, char **argv);

#endif
