/*
 * fuzz_webhook.c - webhook bodies of one in-tree plugin, loaded from its
 * real shared object through the host's loader (see fuzz_common.h). Built
 * once per plugin with FUZZ_TARGET naming it.
 *
 * Input: one flags byte, then the body. Flags bit 0 set: the body's first
 * line is the signature (or token) as sent, the rest is the body; clear:
 * the harness signs the body as the source system would, so the fuzzer
 * gets past the check. Bits 1-2 pick the request path.
 *
 * The misa-callback target takes the callback's "data" text alone and
 * wraps it in a correctly signed callback envelope.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util.h"

#define MISA_APP_ID "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57"
#define AMIS_SECRET "fuzz-webhook-secret"
#define PROBE_TOKEN "fuzz-token"
#define HARAVAN_SHOP "200000388812"

#define AMIS_CONFIG(server)                                                    \
	"{\"server\": \"" server "\", \"client_id\": \"fuzz-client\", "        \
	"\"client_secret\": {\"env\": \"FUZZ_CLIENT_SECRET\"}, "               \
	"\"webhook_secret\": {\"env\": \"FUZZ_WEBHOOK_SECRET\"}}"

struct input {
	const char *sig; /* fuzzed signature or NULL */
	char *body;	 /* owned, NUL-terminated */
	size_t len;
	const char *path;
};

struct target {
	const char *conn, *so, *config;
	const char *paths[4];
	/* signs in->body (or keeps in->sig) into a request */
	void (*send)(const struct target *t, struct input *in);
};

static struct fuzz_plugin fp;

static void send_hooks(const char *path, const char *header, const char *value,
		       const char *const *more, const struct input *in)
{
	struct fuzz_hook h = {
		.path = path,
		.header_name = header,
		.header_value = value,
		.more_headers = more,
		.body = in->body,
		.body_len = in->len,
	};

	fuzz_plugin_webhook(&fp, &h);
}

static void send_hook(const char *path, const char *header, const char *value,
		      const struct input *in)
{
	send_hooks(path, header, value, NULL, in);
}

static void send_probe(const struct target *t, struct input *in)
{
	send_hook(in->path, "X-Token", in->sig ? in->sig : PROBE_TOKEN, in);
}

static void send_amis(const struct target *t, struct input *in)
{
	char sig[45];

	if (!in->sig)
		fuzz_hmac_b64(AMIS_SECRET, in->body, in->len, sig);
	send_hook(in->path, "X-Amis-Signature", in->sig ? in->sig : sig, in);
}

/* Haravan: base64 HMAC of the raw body; the topic picked by the flags
 * (the target's "paths" are topics here), the shop fixed. */
static void send_haravan(const struct target *t, struct input *in)
{
	const char *more[] = { "X-Haravan-Topic", in->path, "X-Haravan-Org-Id",
			       HARAVAN_SHOP, NULL };
	char sig[45];

	if (!in->sig)
		fuzz_hmac_b64(AMIS_SECRET, in->body, in->len, sig);
	send_hooks("/", "X-Haravan-Hmacsha256", in->sig ? in->sig : sig, more,
		   in);
}

/* MobiWork DMS (designed): base64 HMAC of the raw body. */
static void send_dms(const struct target *t, struct input *in)
{
	char sig[45];

	if (!in->sig)
		fuzz_hmac_b64(AMIS_SECRET, in->body, in->len, sig);
	send_hook(in->path, "X-Mobiwork-Signature", in->sig ? in->sig : sig,
		  in);
}

