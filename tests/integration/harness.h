/*
 * harness.h - integration test helpers: a throw-away deployment folder,
 * the real `luong` process started, killed and restarted in it, its CLI
 * and admin API, and webhooks sent to it.
 */
#ifndef LUONG_TEST_HARNESS_H
#define LUONG_TEST_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct deploy {
	char dir[256];
	pid_t pid;
	unsigned port;
	char *token;
};

/* A fresh folder with luong.json (port 0), connections/, flows/,
 * mappings/ and plugins/ holding the probe plugin. */
void h_deploy(struct deploy *d);
void h_cleanup(struct deploy *d);
/* Writes dir/rel (creating folders), printf-style content. */
void h_write(struct deploy *d, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The probe connection pointed at a sink, and the one-step relay flow. */
void h_probe_setup(struct deploy *d, unsigned sink_port, const char *mode);
/* Starts `luong run`; waits until /healthz answers. 0 or -1. */
int h_start(struct deploy *d);
/* Sends sig (SIGTERM waits for a clean exit; SIGKILL does not). */
int h_stop(struct deploy *d, int sig);
/* Runs `luong -c ... <args>`; *out gets stdout+stderr. Exit code. */
int h_luong(struct deploy *d, char **out, const char *args);
/* Admin API; returns the HTTP status and *json (may be NULL). */
long h_api(struct deploy *d, const char *method, const char *path,
	   const char *body, cJSON **json);
/* POST to /hooks/<conn><path>; returns the HTTP status. */
long h_hook(struct deploy *d, const char *conn, const char *path,
	    const char *body);
/* A whole file, NUL-terminated (owned), or NULL if it cannot be read;
 * *len (if given) gets its size, NULs included. */
char *h_read_file(const char *path, size_t *len);
/* Copies a file into the deployment as rel; 0 or -1. */
int h_copy_in(struct deploy *d, const char *src, const char *rel);
/* One HTTP request with a JSON body and an optional extra header line;
 * returns the status (0: no answer) and *out (owned) the body. */
long h_http(const char *method, const char *url, const char *body,
	    const char *header, char **out);
/* The host's log so far. Owned. */
char *h_log(struct deploy *d);
bool h_log_has(struct deploy *d, const char *needle);
/* Waits until a document reaches `status` (or timeout). */
bool h_wait_status(struct deploy *d, const char *flow, const char *doc,
		   const char *status, long timeout_ms);
/* The document's status now, owned, or NULL. */
char *h_doc_status(struct deploy *d, const char *flow, const char *doc);
long long h_now_ms(void);

/* luong-sandbox serving the emulators in `only` ("misa,kho"), its log
 * and ports file in a fresh folder. */
struct sandbox {
	pid_t pid;
	char dir[64];
	cJSON *ports; /* {"misa": port, ...} */
};

/* Starts it and waits for its ports (10 s at most); 0 or -1. */
int h_sandbox_start(struct sandbox *sb, const char *only);
/* An emulator's answer to METHOD path on its port, as JSON (NULL if none
 * or not JSON). Owned. */
cJSON *h_emu(int port, const char *method, const char *path, const char *body);
/* A string member or NULL; a number member or -1. */
const char *h_jstr(const cJSON *o, const char *key);
double h_jnum(const cJSON *o, const char *key);
/* The first row of st[table] whose key has the string (or number)
 * value, or NULL. Borrowed from st. */
cJSON *h_find_row(cJSON *st, const char *table, const char *key,
		  const char *value);
/* An emulator's port, 0 if it does not serve. */
int h_sandbox_port(const struct sandbox *sb, const char *emu);
/* Stops it and removes its folder. */
void h_sandbox_stop(struct sandbox *sb);

/* A loopback TCP port that is free now, below the ephemeral range (so no
 * outgoing connection takes it while a host restarts on it); 0 if none. */
unsigned h_free_port(void);

#endif
