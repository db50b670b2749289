/*
 * misa_amis.c - the MISA AMIS Kế toán connector (ACT open API, apis.md §1).
 *
 *   actions  save_voucher       queue a voucher request (async): org_refid =
 *                               the call's idempotency key; the result comes
 *                               by MISA's signed callback -> LUONG_PENDING;
 *                               its check() (go-live) confirms the customer,
 *                               item and stock codes exist in MISA
 *            save_dictionary    create or update catalogue items
 *            get_dictionary, get_inventory_balance, get_debt_balance
 *                               reads with skip/take paging
 *   events   voucher.failed     MISA refused a voucher request (from the
 *                               callback); carries the save's `reference`
 *            inventory_item.changed, account_object.changed
 *                               polls of the catalogues by last_sync_time
 *   webhook  POST /callback     MISA's result callback, signature checked
 */
#include "../amis-common/amis_common.h"

struct misa {
	struct ac_conn k; /* host, ctx, system, time-out, token */
	const char *server, *app_id, *access_code, *org;
};

#define SYSTEM "MISA AMIS"

/* One answer: the envelope and its Data parsed a second time. */
struct misa_reply {
	cJSON *env;
	cJSON *data; /* Data parsed (owned), or NULL */
	const char *code, *message;
};

static void reply_free(struct misa *m, struct misa_reply *r)
{
	m->k.h->json->del(r->env);
	m->k.h->json->del(r->data);
	memset(r, 0, sizeof(*r));
}

/* Data and CustomData may come as JSON text or as JSON. */
static cJSON *second_parse(struct misa *m, const cJSON *v)
{
	if (cJSON_IsString(v))
		return m->k.h->json->parse(v->valuestring,
					   strlen(v->valuestring));
	return v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, 1) : NULL;
}

/* POST one JSON body; fills r with the envelope. */
static enum luong_status post(struct misa *m, struct luong_call *call,
			      const char *path, const cJSON *body,
			      const char *token, struct misa_reply *r)
{
	const struct luong_host *h = m->k.h;
	char url[1024], *text = h->json->print(body);
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
		{ "X-MISA-AccessToken", token ? token : "" },
	};
	enum luong_status st;
	long status = 0;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", m->server, path);
	st = ac_http(&m->k, call, "POST", url, hdrs, token ? 2 : 1, text,
		     &status, &r->env);
	h->mem->free(text);
	if (st != LUONG_OK)
		return st;
	if (!cJSON_IsObject(r->env)) {
		if (call)
			h->call->set_error(call,
					   "%s answered HTTP %ld without "
					   "a JSON envelope",
					   SYSTEM, status);
		return LUONG_E_REMOTE;
	}
	r->code = ac_str(r->env, "ErrorCode");
	r->message = ac_str(r->env, "ErrorMessage");
	r->data =
		second_parse(m, cJSON_GetObjectItemCaseSensitive(r->env, "Dat"
									 "a"));
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->env, "Success"))
		       ? LUONG_OK
		       : LUONG_E_REMOTE;
}

/* Codes that say the connection itself is refused. */
static bool auth_code(const char *code)
{
	return code && (!strcmp(code, "InvalidAppID") ||
			!strcmp(code, "AppIDDisconnect") ||
			!strcmp(code, "InvalidAccessToken") ||
			!strcmp(code, "DBAmisNotConnectDBACT"));
}

/* POST /api/oauth/actopen/connect; the token goes to memory and kv. */
static enum luong_status misa_connect(struct ac_conn *k,
				      struct luong_call *call)
{
	struct misa *m = (struct misa *)k;
	const struct luong_host *h = k->h;
	cJSON *body = cJSON_CreateObject();
	struct misa_reply r;
	enum luong_status st;
	const char *tok;

	cJSON_AddStringToObject(body, "app_id", m->app_id);
	cJSON_AddStringToObject(body, "access_code", m->access_code);
	cJSON_AddStringToObject(body, "org_company_code", m->org);
	st = post(m, call, "/api/oauth/actopen/connect", body, NULL, &r);
	cJSON_Delete(body);
	if (st == LUONG_OK && !(tok = ac_str(r.data, "access_token")))
		st = LUONG_E_REMOTE;
	if (st == LUONG_OK) {
		ac_token_store(k, tok);
	} else if (st == LUONG_E_REMOTE) {
		if (call)
			h->call->set_error(call,
					   "%s refused the connection "
					   "(app_id, access_code, "
					   "org_company_code): %s [%s]",
					   SYSTEM,
					   r.message ? r.message : "no reason",
					   r.code ? r.code : "?");
		st = LUONG_E_AUTH;
	}
	reply_free(m, &r);
	return st;
}

/*
 * A data call POST /apir/sync/actopen/<fn>. Adds app_id and
 * org_company_code to `body` (borrowed, modified). On ExpiredToken it
 * connects again and retries once. LUONG_OK: Success; LUONG_E_REMOTE:
 * Success false with r->code/message set (the caller words the error);
 * LUONG_E_AUTH: the app is refused; otherwise transport faults.
 */
static enum luong_status misa_call(struct misa *m, struct luong_call *call,
				   const char *fn, cJSON *body,
				   struct misa_reply *r)
{
	char path[128], token[512];
	enum luong_status st;

