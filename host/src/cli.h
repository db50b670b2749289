/* cli.h - the `luong` commands that talk to a running host's admin API. */
#ifndef LUONG_CLI_H
#define LUONG_CLI_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "conf.h"

/* argv[0] is the command name. Returns the process exit code. */
int cli_main(const struct conf *conf, int argc, char **argv);
/* `users add|list|remove` (users_cli.c): straight to the store. */
int users_cli(const struct conf *conf, int argc, char **argv);

/* Prints the go-live check's answer (POST /api/flows/<id>/try) for a
 * person (cli_try.c). Returns the exit code: 0 when ready (dry run) or
 * synced (sent), else 1. */
int cli_try_print(FILE *out, const cJSON *res);

/* Prints GET /api/plugins as tables for a person (cli_plugins.c). */
int cli_plugins_print(FILE *out, const cJSON *res);

/* Prints POST /api/codes (codes with no match, both ways) for a person
 * (cli_codes.c). 0 when every code matched, else 1. */
int cli_codes_print(FILE *out, const cJSON *res);

/* The admin API for the commands in other files: 0 with the status and
 * the answer (owned, may be NULL), or -1 (printed). */
int cli_api(const struct conf *c, const char *method, const char *path,
	    const cJSON *body, long *status, cJSON **json);
/* `connect <plan> [--step S] [--no-wait | --status]` (cli_connect.c). */
int cli_connect(const struct conf *c, int argc, char **argv);

#endif
