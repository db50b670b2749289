/*
 * test_hostile.c - the host's HTTP door under hostile input: forged
 * signatures on every signed endpoint of the shipped plugins and the
 * probe, bad admin tokens on every admin route, oversize, malformed,
 * deeply nested and non-UTF-8 bodies, path tricks, wrong methods and
 * 10,000 idle connections. Each test asserts the exact status, that
 * nothing refused was stored, and that the host still answers /healthz.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "sink.h"

#define BUILD_DIR PLUGIN_DIR "/../.."

#define PROBE_TOKEN "probe-token-1"
#define CRM_SECRET "hostile-crm-webhook-secret"
#define KHO_SECRET "hostile-kho-webhook-secret"
#define MISA_APP "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57"
#define BODY_LIMIT 65536

static struct deploy d;
static struct sink *sk;

/* ---- the deployment ------------------------------------------------------ */

/* A manual flow from conn's event to the probe: its ledger shows what
 * was stored, and nothing is delivered. */
static void write_flow(const char *id, const char *conn, const char *event)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "flows/%s.json", id);
	h_write(&d, rel,
		"{\"id\": \"%s\", \"mode\": \"manual\", \"trigger\": "
		"{\"connection\": \"%s\", \"event\": \"%s\"}, \"steps\": "
		"[{\"id\": \"send\", \"connection\": \"probe\", \"action\": "
		"\"deliver\", \"input\": {\"doc\": \".\"}}]}\n",
		id, conn, event);
}

static void link_plugin(const char *name)
{
	char src[512], dst[512];

	snprintf(src, sizeof(src), BUILD_DIR "/plugins/%s.so", name);
	snprintf(dst, sizeof(dst), "%s/plugins/%s.so", d.dir, name);
	ck_assert_int_eq(symlink(src, dst), 0);
}

/* The probe (open, and "signed": X-Token), the three shipped plugins with
 * signed webhooks (their APIs unreachable: only webhooks are tried). */
static void setup(void)
{
	unsigned dead = 9; /* discard port: nothing listens */

	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
	h_write(&d, "luong.json",
		"{\"listen\": \"127.0.0.1:0\", \"workers\": "
		"2, \"admin_token\": {\"file\": \"admin.token\"}, "
		"\"log_level\": \"debug\", \"webhook_body_limit\": %d}\n",
		BODY_LIMIT);
	h_probe_setup(&d, sink_port(sk), "manual");
	setenv("HOSTILE_PROBE_TOKEN", PROBE_TOKEN, 1);
	h_write(&d, "connections/probesig.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\", \"token\": "
		"{\"env\": \"HOSTILE_PROBE_TOKEN\"}}}\n",
		sink_port(sk));
	write_flow("signed", "probesig", "thing.saved");
	link_plugin("misa-amis");
	link_plugin("amis-crm");
	link_plugin("amis-kho");
	setenv("MISA_ACCESS_CODE", "hostile-access-code", 1);
	setenv("AMIS_CRM_CLIENT_SECRET", "hostile-crm-client-secret", 1);
	setenv("AMIS_KHO_CLIENT_SECRET", "hostile-kho-client-secret", 1);
	setenv("AMIS_CRM_WEBHOOK_SECRET", CRM_SECRET, 1);
	setenv("AMIS_KHO_WEBHOOK_SECRET", KHO_SECRET, 1);
	h_write(&d, "connections/misa.json",
		"{\"plugin\": \"misa-amis\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%u\", \"app_id\": "
		"\"" MISA_APP "\", \"access_code\": {\"env\": "
		"\"MISA_ACCESS_CODE\"}, \"org_company_code\": \"hostile\"}}\n",
		dead);
	h_write(&d, "connections/crm.json",
		"{\"plugin\": \"amis-crm\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%u/crm\", "
		"\"client_id\": \"crm-client\", \"client_secret\": {\"env\": "
		"\"AMIS_CRM_CLIENT_SECRET\"}, \"webhook_secret\": {\"env\": "
		"\"AMIS_CRM_WEBHOOK_SECRET\"}}}\n",
		dead);
	h_write(&d, "connections/kho.json",
		"{\"plugin\": \"amis-kho\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%u/kho\", "
		"\"client_id\": \"kho-client\", \"client_secret\": {\"env\": "
		"\"AMIS_KHO_CLIENT_SECRET\"}, \"webhook_secret\": {\"env\": "
		"\"AMIS_KHO_WEBHOOK_SECRET\"}}}\n",
		dead);
	write_flow("crm-orders", "crm", "sale_order.created");
	write_flow("kho-notes", "kho", "issue_note.saved");
	write_flow("misa-refusals", "misa", "voucher.failed");
	ck_assert_int_eq(h_start(&d), 0);
}

