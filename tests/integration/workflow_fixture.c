/*
 * workflow_fixture.c - what the AMIS Workflow stories share: the sandbox's
 * MISA, CRM and Kho emulators as a real process, the `luong` host deployed
 * with the shipped flows, mappings and plugins, and the small steps a CRM or
 * Kho user takes. See workflow_fixture.h.
 */
#define _GNU_SOURCE
#include "workflow_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUILD_DIR PLUGIN_DIR "/../.."

#define CRM_SECRET "test-crm-webhook-secret"
#define KHO_SECRET "test-kho-webhook-secret"

struct deploy d;
static struct sandbox sb;
static int port_misa, port_crm, port_kho;

/* ---- HTTP to the sandbox ------------------------------------------------------- */

static int emu_port(const char *emu)
{
	return !strcmp(emu, "misa")  ? port_misa
	       : !strcmp(emu, "crm") ? port_crm
				     : port_kho;
}

/* method + path on an emulator; the parsed reply (owned) or NULL. */
cJSON *sbx(const char *emu, const char *method, const char *path,
	   const char *body)
{
	return h_emu(emu_port(emu), method, path, body);
}

/* A user's act in CRM or Kho; asserts it was accepted. */
cJSON *act(const char *emu, const char *name, const char *body)
{
	char path[128];
	cJSON *j;

	snprintf(path, sizeof(path), "/_sandbox/act/%s", name);
	j = sbx(emu, "POST", path, body);
	ck_assert_msg(j && (cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")) ||
			    cJSON_GetObjectItem(j, "recalled")),
		      "act %s on %s refused", name, emu);
	return j;
}

cJSON *state(const char *emu)
{
	cJSON *j = sbx(emu, "GET", "/_sandbox/state", NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

/* MISA voucher requests for one org_refid. */
int misa_requests_for(const char *refid, const char *status)
{
	cJSON *st = state("misa"), *v;
	int n = 0;

	cJSON_ArrayForEach (v, cJSON_GetObjectItem(st, "vouchers"))
		if (!strcmp(h_jstr(v, "org_refid"), refid) &&
		    (!status || !strcmp(h_jstr(v, "status"), status)))
			n++;
	cJSON_Delete(st);
	return n;
}

/* Requests the emulator served to a path (from its request log). */
int served(const char *emu, const char *path)
{
	cJSON *j = sbx(emu, "GET", "/_sandbox/requests?since=0", NULL), *r;
	int n = 0;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(j, "requests"))
		if (h_jstr(r, "path") && !strcmp(h_jstr(r, "path"), path))
			n++;
	cJSON_Delete(j);
	return n;
}

/* ---- the deployment ------------------------------------------------------------ */

static void start_sandbox(void)
{
	ck_assert_int_eq(h_sandbox_start(&sb, "misa,crm,kho"), 0);
	port_misa = h_sandbox_port(&sb, "misa");
	port_crm = h_sandbox_port(&sb, "crm");
	port_kho = h_sandbox_port(&sb, "kho");
	ck_assert(port_misa > 0 && port_crm > 0 && port_kho > 0);
}

/* Where each emulator sends its events (and MISA its callbacks). */
void point_webhooks(const char *kho_extra)
{
	char body[512];
	cJSON *j;

	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/"
		 "misa/callback\", \"retry_base_ms\": 100}",
		 d.port);
	cJSON_Delete(sbx("misa", "POST", "/_sandbox/webhooks", body));
	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/"
		 "crm/events\", \"secret\": \"" CRM_SECRET "\", "
		 "\"retry_base_ms\": 100}",
		 d.port);
	cJSON_Delete(sbx("crm", "POST", "/_sandbox/webhooks", body));
	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/"
		 "kho/events\", \"secret\": \"" KHO_SECRET "\", "
		 "\"retry_base_ms\": 100%s}",
		 d.port, kho_extra ? kho_extra : "");
	j = sbx("kho", "POST", "/_sandbox/webhooks", body);
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
}

