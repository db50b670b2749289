/* torture.c - see torture.h. */
#define _GNU_SOURCE
#include "torture.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MISA_APP_ID "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57"
#define REFID_PREFIX W3 ":voucher:"

long tort_env(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : dflt;
}

void tort_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout); /* a failed check ends the process at once */
}

void tort_seed(struct tort *t, const char *test)
{
	long s = tort_env("TORTURE_SEED", 0);
	struct timespec ts;

	if (!s) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s = (long)((ts.tv_nsec ^ ts.tv_sec ^ getpid()) & 0x7fffffff);
	}
	t->rng = (uint64_t)s;
	tort_say("%s: seed %ld (repeat with TORTURE_SEED=%ld)", test, s, s);
}

/* splitmix64: small, and the same sequence for the same seed. */
unsigned tort_rand(struct tort *t, unsigned n)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return n ? (unsigned)(z % n) : 0;
}

const char *tort_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double tort_jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static char *xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* ---- the sandbox ------------------------------------------------------------ */

cJSON *tort_sbx(struct tort *t, const char *emu, const char *method,
		const char *path, const char *body)
{
	char url[512], *out;
	cJSON *j;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s",
		 !strcmp(emu, "misa") ? t->port_misa : t->port_kho, path);
	h_http(method, url, body, NULL, &out);
	j = out ? cJSON_Parse(out) : NULL;
	free(out);
	return j;
}

void tort_faults(struct tort *t, const char *emu, const char *body)
{
	cJSON *j = tort_sbx(t, emu, body ? "POST" : "DELETE",
			    "/_sandbox/faults", body);

	ck_assert_msg(j != NULL, "%s did not take the faults %s", emu,
		      body ? body : "(clear)");
	cJSON_Delete(j);
}

cJSON *tort_state(struct tort *t, const char *emu)
{
	cJSON *j = tort_sbx(t, emu, "GET", "/_sandbox/state", NULL);

	ck_assert_msg(j != NULL, "no state from %s", emu);
	return j;
}

static void start_sandbox(struct tort *t)
{
	char ports[128], *text;
	long long t0 = h_now_ms();
	cJSON *j;

	snprintf(t->sbx_dir, sizeof(t->sbx_dir), "/tmp/luong-tort-sbx-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->sbx_dir));
	snprintf(ports, sizeof(ports), "%s/ports.json", t->sbx_dir);
	t->sbx_pid = fork();
	if (t->sbx_pid == 0) {
		char log[128];
		int fd;

		snprintf(log, sizeof(log), "%s/sandbox.log", t->sbx_dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(BUILD_DIR "/sandbox/luong-sandbox", "luong-sandbox",
		      "--only", "misa,kho", "--seed", SRC_DIR "/sandbox/seed",
		      "--ports-file", ports, (char *)NULL);
		_exit(127);
	}
	while (access(ports, R_OK) && h_now_ms() - t0 < 10000)
		usleep(20000);
	text = h_read_file(ports, NULL);
	ck_assert_msg(text != NULL, "the sandbox did not start");
	j = cJSON_Parse(text);
	free(text);
	t->port_misa = (int)tort_jnum(j, "misa");
	t->port_kho = (int)tort_jnum(j, "kho");
	cJSON_Delete(j);
	ck_assert(t->port_misa > 0 && t->port_kho > 0);
}

/* Where Kho's events and MISA's callbacks go: the host's fixed port,
 * retried long enough to outlive any crash of the host. */
static void point_webhooks(struct tort *t)
{
	char body[512];
	cJSON *j;

	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/"
		 "misa/callback\", \"retry_base_ms\": 100, "
		 "\"max_attempts\": 100000}",
		 t->d.port);
	j = tort_sbx(t, "misa", "POST", "/_sandbox/webhooks", body);
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/"
		 "kho/events\", \"secret\": \"" KHO_SECRET "\", "
		 "\"retry_base_ms\": 100, \"max_attempts\": 100000}",
		 t->d.port);
	j = tort_sbx(t, "kho", "POST", "/_sandbox/webhooks", body);
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
}

