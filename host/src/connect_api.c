/*
 * connect_api.c - the connect sequence on the admin API (connect.h):
 * POST /api/connect/run {"plan", "step"?} and GET /api/connect?plan=.
 */
#include "connect.h"

#include "i18n.h"
#include "runtime.h"
#include "server_int.h"

void api_connect_run(struct server *s, struct req *rq, const char *flow,
		     const cJSON *body)
{
	const char *plan = cJSON_GetStringValue(cJSON_GetObjectItem(body, "pl"
									  "a"
									  "n"));
	const char *step = cJSON_GetStringValue(cJSON_GetObjectItem(body, "st"
									  "e"
									  "p"));
	char err[512];
	int rc;

	(void)flow;
	if (!s->rt->connects) {
		send_error(&rq->ans, 503, _("the host is not running flows"));
		return;
	}
	rc = connects_start(s->rt->connects, plan, step, err, sizeof(err));
	if (rc == CONNECT_E_REQUEST)
		send_error(&rq->ans, 400, "%s", err);
	else if (rc == CONNECT_E_NOT_FOUND)
		send_error(&rq->ans, 404, "%s", err);
	else if (rc)
		send_error(&rq->ans, 409, "%s", err);
	else
		send_json(&rq->ans, 202, connects_state(s->rt->connects, plan));
}

void api_connect_state(struct server *s, struct req *rq, const char *flow,
		       const cJSON *body)
{
	const char *plan = req_arg(rq, "plan");
	cJSON *st;

	(void)flow;
	(void)body;
	if (!plan) {
		send_error(&rq->ans, 400, _("plan is required: ?plan=<id>"));
		return;
	}
	st = s->rt->connects ? connects_state(s->rt->connects, plan) : NULL;
	if (!st) {
		send_error(&rq->ans, 404, _("connect %s has not run"), plan);
		return;
	}
	send_json(&rq->ans, 200, st);
}
