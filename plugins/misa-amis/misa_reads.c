/*
 * misa_reads.c - what the misa-amis connector reads: paged reads, the
 * polls of catalogues, stock, debt and price policies (and fetch() of
 * one catalogue row), and MISA's signed result callback.
 */
#include "misa_amis_int.h"

/* ---- paged reads -------------------------------------------------------------- */

/*
 * Reads pages of `fn` until a short page (no total is returned), or one
 * page when input.all is false. Output {rows, count, last_sync_time}.
 */
enum luong_status misa_read_pages(struct misa *m, struct luong_call *call,
				  const char *fn, const cJSON *input,
				  cJSON **output)
{
	cJSON *body = cJSON_Duplicate(input, 1), *rows = cJSON_CreateArray();
	cJSON *custom = NULL;
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(input, "all");
	bool every = !cJSON_IsFalse(all);
	double skip = ac_num(input, "skip", 0),
	       take = ac_num(input, "take", 100);
	enum luong_status st = LUONG_OK;
	struct misa_reply r = { 0 };

	if (take <= 0 || take > 100)
		take = 100; /* MISA serves at most 100 a page */
	cJSON_DeleteItemFromObjectCaseSensitive(body, "all");
	for (int page = 0; page < 10000; page++) {
		int n;

		cJSON_DeleteItemFromObjectCaseSensitive(body, "skip");
		cJSON_DeleteItemFromObjectCaseSensitive(body, "take");
		cJSON_AddNumberToObject(body, "skip", skip);
		cJSON_AddNumberToObject(body, "take", take);
		st = misa_call(m, call, fn, body, &r);
		if (st != LUONG_OK)
			break;
		n = cJSON_GetArraySize(r.data);
		while (r.data && r.data->child)
			cJSON_AddItemToArray(rows,
					     cJSON_DetachItemViaPointer(
						     r.data, r.data->child));
		if (!custom)
			custom = misa_second_parse(
				m,
				cJSON_GetObjectItemCaseSensitive(r.env, "Custom"
									"Dat"
									"a"));
		misa_reply_free(m, &r);
		if (n < take || !every)
			break;
		skip += take;
	}
	if (st == LUONG_E_REMOTE && call)
		misa_remote_error(m, call, fn, &r);
	misa_reply_free(m, &r);
	cJSON_Delete(body);
	if (st == LUONG_OK) {
		const char *lst = ac_str(custom, "LastSyncTime");

		*output = cJSON_CreateObject();
		cJSON_AddNumberToObject(*output, "count",
					cJSON_GetArraySize(rows));
		cJSON_AddItemToObject(*output, "rows", rows);
		rows = NULL;
		if (lst)
			cJSON_AddStringToObject(*output, "last_sync_time", lst);
	}
	cJSON_Delete(rows);
	cJSON_Delete(custom);
	return st;
}

enum luong_status misa_get_dictionary(struct luong_call *call, void *state,
				      const cJSON *input, cJSON **output)
{
	struct misa *m = state;
	double dt;

	if (!ac_numlike(input, "data_type", &dt)) {
		m->k.h->call->set_error(call, "input.data_type is required (1 "
					      "account objects, 2 items, 3 "
					      "stocks, ...)");
		return LUONG_E_INVAL;
	}
	return misa_read_pages(m, call, "get_dictionary", input, output);
}

enum luong_status misa_get_inventory_balance(struct luong_call *call,
					     void *state, const cJSON *input,
					     cJSON **output)
{
	return misa_read_pages(state, call, "get_list_inventory_balance", input,
			       output);
}

enum luong_status misa_get_debt_balance(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output)
{
	return misa_read_pages(state, call, "get_list_acc_obj_debt", input,
			       output);
}

/* ---- polls ---------------------------------------------------------------------- */

/* Emits each catalogue row changed since the cursor (last_sync_time). */
static enum luong_status poll_dictionary(struct misa *m, int data_type,
					 const char *event,
					 const char *code_key,
					 const char *cursor, char **next)
{
	const struct luong_host *h = m->k.h;
	cJSON *in = cJSON_CreateObject(), *out = NULL;
	const cJSON *row;
	enum luong_status st;

	cJSON_AddNumberToObject(in, "data_type", data_type);
	if (cursor)
		cJSON_AddStringToObject(in, "last_sync_time", cursor);
	st = misa_read_pages(m, NULL, "get_dictionary", in, &out);
	cJSON_Delete(in);
	if (st != LUONG_OK) {
		h->log->log(m->k.ctx, LUONG_LOG_WARN, "polling %s failed: %s",
			    event, luong_status_text(st));
		return st == LUONG_E_AUTH ? st : LUONG_E_TRANSIENT;
	}
	cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(out, "row"
								       "s")) {
		const char *code = ac_str(row, code_key);

		if (code)
			h->events->emit(m->k.ctx, event, code,
					h->json->dup(row));
	}
	if (ac_str(out, "last_sync_time"))
		*next = h->mem->strdup(ac_str(out, "last_sync_time"));
	cJSON_Delete(out);
	return LUONG_OK;
}