	memset(r, 0, sizeof(*r));
	cJSON_DeleteItemFromObjectCaseSensitive(body, "app_id");
	cJSON_DeleteItemFromObjectCaseSensitive(body, "org_company_code");
	cJSON_AddStringToObject(body, "app_id", m->app_id);
	cJSON_AddStringToObject(body, "org_company_code", m->org);
	snprintf(path, sizeof(path), "/apir/sync/actopen/%s", fn);
	st = ac_token(&m->k, call, false, NULL, token, sizeof(token));
	for (int round = 0; st == LUONG_OK; round++) {
		st = post(m, call, path, body, token, r);
		if (st != LUONG_E_REMOTE || round > 0 ||
		    !ac_token_expired(r->code))
			break;
		st = ac_token_renew(&m->k, call, r->code, "connecting again",
				    token, sizeof(token));
		reply_free(m, r);
	}
	if (st == LUONG_E_REMOTE && auth_code(r->code)) {
		if (call)
			m->k.h->call->set_error(
				call, "%s refused the app: %s [%s]", SYSTEM,
				r->message ? r->message : "no reason", r->code);
		st = LUONG_E_AUTH;
	}
	return st;
}

static void remote_error(struct misa *m, struct luong_call *call,
			 const char *what, const struct misa_reply *r)
{
	m->k.h->call->set_error(
		call, "%s refused %s: %s [%s]", SYSTEM, what,
		r->message && *r->message ? r->message : "no reason given",
		r->code && *r->code ? r->code : "no error code");
}

/* ---- money (SPEC B10) ------------------------------------------------------- */

static void fill_num(cJSON *o, const char *key, double v)
{
	if (!cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_AddNumberToObject(o, key, v);
}

/*
 * Fills what a voucher leaves out, line by line in whole đồng: amount =
 * quantity × unit price, discount = amount × rate, VAT = (amount −
 * discount) × rate, each rounded per line; header totals = sums of the
 * lines. A header total given that the lines cannot explain fails, with
 * why and the field.
 */
static bool fill_money(cJSON *v, char *why, size_t len, const char **field)
{
	static const char *const keys[] = { "total_sale_amount",
					    "total_discount_amount",
					    "total_vat_amount",
					    "total_amount" };
	double sum[4] = { 0 }, q, p, rate;
	int lines = 0;
	cJSON *l;

	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(v, "detail")) {
		double amount, disc, vat;

		if (!ac_numlike(l, "amount", &amount)) {
			if (!ac_numlike(l, "quantity", &q) ||
			    !ac_numlike(l, "unit_price", &p))
				return true; /* nothing to compute from */
			amount = ac_round_dong(q * p);
			fill_num(l, "amount", amount);
			fill_num(l, "amount_oc", amount);
		}
		if (!ac_numlike(l, "discount_amount", &disc)) {
			disc = ac_numlike(l, "discount_rate", &rate)
				       ? ac_round_dong(amount * rate / 100)
				       : 0;
			fill_num(l, "discount_amount", disc);
			fill_num(l, "discount_amount_oc", disc);
		}
		if (!ac_numlike(l, "vat_amount", &vat)) {
			vat = ac_numlike(l, "vat_rate", &rate) && rate > 0
				      ? ac_round_dong((amount - disc) * rate /
						      100)
				      : 0;
			fill_num(l, "vat_amount", vat);
			fill_num(l, "vat_amount_oc", vat);
		}
		sum[0] += amount;
		sum[1] += disc;
		sum[2] += vat;
		lines++;
	}
	sum[3] = sum[0] - sum[1] + sum[2];
	for (int i = 0; i < 4; i++) {
		double given;

		if (ac_numlike(v, keys[i], &given)) {
			if (fabs(given - sum[i]) > lines) {
				snprintf(why, len,
					 "%s is %.0f VND but the lines "
					 "add up to %.0f VND; not sent",
					 keys[i], given, sum[i]);
				*field = keys[i];
				return false;
			}
			continue;
		}
		cJSON_AddNumberToObject(v, keys[i], sum[i]);
	}
	return true;
}

/* ---- save_voucher ------------------------------------------------------------ */

/* MISA wants numbers where mapping tables give text ("51"). */
static void numberize(cJSON *o, const char *key)
{
	double d;

	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, key)) &&
	    ac_numlike(o, key, &d))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key,
						       cJSON_CreateNumber(d));
}

/*
 * The voucher as MISA is sent it: nulls dropped, numbers where MISA wants
 * them, money filled in, org_refid = the call's idempotency key. NULL
 * with why and the input field at fault when the input makes none.
 * *ref gets the input's reference, which MISA is not sent (owned).
 */
/* A number MISA refused as used, sent again with the host's suffix
 * (the flow's on_number_clash: renumber; SPEC B6). */
static void renumber(struct luong_call *call, const struct luong_host *h,
		     cJSON *v)
{
	const char *sfx = LUONG_HAS(h->call, number_suffix)
				  ? h->call->number_suffix(call)
				  : NULL;
	const char *no = ac_str(v, "org_refno");
	char buf[256];

	if (!sfx || !*sfx || !no)
		return;
	snprintf(buf, sizeof(buf), "%s%s", no, sfx);
	cJSON_DeleteItemFromObjectCaseSensitive(v, "org_refno");
	cJSON_AddStringToObject(v, "org_refno", buf);
}