static void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

/* ---- HTTP ---------------------------------------------------------------- */

static int connect_from(const char *src, unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (src) {
		inet_pton(AF_INET, src, &a.sin_addr);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
			close(fd);
			return -1;
		}
	}
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Sends a request exactly as written (no client tidies the path) with
 * Connection: close; returns the status (0: no answer), *out the whole
 * answer (owned) if out is given.
 */
static long raw_http(const char *method, const char *target,
		     const char *headers, const char *body, size_t body_len,
		     char **out)
{
	int fd = connect_from(NULL, d.port);
	char *req, buf[8192], *all = NULL;
	size_t n = 0;
	ssize_t r;
	long status = 0;
	int len;

	ck_assert_int_ge(fd, 0);
	len = asprintf(&req,
		       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		       "Connection: close\r\n%sContent-Length: %zu\r\n\r\n",
		       method, target, headers ? headers : "", body_len);
	ck_assert_int_gt(len, 0);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) == len && body_len &&
	    send(fd, body, body_len, MSG_NOSIGNAL) != (ssize_t)body_len) {
		/* the host may answer and close before taking it all */
	}
	free(req);
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		all = realloc(all, n + (size_t)r + 1);
		memcpy(all + n, buf, (size_t)r);
		n += (size_t)r;
		all[n] = '\0';
	}
	close(fd);
	if (all && sscanf(all, "HTTP/1.%*d %ld", &status) != 1)
		status = 0;
	if (out)
		*out = all;
	else
		free(all);
	return status;
}

/* POST /hooks/<conn><path> with extra header lines; the status. */
static long hook(const char *conn, const char *path, const char *headers,
		 const char *body, size_t len)
{
	char target[512];

	snprintf(target, sizeof(target), "/hooks/%s%s", conn, path);
	return raw_http("POST", target, headers, body, len, NULL);
}

static long post(const char *conn, const char *body)
{
	return hook(conn, "/", NULL, body, strlen(body));
}

static long healthz(void)
{
	return raw_http("GET", "/healthz", NULL, NULL, 0, NULL);
}

/* Documents the flow's ledger holds. */
static int stored(const char *flow)
{
	char path[256];
	cJSON *j = NULL;
	int n;

	snprintf(path, sizeof(path), "/flows/%s/documents?limit=1000", flow);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "documents"));
	cJSON_Delete(j);
	return n;
}

static void assert_alive(void)
{
	ck_assert_int_eq(healthz(), 200);
	ck_assert_int_gt(d.pid, 0);
	ck_assert_int_eq(kill(d.pid, 0), 0);
}

/* "X-Amis-Signature: <base64 HMAC-SHA256 of body>\r\n" under key. */
static void amis_sig(const char *key, const char *body, size_t len,
		     char out[128])
{
	unsigned char mac[32], b64[48];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
	     len, mac, &n);
	EVP_EncodeBlock(b64, mac, 32);
	snprintf(out, 128, "X-Amis-Signature: %s\r\n", b64);
}

static void hex_sig(const char *key, const char *msg, char out[65])
{
	unsigned char mac[32];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
	     strlen(msg), mac, &n);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* A MISA result callback refusing org_refid, signed with key. */
