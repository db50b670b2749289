/* luong-sandbox: serves every registered emulator on its own loopback port. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/sbx_int.h"

/* Descriptors placed by SBX_REGISTER; weak so that an empty set links. */
extern const struct sbx_emulator *const __start_sbx_emulators[]
	__attribute__((weak));
extern const struct sbx_emulator *const __stop_sbx_emulators[]
	__attribute__((weak));

#define MAX_EMUS 32

static void usage(FILE *f)
{
	fprintf(f, "usage: luong-sandbox [--only a,b] [--port NAME=PORT]... "
		   "[--ports-file FILE]\n"
		   "                     [--seed DIR] [-v] [--list]\n"
		   "emulators:");
	for (const struct sbx_emulator *const *e = __start_sbx_emulators;
	     e && e < __stop_sbx_emulators; e++)
		fprintf(f, " %s", (*e)->name);
	fprintf(f, "\n");
}

static bool in_list(const char *list, const char *name)
{
	if (!list)
		return true;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && !strncmp(p, name, n))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --seed, else share/luong/sandbox/seed beside the installed binary, else
 * seed/ next to a build-tree binary's sources (compile definition). */
static const char *find_seed_dir(const char *given, char *buf, size_t n)
{
	if (given)
		return given;
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			static const char *const rel[] = { "/../share/luong/"
							   "sandbox/seed",
							   "/seed" };
			for (size_t i = 0; i < sizeof rel / sizeof rel[0];
			     i++) {
				if (strlen(exe) + strlen(rel[i]) >= n)
					continue;
				strcpy(buf, exe);
				strcat(buf, rel[i]);
				if (is_dir(buf))
					return buf;
			}
		}
	}
#ifdef SBX_SEED_DIR
	return SBX_SEED_DIR;
#else
	return "sandbox/seed";
#endif
}

static int write_ports(const char *file, struct sbx_emu **emus, int n)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", file, (int)getpid());
	cJSON *o = cJSON_CreateObject();
	for (int i = 0; i < n; i++)
		cJSON_AddNumberToObject(o, sbx_emu_name(emus[i]),
					sbx_emu_port(emus[i]));
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	FILE *f = s ? fopen(tmp, "w") : NULL;
	int rc = -1;
	if (f) {
		bool ok = fputs(s, f) >= 0 && fputc('\n', f) != EOF;
		ok = (fclose(f) == 0) && ok;
		if (ok && rename(tmp, file) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	free(s);
	return rc;
}

int main(int argc, char **argv)
{
	const char *only = NULL, *ports_file = NULL, *seed_arg = NULL;
	const char *port_specs[MAX_EMUS];
	int nspecs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;
		if (!strcmp(a, "--only") && has_val) {
			only = argv[++i];
		} else if (!strcmp(a, "--port") && has_val &&
			   nspecs < MAX_EMUS) {
			port_specs[nspecs++] = argv[++i];
		} else if (!strcmp(a, "--ports-file") && has_val) {
			ports_file = argv[++i];
		} else if (!strcmp(a, "--seed") && has_val) {
			seed_arg = argv[++i];
		} else if (!strcmp(a, "-v")) {
			sbx_verbose = 1;
		} else if (!strcmp(a, "--list")) {
			for (const struct sbx_emulator *const *e =
				     __start_sbx_emulators;
			     e && e < __stop_sbx_emulators; e++)
				printf("%s\n", (*e)->name);
			return 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr,
				"luong-sandbox: unknown or incomplete option "
				"%s\n",
				a);
			usage(stderr);
			return 2;
		}
	}

	/* Signals are taken by sigwait below; every thread inherits the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	char seed_buf[PATH_MAX];
	const char *seed_dir =
		find_seed_dir(seed_arg, seed_buf, sizeof seed_buf);
	struct sbx_emu *emus[MAX_EMUS];
	int n = 0, rc = 1;
	if (sbx_bg_start() < 0) {
		fprintf(stderr, "luong-sandbox: cannot start background "
				"threads\n");
		return 1;
	}
	if (only) {
		for (const char *p = only; *p;) {
			const char *e = strchrnul(p, ',');
			bool found = false;
			for (const struct sbx_emulator *const *d =
				     __start_sbx_emulators;
			     d && d < __stop_sbx_emulators; d++)
				if (strlen((*d)->name) == (size_t)(e - p) &&
				    !strncmp((*d)->name, p, (size_t)(e - p)))
					found = true;
			if (!found) {
				fprintf(stderr,
					"luong-sandbox: unknown emulator "
					"%.*s\n",
					(int)(e - p), p);
				goto out_stop;
			}
			p = *e ? e + 1 : e;
		}
	}
	for (const struct sbx_emulator *const *d = __start_sbx_emulators;
	     d && d < __stop_sbx_emulators && n < MAX_EMUS; d++) {
		if (!in_list(only, (*d)->name))
			continue;
		int port = 0;
		for (int i = 0; i < nspecs; i++) {
			size_t nl = strlen((*d)->name);
			if (!strncmp(port_specs[i], (*d)->name, nl) &&
			    port_specs[i][nl] == '=')
				port = atoi(port_specs[i] + nl + 1);
		}
		struct sbx_emu *emu = sbx_emu_create(*d, seed_dir);
		if (!emu)
			goto out_stop;
		emus[n++] = emu;
		if (sbx_emu_listen(emu, port) < 0) {
			fprintf(stderr,
				"luong-sandbox: cannot listen for %s on port "
				"%d: %s\n",
				(*d)->name, port, strerror(errno));
			goto out_stop;
		}
		fprintf(stderr, "luong-sandbox: %s on http://127.0.0.1:%d\n",
			(*d)->name, sbx_emu_port(emu));
	}
	if (n == 0) {
		fprintf(stderr, "luong-sandbox: no emulator selected\n");
		goto out_stop;
	}
	if (ports_file && write_ports(ports_file, emus, n) < 0) {
		fprintf(stderr, "luong-sandbox: cannot write ports file %s\n",
			ports_file);
		goto out_stop;
	}
	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "luong-sandbox: stopping on signal %d\n", sig);
	rc = 0;
out_stop:
	for (int i = 0; i < n; i++)
		sbx_emu_stop(emus[i]);
	sbx_bg_stop_deliveries();
	sbx_bg_stop_timers();
	for (int i = 0; i < n; i++) {
		sbx_emu_stop(
			emus[i]); /* a down window may have reopened it meanwhile */
		sbx_emu_destroy(emus[i]);
	}
	curl_global_cleanup();
	return rc;
}