static cJSON *voucher_of(struct luong_call *call, const struct luong_host *h,
			 const cJSON *input, cJSON **ref, double *type,
			 char *why, size_t len, const char **field)
{
	cJSON *v = cJSON_Duplicate(input, 1), *line;

	*ref = cJSON_DetachItemFromObjectCaseSensitive(v, "reference");
	ac_drop_nulls(v);
	cJSON_ArrayForEach (line, cJSON_GetObjectItemCaseSensitive(v, "detail"))
		ac_drop_nulls(line);
	numberize(v, "voucher_type");
	numberize(v, "reftype");
	if (!ac_numlike(v, "voucher_type", type)) {
		snprintf(why, len,
			 "input.voucher_type is required (see the "
			 "voucher type mapping table)");
		*field = "voucher_type";
		cJSON_Delete(v);
		return NULL;
	}
	if (!fill_money(v, why, len, field)) {
		cJSON_Delete(v);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(v, "org_refid");
	cJSON_AddStringToObject(v, "org_refid", h->call->idempotency_key(call));
	renumber(call, h, v);
	if (!cJSON_GetObjectItemCaseSensitive(v, "currency_id"))
		cJSON_AddStringToObject(v, "currency_id", "VND");
	if (h->call->flags(call) & LUONG_CALL_IGNORE_WARNINGS)
		cJSON_AddBoolToObject(v, "ignore_warning", true);
	return v;
}

/* ---- what MISA made, remembered -------------------------------------- */

/* MISA's answer to a resend of a voucher it has made (IsCreatedVoucher)
 * names neither refid nor refno. The first success callback does, even
 * when no call waits for it any more (it came while the host was down or
 * after a time-out): kept per org_refid, it completes the link later. */
static void made_remember(struct misa *m, const char *key, const cJSON *out)
{
	const struct luong_host *h = m->k.h;
	char kvkey[600], *text;

	if (!cJSON_GetObjectItemCaseSensitive(out, "refno") &&
	    !cJSON_GetObjectItemCaseSensitive(out, "refid"))
		return;
	snprintf(kvkey, sizeof(kvkey), "made:%s", key);
	text = h->json->print(out);
	h->kv->put(m->k.ctx, kvkey, text);
	h->mem->free(text);
}

static void merge_missing(cJSON *out, const cJSON *from)
{
	const cJSON *it;

	cJSON_ArrayForEach (it, from)
		if (!cJSON_GetObjectItemCaseSensitive(out, it->string))
			cJSON_AddItemToObject(out, it->string,
					      cJSON_Duplicate(it, 1));
}

/* MISA's results whose callback it could not deliver (it gave up): the
 * success row of `key`, if there is one. Owned, or NULL. */
static cJSON *undelivered_result(struct misa *m, const char *key)
{
	struct misa_reply r;
	cJSON *body = cJSON_CreateObject(), *found = NULL;
	const cJSON *row;

	cJSON_AddNumberToObject(body, "skip", 0);
	cJSON_AddNumberToObject(body, "take", 100);
	if (misa_call(m, NULL, "get_call_back_detail_error", body, &r) ==
	    LUONG_OK)
		cJSON_ArrayForEach (row, r.data)
			if (ac_str(row, "org_refid") &&
			    !strcmp(ac_str(row, "org_refid"), key) &&
			    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				    row, "success"))) {
				cJSON_Delete(found);
				found = cJSON_Duplicate(row, 1);
			}
	reply_free(m, &r);
	cJSON_Delete(body);
	return found;
}

/* Fills what MISA made into an "already created" output: remembered
 * from its first callback, else from the results it could not deliver.
 * False while neither knows (that callback is still on its way). */
static bool made_recall(struct misa *m, const char *key, cJSON *out)
{
	const struct luong_host *h = m->k.h;
	char kvkey[600], *text = NULL;
	cJSON *made = NULL;

	snprintf(kvkey, sizeof(kvkey), "made:%s", key);
	if (h->kv->get(m->k.ctx, kvkey, &text) == LUONG_OK) {
		made = h->json->parse(text, strlen(text));
		h->mem->free(text);
	} else if ((made = undelivered_result(m, key))) {
		cJSON *keep = cJSON_CreateObject();

		cJSON_AddItemToObject(
			keep, "refid",
			cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(made, "refid"),
				1));
		cJSON_AddItemToObject(
			keep, "refno",
			cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(made, "refno"),
				1));
		cJSON_Delete(made);
		made = keep;
		made_remember(m, key, made);
	}
	if (!made || (!cJSON_GetObjectItemCaseSensitive(made, "refno") &&
		      !cJSON_GetObjectItemCaseSensitive(made, "refid"))) {
		h->json->del(made);
		return false;
	}
	merge_missing(out, made);
	h->json->del(made);
	return true;
}

static enum luong_status misa_save_voucher(struct luong_call *call, void *state,
					   const cJSON *input, cJSON **output)
{
	struct misa *m = state;
	const struct luong_host *h = m->k.h;
	const char *key = h->call->idempotency_key(call), *field;
	struct misa_reply r = { 0 };
	enum luong_status st = LUONG_E_INVAL;
	cJSON *v, *ref = NULL, *note, *body, *list;
	char kvkey[600], *text, why[300];
	double type;

	v = voucher_of(call, h, input, &ref, &type, why, sizeof(why), &field);
	if (!v) {
		h->call->set_error(call, "%s", why);
		goto out;
	}
	/* what the callback needs to report a refusal back to the source */
	note = cJSON_CreateObject();
	cJSON_AddStringToObject(note, "document_id",
				h->call->document_id(call));
	cJSON_AddNumberToObject(note, "voucher_type", type);
	cJSON_AddItemToObject(note, "reference",
			      ref ? ref : cJSON_CreateNull());
	ref = NULL;
	text = h->json->print(note);
	cJSON_Delete(note);
	snprintf(kvkey, sizeof(kvkey), "ref:%s", key);
	h->kv->put(m->k.ctx, kvkey, text);
	h->mem->free(text);

	body = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(body, "voucher");
	cJSON_AddItemToArray(list, v);
	v = NULL;
	st = misa_call(m, call, "save", body, &r);
	cJSON_Delete(body);
	if (st == LUONG_OK) {
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "org_refid", key);
		st = LUONG_PENDING; /* the callback completes it */
	} else if (st == LUONG_E_REMOTE && r.code &&
		   !strcmp(r.code, "IsCreatedVoucher")) {
		/* a resend of a voucher MISA already made: one effect */
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "org_refid", key);
		cJSON_AddBoolToObject(*output, "already_created", true);
		/* linked once MISA's own result of it is known */
		st = made_recall(m, key, *output) ? LUONG_OK : LUONG_PENDING;
	} else if (st == LUONG_E_REMOTE) {
		remote_error(m, call, "the voucher", &r);
	}