static char *misa_callback(const char *key, const char *app, const char *refid)
{
	char data[256], sig[65];
	cJSON *o = cJSON_CreateObject();
	char *text;

	snprintf(data, sizeof(data),
		 "[{\"org_refid\": \"%s\", \"success\": "
		 "false, \"error_code\": \"InvalidParam\", \"error_message\": "
		 "\"forged\", \"session_id\": \"s1\"}]",
		 refid);
	hex_sig(key, data, sig);
	cJSON_AddStringToObject(o, "app_id", app);
	cJSON_AddStringToObject(o, "data", data);
	cJSON_AddNumberToObject(o, "data_type", 1);
	if (key[0])
		cJSON_AddStringToObject(o, "signature", sig);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static const char kho_note[] = "{\"event\": \"issue_note.saved\", \"id\": "
			       "\"ev-1\", \"data\": {\"issue_note\": "
			       "{\"issue_note_no\": \"XK001\"}}}";
static const char crm_order[] = "{\"event\": \"sale_order.created\", \"id\": "
				"\"ev-2\", \"data\": {\"sale_order\": "
				"{\"sale_order_no\": \"DH001\"}}}";

/* ---- item 7: idle connections -------------------------------------------- */

static int open_fds(pid_t pid)
{
	char path[64];
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n - 2;
}

#define IDLE_CONNECTIONS 10000
#define IDLE_PER_ADDRESS 100

START_TEST(hostile_idle_connections_do_not_lock_out_webhooks)
{
	static int fds[IDLE_CONNECTIONS];
	struct rlimit rl;
	char src[32];
	long long t0, took;
	int n = 0;

	/* this process holds them all too */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	ck_assert_msg(rl.rlim_cur >= IDLE_CONNECTIONS + 256,
		      "the hard limit "
		      "of open files (%ld) is below what this test opens",
		      (long)rl.rlim_max);
	/* from many loopback addresses, so the per-client cap does not
	 * refuse them; 127.0.0.1 (the webhook's) is not one of them */
	for (int i = 0; i < IDLE_CONNECTIONS; i++) {
		snprintf(src, sizeof(src), "127.0.%d.%d",
			 1 + i / IDLE_PER_ADDRESS / 250,
			 2 + (i / IDLE_PER_ADDRESS) % 250);
		fds[i] = connect_from(src, d.port);
		ck_assert_msg(fds[i] >= 0, "idle connection %d from %s: %s", i,
			      src, strerror(errno));
		n++;
	}
	/* the host really holds them (not refused, not yet timed out) */
	t0 = h_now_ms();
	while (open_fds(d.pid) < IDLE_CONNECTIONS && h_now_ms() - t0 < 15000)
		usleep(50000);
	ck_assert_int_ge(open_fds(d.pid), IDLE_CONNECTIONS);

	t0 = h_now_ms();
	ck_assert_int_eq(healthz(), 200);
	ck_assert_int_eq(post("probe", "{\"id\":\"IDLE1\",\"n\":1}"), 200);
	took = h_now_ms() - t0;
	ck_assert_msg(took < 3000,
		      "webhook and /healthz took %lld ms "
		      "behind %d idle connections",
		      took, n);
	ck_assert(h_wait_status(&d, "relay", "IDLE1", "pending", 5000));
	for (int i = 0; i < n; i++)
		close(fds[i]);
	assert_alive();
}
END_TEST

START_TEST(hostile_per_client_cap_closes_extra_connections)
{
	enum { N = 300 };
	int fds[N], closed = 0;
	char c;

	for (int i = 0; i < N; i++) {
		fds[i] = connect_from("127.0.0.9", d.port);
		ck_assert_int_ge(fds[i], 0);
	}
	usleep(500000);
	for (int i = 0; i < N; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };

		if (poll(&p, 1, 0) == 1 && read(fds[i], &c, 1) <= 0)
			closed++;
	}
	/* 256 per client address; the rest closed at once */
	ck_assert_int_eq(closed, N - 256);
	ck_assert_int_eq(post("probe", "{\"id\":\"CAP1\",\"n\":1}"), 200);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	assert_alive();
}
END_TEST

/* ---- item 6: UTF-8 and one log line per event ---------------------------- */

