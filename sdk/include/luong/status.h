/*
 * luong/status.h - the one result code type of the Luồng SDK.
 *
 * LUONG_OK is 0. Positive values are not errors: LUONG_PENDING (1) says
 * "the result comes later" (see luong_events.complete), LUONG_NOT_POSTED
 * (2, since 1.2) "made, but not posted". Errors are negative. Codes are
 * never renumbered and never removed; new errors are appended before
 * LUONG_E__LAST.
 */
#ifndef LUONG_STATUS_H
#define LUONG_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum luong_status {
	LUONG_OK = 0,
	LUONG_PENDING = 1,	  /* result arrives later through complete() */
	LUONG_E_INVAL = -1,	  /* bad argument or malformed input */
	LUONG_E_NOMEM = -2,	  /* out of memory */
	LUONG_E_CONFIG = -3,	  /* bad or missing configuration */
	LUONG_E_AUTH = -4,	  /* credentials refused */
	LUONG_E_TRANSIENT = -5,	  /* may succeed later: the host retries */
	LUONG_E_REMOTE = -6,	  /* the target refused for good */
	LUONG_E_TIMEOUT = -7,	  /* no answer in time (retryable) */
	LUONG_E_UNSUPPORTED = -8, /* not offered by this plugin or host */
	LUONG_E_ABI = -9,	  /* ABI mismatch */
	LUONG_E_INTERNAL = -10,	  /* a bug; please report */
	LUONG_E_NOTFOUND = -11,	  /* no such key, record or entry */
	/* -- 1.2 -- */
	/* The target made the document but could not post it (ghi sổ: e.g.
	 * negative stock; SPEC B5). Not an error: the output names what was
	 * made, the reason (set_error, or complete()'s reason) says why it
	 * was not posted. The document becomes post_failed, distinct from
	 * failed and synced; `luong retry --ignore-warnings` sends it again
	 * with LUONG_CALL_IGNORE_WARNINGS. A host older than 1.2 treats it
	 * as a permanent failure. */
	LUONG_NOT_POSTED = 2,
	/* The target refused a document number already used (SPEC B6): the
	 * flow's on_number_clash decides (fail, or renumber with a suffix,
	 * see luong_call_api.number_suffix). */
	LUONG_E_NUMBER_TAKEN = -12,
	LUONG_E__LAST = -13 /* never use */
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
	case LUONG_NOT_POSTED: return "made but not posted";
	case LUONG_E_NUMBER_TAKEN: return "document number already used";
	default: return "unknown status";
	}
}

#ifdef __cplusplus
}
#endif

#endif