enum luong_status misa_poll_items(struct luong_ctx *ctx, void *state,
				  const char *cursor, char **next)
{
	(void)ctx;
	return poll_dictionary(state, 2, "inventory_item.changed",
			       "inventory_item_code", cursor, next);
}

enum luong_status misa_poll_objects(struct luong_ctx *ctx, void *state,
				    const char *cursor, char **next)
{
	(void)ctx;
	return poll_dictionary(state, 1, "account_object.changed",
			       "account_object_code", cursor, next);
}

/*
 * Emits each row of a list function as `event`, id "<k1>@<k2>" (C5 stock
 * per item and warehouse, C6 debt per customer and branch). Stock is
 * always a whole list: the host passes over rows it has seen unchanged.
 */
static enum luong_status poll_rows(struct misa *m, const char *fn, cJSON *in,
				   const char *event, const char *k1,
				   const char *k2, const char *cursor,
				   char **next)
{
	const struct luong_host *h = m->k.h;
	cJSON *out = NULL;
	const cJSON *row;
	enum luong_status st;
	char id[512];

	if (cursor)
		cJSON_AddStringToObject(in, "last_sync_time", cursor);
	st = misa_read_pages(m, NULL, fn, in, &out);
	cJSON_Delete(in);
	if (st != LUONG_OK) {
		h->log->log(m->k.ctx, LUONG_LOG_WARN, "polling %s failed: %s",
			    event, luong_status_text(st));
		return st == LUONG_E_AUTH ? st : LUONG_E_TRANSIENT;
	}
	cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(out, "row"
								       "s")) {
		if (!ac_str(row, k1))
			continue;
		snprintf(id, sizeof(id), "%s@%s", ac_str(row, k1),
			 ac_str(row, k2) ? ac_str(row, k2) : "");
		h->events->emit(m->k.ctx, event, id, h->json->dup(row));
	}
	if (ac_str(out, "last_sync_time"))
		*next = h->mem->strdup(ac_str(out, "last_sync_time"));
	cJSON_Delete(out);
	return LUONG_OK;
}

enum luong_status misa_poll_balances(struct luong_ctx *ctx, void *state,
				     const char *cursor, char **next)
{
	(void)ctx;
	(void)cursor; /* stock is read whole every time */
	return poll_rows(state, "get_list_inventory_balance",
			 cJSON_CreateObject(), "inventory_balance.changed",
			 "inventory_item_code", "stock_code", NULL, next);
}

enum luong_status misa_poll_debts(struct luong_ctx *ctx, void *state,
				  const char *cursor, char **next)
{
	cJSON *in = cJSON_CreateObject();

	(void)ctx;
	cJSON_AddNumberToObject(in, "data_type", 0); /* receivables */
	return poll_rows(state, "get_list_acc_obj_debt", in,
			 "account_object_debt.changed", "account_object_code",
			 "organization_unit_code", cursor, next);
}

/* C8: price policies by a designed data_type, 15. */
enum luong_status misa_poll_price_policies(struct luong_ctx *ctx, void *state,
					   const char *cursor, char **next)
{
	(void)ctx;
	return poll_dictionary(state, 15, "price_policy.changed",
			       "price_policy_code", cursor, next);
}

/* C1: item categories (product groups) by a designed data_type, 14. */
enum luong_status misa_poll_categories(struct luong_ctx *ctx, void *state,
				       const char *cursor, char **next)
{
	(void)ctx;
	return poll_dictionary(state, 14, "inventory_item_category.changed",
			       "inventory_item_category_code", cursor, next);
}

/* fetch() of the catalogue events: one row as the poll emits it, found
 * by its code (get_dictionary takes no code: every page is read). */