START_TEST(hostile_invalid_utf8_webhook_refused)
{
	static const char bad[] = "{\"id\":\"U\xff"
				  "1\",\"n\":1}";
	static const char overlong[] = "{\"id\":\"U\xc0\xaf"
				       "2\",\"n\":1}";
	static const char kho_bad[] = "{\"event\": \"issue_note.saved\", "
				      "\"id\":"
				      " \"ev-9\", \"data\": {\"issue_note\": "
				      "{\"issue_note_no\": "
				      "\"XK\xed\xa0\x80\"}}}";
	char *out = NULL, sig[128];

	/* validly signed (X-Token), but not UTF-8 at byte 8 */
	ck_assert_int_eq(raw_http("POST", "/hooks/probesig/",
				  "X-Token: " PROBE_TOKEN "\r\n", bad,
				  sizeof(bad) - 1, &out),
			 400);
	ck_assert_ptr_nonnull(strstr(out, "not valid UTF-8 (byte 8)"));
	free(out);
	ck_assert_int_eq(hook("probesig", "/", "X-Token: " PROBE_TOKEN "\r\n",
			      overlong, sizeof(overlong) - 1),
			 400);
	/* validly signed with the HMAC, a surrogate in the note number */
	amis_sig(KHO_SECRET, kho_bad, sizeof(kho_bad) - 1, sig);
	ck_assert_int_eq(hook("kho", "/", sig, kho_bad, sizeof(kho_bad) - 1),
			 400);
	ck_assert_int_eq(stored("signed"), 0);
	ck_assert_int_eq(stored("kho-notes"), 0);
	/* a query argument that is not UTF-8 is refused too */
	ck_assert_int_eq(raw_http("GET", "/api/flows/relay/document?id=%ff",
				  "Authorization: Bearer test-admin-token\r\n",
				  NULL, 0, NULL),
			 400);
	ck_assert_int_eq(raw_http("POST", "/hooks/%ff/", NULL, "{}", 2, NULL),
			 400);
	/* and an admin body */
	ck_assert_int_eq(raw_http("PUT", "/api/flows/relay/mode",
				  "Authorization: Bearer test-admin-token\r\n",
				  "{\"mode\": \"\xff\"}", 13, NULL),
			 400);
	/* the same bodies in UTF-8 are taken */
	ck_assert_int_eq(hook("probesig", "/", "X-Token: " PROBE_TOKEN "\r\n",
			      "{\"id\":\"U\xc3\xbf"
			      "1\",\"n\":1}",
			      19),
			 200);
	ck_assert_int_eq(stored("signed"), 1);
	assert_alive();
}
END_TEST

/* Every line of the log starts with a time stamp: "2026-...+07:00 ". */
static void assert_log_lines_are_events(void)
{
	char *log = h_log(&d), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++)
		ck_assert_msg(strlen(line) > 30 && line[4] == '-' &&
				      line[10] == 'T' &&
				      !strncmp(line + 23, "+07:00 ", 7),
			      "log line %d is not an event: %.120s", n, line);
	ck_assert_int_gt(n, 3);
	free(log);
}

/* A document id that would split log lines (CR, LF, escape codes) is
 * refused at the door: the ledger, logs and API never hold it. */
START_TEST(hostile_crlf_in_document_id_stays_one_log_line)
{
	static const char body[] = "{\"id\":\"CR1\\r\\n2026-01-01T00:00:00.000"
				   "+07:00 error forged "
				   "line\\u0007\\u001b[31m\",\"n\":1}";
	cJSON *j = NULL;

	ck_assert_int_eq(hook("probe", "/", NULL, body, sizeof(body) - 1), 400);
	ck_assert_int_eq(h_api(&d, "GET", "/flows/relay/documents", NULL, &j),
			 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "document"
								   "s")),
			 0);
	cJSON_Delete(j);
	ck_assert(h_log_has(&d, "the document id holds a control character"));
	ck_assert(!h_log_has(&d, "\n2026-01-01T00:00:00.000+07:00 error"));
	ck_assert(!h_log_has(&d, "\x1b[31m"));
	assert_log_lines_are_events();
	assert_alive();
}
END_TEST