/* W3 as shipped, but automatic: every saved note goes at once. */
static void copy_flows(struct tort *t)
{
	char *w3 = h_read_file(SRC_DIR "/flows/" W3 ".json", NULL), *m;

	ck_assert_ptr_nonnull(w3);
	m = strstr(w3, "\"mode\": \"manual\"");
	ck_assert_msg(m != NULL, "W3 is no longer shipped manual");
	h_write(&t->d, "flows/" W3 ".json", "%.*s\"mode\": \"automatic\"%s",
		(int)(m - w3), w3, m + strlen("\"mode\": \"manual\""));
	free(w3);
	ck_assert_int_eq(h_copy_in(&t->d, SRC_DIR "/flows/" W3F ".json",
				   "flows/" W3F ".json"),
			 0);
	ck_assert_int_eq(h_copy_in(&t->d,
				   SRC_DIR "/deploy/sandbox/mappings/"
					   "issue_note_voucher_types.json",
				   "mappings/issue_note_voucher_types.json"),
			 0);
}

static void write_deployment(struct tort *t, const char *data_dir)
{
	static const char *const plugins[] = { "misa-amis", "amis-kho" };
	char src[512], dst[600];
	unsigned port = h_free_port();

	ck_assert_msg(port > 0, "no free loopback port");
	h_write(&t->d, "luong.json",
		"{\"listen\": \"127.0.0.1:%u\", "
		"\"workers\": 4, \"admin_token\": {\"file\": \"admin.token\"},"
		" \"log_level\": \"info\", \"wait_timeout_s\": 30}\n",
		port);
	/* elsewhere through the default path, where the harness looks */
	snprintf(dst, sizeof(dst), "%s/var", t->d.dir);
	ck_assert(!data_dir || symlink(data_dir, dst) == 0);
	for (size_t i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), BUILD_DIR "/plugins/%s.so",
			 plugins[i]);
		snprintf(dst, sizeof(dst), "%s/plugins/%s.so", t->d.dir,
			 plugins[i]);
		ck_assert_int_eq(symlink(src, dst), 0);
	}
	copy_flows(t);
	/* secrets by reference, the seed's credentials */
	setenv("MISA_ACCESS_CODE",
	       "bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8t"
	       "MjAyNS1jb25nLXR5LWFuLXBoYXQ=",
	       1);
	setenv("AMIS_KHO_CLIENT_SECRET",
	       "a2hvLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ=", 1);
	setenv("AMIS_KHO_WEBHOOK_SECRET", KHO_SECRET, 1);
	h_write(&t->d, "connections/misa.json",
		"{\"plugin\": \"misa-amis\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d\", "
		"\"app_id\": \"" MISA_APP_ID "\", "
		"\"access_code\": {\"env\": \"MISA_ACCESS_CODE\"}, "
		"\"org_company_code\": \"congtyanphat\", "
		"\"timeout_ms\": 3000}}\n",
		t->port_misa);
	h_write(&t->d, "connections/kho.json",
		"{\"plugin\": \"amis-kho\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d/kho/api/"
		"public/api/v2\", \"client_id\": "
		"\"9b1f7d24-3c6e-4a58-8e0d-6f2a4c9b1e37\", \"client_secret\": "
		"{\"env\": \"AMIS_KHO_CLIENT_SECRET\"}, \"webhook_secret\": "
		"{\"env\": \"AMIS_KHO_WEBHOOK_SECRET\"}, "
		"\"timeout_ms\": 3000}}\n",
		t->port_kho);
}

void tort_setup(struct tort *t, const char *data_dir)
{
	cJSON *j;

	start_sandbox(t);
	h_deploy(&t->d);
	write_deployment(t, data_dir);
	/* MISA makes its vouchers soon, so a run is not all waiting */
	j = tort_sbx(t, "misa", "POST", "/_sandbox/act/config",
		     "{\"generate_delay_ms\": 100}");
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	/* stock for every note a run issues: a voucher that cannot be
	 * posted is post_failed, not synced (SPEC B5) */
	for (int i = 1; i <= 5; i++) {
		char body[128];

		snprintf(body, sizeof(body),
			 "{\"inventory_item_code\": "
			 "\"SP00%d\", \"stock_code\": \"KHO_HN\", "
			 "\"quantity\": 1000000}",
			 i);
		j = tort_sbx(t, "misa", "POST", "/_sandbox/act/set_stock",
			     body);
		ck_assert_ptr_nonnull(j);
		cJSON_Delete(j);
	}
	ck_assert_msg(h_start(&t->d) == 0, "the host did not start");
	point_webhooks(t);
}

void tort_restart(struct tort *t)
{
	ck_assert_msg(h_start(&t->d) == 0, "the host did not start again");
}

