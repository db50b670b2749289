/*
 * users_cli.c - `luong users add NAME --role ROLE | list | remove NAME`:
 * the console's accounts, written straight to the store, so the first
 * admin can be made before the host ever runs (and while it runs: the
 * store takes a second writer).
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "i18n.h"
#include "store_console.h"
#include "users.h"
#include "util.h"

/* One line of stdin, without its newline; the terminal does not echo
 * it. NULL at end of input. */
static char *read_secret(const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (tty) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static void free_secret(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static int add(struct store *st, const char *name, const char *role)
{
	struct user_row u = { 0 };
	char *pw = read_secret("password: "), *again = NULL;
	int rc = 1;

	if (!pw || strlen(pw) < 8) {
		fprintf(stderr, _("luong: users add: the password (one line on "
				  "stdin) must have at least 8 characters\n"));
		goto out;
	}
	if (isatty(STDIN_FILENO)) {
		again = read_secret("again: ");
		if (!again || strcmp(pw, again)) {
			fprintf(stderr, _("luong: the two passwords differ\n"));
			goto out;
		}
	}
	u.name = xstrdup(name);
	u.role = xstrdup(role);
	if (users_hash(pw, 0, &u) || store_user_put(st, &u))
		fprintf(stderr, _("luong: cannot store the user %s\n"), name);
	else
		rc = 0;
	if (!rc)
		printf("%s: %s\n", name, role);
out:
	user_row_free(&u);
	free_secret(pw);
	free_secret(again);
	return rc;
}

static int list(struct store *st)
{
	cJSON *arr = store_users(st), *u;

	if (!arr)
		return 1;
	printf("%-32s %-10s %s\n", "USER", "ROLE", "SINCE");
	cJSON_ArrayForEach (u, arr)
		printf("%-32s %-10s %s\n",
		       cJSON_GetObjectItem(u, "name")->valuestring,
		       cJSON_GetObjectItem(u, "role")->valuestring,
		       cJSON_GetObjectItem(u, "created_at")->valuestring);
	cJSON_Delete(arr);
	return 0;
}

int users_cli(const struct conf *c, int argc, char **argv)
{
	struct store_opts so = { .sync_full = true };
	struct store *st;
	char err[512];
	int rc = 2;
	bool add_ok = argc == 5 && !strcmp(argv[1], "add") &&
		      !strcmp(argv[3], "--role");

	if (add_ok && (!users_name_ok(argv[2]) || !role_parse(argv[4]))) {
		fprintf(stderr, _("luong: users add NAME --role ROLE: NAME is "
				  "1 "
				  "to 64 letters, digits or . _ - @; ROLE is "
				  "viewer, "
				  "operator or admin\n"));
		return 2;
	}
	if (!add_ok && !(argc == 2 && !strcmp(argv[1], "list")) &&
	    !(argc == 3 && !strcmp(argv[1], "remove"))) {
		fprintf(stderr, _("luong: users add NAME --role "
				  "viewer|operator|admin, users list, or users "
				  "remove "
				  "NAME\n"));
		return 2;
	}
	so.path = util_path_join(c->data_dir, "luong.db");
	if (store_open(&so, &st, err, sizeof(err))) {
		fprintf(stderr, _("luong: %s\n"), err);
		free((char *)so.path);
		return 1;
	}
	if (add_ok)
		rc = add(st, argv[2], argv[4]);
	else if (!strcmp(argv[1], "list"))
		rc = list(st);
	else
		rc = store_user_del(st, argv[2]) ? 1 : 0;
	store_close(st);
	free((char *)so.path);
	return rc;
}