/* ---- forged signatures --------------------------------------------------- */

START_TEST(hostile_forged_probe_tokens_refused)
{
	static const char body[] = "{\"id\":\"P1\",\"n\":1}";
	const char *forged[] = { NULL, "X-Token: wrong\r\n",
				 "X-Token: " PROBE_TOKEN "x\r\n",
				 "X-Token: \r\n", "x-token: probe-token-\r\n" };

	for (size_t i = 0; i < sizeof(forged) / sizeof(*forged); i++)
		ck_assert_msg(hook("probesig", "/", forged[i], body,
				   sizeof(body) - 1) == 401,
			      "forged token %zu not refused", i);
	ck_assert_int_eq(stored("signed"), 0);
	ck_assert_int_eq(hook("probesig", "/", "X-Token: " PROBE_TOKEN "\r\n",
			      body, sizeof(body) - 1),
			 200);
	ck_assert_int_eq(stored("signed"), 1);
	assert_alive();
}
END_TEST

/* Forged X-Amis-Signature variants on conn's webhook, then a true one. */
static void amis_forgeries(const char *conn, const char *secret,
			   const char *body, const char *flow)
{
	char sig[128], other[128], wrongkey[128];
	size_t len = strlen(body);
	const char *forged[5];

	amis_sig(secret, body, len, sig);
	amis_sig(secret, "{}", 2, other);
	amis_sig("not-the-secret", body, len, wrongkey);
	forged[0] = NULL;
	forged[1] = "X-Amis-Signature: \r\n";
	forged[2] = other;    /* a true signature of another body */
	forged[3] = wrongkey; /* this body, another key */
	forged[4] = "X-Amis-Signature: "
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n";
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(hook(conn, "/", forged[i], body, len) == 401,
			      "%s: forged signature %zu not refused", conn, i);
	/* the signed body with a byte changed */
	{
		char *tampered = strdup(body);

		tampered[len - 3] = 'X';
		ck_assert_int_eq(hook(conn, "/", sig, tampered, len), 401);
		free(tampered);
	}
	ck_assert_int_eq(stored(flow), 0);
	ck_assert_int_eq(hook(conn, "/", sig, body, len), 200);
	ck_assert_int_eq(stored(flow), 1);
}

START_TEST(hostile_forged_kho_signatures_refused)
{
	amis_forgeries("kho", KHO_SECRET, kho_note, "kho-notes");
	assert_alive();
}
END_TEST

START_TEST(hostile_forged_crm_signatures_refused)
{
	amis_forgeries("crm", CRM_SECRET, crm_order, "crm-orders");
	assert_alive();
}
END_TEST

START_TEST(hostile_forged_misa_callbacks_refused)
{
	char *wrong_key = misa_callback("not-the-app-id", MISA_APP, "K1");
	char *wrong_app = misa_callback(MISA_APP, "another-app", "K2");
	char *unsigned_cb = misa_callback("", MISA_APP, "K3");
	char *good = misa_callback(MISA_APP, MISA_APP, "K4");
	char *forged[] = { wrong_key, wrong_app, unsigned_cb };

	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(hook("misa", "/callback", NULL, forged[i],
				   strlen(forged[i])) == 401,
			      "forged callback %zu not refused", i);
	ck_assert_int_eq(hook("misa", "/callback", NULL, "{}", 2), 401);
	ck_assert_int_eq(stored("misa-refusals"), 0);
	ck_assert_int_eq(hook("misa", "/callback", NULL, good, strlen(good)),
			 200);
	for (size_t i = 0; i < 3; i++)
		free(forged[i]);
	free(good);
	assert_alive();
}
END_TEST

/* ---- the admin API's token ----------------------------------------------- */