/* MISA signs the "data" string of the body, keyed by the app id. */
static void send_misa(const struct target *t, struct input *in)
{
	cJSON *body = in->sig ? NULL : cJSON_ParseWithLength(in->body, in->len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(body, "data");
	char sig[65];

	if (cJSON_IsObject(body) && cJSON_IsString(data)) {
		fuzz_hmac_hex(MISA_APP_ID, data->valuestring,
			      strlen(data->valuestring), sig);
		cJSON_DeleteItemFromObjectCaseSensitive(body, "signature");
		cJSON_AddStringToObject(body, "signature", sig);
		free(in->body);
		in->body = cJSON_PrintUnformatted(body);
		in->len = strlen(in->body);
	}
	cJSON_Delete(body);
	send_hook(in->path, NULL, NULL, in);
}

/* The input is the callback's data: an envelope as MISA sends it. */
static void send_misa_callback(const struct target *t, struct input *in)
{
	cJSON *env = cJSON_CreateObject();
	char sig[65];

	fuzz_hmac_hex(MISA_APP_ID, in->body, strlen(in->body), sig);
	cJSON_AddBoolToObject(env, "success", true);
	cJSON_AddStringToObject(env, "app_id", MISA_APP_ID);
	cJSON_AddStringToObject(env, "error_code", "");
	cJSON_AddStringToObject(env, "error_message", "");
	cJSON_AddStringToObject(env, "signature", sig);
	cJSON_AddNumberToObject(env, "data_type", 1);
	cJSON_AddStringToObject(env, "org_company_code", "congtyanphat");
	cJSON_AddStringToObject(env, "data", in->body);
	free(in->body);
	in->body = cJSON_PrintUnformatted(env);
	in->len = strlen(in->body);
	cJSON_Delete(env);
	send_hook("/callback", NULL, NULL, in);
}

static const struct target targets[] = {
	{ "probe",
	  FUZZ_PLUGIN_PROBE,
	  "{\"target\": \"http://127.0.0.1:9\", "
	  "\"token\": {\"env\": \"FUZZ_PROBE_TOKEN\"}}",
	  { "/", "/callback", "/guard", "/items" },
	  send_probe },
	{ "kho",
	  FUZZ_PLUGIN_AMIS_KHO,
	  AMIS_CONFIG("http://127.0.0.1:9/kho/api/public/api/v2"),
	  { "/", "/events", "/", "" },
	  send_amis },
	{ "crm",
	  FUZZ_PLUGIN_AMIS_CRM,
	  AMIS_CONFIG("http://127.0.0.1:9/crm/gc/api/public/api/v2"),
	  { "/", "/events", "/", "" },
	  send_amis },
	{ "misa",
	  FUZZ_PLUGIN_MISA_AMIS,
	  "{\"server\": \"http://127.0.0.1:9\", \"app_id\": \"" MISA_APP_ID
	  "\", \"access_code\": {\"env\": \"FUZZ_CLIENT_SECRET\"}, "
	  "\"org_company_code\": \"congtyanphat\"}",
	  { "/callback", "/callback/", "/callback", "/other" },
	  send_misa },
	{ "misa",
	  FUZZ_PLUGIN_MISA_AMIS,
	  "{\"server\": \"http://127.0.0.1:9\", \"app_id\": \"" MISA_APP_ID
	  "\", \"access_code\": {\"env\": \"FUZZ_CLIENT_SECRET\"}, "
	  "\"org_company_code\": \"congtyanphat\"}",
	  { "/callback" },
	  send_misa_callback },
	{ "haravan",
	  FUZZ_PLUGIN_HARAVAN,
	  "{\"server\": \"http://127.0.0.1:9\", \"shop\": \"" HARAVAN_SHOP
	  "\", \"access_token\": {\"env\": \"FUZZ_CLIENT_SECRET\"}, "
	  "\"webhook_secret\": {\"env\": \"FUZZ_WEBHOOK_SECRET\"}}",
	  { "orders/create", "orders/updated", "orders/cancelled",
	    "customers/create" },
	  send_haravan },
	{ "dms",
	  FUZZ_PLUGIN_MOBIWORK_DMS,
	  "{\"server\": \"http://127.0.0.1:9\", \"user_id\": \"fuzz\", "
	  "\"token_key\": {\"env\": \"FUZZ_CLIENT_SECRET\"}, "
	  "\"webhook_secret\": {\"env\": \"FUZZ_WEBHOOK_SECRET\"}}",
	  { "/", "/events", "/", "" },
	  send_dms },
};

static const struct target *target = &targets[FUZZ_TARGET];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("FUZZ_PROBE_TOKEN", PROBE_TOKEN, 1);
	setenv("FUZZ_WEBHOOK_SECRET", AMIS_SECRET, 1);
	setenv("FUZZ_CLIENT_SECRET", "fuzz-client-secret", 1);
	fuzz_plugin_start(&fp, target->so, target->conn, target->config);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .path = target->paths[0] };
	const uint8_t *nl;
	uint8_t flags;
	char *sig = NULL;

	if (target->send == send_misa_callback) {
		in.body = fuzz_strndup(data, size);
		in.len = size;
		target->send(target, &in);
		free(in.body);
		return 0;
	}
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (target->paths[(flags >> 1) & 3])
		in.path = target->paths[(flags >> 1) & 3];
	if ((flags & 1) && (nl = memchr(data, '\n', size))) {
		sig = fuzz_strndup(data, (size_t)(nl - data));
		in.sig = sig;
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	in.body = fuzz_strndup(data, size);
	in.len = size;
	target->send(target, &in);
	free(in.body);
	free(sig);
	return 0;
}