void tort_teardown(struct tort *t)
{
	char cmd[128];
	int st;

	h_cleanup(&t->d);
	if (t->sbx_pid > 0) {
		kill(t->sbx_pid, SIGTERM);
		waitpid(t->sbx_pid, &st, 0);
		t->sbx_pid = 0;
	}
	if (t->sbx_dir[0] && !getenv("LUONG_KEEP_TEST_DIRS")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->sbx_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", t->sbx_dir);
	}
	t->sbx_dir[0] = '\0';
}

/* ---- notes ------------------------------------------------------------------ */

void tort_seed_bad_item(struct tort *t)
{
	cJSON *j = tort_sbx(t, "kho", "POST", "/_sandbox/seed",
			    "{\"Items\": [{\"id\": 99, \"item_code\": "
			    "\"SP999\", \"item_name\": \"Hàng mới\", "
			    "\"unit\": \"Cái\", \"unit_price\": 1000, "
			    "\"vat_percent\": 10}]}");

	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	point_webhooks(t); /* a new seed forgets where events go */
}

char *tort_note(struct tort *t, bool bad)
{
	char body[512], *no;
	int n = 1 + (int)tort_rand(t, 3), len;
	cJSON *j;

	len = snprintf(body, sizeof(body),
		       "{\"type\": \"other_issue\", "
		       "\"stock_code\": \"KHO_HN\", \"description\": "
		       "\"Xuất hàng mẫu (torture)\", \"lines\": [");
	for (int i = 0; i < n; i++) {
		char item[8];

		if (bad && i == n - 1)
			snprintf(item, sizeof(item), "SP999");
		else
			snprintf(item, sizeof(item), "SP00%u",
				 1 + tort_rand(t, 5));
		len += snprintf(body + len, sizeof(body) - (size_t)len,
				"%s{\"item_code\": \"%s\", \"quantity\": "
				"%u}",
				i ? ", " : "", item, 1 + tort_rand(t, 9));
	}
	snprintf(body + len, sizeof(body) - (size_t)len, "]}");
	j = tort_sbx(t, "kho", "POST", "/_sandbox/act/save_issue_note", body);
	ck_assert_msg(j && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")),
		      "Kho did not save the note %s", body);
	no = strdup(tort_jstr(cJSON_GetObjectItem(j, "issue_note"), "issue_"
								    "note_no"));
	cJSON_Delete(j);
	return no;
}

/* ---- the ledger ------------------------------------------------------------- */

