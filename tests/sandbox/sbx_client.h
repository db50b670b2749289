/* sbx_client.h - test helper: runs luong-sandbox as a child process, talks
 * HTTP/JSON to it, and receives webhooks in-process. */
#ifndef LUONG_SBX_CLIENT_H
#define LUONG_SBX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <cjson/cJSON.h>

struct sbxc {
	pid_t pid;
	char dir[256]; /* temporary directory holding the ports file */
	cJSON *ports;  /* {"misa": port, ...} */
};

/* Starts the sandbox with --only `only` (NULL = all); waits for the ports
 * file (up to 10 s). Returns 0 or -1. */
int sbxc_start(struct sbxc *s, const char *only);
/* SIGTERM, then waits; returns the exit status (0 = clean). */
int sbxc_stop(struct sbxc *s);
int sbxc_port(const struct sbxc *s, const char *emu);
/* "http://127.0.0.1:<port><path>" in a static per-call buffer ring. */
const char *sbxc_url(const struct sbxc *s, const char *emu, const char *path);

struct sbxc_resp {
	long status; /* 0 = transport error */
	char *body;
	cJSON *json;	/* parsed body or NULL */
	char *headers;	/* raw response headers */
	double seconds; /* total time */
	int curl_code;
};
/* HTTP request; headers NULL-terminated "Name: value". body may be NULL. */
int sbxc_http(const char *method, const char *url, const char *const *headers,
	      const char *body, long timeout_ms, struct sbxc_resp *r);
void sbxc_resp_free(struct sbxc_resp *r);
/* Value of a response header (case-insensitive), malloc'd or NULL. */
char *sbxc_resp_header(const struct sbxc_resp *r, const char *name);
/* Shorthand: POST JSON text, return the parsed reply (NULL on error). */
cJSON *sbxc_post_json(const char *url, const char *const *headers,
		      const char *body);
cJSON *sbxc_get_json(const char *url);

/* A tiny webhook receiver (libmicrohttpd) recording what it got. */
struct sbxc_hit {
	char *path;
	char *body;
	cJSON *headers; /* object of all request headers, lower-case names */
};
struct sbxc_recv;
struct sbxc_recv *sbxc_recv_start(void);
int sbxc_recv_port(const struct sbxc_recv *r);
/* Status the receiver answers with (default 200). */
void sbxc_recv_set_status(struct sbxc_recv *r, int status);
int sbxc_recv_count(struct sbxc_recv *r);
/* Waits until at least n hits arrived (or timeout); returns the count. */
int sbxc_recv_wait(struct sbxc_recv *r, int n, long timeout_ms);
/* Copy of hit i (caller frees with sbxc_hit_free), NULL if none. */
struct sbxc_hit *sbxc_recv_hit(struct sbxc_recv *r, int i);
void sbxc_hit_free(struct sbxc_hit *h);
void sbxc_recv_stop(struct sbxc_recv *r);

void sbxc_sleep_ms(long ms);

/* JSON reading for the tests. */
const char *sbxc_jstr(const cJSON *o, const char *k); /* NULL unless a string */
double sbxc_jnum(const cJSON *o,
		 const char *k); /* fails the test unless a number */
cJSON *sbxc_jget(const cJSON *o, const char *k);

/* POST /_sandbox/act/<name> to emu; the reply (fails the test if not JSON). */
cJSON *sbxc_act(const struct sbxc *s, const char *emu, const char *name,
		const char *body);
/* Starts the sandbox with only emu and a receiver its webhooks go to
 * (path /hooks/<emu>, signed with secret, retry_base_ms 50); fails the
 * test on error. sbxc_stop_hooked stops both (the sandbox must exit 0). */
struct sbxc_recv *sbxc_start_hooked(struct sbxc *s, const char *emu,
				    const char *secret);
void sbxc_stop_hooked(struct sbxc *s, struct sbxc_recv *rx);

/* The same with the answer's status (status may be NULL) and a timeout. */
cJSON *sbxc_act_status(const struct sbxc *s, const char *emu, const char *name,
		       const char *body, long timeout_ms, long *status);
/* POST a control request (/_sandbox/...) to emu; fails the test unless 200. */
void sbxc_control(const struct sbxc *s, const char *emu, const char *path,
		  const char *body);

/* Runs a Check suite; EXIT_SUCCESS when every test passed (for main). */
int sbxc_run_suite(Suite *suite);

#endif