static enum luong_status fetch_dictionary(struct misa *m, struct luong_ctx *ctx,
					  int data_type, const char *code_key,
					  const char *code, cJSON **payload)
{
	const struct luong_host *h = m->k.h;
	cJSON *in = cJSON_CreateObject(), *out = NULL;
	const cJSON *row;
	enum luong_status st;

	cJSON_AddNumberToObject(in, "data_type", data_type);
	st = misa_read_pages(m, NULL, "get_dictionary", in, &out);
	cJSON_Delete(in);
	if (st != LUONG_OK) {
		h->log->fail(ctx, "%s: get_dictionary: %s", SYSTEM,
			     luong_status_text(st));
		return st;
	}
	st = LUONG_E_NOTFOUND;
	cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(out, "row"
								       "s")) {
		const char *c = ac_str(row, code_key);

		if (c && !strcmp(c, code)) {
			*payload = h->json->dup(row);
			st = LUONG_OK;
			break;
		}
	}
	if (st != LUONG_OK)
		h->log->fail(ctx, "%s has no %s %s", SYSTEM, code_key, code);
	cJSON_Delete(out);
	return st;
}

enum luong_status misa_fetch_item(struct luong_ctx *ctx, void *state,
				  const char *code, cJSON **payload)
{
	return fetch_dictionary(state, ctx, 2, "inventory_item_code", code,
				payload);
}

enum luong_status misa_fetch_object(struct luong_ctx *ctx, void *state,
				    const char *code, cJSON **payload)
{
	return fetch_dictionary(state, ctx, 1, "account_object_code", code,
				payload);
}

/* ---- the callback ---------------------------------------------------------------- */

/* A voucher made but not posted (ghi sổ; e.g. negative stock, SPEC
 * B5): true with the reason a user reads. A host older than 1.2 takes
 * LUONG_NOT_POSTED as a failure with that reason, which is not wrong. */
static bool not_posted(const cJSON *row, char *reason, size_t len)
{
	const char *code = ac_str(row, "posting_error_code");
	const char *msg = ac_str(row, "posting_error_message");

	if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(row, "is_posted")))
		return false;
	snprintf(reason, len, "%s: ghi sổ không thành công: %s [%s]", SYSTEM,
		 msg && *msg ? msg : "no reason given",
		 code && *code ? code : "no error code");
	return true;
}

/* One result row of a save: completes the waiting call. */
static void callback_row(struct misa *m, const cJSON *row)
{
	const struct luong_host *h = m->k.h;
	const char *key = ac_str(row, "org_refid");
	const char *code = ac_str(row, "error_code");
	const char *msg = ac_str(row, "error_message");
	cJSON *out, *note = NULL, *ev;
	char kvkey[600], *text = NULL, reason[1024], doc[700];
	enum luong_status st;
	static const char *const keep[] = { "refid",
					    "refno",
					    "is_posted",
					    "posting_error_code",
					    "posting_error_message",
					    "voucher_type",
					    NULL };

	if (!key || !*key)
		return;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "success")) ||
	    (code && !strcmp(code, "IsCreatedVoucher"))) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "org_refid", key);
		for (int i = 0; keep[i]; i++) {
			const cJSON *v =
				cJSON_GetObjectItemCaseSensitive(row, keep[i]);

			if (v && !cJSON_IsNull(v))
				cJSON_AddItemToObject(out, keep[i],
						      cJSON_Duplicate(v, 1));
		}
		if (code && !strcmp(code, "IsCreatedVoucher")) {
			cJSON_AddBoolToObject(out, "already_created", true);
			if (!misa_made_recall(m, key, out)) {
				/* its first result (refid, refno) is still on
				 * its way: that one completes the call */
				h->log->log(m->k.ctx, LUONG_LOG_INFO,
					    "voucher %s "
					    "made already; waiting for MISA's "
					    "result of it",
					    key);
				h->json->del(out);
				return;
			}
		} else {
			misa_made_remember(m, key, out);
		}
		if (not_posted(row, reason, sizeof(reason)))
			st = h->events->complete(m->k.ctx, key,
						 LUONG_NOT_POSTED, out, reason);
		else
			st = h->events->complete(m->k.ctx, key, LUONG_OK, out,
						 NULL);
		h->log->log(m->k.ctx, LUONG_LOG_DEBUG, "voucher %s made%s", key,
			    st == LUONG_E_NOTFOUND ? " (no call waited)" : "");
		return;
	}
	snprintf(reason, sizeof(reason), "%s refused the voucher: %s [%s]",
		 SYSTEM, msg && *msg ? msg : "no reason given",
		 code && *code ? code : "no error code");
	/* only a call that waits takes a refusal: one for a voucher already
	 * made, or a repeat of one applied, is not news for the source */
	/* a number in use is the flow's to decide: fail or renumber */
	if (h->events->complete(m->k.ctx, key,
				code && !strcmp(code, "DuplicateRefNo")
					? LUONG_E_NUMBER_TAKEN
					: LUONG_E_REMOTE,
				NULL, reason) != LUONG_OK) {
		h->log->log(m->k.ctx, LUONG_LOG_INFO,
			    "refusal of %s ignored: "
			    "no call waits for it",
			    key);
		return;
	}
	/* tell the source system too, through a flow (voucher.failed) */
	snprintf(kvkey, sizeof(kvkey), "ref:%s", key);
	if (h->kv->get(m->k.ctx, kvkey, &text) == LUONG_OK)
		note = h->json->parse(text, strlen(text));
	h->mem->free(text);
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "org_refid", key);
	cJSON_AddStringToObject(ev, "error_code", code ? code : "");
	cJSON_AddStringToObject(ev, "error_message", msg ? msg : "");
	cJSON_AddStringToObject(ev, "reason", reason);
	cJSON_AddStringToObject(
		ev, "document_id",
		ac_str(note, "document_id") ? ac_str(note, "document_id") : "");
	cJSON_AddItemToObject(ev, "reference",
			      note && cJSON_GetObjectItem(note, "reference")
				      ? cJSON_DetachItemFromObject(note, "refer"
									 "ence")
				      : cJSON_CreateNull());
	/* a refusal per request: a later refusal after a retry is new */
	snprintf(doc, sizeof(doc), "%s#%s", key,
		 ac_str(row, "session_id") && *ac_str(row, "session_id")
			 ? ac_str(row, "session_id")
			 : "0");
	h->events->emit(m->k.ctx, "voucher.failed", doc, ev);
	h->json->del(note);
}