static const struct {
	const char *method, *path, *body;
} admin_routes[] = {
	{ "GET", "/api/flows", NULL },
	{ "POST", "/api/flows/reload", NULL },
	{ "GET", "/api/plugins", NULL },
	{ "PUT", "/api/flows/relay/mode", "{\"mode\": \"disabled\"}" },
	{ "GET", "/api/flows/relay/documents", NULL },
	{ "GET", "/api/flows/relay/document?id=B1", NULL },
	{ "POST", "/api/flows/relay/push", "{\"all\": true}" },
	{ "POST", "/api/flows/relay/retry", "{\"all\": true}" },
	{ "GET", "/api/nothing", NULL },
};

static const char *const bad_auth[] = {
	NULL,
	"Authorization: Bearer wrong-token\r\n",
	"Authorization: Bearer test-admin-tokenx\r\n",
	"Authorization: Bearer test-admin-toke\r\n",
	"Authorization: bearer test-admin-token\r\n",
	"Authorization: Basic dGVzdDp0ZXN0\r\n",
	"Authorization: Bearer\r\n",
	"Authorization: Bearer \r\n",
	"Authorization: test-admin-token\r\n",
	"Authorization: Bearer  test-admin-token\r\n",
	"Authorization: Bearer \xff\xfegarbage\r\n",
	"X-Authorization: Bearer test-admin-token\r\n",
};

START_TEST(hostile_admin_routes_refuse_bad_tokens)
{
	char *out = NULL;
	cJSON *j = NULL;
	const cJSON *f;

	ck_assert_int_eq(post("probe", "{\"id\":\"B1\",\"n\":1}"), 200);
	for (size_t r = 0; r < sizeof(admin_routes) / sizeof(*admin_routes);
	     r++)
		for (size_t a = 0; a < sizeof(bad_auth) / sizeof(*bad_auth);
		     a++) {
			const char *b = admin_routes[r].body;
			long st = raw_http(admin_routes[r].method,
					   admin_routes[r].path, bad_auth[a], b,
					   b ? strlen(b) : 0, &out);

			ck_assert_msg(st == 401, "%s %s with auth %zu: %ld",
				      admin_routes[r].method,
				      admin_routes[r].path, a, st);
			ck_assert_ptr_nonnull(strstr(out, "admin token"));
			free(out);
		}
	/* nothing changed: the flow is still manual, B1 still pending */
	ck_assert_int_eq(h_api(&d, "GET", "/flows", NULL, &j), 200);
	cJSON_ArrayForEach (f, j)
		if (!strcmp(cJSON_GetObjectItem(f, "id")->valuestring, "relay"))
			ck_assert_str_eq(
				cJSON_GetObjectItem(f, "mode")->valuestring,
				"manual");
	cJSON_Delete(j);
	ck_assert(h_wait_status(&d, "relay", "B1", "pending", 1000));
	ck_assert_int_eq(sink_total(sk), 0);
	assert_alive();
}
END_TEST

/* ---- sizes and shapes ---------------------------------------------------- */

START_TEST(hostile_oversize_bodies_get_413)
{
	size_t n = BODY_LIMIT + 1;
	char *big = malloc(n + 1), sig[128];

	memset(big, ' ', n);
	memcpy(big, "{\"id\":\"BIG1\",\"n\":1}", 19);
	big[n] = '\0';
	ck_assert_int_eq(hook("probe", "/", NULL, big, n), 413);
	amis_sig(KHO_SECRET, big, n, sig);
	ck_assert_int_eq(hook("kho", "/", sig, big, n), 413);
	ck_assert_int_eq(raw_http("POST", "/api/flows/relay/push",
				  "Authorization: Bearer test-admin-token\r\n",
				  big, n, NULL),
			 413);
	ck_assert_int_eq(stored("relay"), 0);
	/* at the limit it is taken */
	ck_assert_int_eq(hook("probe", "/", NULL, big, n - 1), 200);
	ck_assert_int_eq(stored("relay"), 1);
	free(big);
	assert_alive();
}
END_TEST