void setup(void)
{
	static const char *const flows[] = { W1, W1R, W2, W3, W3F };
	static const char *const plugins[] = { "misa-amis", "amis-crm",
					       "amis-kho" };
	static const char *const tables[] = { "kho_status_to_crm", "issue_note_"
								   "voucher_"
								   "types" };
	char src[512], rel[256], dst[512];

	start_sandbox();
	h_deploy(&d);
	for (size_t i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), BUILD_DIR "/plugins/%s.so",
			 plugins[i]);
		snprintf(dst, sizeof(dst), "%s/plugins/%s.so", d.dir,
			 plugins[i]);
		ck_assert_int_eq(symlink(src, dst), 0);
	}
	for (size_t i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), SRC_DIR "/flows/%s.json", flows[i]);
		snprintf(rel, sizeof(rel), "flows/%s.json", flows[i]);
		ck_assert_int_eq(h_copy_in(&d, src, rel), 0);
	}
	for (size_t i = 0; i < 2; i++) {
		snprintf(src, sizeof(src),
			 SRC_DIR "/deploy/sandbox/mappings/%s.json", tables[i]);
		snprintf(rel, sizeof(rel), "mappings/%s.json", tables[i]);
		ck_assert_int_eq(h_copy_in(&d, src, rel), 0);
	}
	/* secrets by reference, as in deploy/sandbox (seed credentials) */
	setenv("MISA_ACCESS_CODE",
	       "bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8t"
	       "MjAyNS1jb25nLXR5LWFuLXBoYXQ=",
	       1);
	setenv("AMIS_CRM_CLIENT_SECRET",
	       "Y3JtLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ=", 1);
	setenv("AMIS_KHO_CLIENT_SECRET",
	       "a2hvLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ=", 1);
	setenv("AMIS_CRM_WEBHOOK_SECRET", CRM_SECRET, 1);
	setenv("AMIS_KHO_WEBHOOK_SECRET", KHO_SECRET, 1);
	h_write(&d, "connections/misa.json",
		"{\"plugin\": \"misa-amis\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d\", "
		"\"app_id\": \"7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57\", "
		"\"access_code\": {\"env\": \"MISA_ACCESS_CODE\"}, "
		"\"org_company_code\": \"congtyanphat\", "
		"\"timeout_ms\": 3000}}\n",
		port_misa);
	h_write(&d, "connections/crm.json",
		"{\"plugin\": \"amis-crm\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d/crm/gc/api/"
		"public/api/v2\", \"client_id\": "
		"\"3e8a1c52-6b7d-4f09-a2c4-5d1e9b7f8a60\", \"client_secret\": "
		"{\"env\": \"AMIS_CRM_CLIENT_SECRET\"}, \"webhook_secret\": "
		"{\"env\": \"AMIS_CRM_WEBHOOK_SECRET\"}}}\n",
		port_crm);
	h_write(&d, "connections/kho.json",
		"{\"plugin\": \"amis-kho\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d/kho/api/"
		"public/api/v2\", \"client_id\": "
		"\"9b1f7d24-3c6e-4a58-8e0d-6f2a4c9b1e37\", \"client_secret\": "
		"{\"env\": \"AMIS_KHO_CLIENT_SECRET\"}, \"webhook_secret\": "
		"{\"env\": \"AMIS_KHO_WEBHOOK_SECRET\"}}}\n",
		port_kho);
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks(NULL);
}

void teardown(void)
{
	h_cleanup(&d);
	h_sandbox_stop(&sb);
}

/* ---- small steps of the stories --------------------------------------------------- */

void cli_ok(const char *args)
{
	char *out = NULL;
	int rc = h_luong(&d, &out, args);

	ck_assert_msg(rc == 0, "luong %s: %s", args, out);
	free(out);
}

