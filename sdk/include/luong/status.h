/*
 * luong/status.h - the one result code type of the Luồng SDK.
 *
 * LUONG_OK is 0 and LUONG_PENDING (1) is the only positive value: it is not
 * an error, it says "the result comes later" (see luong_events.complete).
 * Errors are negative. Codes are never renumbered and never removed; new
 * ones are appended before LUONG_E__LAST.
 */
#ifndef LUONG_STATUS_H
#define LUONG_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum luong_status {
	LUONG_OK = 0,
	LUONG_PENDING = 1,        /* result arrives later through complete() */
	LUONG_E_INVAL = -1,       /* bad argument or malformed input */
	LUONG_E_NOMEM = -2,       /* out of memory */
	LUONG_E_CONFIG = -3,      /* bad or missing configuration */
	LUONG_E_AUTH = -4,        /* credentials refused */
	LUONG_E_TRANSIENT = -5,   /* may succeed later: the host retries */
	LUONG_E_REMOTE = -6,      /* the target refused for good */
	LUONG_E_TIMEOUT = -7,     /* no answer in time (retryable) */
	LUONG_E_UNSUPPORTED = -8, /* not offered by this plugin or host */
	LUONG_E_ABI = -9,         /* ABI mismatch */
	LUONG_E_INTERNAL = -10,   /* a bug; please report */
	LUONG_E_NOTFOUND = -11,   /* no such key, record or entry */
	LUONG_E__LAST = -12       /* never use */
};

/* A short English text for a code; never NULL. */
static inline const char *luong_status_text(enum luong_status st)
{
	switch (st) {
	case LUONG_OK: return "ok";
	case LUONG_PENDING: return "pending: the result comes later";
	case LUONG_E_INVAL: return "invalid argument or input";
	case LUONG_E_NOMEM: return "out of memory";
	case LUONG_E_CONFIG: return "bad or missing configuration";
	case LUONG_E_AUTH: return "credentials refused";
	case LUONG_E_TRANSIENT: return "temporary fault; will retry";
	case LUONG_E_REMOTE: return "refused by the target";
	case LUONG_E_TIMEOUT: return "timed out";
	case LUONG_E_UNSUPPORTED: return "not supported";
	case LUONG_E_ABI: return "ABI mismatch";
	case LUONG_E_INTERNAL: return "internal error";
	case LUONG_E_NOTFOUND: return "not found";
	default: return "unknown status";
	}
}

#ifdef __cplusplus
}
#endif

#endif