cJSON *tort_doc(struct tort *t, const char *flow, const char *doc)
{
	char path[256];
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	if (h_api(&t->d, "GET", path, NULL, &j) != 200) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int tort_history_count(const cJSON *doc, const char *outcome)
{
	const cJSON *h;
	int n = 0;

	cJSON_ArrayForEach (h, cJSON_GetObjectItem(doc, "history"))
		n += tort_jstr(h, "outcome") &&
		     !strcmp(tort_jstr(h, "outcome"), outcome);
	return n;
}

/* A document's ledger history on stderr, to see why it is late. */
static void print_history(struct tort *t, const char *doc)
{
	cJSON *j = tort_doc(t, W3, doc), *h;

	cJSON_ArrayForEach (h, cJSON_GetObjectItem(j, "history"))
		fprintf(stderr, "  %s %s %s\n", tort_jstr(h, "at"),
			tort_jstr(h, "outcome"),
			tort_jstr(h, "detail") ? tort_jstr(h, "detail") : "");
	cJSON_Delete(j);
}

bool tort_wait_all(struct tort *t, char **notes, int n, const char *status,
		   long ms)
{
	long long t0 = h_now_ms();
	int i = 0, shown = 0;

	/* notes reach their status in about the order they were saved */
	while (i < n && h_now_ms() - t0 < ms) {
		char *st = h_doc_status(&t->d, W3, notes[i]);

		if (st && !strcmp(st, status))
			i++;
		else
			usleep(50000);
		free(st);
	}
	for (int k = i; k < n && shown < 5; k++) {
		char *st = h_doc_status(&t->d, W3, notes[k]);

		if (!st || strcmp(st, status)) {
			fprintf(stderr, "%s is %s, not %s\n", notes[k],
				st ? st : "not in the ledger", status);
			if (!shown)
				print_history(t, notes[k]);
			shown++;
		}
		free(st);
	}
	return i == n;
}

/* ---- what the target holds -------------------------------------------------- */

static cJSON *find_by(cJSON *arr, const char *key, const char *value)
{
	cJSON *r;

	cJSON_ArrayForEach (r, arr)
		if (tort_jstr(r, key) && !strcmp(tort_jstr(r, key), value))
			return r;
	return NULL;
}

/* The voucher's lines are the note's lines, item by item. */
static void assert_same_lines(const cJSON *note, const cJSON *voucher)
{
	const cJSON *nl = cJSON_GetObjectItem(note, "lines");
	const cJSON *vl = cJSON_GetObjectItem(cJSON_GetObjectItem(voucher, "vou"
									   "che"
									   "r"),
					      "detail");
	const char *no = tort_jstr(note, "issue_note_no");

	ck_assert_msg(cJSON_GetArraySize(nl) == cJSON_GetArraySize(vl),
		      "%s has %d lines, its voucher %d", no,
		      cJSON_GetArraySize(nl), cJSON_GetArraySize(vl));
	for (int i = 0; i < cJSON_GetArraySize(nl); i++) {
		const cJSON *a = cJSON_GetArrayItem(nl, i);
		const cJSON *b = cJSON_GetArrayItem(vl, i);

		ck_assert_msg(
			!strcmp(tort_jstr(a, "item_code"), tort_jstr(b, "invent"
									"ory_"
									"item_"
									"cod"
									"e")) &&
				tort_jnum(a, "quantity") == tort_jnum(b, "quant"
									 "ity"),
			"%s line %d: %s x %g in Kho, %s x %g in MISA", no,
			i + 1, tort_jstr(a, "item_code"),
			tort_jnum(a, "quantity"),
			tort_jstr(b, "inventory_item_code"),
			tort_jnum(b, "quantity"));
	}
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

/* Why the ledger or Kho does not name the voucher MISA made (owned), or
 * NULL: the ledger row synced with MISA's refid and refno, the Kho note
 * synced with that refno. */
static char *link_mismatch(struct tort *t, const cJSON *kho_note,
			   const cJSON *voucher)
{
	const char *no = tort_jstr(kho_note, "issue_note_no");
	cJSON *doc = tort_doc(t, W3, no);
	const cJSON *out =
		cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "outputs"), "vouch"
									 "er");
	char *why = NULL, *o = out ? cJSON_PrintUnformatted(out) : NULL;

	if (!doc || !same(tort_jstr(doc, "status"), "synced"))
		why = xfmt("%s is %s in the ledger", no,
			   doc ? tort_jstr(doc, "status") : "absent");
	else if (!same(tort_jstr(out, "refno"), tort_jstr(voucher, "refno")) ||
		 !same(tort_jstr(out, "refid"), tort_jstr(voucher, "refid")))
		why = xfmt("%s: the ledger links %s, MISA made refno %s "
			   "refid %s",
			   no, or_none(o), tort_jstr(voucher, "refno"),
			   tort_jstr(voucher, "refid"));
	else if (!same(tort_jstr(kho_note, "accounting_status_code"), "synce"
								      "d") ||
		 !same(tort_jstr(kho_note, "accounting_voucher_ref"),
		       tort_jstr(voucher, "refno")))
		why = xfmt("%s in Kho: %s, voucher ref %s; MISA made %s", no,
			   tort_jstr(kho_note, "accounting_status_code"),
			   or_none(tort_jstr(kho_note, "accounting_voucher_"
						       "ref")),
			   tort_jstr(voucher, "refno"));
	free(o);
	cJSON_Delete(doc);
	return why;
}

/* Notes whose voucher MISA made but the ledger or Kho does not name
 * (counted, the first few told on stderr). */
static int count_bad_links(struct tort *t, cJSON *kho, cJSON *vouchers,
			   char **notes, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		char key[128], *why = NULL;
		cJSON *note = find_by(cJSON_GetObjectItem(kho, "IssueNotes"),
				      "issue_note_no", notes[i]);

		snprintf(key, sizeof(key), REFID_PREFIX "%s", notes[i]);
		why = link_mismatch(t, note,
				    find_by(vouchers, "org_refid", key));
		if (why && bad++ < 3)
			fprintf(stderr, "%s\n", why);
		free(why);
	}
	return bad;
}

