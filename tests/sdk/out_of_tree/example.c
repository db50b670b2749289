/*
 * example.c - the smallest useful plugin: a webhook that emits
 * note.saved for {"id": ...} bodies and an action that answers with its
 * input. Built out of tree against the installed SDK by tests/sdk.
 */
#include <string.h>

#include <luong/luong.h>

#ifndef EXAMPLE_NAME
#define EXAMPLE_NAME "example"
#endif

struct example {
	const struct luong_host *host;
	struct luong_ctx *ctx;
};

static enum luong_status example_echo(struct luong_call *call, void *state,
				      const cJSON *input, cJSON **output)
{
	struct example *ex = state;

	*output = ex->host->json->dup(input);
	return LUONG_OK;
}

static enum luong_status
example_webhook(struct luong_ctx *ctx, void *state,
		const struct luong_webhook_request *req,
		struct luong_webhook_response *resp)
{
	struct example *ex = state;
	cJSON *body = ex->host->json->parse(req->body, req->body_len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
	enum luong_status st;

	if (!cJSON_IsString(id)) {
		ex->host->json->del(body);
		return LUONG_E_INVAL;
	}
	st = ex->host->events->emit(ctx, "note.saved", id->valuestring,
				    ex->host->json->dup(body));
	ex->host->json->del(body);
	return st;
}

static enum luong_status
example_init(struct luong_ctx *ctx, const struct luong_host *host, void **state)
{
	struct example *ex = host->mem->alloc(sizeof(*ex));

	if (!ex)
		return LUONG_E_NOMEM;
	memset(ex, 0, sizeof(*ex));
	ex->host = host;
	ex->ctx = ctx;
	*state = ex;
	host->log->log(ctx, LUONG_LOG_INFO, "example ready, greeting %s",
		       host->config->get(ctx, "greeting"));
	return LUONG_OK;
}

static void example_fini(struct luong_ctx *ctx, void *state)
{
	struct example *ex = state;

	if (ex)
		ex->host->mem->free(ex);
}

static const struct luong_config_field example_config[] = {
	{ "greeting", LUONG_CFG_STRING, 0, "xin chào", "a word to log" }, { 0 }
};

/* Rows by designated initializers: members a later SDK appends start
 * NULL, and the compiler has nothing to warn about. */
static const struct luong_field_def note_fields[] = {
	{ .name = "id", .type = LUONG_FIELD_STRING, .description = "its id" },
	{ .name = "text", .type = LUONG_FIELD_STRING },
	{ 0 }
};

static const struct luong_event_def example_events[] = {
	{ .name = "note.saved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a note was saved",
	  .fields = note_fields,
	  .sample = "{\"id\": \"N1\", \"text\": \"xin chào\"}" },
	{ 0 }
};

static const struct luong_field_def echo_inputs[] = {
	{ .name = "id",
	  .type = LUONG_FIELD_STRING,
	  .flags = LUONG_FIELD_REQUIRED,
	  .description = "the note's id" },
	{ .name = "text",
	  .type = LUONG_FIELD_STRING,
	  .description = "what to echo" },
	{ 0 }
};

static const struct luong_action_def example_actions[] = {
	{ .name = "echo",
	  .description = "answers with its input",
	  .run = example_echo,
	  .inputs = echo_inputs },
	{ 0 }
};

static const struct luong_plugin example_plugin = {
	LUONG_PLUGIN_HEADER,	    .name = EXAMPLE_NAME,
	.version = "1.0.0",	    .description = "out-of-tree example",
	.config = example_config,   .events = example_events,
	.actions = example_actions, .init = example_init,
	.fini = example_fini,	    .webhook = example_webhook,
};

LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)
{
	return &example_plugin;
}
