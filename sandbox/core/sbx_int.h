/* sbx_int.h - framework internals shared by the core files (not for emulators). */
#ifndef LUONG_SBX_INT_H
#define LUONG_SBX_INT_H

#include <pthread.h>

#include <microhttpd.h>

#include "sbx.h"

#define SBX_MAX_PARAMS 8
#define SBX_REQLOG_CAP 4096
#define SBX_DELIVLOG_CAP 2048

struct sbx_faults {
	double error_rate;
	int error_status;
	long latency_ms;
	int burst_429;
	double retry_after;
	long timeout_ms;
	double drop_rate;
	int64_t down_until; /* ms; 0 = up */
};

struct sbx_emu_priv {
	pthread_mutex_t lock;
	int port;
	struct MHD_Daemon *daemon;
	cJSON *seed;
	unsigned generation; /* bumped on reset: stale timers are cancelled */
	bool going_down;
	struct sbx_faults faults;
	/* request log: ring of cJSON objects */
	cJSON *reqlog[SBX_REQLOG_CAP];
	long reqlog_seq; /* seq of the newest entry */
	/* webhooks */
	char *hook_url;
	char *hook_secret;
	bool hook_duplicate;
	int hook_max_attempts;
	long hook_retry_base_ms;
	cJSON *deliveries; /* array, capped */
	uint64_t rng;
};

struct sbx_req_priv {
	struct MHD_Connection *conn;
	const char *pnames[SBX_MAX_PARAMS];
	char *pvals[SBX_MAX_PARAMS];
	int nparams;
	int status; /* 0 = no reply yet */
	char *ctype;
	char *rbody;
	size_t rlen;
	cJSON *rheaders; /* object name -> value */
	bool drop;
};

extern int sbx_verbose;

/* sbx_bg.c */
int sbx_bg_start(void);
void sbx_bg_stop_deliveries(void);
void sbx_bg_stop_timers(void);
/* Internal timer: runs without the emulator lock. */
void sbx_after_raw(long ms, void (*fn)(void *arg), void *arg);
/* Resumes conn after ms (latency and timeout faults). */
void sbx_resume_after(struct sbx_emu *emu, struct MHD_Connection *conn,
		      long ms);
/* Resumes every suspended connection of emu now. */
void sbx_resume_all(struct sbx_emu *emu);
void sbx_record_delivery(struct sbx_emu *emu, cJSON *entry); /* lock held */

/* sbx_core.c */
struct sbx_emu *sbx_emu_create(const struct sbx_emulator *def,
			       const char *seed_dir);
int sbx_emu_listen(struct sbx_emu *emu, int port);
void sbx_emu_stop(struct sbx_emu *emu);
void sbx_emu_destroy(struct sbx_emu *emu);
double sbx_rand01(struct sbx_emu *emu); /* lock held */

#endif