out:
	reply_free(m, &r);
	cJSON_Delete(ref);
	cJSON_Delete(v);
	return st;
}

/* ---- save_dictionary ------------------------------------------------------- */

static enum luong_status misa_save_dictionary(struct luong_call *call,
					      void *state, const cJSON *input,
					      cJSON **output)
{
	struct misa *m = state;
	struct misa_reply r = { 0 };
	enum luong_status st;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(input, "dictionar"
								     "y");
	const cJSON *row;
	cJSON *body = cJSON_CreateObject(), *list;

	list = cJSON_AddArrayToObject(body, "dictionary");
	if (cJSON_IsArray(items))
		cJSON_ArrayForEach (row, items)
			cJSON_AddItemToArray(list, cJSON_Duplicate(row, 1));
	else if (ac_str(input, "dictionary_type") ||
		 cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(input, "dictio"
									"nary_"
									"typ"
									"e")))
		cJSON_AddItemToArray(list, cJSON_Duplicate(input, 1));
	if (!cJSON_GetArraySize(list)) {
		cJSON_Delete(body);
		m->k.h->call->set_error(call, "input.dictionary (a list) or "
					      "one "
					      "item with dictionary_type is "
					      "required");
		return LUONG_E_INVAL;
	}
	cJSON_ArrayForEach (row, list) {
		numberize((cJSON *)row, "dictionary_type");
		ac_drop_nulls((cJSON *)row);
	}
	st = misa_call(m, call, "save_dictionary", body, &r);
	cJSON_Delete(body);
	if (st == LUONG_E_REMOTE)
		remote_error(m, call, "the catalogue items", &r);
	if (st == LUONG_OK) {
		/* per-record results: one refusal fails the whole step */
		cJSON_ArrayForEach (row, r.data) {
			if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
				    row, "success"))) {
				m->k.h->call->set_error(
					call,
					"%s refused %s: %s "
					"[%s]",
					SYSTEM,
					ac_str(row, "code") ? ac_str(row, "cod"
									  "e")
							    : "an item",
					ac_str(row, "error_message")
						? ac_str(row, "error_message")
						: "no reason given",
					ac_str(row, "error_code")
						? ac_str(row, "error_code")
						: "?");
				st = LUONG_E_REMOTE;
				break;
			}
		}
	}
	if (st == LUONG_OK) {
		*output = cJSON_CreateObject();
		cJSON_AddItemToObject(*output, "results",
				      r.data ? r.data : cJSON_CreateArray());
		r.data = NULL;
	}
	reply_free(m, &r);
	return st;
}

/* ---- paged reads -------------------------------------------------------------- */

/*
 * Reads pages of `fn` until a short page (no total is returned), or one
 * page when input.all is false. Output {rows, count, last_sync_time}.
 */
static enum luong_status read_pages(struct misa *m, struct luong_call *call,
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
			custom = second_parse(
				m,
				cJSON_GetObjectItemCaseSensitive(r.env, "Custom"
									"Dat"
									"a"));
		reply_free(m, &r);
		if (n < take || !every)
			break;
		skip += take;
	}
	if (st == LUONG_E_REMOTE && call)
		remote_error(m, call, fn, &r);
	reply_free(m, &r);
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

static enum luong_status misa_get_dictionary(struct luong_call *call,
					     void *state, const cJSON *input,
					     cJSON **output)
{
	struct misa *m = state;
	double dt;

	if (!ac_numlike(input, "data_type", &dt)) {
		m->k.h->call->set_error(call, "input.data_type is required (1 "
					      "account objects, 2 items, 3 "
					      "stocks, ...)");
		return LUONG_E_INVAL;
	}
	return read_pages(m, call, "get_dictionary", input, output);
}

static enum luong_status misa_get_inventory_balance(struct luong_call *call,
						    void *state,
						    const cJSON *input,
						    cJSON **output)
{
	return read_pages(state, call, "get_list_inventory_balance", input,
			  output);
}

static enum luong_status misa_get_debt_balance(struct luong_call *call,
					       void *state, const cJSON *input,
					       cJSON **output)
{
	return read_pages(state, call, "get_list_acc_obj_debt", input, output);
}

/* ---- the go-live check of save_voucher -------------------------------- */

/* The catalogues a voucher names codes of (get_dictionary data_type). */
enum { CAT_OBJECTS, CAT_ITEMS, CAT_STOCKS, CAT__N };

static const struct catalogue {
	int data_type;
	const char *key, *what;
} catalogues[CAT__N] = {
	[CAT_OBJECTS] = { 1, "account_object_code",
			  "customer (account object)" },
	[CAT_ITEMS] = { 2, "inventory_item_code", "inventory item" },
	[CAT_STOCKS] = { 3, "stock_code", "stock (warehouse)" },
};

struct voucher_check {
	struct misa *m;
	struct luong_call *call;
	cJSON *rows[CAT__N]; /* read once, when a code of it is named */
	cJSON *problems;
	enum luong_status st; /* a catalogue could not be read */
};

static bool code_known(struct voucher_check *vc, int cat, const char *code)
{
	const struct catalogue *c = &catalogues[cat];
	const cJSON *row;

	if (!vc->rows[cat] && vc->st == LUONG_OK) {
		cJSON *in = cJSON_CreateObject();

		cJSON_AddNumberToObject(in, "data_type", c->data_type);
		vc->st = read_pages(vc->m, vc->call, "get_dictionary", in,
				    &vc->rows[cat]);
		cJSON_Delete(in);
	}
	cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(vc->rows[cat],
								  "rows")) {
		const char *have = ac_str(row, c->key);

		if (have && !strcmp(have, code))
			return true;
	}
	return vc->st != LUONG_OK; /* unread: not reported as unknown */
}

static void add_problem(cJSON *problems, const char *path, const char *msg)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "path", path);
	cJSON_AddStringToObject(p, "message", msg);
	cJSON_AddItemToArray(problems, p);
}

