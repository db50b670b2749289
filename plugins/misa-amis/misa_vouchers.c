/*
 * misa_vouchers.c - what the misa-amis connector writes: vouchers (their
 * money filled and checked by SPEC B10, numbers renumbered on a clash,
 * what MISA made remembered from its callback), catalogue items, and the
 * go-live check of a voucher against MISA's catalogues.
 */
#include "misa_amis_int.h"

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
void misa_made_remember(struct misa *m, const char *key, const cJSON *out)
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
	misa_reply_free(m, &r);
	cJSON_Delete(body);
	return found;
}

/* Fills what MISA made into an "already created" output: remembered
 * from its first callback, else from the results it could not deliver.
 * False while neither knows (that callback is still on its way). */
bool misa_made_recall(struct misa *m, const char *key, cJSON *out)
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
		misa_made_remember(m, key, made);
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

enum luong_status misa_save_voucher(struct luong_call *call, void *state,
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
		st = misa_made_recall(m, key, *output) ? LUONG_OK
						       : LUONG_PENDING;
	} else if (st == LUONG_E_REMOTE) {
		misa_remote_error(m, call, "the voucher", &r);
	}
out:
	misa_reply_free(m, &r);
	cJSON_Delete(ref);
	cJSON_Delete(v);
	return st;
}

/* ---- save_dictionary ------------------------------------------------------- */

enum luong_status misa_save_dictionary(struct luong_call *call, void *state,
				       const cJSON *input, cJSON **output)
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
		misa_remote_error(m, call, "the catalogue items", &r);
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
	misa_reply_free(m, &r);
	return st;
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
		vc->st = misa_read_pages(vc->m, vc->call, "get_dictionary", in,
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
enum luong_status misa_check_voucher(struct luong_call *call, void *state,
				     const cJSON *input, cJSON **output)
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