/* Saves a revenue request on a CRM order; returns its number (owned). */
char *save_revenue_request(const char *order_no)
{
	char body[128];
	cJSON *j;
	char *no;

	snprintf(body, sizeof(body), "{\"sale_order_no\": \"%s\"}", order_no);
	j = act("crm", "save_revenue_request", body);
	no = strdup(h_jstr(cJSON_GetObjectItem(j, "revenue_request"), "revenue_"
								      "request_"
								      "no"));
	cJSON_Delete(j);
	return no;
}

/* W1 for one order, waited for. */
void order_to_kho(const char *order_no)
{
	char *rr = save_revenue_request(order_no);

	ck_assert_msg(h_wait_status(&d, W1, rr, "synced", 10000),
		      "W1 did not sync %s", rr);
	free(rr);
}

/* A Kho user saves an issue note; returns its number (owned). */
char *save_note(const char *body)
{
	cJSON *j = act("kho", "save_issue_note", body);
	char *no = strdup(h_jstr(cJSON_GetObjectItem(j, "issue_note"), "issue_"
								       "note_"
								       "no"));

	cJSON_Delete(j);
	return no;
}

char *other_issue(const char *item, int qty)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"type\": \"other_issue\", "
		 "\"stock_code\": \"KHO_HN\", \"description\": \"Xuất hàng "
		 "mẫu\","
		 " \"lines\": [{\"item_code\": \"%s\", \"quantity\": %d}]}",
		 item, qty);
	return save_note(body);
}

char *refid_of(const char *note)
{
	char *k;

	ck_assert_int_ge(asprintf(&k, W3 ":voucher:%s", note), 0);
	return k;
}

/* The note's accounting status code in Kho (owned). */
char *note_status(const char *note, char **error, char **ref)
{
	cJSON *st = state("kho");
	cJSON *n = h_find_row(st, "IssueNotes", "issue_note_no", note);
	char *s;

	ck_assert_ptr_nonnull(n);
	s = strdup(h_jstr(n, "accounting_status_code") ? h_jstr(n, "accounting_"
								   "status_"
								   "code")
						       : h_jstr(n, "accounting_"
								   "status"));
	if (error)
		*error = h_jstr(n, "accounting_error") ? strdup(h_jstr(n, "acco"
									  "unti"
									  "ng_"
									  "erro"
									  "r"))
						       : NULL;
	if (ref)
		*ref = h_jstr(n, "accounting_voucher_ref")
			       ? strdup(h_jstr(n, "accounting_voucher_ref"))
			       : NULL;
	cJSON_Delete(st);
	return s;
}

bool wait_note_status(const char *note, const char *want, long ms)
{
	long long t0 = h_now_ms();

	while (h_now_ms() - t0 < ms) {
		char *s = note_status(note, NULL, NULL);
		bool ok = !strcmp(s, want);

		free(s);
		if (ok)
			return true;
		usleep(100000);
	}
	return false;
}

cJSON *ledger_doc(const char *flow, const char *doc)
{
	char path[256];
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	return j;
}

int history_count(const char *flow, const char *doc, const char *outcome)
{
	cJSON *j = ledger_doc(flow, doc), *h;
	int n = 0;

	cJSON_ArrayForEach (h, cJSON_GetObjectItem(j, "history"))
		n += h_jstr(h, "outcome") &&
		     !strcmp(h_jstr(h, "outcome"), outcome);
	cJSON_Delete(j);
	return n;
}

/* Documents of a flow the ledger holds as synced. */
int synced_count(const char *flow)
{
	char path[160];
	cJSON *j = NULL;
	int n;

	snprintf(path, sizeof(path), "/flows/%s/documents?status=synced", flow);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "documents"));
	cJSON_Delete(j);
	return n;
}

/* The links of a record, by the admin API (owned array). */
cJSON *links_of(const char *query)
{
	char path[256];
	cJSON *j = NULL, *arr;

	snprintf(path, sizeof(path), "/links?%s", query);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	arr = cJSON_DetachItemFromObject(j, "links");
	cJSON_Delete(j);
	ck_assert_ptr_nonnull(arr);
	return arr;
}