START_TEST(hostile_malformed_json_is_400)
{
	static const char *const bodies[] = {
		"{",
		"",
		"nul",
		"{\"id\":\"M1\",}",
		"[1,2",
		"\"just text",
		"{\"id\":\"M1\" \"n\":1}",
	};
	const char *auth = "Authorization: Bearer test-admin-token\r\n";
	char sig[128];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		size_t len = strlen(bodies[i]);

		ck_assert_msg(hook("probe", "/", NULL, bodies[i], len) == 400,
			      "probe took malformed body %zu", i);
		amis_sig(KHO_SECRET, bodies[i], len, sig);
		ck_assert_msg(hook("kho", "/", sig, bodies[i], len) == 400,
			      "kho took malformed body %zu", i);
	}
	ck_assert_int_eq(raw_http("PUT", "/api/flows/relay/mode", auth,
				  "{\"mode\": ", 9, NULL),
			 400);
	ck_assert_int_eq(raw_http("POST", "/api/flows/relay/push", auth,
				  "[\"M1\"", 5, NULL),
			 400);
	ck_assert_int_eq(raw_http("POST", "/api/flows/relay/push", auth,
				  "{\"documents\": [1]}", 18, NULL),
			 400);
	ck_assert_int_eq(raw_http("POST", "/api/flows/relay/push", auth,
				  "{\"all\": true}}garbage", 21, NULL),
			 400);
	ck_assert_int_eq(stored("relay"), 0);
	ck_assert_int_eq(stored("kho-notes"), 0);
	assert_alive();
}
END_TEST

/* n copies of '[' (then as many ']' when closed). */
static char *nested(size_t n, bool closed)
{
	char *s = malloc(2 * n + 1);

	memset(s, '[', n);
	memset(s + n, ']', closed ? n : 0);
	s[closed ? 2 * n : n] = '\0';
	return s;
}

START_TEST(hostile_deeply_nested_json_is_400)
{
	const char *auth = "Authorization: Bearer test-admin-token\r\n";
	char *open = nested(60000, false), *closed = nested(30000, true);
	char sig[128];

	ck_assert_int_eq(hook("probe", "/", NULL, open, strlen(open)), 400);
	ck_assert_int_eq(hook("probe", "/", NULL, closed, strlen(closed)), 400);
	amis_sig(KHO_SECRET, closed, strlen(closed), sig);
	ck_assert_int_eq(hook("kho", "/", sig, closed, strlen(closed)), 400);
	ck_assert_int_eq(raw_http("POST", "/api/flows/relay/push", auth, closed,
				  strlen(closed), NULL),
			 400);
	ck_assert_int_eq(stored("relay"), 0);
	ck_assert_int_eq(stored("kho-notes"), 0);
	free(open);
	free(closed);
	assert_alive();
}
END_TEST

/* ---- paths and methods --------------------------------------------------- */

