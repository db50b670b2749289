/*
 * failure.c - failures reach a person: when a document of any flow fails
 * for good, the host itself emits "document.failed" on its built-in
 * connection "luong", which any flow may trigger on (write the reason
 * back on the source document, notify someone), like n8n's error
 * workflow. A document the target made but could not post (SPEC B5)
 * is news too: the same event, with kind "post_failed".
 *
 * The event is stored like a plugin's, after the failure is queued to
 * the ledger. A failure of a flow that is itself triggered by the host's
 * events emits nothing, so a failing error flow cannot loop.
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static cJSON *json_or_null(const char *text)
{
	cJSON *v = text ? cJSON_Parse(text) : NULL;

	return v ? v : cJSON_CreateNull();
}

/* {flow, document, kind, step, reason, attempts, version, link, source,
 * at} */
static cJSON *failure_doc(const struct flow *flow, const struct doc_row *row,
			  const char *kind, const char *step_id,
			  const char *reason, const cJSON *outputs, int64_t at)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "flow", flow->id);
	cJSON_AddStringToObject(o, "document", row->doc_id);
	cJSON_AddStringToObject(o, "connection", row->connection);
	cJSON_AddStringToObject(o, "event", row->event);
	cJSON_AddStringToObject(o, "kind", kind);
	if (step_id)
		cJSON_AddStringToObject(o, "step", step_id);
	else
		cJSON_AddNullToObject(o, "step");
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddNumberToObject(o, "attempts", row->attempts);
	cJSON_AddNumberToObject(o, "version", row->version ? row->version : 1);
	/* what the target holds of it so far: the steps done, or the
	 * link kept from an earlier sync */
	cJSON_AddItemToObject(o, "steps",
			      outputs ? cJSON_Duplicate(outputs, 1)
				      : cJSON_CreateObject());
	cJSON_AddItemToObject(o, "link", json_or_null(row->target));
	cJSON_AddItemToObject(o, "source", json_or_null(row->payload));
	cJSON_AddNumberToObject(o, "failed_at", (double)at);
	return o;
}

void failure_emit(struct engine *e, const struct flow *flow,
		  const struct doc_row *row, const char *kind,
		  const char *step_id, const char *reason, const cJSON *outputs)
{
	int64_t at = util_wall_ms();
	char *doc_id;

	if (!strcmp(flow->trigger_connection, HOST_CONNECTION))
		return; /* an error flow's own failure: logged only */
	/* one event per failure: a document failing again after a retry
	 * is news again */
	doc_id = xasprintf("%s:%s@%lld", flow->id, row->doc_id, (long long)at);
	if (engine_emit_host(e, HOST_EVENT_FAILED, doc_id,
			     failure_doc(flow, row, kind, step_id, reason,
					 outputs, at)))
		log_error("flow=%s doc=%s: cannot store the host's %s event",
			  flow->id, row->doc_id, HOST_EVENT_FAILED);
	free(doc_id);
}
