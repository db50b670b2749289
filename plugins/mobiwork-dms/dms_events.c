/*
 * dms_events.c - what DMS tells the host: signed webhooks (the sandbox's
 * designed contract) and, where a deployment gets none, polls over the
 * faithful GET resources with a day cursor.
 *
 *   outlet.created   an outlet added or corrected; id = ma_kh
 *   order.approved   an approved order (again, with the new content, when
 *                    edited after approval: the host flags a synced one);
 *                    id = ma_phieu
 *   order.edited     an approved order edited, with what changed since the
 *                    approval (thay_doi); id = ma_phieu@phien_ban
 *   return.approved  an approved return; id = ma_phieu
 * Orders merely entered (order.created, return.created) are not events:
 * only approved ones count (seed FAQ).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dms.h"

/* The version of an order the host got at approval, to say later what an
 * edit changed. */
static void remember(struct dms *d, const cJSON *doc)
{
	char key[160], *text;

	if (!LUONG_HAS(d->h, kv) || !dms_str(doc, "ma_phieu"))
		return;
	snprintf(key, sizeof(key), "approved/%s", dms_str(doc, "ma_phieu"));
	text = d->h->json->print(doc);
	if (text)
		d->h->kv->put(d->ctx, key, text);
	d->h->mem->free(text);
}

static cJSON *recall(struct dms *d, const char *no)
{
	char key[160], *text = NULL;
	cJSON *doc = NULL;

	if (!LUONG_HAS(d->h, kv))
		return NULL;
	snprintf(key, sizeof(key), "approved/%s", no);
	if (d->h->kv->get(d->ctx, key, &text) == LUONG_OK && text)
		doc = d->h->json->parse(text, strlen(text));
	d->h->mem->free(text);
	return doc;
}

static bool approved(const cJSON *doc)
{
	const char *s = dms_str(doc, "trang_thai");

	return s && !strcmp(s, "da_duyet");
}

/* An approved order edited: the order again (the host flags a synced one,
 * never sends it twice) and order.edited saying what changed. */
static enum luong_status edited(struct dms *d, cJSON *doc)
{
	const struct luong_host *h = d->h;
	char id[160], text[1024];
	cJSON *before = recall(d, dms_str(doc, "ma_phieu")), *ed, *changes;
	const cJSON *c;
	size_t len = 0;
	double version = 0;
	enum luong_status st;

	dms_num(doc, "phien_ban", &version);
	changes = before ? dms_doc_changes(before, doc) : cJSON_CreateArray();
	cJSON_Delete(before);
	text[0] = '\0';
	cJSON_ArrayForEach (c, changes) {
		if (len + 4 < sizeof(text))
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s%s", len ? "; " : "",
						c->valuestring);
	}
	ed = cJSON_Duplicate(doc, 1);
	cJSON_AddItemToObject(ed, "thay_doi", changes);
	cJSON_AddStringToObject(ed, "thay_doi_text",
				*text ? text : "không rõ / not known");
	snprintf(id, sizeof(id), "%s@%.0f", dms_str(doc, "ma_phieu"), version);
	st = h->events->emit(d->ctx, "order.approved", dms_str(doc, "ma_phieu"),
			     doc);
	if (st != LUONG_OK) {
		cJSON_Delete(ed);
		return st;
	}
	return h->events->emit(d->ctx, "order.edited", id, ed);
}

enum luong_status dms_webhook(struct luong_ctx *ctx, void *state,
			      const struct luong_webhook_request *req,
			      struct luong_webhook_response *resp)
{
	struct dms *d = state;
	const struct luong_host *h = d->h;
	const char *sig = req->header(req, "X-Mobiwork-Signature");
	const char *event;
	const cJSON *data;
	cJSON *body, *doc;
	char why[200];
	enum luong_status st = LUONG_OK;

	(void)resp;
	if (!d->secret) {
		h->log->fail(ctx, "webhook_secret is not set: webhooks are "
				  "refused (poll events still work)");
		return LUONG_E_AUTH;
	}
	if (!h->helpers->hmac_verify(d->secret, strlen(d->secret), req->body,
				     req->body_len, sig, LUONG_SIG_BASE64)) {
		h->log->fail(ctx, "X-Mobiwork-Signature is %s",
			     sig ? "wrong" : "missing");
		return LUONG_E_AUTH;
	}
	body = h->json->parse(req->body, req->body_len);
	event = dms_str(body, "event");
	data = cJSON_GetObjectItemCaseSensitive(body, "data");
	if (!event || !data) {
		h->json->del(body);
		h->log->fail(ctx, "$.event and $.data are required");
		return LUONG_E_INVAL;
	}
	if (!strcmp(event, "outlet.created") || !strcmp(event, "outlet."
							       "updated")) {
		if (!dms_str(data, "ma_kh")) {
			h->json->del(body);
			h->log->fail(ctx, "$.data.ma_kh is required");
			return LUONG_E_INVAL;
		}
		doc = dms_outlet(data);
		st = h->events->emit(ctx, "outlet.created",
				     dms_str(doc, "ma_kh"), doc);
		h->json->del(body);
		return st;
	}
	if (strcmp(event, "order.approved") && strcmp(event, "order.updated") &&
	    strcmp(event, "return.approved")) {
		h->json->del(body); /* entered, not approved: not an event */
		return LUONG_OK;
	}
	doc = dms_group_doc(data, why, sizeof(why));
	if (!doc) {
		h->json->del(body);
		h->log->fail(ctx, "%s", why);
		return LUONG_E_INVAL;
	}
	if (!approved(doc)) {
		cJSON_Delete(doc); /* an edit before approval */
	} else if (!strcmp(event, "return.approved")) {
		st = h->events->emit(ctx, "return.approved",
				     dms_str(doc, "ma_phieu"), doc);
	} else if (!strcmp(event, "order.approved")) {
		remember(d, doc);
		st = h->events->emit(ctx, "order.approved",
				     dms_str(doc, "ma_phieu"), doc);
	} else {
		st = edited(d, doc);
	}
	h->json->del(body);
	return st;
}

