/*
 * test_notes.c - the example connector's unit test, with the SDK's test
 * kit: signatures, the poll's cursor and the result mapping of save_note,
 * without a running host. Plain assert(): use any test framework.
 */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <luong/testkit.h>

#define SECRET "0123456789abcdef-secret"

static struct lt_kit *kit(void)
{
	struct lt_kit *k = lt_new(luong_plugin_entry());

	lt_config(k, "server", "http://notes.test");
	lt_config(k, "webhook_secret", SECRET);
	lt_config(k, "token", "tok");
	assert(lt_init(k) == LUONG_OK);
	return k;
}

static void a_short_secret_fails_init_with_a_reason(void)
{
	struct lt_kit *k = lt_new(luong_plugin_entry());

	lt_config(k, "server", "http://notes.test");
	lt_config(k, "webhook_secret", "short");
	assert(lt_init(k) == LUONG_E_CONFIG);
	assert(!strcmp(lt_reason(k), "webhook_secret must have 16 "
				     "characters or more"));
	lt_free(k);
}

static void a_signed_note_is_emitted_a_forged_one_refused(void)
{
	struct lt_kit *k = kit();
	const char *body = "{\"id\":\"n1\",\"title\":\"Kho\"}";
	char sig[65], hdr[100];
	unsigned status;

	assert(lt_webhook(k, "/", "X-Notes-Signature: 00", body, &status) ==
	       LUONG_E_AUTH);
	assert(status == 401 && lt_emitted(k) == 0);
	assert(!strcmp(lt_reason(k), "X-Notes-Signature is wrong"));
	/* signed with the same helper the plugin verifies with */
	lt_sign(SECRET, body, LUONG_SIG_HEX, sig);
	snprintf(hdr, sizeof(hdr), "X-Notes-Signature: %s", sig);
	assert(lt_webhook(k, "/", hdr, body, &status) == LUONG_OK);
	assert(status == 200 && lt_emitted(k) == 1);
	assert(!strcmp(lt_emitted_get(k, 0, "event"), "note.saved"));
	assert(!strcmp(lt_emitted_get(k, 0, "id"), "n1"));
	lt_free(k);
}

static void the_poll_keeps_its_cursor(void)
{
	struct lt_kit *k = kit();

	lt_http_answer(k, 200, NULL,
		       "{\"notes\":[{\"id\":\"a\"},{\"id\":"
		       "\"b\"}],\"next\":\"c2\"}");
	assert(lt_poll(k, "note.listed", "c1") == LUONG_OK);
	assert(!strcmp(lt_http_last(k, "url"), "http://notes.test/"
					       "notes?after=c1"));
	assert(lt_emitted(k) == 2 && !strcmp(lt_cursor(k), "c2"));
	/* no answer: the same cursor is tried again */
	assert(lt_poll(k, "note.listed", "c2") == LUONG_E_TRANSIENT);
	lt_free(k);
}

static void save_note_maps_the_answers(void)
{
	struct lt_kit *k = kit();
	const char *out = NULL;

	lt_http_answer(k, 201, NULL, "{\"id\":\"n9\"}");
	assert(lt_action(k, "save_note", "{\"title\":\"x\"}", &out) ==
	       LUONG_OK);
	assert(!strcmp(out, "{\"id\":\"n9\"}"));
	assert(!strcmp(lt_http_last(k, "Idempotency-Key"), "flow:step:doc"));
	lt_http_answer(k, 429, "Retry-After: 7", "{}");
	assert(lt_action(k, "save_note", "{\"title\":\"x\"}", NULL) ==
		       LUONG_E_TRANSIENT &&
	       lt_retry_after(k) == 7000);
	lt_http_answer(k, 422, NULL,
		       "{\"error\":{\"message\":\"title is "
		       "taken\"}}");
	assert(lt_action(k, "save_note", "{\"title\":\"x\"}", NULL) ==
	       LUONG_E_REMOTE);
	assert(!strcmp(lt_reason(k), "Notes refused: HTTP 422: title is "
				     "taken"));
	lt_free(k);
}

int main(void)
{
	a_short_secret_fails_init_with_a_reason();
	a_signed_note_is_emitted_a_forged_one_refused();
	the_poll_keeps_its_cursor();
	save_note_maps_the_answers();
	puts("notes: 4 tests passed");
	return 0;
}