/*
 * Designed callbacks (MISA's request_data pushes voucher states the same
 * way): data_type 3, the state of a sales order or contract made from a
 * source document (C3: delivered, invoiced, collected); 4, an invoice
 * request approved or refused (C4). Id = the source's number.
 */
static void status_rows(struct misa *m, int data_type, const cJSON *rows)
{
	const struct luong_host *h = m->k.h;
	const cJSON *row;

	cJSON_ArrayForEach (row, rows) {
		const char *no = ac_str(row, "org_refno");

		if (no && *no)
			h->events->emit(m->k.ctx,
					data_type == 3 ? "order.changed"
						       : "invoice_request."
							 "decided",
					no, h->json->dup(row));
	}
}

enum luong_status misa_webhook(struct luong_ctx *ctx, void *state,
			       const struct luong_webhook_request *req,
			       struct luong_webhook_response *resp)
{
	struct misa *m = state;
	const struct luong_host *h = m->k.h;
	cJSON *body, *rows = NULL, *answer;
	const char *data, *sig, *app;
	const cJSON *row;
	if (strcmp(req->path, "/callback") && strcmp(req->path, "/callback/"))
		return LUONG_E_NOTFOUND;
	body = h->json->parse(req->body, req->body_len);
	data = ac_str(body, "data");
	sig = ac_str(body, "signature");
	app = ac_str(body, "app_id");
	answer = cJSON_CreateObject();
	if (!data || (app && strcmp(app, m->app_id)) ||
	    !ac_sig_valid(h, m->app_id, data, strlen(data), sig, AC_SIG_HEX)) {
		h->log->log(ctx, LUONG_LOG_WARN,
			    "refused a callback with a "
			    "wrong or missing signature");
		cJSON_AddBoolToObject(answer, "Success", false);
		cJSON_AddStringToObject(answer, "ErrorCode", "InvalidParam");
		cJSON_AddStringToObject(answer, "ErrorMessage",
					"invalid signature");
		ac_reply(h, resp, 401, answer);
		h->json->del(body);
		return LUONG_E_AUTH;
	}
	rows = h->json->parse(data, strlen(data));
	if (ac_num(body, "data_type", 1) == 1)
		cJSON_ArrayForEach (row, rows)
			callback_row(m, row);
	else if (ac_num(body, "data_type", 0) == 3 ||
		 ac_num(body, "data_type", 0) == 4)
		status_rows(m, (int)ac_num(body, "data_type", 0), rows);
	else
		h->log->log(ctx, LUONG_LOG_INFO,
			    "callback of data_type %.0f "
			    "noted",
			    ac_num(body, "data_type", 0));
	cJSON_AddBoolToObject(answer, "Success", true);
	cJSON_AddStringToObject(answer, "ErrorCode", "");
	cJSON_AddStringToObject(answer, "ErrorMessage", "");
	cJSON_AddNullToObject(answer, "Data");
	ac_reply(h, resp, 200, answer);
	h->json->del(rows);
	h->json->del(body);
	return LUONG_OK;
}