/* ---- polls: a day cursor, windows read whole ---------------------------- */

/*
 * Reads [cursor - lookback days, today] of a resource: the days up to
 * yesterday, which no longer grow, apart from today's, whose total moves
 * while outlets and orders are entered (apis.md §5); each window is read
 * again when its total moved. The cursor becomes today.
 */
static enum luong_status poll_days(struct dms *d, const char *resource,
				   const char *filter, const char *cursor,
				   char **next, cJSON **rows)
{
	int64_t now = d->h->clock->wall_ms(), from, today;
	char today_s[11], yday[11], from_s[11], path[512];
	enum luong_status st;
	cJSON *part;

	dms_day(now, today_s);
	today = dms_parse_day(today_s);
	from = dms_parse_day(cursor ? cursor : d->poll_from);
	if (from < 0)
		from = today;
	from -= DMS_DAY_MS; /* late approvals of yesterday's orders */
	dms_day(from, from_s);
	dms_day(today - DMS_DAY_MS, yday);
	*rows = cJSON_CreateArray();
	if (from < today) {
		snprintf(path, sizeof(path), "%s%s", resource, filter);
		dms_query_add(path, sizeof(path), "tu_ngay", from_s);
		dms_query_add(path, sizeof(path), "den_ngay", yday);
		st = dms_read_all(d, NULL, path, &part);
		if (st != LUONG_OK)
			goto fail;
		while (part->child)
			cJSON_AddItemToArray(*rows, cJSON_DetachItemViaPointer(
							    part, part->child));
		cJSON_Delete(part);
	}
	snprintf(path, sizeof(path), "%s%s", resource, filter);
	dms_query_add(path, sizeof(path), "tu_ngay", today_s);
	dms_query_add(path, sizeof(path), "den_ngay", today_s);
	st = dms_read_all(d, NULL, path, &part);
	if (st != LUONG_OK)
		goto fail;
	while (part->child)
		cJSON_AddItemToArray(
			*rows, cJSON_DetachItemViaPointer(part, part->child));
	cJSON_Delete(part);
	*next = d->h->mem->strdup(today_s);
	return LUONG_OK;
fail:
	cJSON_Delete(*rows);
	*rows = NULL;
	d->h->log->log(d->ctx, LUONG_LOG_WARN,
		       "polling %s failed (%s); the cursor stays at %s",
		       resource, luong_status_text(st),
		       cursor ? cursor : d->poll_from);
	return st == LUONG_E_AUTH ? st : LUONG_E_TRANSIENT;
}

static enum luong_status poll_docs(struct dms *d, const char *resource,
				   const char *filter, const char *event,
				   const char *cursor, char **next)
{
	cJSON *rows, *docs, *doc;
	enum luong_status st =
		poll_days(d, resource, filter, cursor, next, &rows);

	if (st != LUONG_OK)
		return st;
	docs = dms_group_all(d, rows);
	cJSON_Delete(rows);
	while ((doc = docs->child)) {
		cJSON_DetachItemViaPointer(docs, doc);
		if (!approved(doc)) {
			cJSON_Delete(doc);
			continue;
		}
		/* the host passes over a document whose content it has */
		d->h->events->emit(d->ctx, event, dms_str(doc, "ma_phieu"),
				   doc);
	}
	cJSON_Delete(docs);
	return LUONG_OK;
}

/* Orders approved or changed in the window (kieu_ngay 3: the update day):
 * an order edited after approval comes again with its new content. */
enum luong_status dms_poll_orders(struct luong_ctx *ctx, void *state,
				  const char *cursor, char **next)
{
	(void)ctx;
	return poll_docs(state, "Bill", "?kieu_ngay=3&trang_thai=da_duyet",
			 "order.approved.poll", cursor, next);
}

enum luong_status dms_poll_returns(struct luong_ctx *ctx, void *state,
				   const char *cursor, char **next)
{
	(void)ctx;
	return poll_docs(state, "ReturnBill", "?trang_thai=da_duyet",
			 "return.approved.poll", cursor, next);
}

enum luong_status dms_poll_outlets(struct luong_ctx *ctx, void *state,
				   const char *cursor, char **next)
{
	struct dms *d = state;
	cJSON *rows;
	const cJSON *r;
	enum luong_status st;

	(void)ctx;
	st = poll_days(d, "Customer", "?kieu_ngay=cdate", cursor, next, &rows);
	if (st != LUONG_OK)
		return st;
	cJSON_ArrayForEach (r, rows) {
		if (dms_str(r, "ma_kh"))
			d->h->events->emit(d->ctx, "outlet.created.poll",
					   dms_str(r, "ma_kh"), dms_outlet(r));
	}
	cJSON_Delete(rows);
	return LUONG_OK;
}