/* Reports o.key (at path) when it names a code MISA does not have. */
static void check_code(struct voucher_check *vc, int cat, const cJSON *o,
		       const char *key, const char *path)
{
	const char *code = ac_str(o, key);
	char msg[400];

	if (!code || !*code || code_known(vc, cat, code))
		return;
	snprintf(msg, sizeof(msg),
		 "%s \"%s\" does not exist in %s "
		 "(get_dictionary, data_type %d)",
		 catalogues[cat].what, code, SYSTEM, catalogues[cat].data_type);
	add_problem(vc->problems, path, msg);
}

/* Confirms that the customer, item and stock codes the voucher names
 * exist in MISA, each unknown one reported with its path in the input;
 * the preview is the voucher as save_voucher would send it. */
static enum luong_status misa_check_voucher(struct luong_call *call,
					    void *state, const cJSON *input,
					    cJSON **output)
{
	struct misa *m = state;
	struct voucher_check vc = { .m = m, .call = call, .st = LUONG_OK };
	const char *field;
	const cJSON *line;
	cJSON *v, *ref = NULL;
	char why[300], path[96];
	double type;
	int i = 0;

	*output = cJSON_CreateObject();
	vc.problems = cJSON_AddArrayToObject(*output, "problems");
	v = voucher_of(call, m->k.h, input, &ref, &type, why, sizeof(why),
		       &field);
	cJSON_Delete(ref);
	if (!v) {
		snprintf(path, sizeof(path), "$.%s", field);
		add_problem(vc.problems, path, why);
		return LUONG_OK;
	}
	check_code(&vc, CAT_OBJECTS, v, "account_object_code",
		   "$.account_object_code");
	check_code(&vc, CAT_STOCKS, v, "stock_code", "$.stock_code");
	cJSON_ArrayForEach (line, cJSON_GetObjectItemCaseSensitive(v, "detai"
								      "l")) {
		snprintf(path, sizeof(path), "$.detail[%d].inventory_item_code",
			 i);
		check_code(&vc, CAT_ITEMS, line, "inventory_item_code", path);
		snprintf(path, sizeof(path), "$.detail[%d].stock_code", i++);
		check_code(&vc, CAT_STOCKS, line, "stock_code", path);
	}
	for (int c = 0; c < CAT__N; c++)
		cJSON_Delete(vc.rows[c]);
	if (vc.st != LUONG_OK) {
		cJSON_Delete(v);
		cJSON_Delete(*output);
		*output = NULL;
		return vc.st;
	}
	cJSON_AddItemToObject(*output, "preview", v);
	return LUONG_OK;
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
	st = read_pages(m, NULL, "get_dictionary", in, &out);
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

static enum luong_status poll_items(struct luong_ctx *ctx, void *state,
				    const char *cursor, char **next)
{
	(void)ctx;
	return poll_dictionary(state, 2, "inventory_item.changed",
			       "inventory_item_code", cursor, next);
}

static enum luong_status poll_objects(struct luong_ctx *ctx, void *state,
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
	st = read_pages(m, NULL, fn, in, &out);
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

static enum luong_status poll_balances(struct luong_ctx *ctx, void *state,
				       const char *cursor, char **next)
{
	(void)ctx;
	(void)cursor; /* stock is read whole every time */
	return poll_rows(state, "get_list_inventory_balance",
			 cJSON_CreateObject(), "inventory_balance.changed",
			 "inventory_item_code", "stock_code", NULL, next);
}

static enum luong_status poll_debts(struct luong_ctx *ctx, void *state,
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
static enum luong_status poll_price_policies(struct luong_ctx *ctx, void *state,
					     const char *cursor, char **next)
{
	(void)ctx;
	return poll_dictionary(state, 15, "price_policy.changed",
			       "price_policy_code", cursor, next);
}

/* C1: item categories (product groups) by a designed data_type, 14. */
static enum luong_status poll_categories(struct luong_ctx *ctx, void *state,
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
	st = read_pages(m, NULL, "get_dictionary", in, &out);
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

static enum luong_status fetch_item(struct luong_ctx *ctx, void *state,
				    const char *code, cJSON **payload)
{
	return fetch_dictionary(state, ctx, 2, "inventory_item_code", code,
				payload);
}

static enum luong_status fetch_object(struct luong_ctx *ctx, void *state,
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
			if (!made_recall(m, key, out)) {
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
			made_remember(m, key, out);
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

static enum luong_status misa_webhook(struct luong_ctx *ctx, void *state,
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

/* ---- lifecycle ------------------------------------------------------------------- */

static enum luong_status misa_init(struct luong_ctx *ctx,
				   const struct luong_host *host, void **state)
{
	struct misa *m;
	enum luong_status st = ac_state_new(host, sizeof(*m), state);

	if (st != LUONG_OK)
		return st;
	m = *state;
	ac_conn_init(&m->k, ctx, host, SYSTEM, 20000, misa_connect);
	m->server = host->config->get(ctx, "server");
	m->app_id = host->config->get(ctx, "app_id");
	m->access_code = host->config->get(ctx, "access_code");
	m->org = host->config->get(ctx, "org_company_code");
	if (!m->server || !m->app_id || !m->access_code || !m->org)
		return LUONG_E_CONFIG;
	return LUONG_OK;
}

static const struct luong_config_field misa_config[] = {
	{ "server", LUONG_CFG_URL, LUONG_CFG_REQUIRED, NULL,
	  "ACT open API base URL, e.g. https://actapp.misa.vn" },
	{ "app_id", LUONG_CFG_STRING, LUONG_CFG_REQUIRED, NULL,
	  "app id issued by MISA; also the key of the callback signature" },
	{ "access_code", LUONG_CFG_SECRET, LUONG_CFG_REQUIRED, NULL,
	  "access code (mã kết nối) generated by the tenant admin" },
	{ "org_company_code", LUONG_CFG_STRING, LUONG_CFG_REQUIRED, NULL,
	  "the company's code (tenant domain code)" },
	{ "timeout_ms", LUONG_CFG_INT, 0, "20000",
	  "time-out of one API request" },
	{ 0 }
};

/* ---- what the events carry and the actions take (SDK 1.2) ---------------- */

#define S LUONG_FIELD_STRING
#define I LUONG_FIELD_INTEGER
#define B LUONG_FIELD_BOOL
#define ANY LUONG_FIELD_ANY
#define REQ LUONG_FIELD_REQUIRED

static const struct luong_field_def failed_fields[] = {
	{ "org_refid", S, 0, "the call's idempotency key" },
	{ "document_id", S, 0, "the source document" },
	{ "error_code", S, 0, "MISA's code, e.g. InvalidParam" },
	{ "error_message", S, 0, "MISA's message" },
	{ "reason", S, 0, "the failure in words" },
	{ "reference", ANY, 0, "what save_voucher's input carried as it" },
	{ 0 }
};

/* A catalogue row as get_dictionary gives it (data_type 2: items). */
static const struct luong_field_def item_fields[] = {
	{ "inventory_item_id", S, 0, "MISA's id" },
	{ "inventory_item_code", S, 0, "the item's code (the document id)" },
	{ "inventory_item_name", S, 0, "" },
	{ "inventory_item_type", ANY, 0, "0 goods, 2 service" },
	{ "unit_name", S, 0, "" },
	{ "unit_price", ANY, 0, "purchase price" },
	{ "sale_price1", ANY, 0, "sale price" },
	{ "vat_rate", ANY, 0, "percent" },
	{ "inventory_item_category_code", S, 0, "" },
	{ "inactive", B, 0, "" },
	{ 0 }
};

static const char item_sample[] =
	"{\"inventory_item_id\":\"f6000000-0000-4000-8000-000000000001\","
	"\"inventory_item_code\":\"SP001\",\"inventory_item_name\":"
	"\"Nước khoáng La Vie 500ml (thùng 24 chai)\","
	"\"inventory_item_type\":0,\"unit_name\":\"Thùng\","
	"\"unit_price\":82000,\"sale_price1\":96000,\"vat_rate\":10,"
	"\"inventory_item_category_code\":\"DOUONG\",\"inactive\":false}";

/* A catalogue row as get_dictionary gives it (data_type 1: customers,
 * vendors, employees). */
static const struct luong_field_def object_fields[] = {
	{ "account_object_id", S, 0, "MISA's id" },
	{ "account_object_code", S, 0, "the code (the document id)" },
	{ "account_object_name", S, 0, "" },
	{ "account_object_type", ANY, 0, "0 organisation, 1 person" },
	{ "is_customer", B, 0, "" },
	{ "is_vendor", B, 0, "" },
	{ "is_employee", B, 0, "" },
	{ "address", S, 0, "" },
	{ "company_tax_code", S, 0, "" },
	{ "tel", S, 0, "" },
	{ "email", S, 0, "" },
	{ "account_object_group_code", S, 0, "" },
	{ "account_object_group_name", S, 0,
	  "the group's name (designed: the sandbox sends it)" },
	{ "inactive", B, 0, "" },
	{ 0 }
};

static const char object_sample[] =
	"{\"account_object_id\":\"c3000000-0000-4000-8000-000000000001\","
	"\"account_object_code\":\"KH0001\",\"account_object_name\":"
	"\"Công ty TNHH Phân phối Hưng Thịnh\",\"account_object_type\":0,"
	"\"is_customer\":true,\"is_vendor\":false,\"is_employee\":false,"
	"\"address\":\"Số 25 Lê Văn Lương, Quận Thanh Xuân, Hà Nội\","
	"\"company_tax_code\":\"0105987342\",\"tel\":\"024 3556 2211\","
	"\"email\":\"muahang@hungthinh.com.vn\","
	"\"account_object_group_code\":\"NPP\",\"inactive\":false}";

/* voucher_type and reftype are numbers; a mapping table's text "13" is
 * read as one, so they take any value here */
static const struct luong_field_def category_fields[] = {
	{ "inventory_item_category_id", S, 0, "MISA's id" },
	{ "inventory_item_category_code", S, 0, "the code (the document id)" },
	{ "inventory_item_category_name", S, 0, "" },
	{ 0 }
};

static const char category_sample[] =
	"{\"inventory_item_category_id\":\"e5000000-0000-4000-8000-"
	"000000000001\",\"inventory_item_category_code\":\"DOUONG\","
	"\"inventory_item_category_name\":\"Đồ uống\"}";

static const struct luong_field_def policy_fields[] = {
	{ "price_policy_code", S, 0, "the code (the document id)" },
	{ "price_policy_name", S, 0, "" },
	{ "from_date", S, 0, "" },
	{ "to_date", S, 0, "" },
	{ "account_object_group_code", S, 0, "the customer group it is for" },
	{ "items", LUONG_FIELD_ARRAY, 0,
	  "[{inventory_item_code, unit_name, unit_price}]" },
	{ 0 }
};

static const char policy_sample[] =
	"{\"price_policy_code\":\"CSG_DAILY_2026\",\"price_policy_name\":"
	"\"Giá đại lý 2026\",\"from_date\":\"2026-01-01\",\"to_date\":"
	"\"2026-12-31\",\"account_object_group_code\":\"DAILY\","
	"\"items\":[{\"inventory_item_code\":\"SP001\",\"unit_name\":"
	"\"Thùng\",\"unit_price\":93000}]}";

static const struct luong_field_def balance_fields[] = {
	{ "inventory_item_code", S, 0, "" },
	{ "inventory_item_name", S, 0, "" },
	{ "unit_name", S, 0, "the main unit" },
	{ "stock_code", S, 0, "" },
	{ "stock_name", S, 0, "" },
	{ "branch_id", S, 0, "" },
	{ "quantity_balance", ANY, 0, "in the main unit" },
	{ "amount_balance", ANY, 0, "" },
	{ 0 }
};

static const char balance_sample[] =
	"{\"inventory_item_code\":\"SP001\",\"inventory_item_name\":"
	"\"Nước khoáng La Vie 500ml (thùng 24 chai)\",\"unit_name\":"
	"\"Thùng\",\"stock_code\":\"KHO_HN\",\"stock_name\":\"Kho Hà "
	"Nội\",\"quantity_balance\":120,\"amount_balance\":9840000}";

static const struct luong_field_def debt_fields[] = {
	{ "account_object_code", S, 0, "" },
	{ "account_object_name", S, 0, "" },
	{ "debt_amount", ANY, 0, "receivable" },
	{ "invoice_debt_amount", ANY, 0, "" },
	{ "organization_unit_code", S, 0, "the branch" },
	{ "organization_unit_name", S, 0, "" },
	{ "is_vendor", B, 0, "" },
	{ 0 }
};

static const char debt_sample[] =
	"{\"account_object_code\":\"KH0001\",\"account_object_name\":"
	"\"Công ty TNHH Phân phối Hưng Thịnh\",\"debt_amount\":45600000,"
	"\"invoice_debt_amount\":45600000,\"organization_unit_code\":"
	"\"ANPHAT\",\"organization_unit_name\":\"Công ty Cổ phần Thương "
	"mại An Phát\",\"is_vendor\":false}";

static const struct luong_field_def order_state_fields[] = {
	{ "org_refno", S, 0, "the source's number (the document id)" },
	{ "org_refid", S, 0, "the idempotency key it was saved with" },
	{ "refno", S, 0, "MISA's number" },
	{ "status", S, 0, "not_started, in_progress, done" },
	{ "delivery_status", S, 0, "none, partial, full" },
	{ "invoice_status", S, 0, "none, partial, full" },
	{ "payment_status", S, 0, "none, partial, full" },
	{ "revenue_status", S, 0, "requested, recorded" },
	{ "total_amount", ANY, 0, "" },
	{ "invoiced_amount", ANY, 0, "" },
	{ "received_amount", ANY, 0, "" },
	{ "remaining_receivable", ANY, 0, "" },
	{ "receipts", LUONG_FIELD_ARRAY, 0, "[{refno, refdate, amount}]" },
	{ "detail", LUONG_FIELD_ARRAY, 0,
	  "[{inventory_item_code, quantity, delivered_quantity}]" },
	{ 0 }
};

static const char order_state_sample[] =
	"{\"org_refid\":\"c2-don-hang-crm-sang-ke-toan:order:DNGDS00002\","
	"\"org_refno\":\"DH00001\",\"refno\":\"DH00001\","
	"\"voucher_type\":20,\"status\":\"in_progress\","
	"\"delivery_status\":\"partial\",\"invoice_status\":\"none\","
	"\"payment_status\":\"partial\",\"revenue_status\":"
	"\"requested\",\"total_amount\":2112000,\"invoiced_amount\":0,"
	"\"received_amount\":1000000,\"remaining_receivable\":1112000,"
	"\"receipts\":[{\"refno\":\"PT00001\",\"refdate\":"
	"\"2025-11-12\",\"amount\":1000000}],\"detail\":"
	"[{\"inventory_item_code\":\"SP001\",\"quantity\":20,"
	"\"delivered_quantity\":5}]}";

static const struct luong_field_def decided_fields[] = {
	{ "org_refno", S, 0, "the request's number in the source" },
	{ "refno", S, 0, "MISA's number" },
	{ "approved", B, 0, "" },
	{ "reason", S, 0, "why it was refused" },
	{ 0 }
};

static const char decided_sample[] =
	"{\"org_refid\":\"c4:request:DNXHD00001\",\"org_refno\":"
	"\"DNXHD00001\",\"refno\":\"DNXHD00001\",\"voucher_type\":23,"
	"\"approved\":false,\"reason\":\"Sai mã số thuế\"}";

static const struct luong_field_def voucher_inputs[] = {
	{ "voucher_type", ANY, REQ, "MISA's voucher type (apis.md 1.7)" },
	{ "reftype", ANY, 0,
	  "MISA's reftype (null: MISA's default for "
	  "the voucher type)" },
	{ "detail", LUONG_FIELD_ARRAY, REQ, "the lines" },
	{ "refdate", S, 0, "YYYY-MM-DD" },
	{ "posted_date", S, 0, "YYYY-MM-DD" },
	{ "org_refno", S, 0, "the source's number" },
	{ "account_object_code", S, 0, "customer or vendor code" },
	{ "account_object_name", S, 0, "" },
	{ "account_object_address", S, 0, "" },
	{ "employee_code", S, 0, "" },
	{ "journal_memo", S, 0, "" },
	{ "description", S, 0, "" },
	{ "stock_code", S, 0, "warehouse, for lines without one" },
	{ "branch_id", S, 0, "" },
	{ "currency_id", S, 0, "VND unless given" },
	{ "exchange_rate", LUONG_FIELD_NUMBER, 0, "" },
	{ "due_date", S, 0, "" },
	{ "refno_finance", S, 0, "" },
	{ "in_outward", LUONG_FIELD_OBJECT, 0, "the issue part of a sale" },
	{ "sa_invoice", LUONG_FIELD_OBJECT, 0, "the invoice part" },
	{ "is_sale_with_outward", B, 0, "" },
	{ "include_invoice", ANY, 0, "" },
	{ "bank_account_id", S, 0, "" },
	{ "custom_field1", S, 0,
	  "free field; the Haravan flows put the source order id in it "
	  "(Số CT gốc)" },
	{ "reference", ANY, 0,
	  "kept by the plugin, echoed in "
	  "voucher.failed" },
	{ 0 }
};

static const struct luong_field_def voucher_outputs[] = {
	{ "org_refid", S, 0, "" },
	{ "refid", S, 0, "MISA's id of the voucher" },
	{ "refno", S, 0, "MISA's number" },
	{ "is_posted", B, 0, "" },
	{ "already_created", B, 0, "a resend found it made" },
	{ 0 }
};

/* save_dictionary takes one item's own members too: not declared */

static const struct luong_field_def page_inputs[] = {
	{ "data_type", ANY, 0,
	  "catalogue (get_dictionary), 0 receivable / "
	  "1 payable (get_debt_balance)" },
	{ "last_sync_time", S, 0, "" },
	{ "branch_id", S, 0, "" },
	{ "stock_id", S, 0, "" },
	{ "skip", I, 0, "" },
	{ "take", I, 0, "at most 100" },
	{ "all", B, 0, "every page (default true)" },
	{ 0 }
};

static const struct luong_field_def page_outputs[] = {
	{ "rows", LUONG_FIELD_ARRAY, 0, "" },
	{ "count", I, 0, "" },
	{ "last_sync_time", S, 0, "" },
	{ 0 }
};

static const struct luong_event_def misa_events[] = {
	{ .name = "voucher.failed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "MISA refused a voucher request; id = "
			 "<org_refid>#<session>",
	  .fields = failed_fields,
	  .sample = "{\"org_refid\":\"issue-note-to-accounting:voucher:"
		    "XK00004\","
		    "\"document_id\":\"XK00004\",\"error_code\":"
		    "\"InvalidParam\","
		    "\"error_message\":\"Mã hàng \\\"SP999\\\" không tồn tại\","
		    "\"reason\":\"MISA AMIS refused the voucher\","
		    "\"reference\":{\"kind\":\"issue_note\",\"note_no\":"
		    "\"XK00004\"}}" },
	{ .name = "inventory_item.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "items added or edited since the last poll; id = item "
			 "code",
	  .poll = poll_items,
	  .default_interval_s = 900,
	  .fields = item_fields,
	  .sample = item_sample,
	  .fetch = fetch_item },
	{ .name = "account_object.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "customers, vendors, employees added or edited; id = "
			 "code",
	  .poll = poll_objects,
	  .default_interval_s = 900,
	  .fields = object_fields,
	  .sample = object_sample,
	  .fetch = fetch_object },
	{ .name = "inventory_item_category.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "item categories (product groups) added or edited; id "
			 "= code "
			 "(get_dictionary data_type 14, designed)",
	  .poll = poll_categories,
	  .default_interval_s = 900,
	  .fields = category_fields,
	  .sample = category_sample },
	{ .name = "inventory_balance.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "stock per item and warehouse, all branches, in the "
			 "main unit "
			 "(C5); id = <item code>@<stock code>",
	  .poll = poll_balances,
	  .default_interval_s = 900,
	  .fields = balance_fields,
	  .sample = balance_sample },
	{ .name = "account_object_debt.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "receivable per customer and branch (C6); id = "
			 "<code>@<branch "
			 "code>",
	  .poll = poll_debts,
	  .default_interval_s = 900,
	  .fields = debt_fields,
	  .sample = debt_sample },
	{ .name = "price_policy.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "price policies added or edited (C8; get_dictionary "
			 "data_type 15, "
			 "designed); id = code",
	  .poll = poll_price_policies,
	  .default_interval_s = 900,
	  .fields = policy_fields,
	  .sample = policy_sample },
	{ .name = "order.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a sales order or contract made from a source "
			 "document was "
			 "delivered, invoiced or paid (designed callback "
			 "data_type 3); id = "
			 "the source's number (org_refno)",
	  .fields = order_state_fields,
	  .sample = order_state_sample },
	{ .name = "invoice_request.decided",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an accountant approved or refused an invoice request "
			 "(designed "
			 "callback data_type 4); id = the source's number",
	  .fields = decided_fields,
	  .sample = decided_sample },
	{ 0 }
};

static const struct luong_action_def misa_actions[] = {
	{ "save_voucher",
	  "queue a voucher request (org_refid = idempotency "
	  "key); done when MISA's callback arrives",
	  misa_save_voucher, misa_check_voucher, voucher_inputs,
	  voucher_outputs, NULL },
	{ "save_dictionary", "create or update catalogue items",
	  misa_save_dictionary, NULL, NULL, NULL, NULL },
	{ "get_dictionary", "read a catalogue by data_type, all pages",
	  misa_get_dictionary, NULL, page_inputs, page_outputs, NULL },
	{ "get_inventory_balance", "read stock per item and warehouse",
	  misa_get_inventory_balance, NULL, page_inputs, page_outputs, NULL },
	{ "get_debt_balance", "read receivables (data_type 0) or payables (1)",
	  misa_get_debt_balance, NULL, page_inputs, page_outputs, NULL },
	{ 0 }
};

/* apis.md §1: MISA documents no limit (clients go one call at a time,
 * ~120 ms apart), so none is declared: the host paces nothing unless a
 * connection sets "rate_limit", and a 429 still holds the connection
 * for its Retry-After. */
static const struct luong_rate_limit misa_rate_limit = {
	.struct_size = sizeof(struct luong_rate_limit),
	.burst = 1,
	.per_second = 0,
	.usage_header = NULL,
};

AC_PLUGIN_LIMITED("misa-amis", "1.0.0",
		  "MISA AMIS Kế toán (ACT open API): vouchers, catalogues, "
		  "stock and debt",
		  misa_config, misa_events, misa_actions, misa_init,
		  ac_plugin_fini, misa_webhook, &misa_rate_limit)
