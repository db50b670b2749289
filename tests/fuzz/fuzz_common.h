/*
 * fuzz_common.h - what the libFuzzer harnesses share: a private scratch
 * folder, the fixed mapping tables and flow catalog, and a minimal host
 * runtime that loads a real plugin through the host's loader.
 *
 * Everything here is set up once per fuzzing process (in
 * LLVMFuzzerInitialize) and lives until exit; each input then runs
 * through the real host code.
 */
#ifndef LUONG_FUZZ_COMMON_H
#define LUONG_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "flow.h"
#include "runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private folder under $TMPDIR, removed at exit. */
const char *fuzz_dir(void);
/* Writes data to dir/name (made 0600); aborts on failure. Owned path. */
char *fuzz_put(const char *dir, const char *name, const void *data,
	       size_t size);

/* The mapping tables of the sandbox deployment, parsed once. Borrowed. */
const cJSON *fuzz_tables(void);

/* A catalog of the shipped connections (misa, kho, crm) and the probe,
 * answered by the engine's own catalog over fixed plugin descriptors. */
void fuzz_catalog(struct flow_catalog *cat);

/* The host's services for plugins (services_init), with events, kv and
 * HTTP kept in the process, and the plugins of so_paths loaded by the
 * host's loader into rt->plugins. Aborts on failure. */
void fuzz_runtime_init(struct runtime *rt, const char *const *so_paths,
		       size_t n);

/* A plugin loaded by the host's loader with one connection read from a
 * connection file and started with init(), talking to a host whose
 * events, kv and HTTP services stay in the process (see fuzz_common.c). */
struct fuzz_plugin {
	struct runtime rt;
	struct luong_ctx *ctx;
};

/* Loads so_path and starts connection `name` with config (JSON text of
 * the "config" object; secrets as {"env": ...}). Aborts on failure. */
void fuzz_plugin_start(struct fuzz_plugin *fp, const char *so_path,
		       const char *name, const char *config);

/* One webhook request to the started connection, as server.c makes it:
 * emitted events go into a batch that is checked and dropped. */
struct fuzz_hook {
	const char *path;
	const char *header_name; /* one request header, or NULL */
	const char *header_value;
	/* more headers: name, value, ..., NULL (or NULL: none) */
	const char *const *more_headers;
	const char *body;
	size_t body_len;
};
void fuzz_plugin_webhook(struct fuzz_plugin *fp, const struct fuzz_hook *h);

/* HMAC-SHA256 of msg under key: lowercase hex into out[65] or base64
 * into out[45]. */
void fuzz_hmac_hex(const char *key, const void *msg, size_t len, char out[65]);
void fuzz_hmac_b64(const char *key, const void *msg, size_t len, char out[45]);

/*
 * libjq 1.6 leaks the text of a string its parser is inside when it gives
 * up: at the end of the program (`"\(`, `"abc`) or at a syntax error in
 * an interpolation (`"\(.a$b)"`); issue 7, item 12. The default (frame
 * pointer) unwinder cannot see into libjq, so no suppression can name it:
 * the harnesses compile a program that may hit it with leak checks
 * paused, and compile it again with them on when it compiled, so only a
 * refused program of that kind goes unchecked.
 */
bool fuzz_jq_may_leak(const char *src);
/* As above for any string in j, or under a "when" or "input" key. */
bool fuzz_jq_may_leak_all(const cJSON *j);
bool fuzz_jq_may_leak_in(const cJSON *flow);
/* Leak checks off (true) and on again (false). */
void fuzz_leaks_ignore(bool ignore);

/* Bytes the harnesses read only so the sanitizers check them. */
extern volatile size_t fuzz_sink;

/* A NUL-terminated copy of the input (inputs are not terminated). */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