void tort_assert_one_voucher_each(struct tort *t, char **notes, int n,
				  int others)
{
	cJSON *misa = tort_state(t, "misa"), *kho = tort_state(t, "kho"), *v;
	cJSON *vouchers = cJSON_GetObjectItem(misa, "vouchers");
	int ours = 0, bad;

	cJSON_ArrayForEach (v, vouchers) {
		const char *r = tort_jstr(v, "org_refid");

		ours += r && !strncmp(r, REFID_PREFIX, strlen(REFID_PREFIX));
	}
	for (int i = 0; i < n; i++) {
		char key[128];
		cJSON *note = find_by(cJSON_GetObjectItem(kho, "IssueNotes"),
				      "issue_note_no", notes[i]);
		int k = 0;
		cJSON *one = NULL;

		snprintf(key, sizeof(key), REFID_PREFIX "%s", notes[i]);
		cJSON_ArrayForEach (v, vouchers)
			if (tort_jstr(v, "org_refid") &&
			    !strcmp(tort_jstr(v, "org_refid"), key)) {
				k++;
				one = v;
			}
		ck_assert_msg(k == 1, "%s: %d vouchers in MISA", notes[i], k);
		ck_assert_msg(!strcmp(tort_jstr(one, "status"), "generated"),
			      "%s: its voucher is %s", notes[i],
			      tort_jstr(one, "status"));
		ck_assert_ptr_nonnull(note);
		assert_same_lines(note, one);
	}
	ck_assert_msg(ours == n + others,
		      "MISA holds %d vouchers for %d "
		      "notes",
		      ours, n + others);
	bad = count_bad_links(t, kho, vouchers, notes, n);
	ck_assert_msg(bad == 0,
		      "%d of %d notes: one voucher each, but the "
		      "ledger or Kho does not name it (first ones above)",
		      bad, n);
	cJSON_Delete(misa);
	cJSON_Delete(kho);
}

int tort_run(const char *name, void (*setup)(void), void (*teardown)(void),
	     const TTest *const *tests, int n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_ALL);
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, (double)tort_env("TORTURE_TIMEOUT", 540));
	for (int i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}

/* Kho's signature of an event body: base64(HMAC-SHA256(secret, body)). */
static void kho_sign(const char *body, char *out, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), KHO_SECRET, (int)strlen(KHO_SECRET),
	     (const unsigned char *)body, strlen(body), mac, &n);
	ck_assert_uint_lt(4 * ((n + 2) / 3), len);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
}

static size_t see_header(char *line, size_t size, size_t n, void *ud)
{
	if (!strncasecmp(line, "Retry-After:", 12))
		*(bool *)ud = true;
	return size * n;
}

static size_t drop_body(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

long tort_kho_event(struct tort *t, const cJSON *issue_note,
		    const char *event_id, bool *retry_after)
{
	cJSON *ev = cJSON_CreateObject();
	char url[128], hdr[192], sig[128], *body;
	struct curl_slist *hs = NULL;
	CURL *c = curl_easy_init();
	long st = 0;

	cJSON_AddStringToObject(ev, "event", "issue_note.saved");
	cJSON_AddStringToObject(ev, "id", event_id);
	cJSON_AddStringToObject(ev, "source", "amis-kho");
	cJSON_AddItemToObject(cJSON_AddObjectToObject(ev, "data"), "issue_note",
			      cJSON_Duplicate(issue_note, 1));
	body = cJSON_PrintUnformatted(ev);
	kho_sign(body, sig, sizeof(sig));
	snprintf(hdr, sizeof(hdr), "X-Amis-Signature: %s", sig);
	hs = curl_slist_append(hs, hdr);
	hs = curl_slist_append(hs, "X-Amis-Event: issue_note.saved");
	hs = curl_slist_append(hs, "Content-Type: application/json");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/kho/events",
		 t->d.port);
	*retry_after = false;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, see_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, retry_after);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop_body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
	free(body);
	cJSON_Delete(ev);
	return st;
}

cJSON *tort_kho_note(struct tort *t, const char *note)
{
	cJSON *kho = tort_state(t, "kho");
	cJSON *n = find_by(cJSON_GetObjectItem(kho, "IssueNotes"),
			   "issue_note_no", note);

	ck_assert_msg(n != NULL, "Kho has no note %s", note);
	n = cJSON_Duplicate(n, 1);
	cJSON_Delete(kho);
	return n;
}
