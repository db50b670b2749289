/*
 * fuzz_common.c - the harnesses' shared set-up (see fuzz_common.h).
 *
 * The plugin runtime is the host's own: services_init() gives the memory,
 * log, config, clock and JSON tables, the loader loads the shared object
 * and reads its connection file, and emit() is the engine's. Three
 * services stay in the process so a run needs no store, engine or
 * network: complete() and emit_sync() answer from a hash of their key,
 * kv serves a fixed note, and HTTP always fails as a transient fault.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/lsan_interface.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "log.h"
#include "util.h"

static char *scratch;
volatile size_t fuzz_sink;

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void scratch_remove(void)
{
	if (scratch)
		nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl;

	if (scratch)
		return scratch;
	tmpl = xasprintf("%s/luong-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	scratch = tmpl;
	atexit(scratch_remove);
	/* LUONG_FUZZ_LOG=0 silences the host's log; debug by default so the
	 * log's formatting sees every fuzzed text too */
	log_set_level(getenv("LUONG_FUZZ_LOG") ? atoi(getenv("LUONG_FUZZ_LOG"))
					       : LUONG_LOG_DEBUG);
	return scratch;
}

char *fuzz_put(const char *dir, const char *name, const void *data, size_t size)
{
	char *path = util_path_join(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		perror(path);
		abort();
	}
	close(fd);
	return path;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* ---- libjq's parser leak -------------------------------------------------- */

/* Follows jq's lexer through strings and comments: true at the first
 * interpolation \\( or when the program ends inside a string. */
bool fuzz_jq_may_leak(const char *s)
{
	bool in_str = false;

	for (; *s; s++) {
		if (in_str && *s == '\\') {
			if (s[1] == '(')
				return true;
			s += s[1] != '\0';
		} else if (*s == '"') {
			in_str = !in_str;
		} else if (!in_str && *s == '#') {
			while (s[1] && s[1] != '\n')
				s++;
		}
	}
	return in_str;
}

bool fuzz_jq_may_leak_all(const cJSON *j)
{
	const cJSON *it;

	if (cJSON_IsString(j))
		return fuzz_jq_may_leak(j->valuestring);
	cJSON_ArrayForEach (it, j)
		if (fuzz_jq_may_leak_all(it))
			return true;
	return false;
}

bool fuzz_jq_may_leak_in(const cJSON *j)
{
	const cJSON *it;

	cJSON_ArrayForEach (it, j) {
		if (it->string &&
		    (!strcmp(it->string, "when") || !strcmp(it->string, "inpu"
									"t")) &&
		    fuzz_jq_may_leak_all(it))
			return true;
		if (fuzz_jq_may_leak_in(it))
			return true;
	}
	return false;
}

void fuzz_leaks_ignore(bool ignore)
{
	static bool ignoring;

	if (ignore && !ignoring)
		__lsan_disable();
	else if (!ignore && ignoring)
		__lsan_enable();
	ignoring = ignore;
}

/* ---- fixed data -------------------------------------------------------- */

/* deploy/sandbox/mappings, as the shipped flows use them */
static const char tables_text[] =
	"{\"issue_note_voucher_types\": {"
	"  \"sales_issue\": {\"voucher_type\": 51, \"reftype\": 2020,"
	"                   \"name\": \"Xuất kho bán hàng\"},"
	"  \"other_issue\": {\"voucher_type\": 51, \"reftype\": null,"
	"                   \"name\": \"Xuất khác\"}},"
	" \"kho_status_to_crm\": {"
	"  \"Chưa xuất kho\": \"Chưa giao hàng\","
	"  \"Đã xuất một phần\": \"Đang giao hàng\","
	"  \"Đã xuất đủ\": \"Đã giao hàng\"},"
	" \"warehouses\": {\"Hà Nội\": \"KHO_HN\", \"8\": \"KHO_8\"}}";

const cJSON *fuzz_tables(void)
{
	static cJSON *tables;

	if (!tables)
		tables = cJSON_Parse(tables_text);
	return tables;
}

/* ---- the catalog ----------------------------------------------------------- */

/* connection name -> plugin file, as deploy/sandbox names them */
static const char *const catalog_conns[][2] = {
	{ "crm", FUZZ_PLUGIN_AMIS_CRM },
	{ "kho", FUZZ_PLUGIN_AMIS_KHO },
	{ "misa", FUZZ_PLUGIN_MISA_AMIS },
	{ "probe", FUZZ_PLUGIN_PROBE },
};

static struct plugin *load_plugin(const char *path, struct plugin *loaded)
{
	char err[512];
	struct plugin *p = loader_load_plugin(path, loaded, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	return p;
}

void fuzz_catalog(struct flow_catalog *cat)
{
	static struct runtime rt;
	const size_t n = ARRAY_SIZE(catalog_conns);

	if (!rt.conns) {
		rt.conns = xcalloc(n, sizeof(*rt.conns));
		for (size_t i = 0; i < n; i++) {
			struct luong_ctx *ctx = xcalloc(1, sizeof(*ctx));

			ctx->name = xstrdup(catalog_conns[i][0]);
			ctx->plugin =
				load_plugin(catalog_conns[i][1], rt.plugins);
			ctx->plugin->next = rt.plugins;
			rt.plugins = ctx->plugin;
			ctx->rt = &rt;
			ctx->ready =
				true; /* checked, not started: flows check */
			rt.conns[rt.n_conns++] = ctx;
		}
	}
	engine_catalog(&rt, cat);
}

/* ---- services kept in the process ------------------------------------------- */

static uint32_t hash_text(const char *s)
{
	uint32_t h = 2166136261u;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* A waiting call is found for about half the keys. */
static enum luong_status fz_complete(struct luong_ctx *ctx, const char *key,
				     enum luong_status result, cJSON *output,
				     const char *reason)
{
	char *text = output ? cJSON_PrintUnformatted(output) : NULL;

	/* what the engine would store: the output and the reason in full */
	fuzz_sink += text ? strlen(text) : 0;
	fuzz_sink += reason ? strlen(reason) : 0;
	free(text);
	cJSON_Delete(output);
	if (!key)
		return LUONG_E_INVAL;
	return hash_text(key) & 1 ? LUONG_OK : LUONG_E_NOTFOUND;
}

/* A guard is stored like emit() and answered by the document id's hash:
 * no flow, allowed with an output, or refused with the engine's reason. */
static enum luong_status fz_emit_sync(struct luong_ctx *ctx, const char *event,
				      const char *doc_id, cJSON *payload,
				      cJSON **output, char **reason)
{
	/* the id may point into the payload emit() consumes (SDK 1.2) */
	char *id = doc_id ? xstrdup(doc_id) : NULL;
	enum luong_status st;

	*output = NULL;
	*reason = NULL;
	if (engine_emit(ctx, event, doc_id, payload) != LUONG_OK) {
		*reason = xstrdup("undeclared event or empty document id");
		free(id);
		return LUONG_E_INVAL;
	}
	switch (hash_text(id) % 3) {
	case 0: st = LUONG_E_NOTFOUND; break;
	case 1:
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "document_id", id);
		st = LUONG_OK;
		break;
	default:
		*reason = xasprintf("step check (kho delete_order_chain): "
				    "refused %s",
				    id);
		st = LUONG_E_REMOTE;
		break;
	}
	free(id);
	return st;
}

/* The note misa-amis keeps for a voucher request ("ref:<key>"). */
static enum luong_status fz_kv_get(struct luong_ctx *ctx, const char *key,
				   char **value)
{
	if (!key || strncmp(key, "ref:", 4) || !(hash_text(key) & 2))
		return LUONG_E_NOTFOUND;
	*value = xasprintf("{\"document_id\": \"XK00001\", \"reference\": "
			   "{\"kind\": \"issue_note\", \"note_id\": 1, "
			   "\"note_no\": \"XK00001\"}, \"key\": \"%s\"}",
			   key + 4);
	return LUONG_OK;
}

static enum luong_status fz_kv_put(struct luong_ctx *ctx, const char *key,
				   const char *value)
{
	return key && value && strlen(key) + strlen(value) ? LUONG_OK
							   : LUONG_E_INVAL;
}

static enum luong_status fz_kv_del(struct luong_ctx *ctx, const char *key)
{
	return key ? LUONG_OK : LUONG_E_INVAL;
}

/* Webhooks never need the network: every request fails as unreachable. */
static enum luong_status fz_http(struct luong_ctx *ctx,
				 const struct luong_http_request *req,
				 struct luong_http_response *resp)
{
	uint32_t size = resp->struct_size;

	memset(resp, 0, size < sizeof(*resp) ? size : sizeof(*resp));
	resp->struct_size = size;
	snprintf(resp->error, sizeof(resp->error),
		 "%s %s: no network while "
		 "fuzzing",
		 req->method, req->url);
	return LUONG_E_TRANSIENT;
}

static struct luong_events_api fz_events;
static struct luong_kv_api fz_kv = {
	.struct_size = sizeof(struct luong_kv_api),
	.get = fz_kv_get,
	.put = fz_kv_put,
	.del = fz_kv_del,
};
static struct luong_http_api fz_http_api;

/* The host's tables with the three in-process services swapped in. */
static void swap_services(struct luong_host *host)
{
	fz_events = *host->events;
	fz_events.complete = fz_complete;
	fz_events.emit_sync = fz_emit_sync;
	fz_http_api = *host->http;
	fz_http_api.request = fz_http;
	host->events = &fz_events;
	host->kv = &fz_kv;
	host->http = &fz_http_api;
}

/* ---- a started plugin -------------------------------------------------------- */

void fuzz_runtime_init(struct runtime *rt, const char *const *so_paths,
		       size_t n)
{
	struct plugin **tail = &rt->plugins;

	services_init(rt);
	swap_services(&rt->host);
	for (size_t i = 0; i < n; i++) {
		*tail = load_plugin(so_paths[i], rt->plugins);
		tail = &(*tail)->next;
	}
}

void fuzz_plugin_start(struct fuzz_plugin *fp, const char *so_path,
		       const char *name, const char *config)
{
	char *dir = xasprintf("%s/conn-%s", fuzz_dir(), name);
	char *file = xasprintf("%s.json", name);
	size_t errors = 0;
	char *text;

	memset(fp, 0, sizeof(*fp));
	fuzz_runtime_init(&fp->rt, &so_path, 1);
	text = xasprintf("{\"plugin\": \"%s\", \"config\": %s}",
			 fp->rt.plugins->desc->name, config);
	if (mkdir(dir, 0700)) {
		perror(dir);
		abort();
	}
	free(fuzz_put(dir, file, text, strlen(text)));
	loader_read_connections(&fp->rt, dir, &errors);
	loader_init_connections(&fp->rt);
	if (errors || fp->rt.n_conns != 1 || !fp->rt.conns[0]->ready) {
		fprintf(stderr, "fuzz: connection %s of %s did not start\n",
			name, so_path);
		abort();
	}
	fp->ctx = fp->rt.conns[0];
	free(text);
	free(file);
	free(dir);
}

struct fuzz_req {
	struct luong_webhook_request pub;
	const struct fuzz_hook *h;
};

static const char *req_header(const struct luong_webhook_request *r,
			      const char *name)
{
	const struct fuzz_hook *h = ((const struct fuzz_req *)r)->h;

	if (h->header_name && !strcasecmp(name, h->header_name))
		return h->header_value;
	for (const char *const *m = h->more_headers; m && m[0]; m += 2)
		if (!strcasecmp(name, m[0]))
			return m[1];
	return NULL;
}

static const char *req_query(const struct luong_webhook_request *r,
			     const char *name)
{
	return NULL;
}

void fuzz_plugin_webhook(struct fuzz_plugin *fp, const struct fuzz_hook *h)
{
	struct luong_ctx *ctx = fp->ctx;
	struct luong_webhook_response resp = { 0 };
	struct fuzz_req rq = { 0 };
	struct emit_batch b;

	rq.h = h;
	rq.pub.struct_size = sizeof(rq.pub);
	rq.pub.method = "POST";
	rq.pub.path = h->path;
	rq.pub.body = h->body;
	rq.pub.body_len = h->body_len;
	rq.pub.header = req_header;
	rq.pub.query = req_query;
	resp.struct_size = sizeof(resp);
	resp.status = 200;
	util_strlcpy(resp.content_type, "application/json",
		     sizeof(resp.content_type));
	engine_emit_begin(&b, ctx);
	conn_enter(ctx);
	ctx->plugin->desc->webhook(ctx, ctx->state, &rq.pub, &resp);
	conn_leave(ctx);
	/* what the server would send: every byte of the answer is read */
	for (size_t i = 0; resp.body && i < resp.body_len; i++)
		fuzz_sink += (unsigned char)resp.body[i];
	free(resp.body);
	engine_emit_end(&b);
}

/* ---- signatures -------------------------------------------------------------- */

static void hmac(const char *key, const void *msg, size_t len,
		 unsigned char mac[32])
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, (int)strlen(key), msg, len, mac, &n) ||
	    n != 32)
		abort();
}

void fuzz_hmac_hex(const char *key, const void *msg, size_t len, char out[65])
{
	unsigned char mac[32];

	hmac(key, msg, len, mac);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

void fuzz_hmac_b64(const char *key, const void *msg, size_t len, char out[45])
{
	unsigned char mac[32];

	hmac(key, msg, len, mac);
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
}