START_TEST(hostile_path_tricks_reach_nothing)
{
	static const struct {
		const char *method, *target;
		long status;
	} cases[] = {
		{ "GET", "/hooks/../api/flows", 404 },
		{ "POST", "/hooks/../api/flows/relay/push", 404 },
		{ "POST", "/hooks/%2e%2e/api/flows/relay/push", 404 },
		{ "POST", "/hooks/%2E%2E%2Fapi%2Fflows", 404 },
		{ "POST", "/hooks/probe%00/", 400 },
		{ "POST", "/hooks/probe/%00", 400 },
		{ "GET", "/healthz%00", 400 },
		{ "POST", "/hooks/nosuch/", 404 },
		{ "POST", "/hooks/", 404 },
		{ "POST", "/hooks", 404 },
		{ "POST", "/HOOKS/probe/", 404 },
		{ "POST", "//hooks/probe/", 404 },
		{ "GET", "/api/../healthz", 401 },
		{ "GET", "/../etc/passwd", 404 },
		{ "GET", "/%2e%2e/%2e%2e/etc/passwd", 404 },
		{ "POST", "/hooks/%ff%fe/", 400 },
	};
	const char *auth = "Authorization: Bearer test-admin-token\r\n";
	char *longpath, *out = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		long st = raw_http(cases[i].method, cases[i].target, NULL,
				   "{\"id\":\"T1\",\"n\":1}", 18, &out);

		ck_assert_msg(st == cases[i].status,
			      "%s %s: %ld, expected "
			      "%ld: %.200s",
			      cases[i].method, cases[i].target, st,
			      cases[i].status, out ? out : "");
		free(out);
	}
	/* with the admin token, a traversal is still no API call */
	ck_assert_int_eq(raw_http("GET", "/api/flows/%2e%2e/documents", auth,
				  NULL, 0, NULL),
			 404);
	ck_assert_int_eq(raw_http("GET", "/api/flows/relay/../../flows", auth,
				  NULL, 0, NULL),
			 404);
	/* a path far over the request's memory: refused, not a crash */
	longpath = malloc(200001);
	memcpy(longpath, "/hooks/probe/", 13);
	memset(longpath + 13, 'a', 200000 - 13);
	longpath[200000] = '\0';
	ck_assert_int_eq(raw_http("POST", longpath, NULL, "{}", 2, NULL), 414);
	memset(longpath, 'b', 2000);
	memcpy(longpath, "/hooks/", 7);
	longpath[2000] = '\0'; /* long but taken: no such connection */
	ck_assert_int_eq(raw_http("POST", longpath, NULL, "{}", 2, NULL), 404);
	free(longpath);
	ck_assert_int_eq(stored("relay"), 0);
	assert_alive();
}
END_TEST

START_TEST(hostile_wrong_methods_get_405)
{
	static const struct {
		const char *method, *target, *allow;
	} cases[] = {
		{ "GET", "/api/flows/reload", "POST" },
		{ "DELETE", "/api/flows", "GET" },
		{ "POST", "/api/plugins", "GET" },
		{ "GET", "/api/flows/relay/push", "POST" },
		{ "DELETE", "/api/flows/relay/retry", "POST" },
		{ "POST", "/api/flows/relay/mode", "PUT" },
		{ "PUT", "/api/flows/relay/documents", "GET" },
		{ "POST", "/healthz", "GET, HEAD" },
		{ "DELETE", "/metrics", "GET, HEAD" },
	};
	const char *auth = "Authorization: Bearer test-admin-token\r\n";
	char *out = NULL, want[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		long st = raw_http(cases[i].method, cases[i].target, auth,
				   "{\"mode\": \"disabled\"}", 20, &out);

		ck_assert_msg(st == 405, "%s %s: %ld", cases[i].method,
			      cases[i].target, st);
		snprintf(want, sizeof(want), "Allow: %s\r\n", cases[i].allow);
		ck_assert_msg(strstr(out, want), "%s %s: no \"%s\"",
			      cases[i].method, cases[i].target, want);
		free(out);
	}
	ck_assert_int_eq(raw_http("HEAD", "/healthz", NULL, NULL, 0, NULL),
			 200);
	ck_assert_int_eq(raw_http("BREW", "/api/flows", auth, NULL, 0, NULL),
			 405);
	assert_alive();
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("door");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hostile_idle_connections_do_not_lock_out_webhooks);
	tcase_add_test(tc, hostile_per_client_cap_closes_extra_connections);
	tcase_add_test(tc, hostile_invalid_utf8_webhook_refused);
	tcase_add_test(tc, hostile_crlf_in_document_id_stays_one_log_line);
	tcase_add_test(tc, hostile_forged_probe_tokens_refused);
	tcase_add_test(tc, hostile_forged_kho_signatures_refused);
	tcase_add_test(tc, hostile_forged_crm_signatures_refused);
	tcase_add_test(tc, hostile_forged_misa_callbacks_refused);
	tcase_add_test(tc, hostile_admin_routes_refuse_bad_tokens);
	tcase_add_test(tc, hostile_oversize_bodies_get_413);
	tcase_add_test(tc, hostile_malformed_json_is_400);
	tcase_add_test(tc, hostile_deeply_nested_json_is_400);
	tcase_add_test(tc, hostile_path_tricks_reach_nothing);
	tcase_add_test(tc, hostile_wrong_methods_get_405);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hostile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
