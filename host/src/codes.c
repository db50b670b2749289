/*
 * codes.c - which codes of one system have no match in another (go-live:
 * "map the catalogues"). Generic: each side is an action of a connection
 * that reads a catalogue (e.g. DMS's read_catalogue, MISA's
 * get_dictionary) and a jq expression giving its list of codes; an
 * optional mapping table translates the left side's codes first (a code
 * with no entry stays as it is). Nothing is written.
 *
 * Request: {"left":  {"connection", "action", "input", "codes"},
 *           "right": {...}, "mapping": "table" (optional)}
 * Answer:  {"left": {connection, count, unmatched: [...]},
 *           "right": {...}, "matched": n}
 * left.unmatched are left codes (as they are) whose translation the right
 * side lacks; right.unmatched right codes no left code reaches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "expr.h"
#include "i18n.h"
#include "loader.h"
#include "mappings.h"
#include "runtime.h"
#include "util.h"

/* Runs one side's action and evaluates its code expression: *codes
 * (owned) is an array of strings. */
static int side_codes(struct engine *e, const cJSON *side, const char *name,
		      cJSON **codes, char *err, size_t errlen)
{
	const char *conn = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(side, "connection"));
	const char *action = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(side, "action"));
	const char *src = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(side, "codes"));
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(side, "input");
	struct luong_ctx *ctx = conn ? loader_connection(e->rt, conn) : NULL;
	const struct luong_action_def *act = NULL;
	struct luong_call call = { 0 };
	struct expr *x;
	cJSON *out = NULL, *empty = NULL, *list = NULL;
	enum luong_status st;
	luong_perform_fn perform;
	char key[128];

	if (!conn || !action || !src) {
		snprintf(err, errlen,
			 _("%s: connection, action and codes are required"),
			 name);
		return -1;
	}
	if (ctx && ctx->ready)
		act = plugin_action(ctx->plugin, action);
	if (!act) {
		snprintf(err, errlen, _("%s: connection \"%s\" %s"), name, conn,
			 !ctx	       ? _("does not exist")
			 : !ctx->ready ? _("is not started")
				       : _("has no such action"));
		return -1;
	}
	x = expr_compile(src, NULL, err, errlen);
	if (!x)
		return -1;
	if (!input)
		input = empty = cJSON_CreateObject();
	snprintf(key, sizeof(key), "codes:%s:%s", conn, action);
	call.ctx = ctx;
	call.key = key;
	call.doc_id = "codes";
	call.attempt = 1;
	call.version = 1;
	perform = plugin_action_perform(ctx->plugin, act);
	conn_enter(ctx);
	if (perform) {
		struct luong_action_args args = {
			.struct_size = sizeof(args),
			.ctx = ctx,
			.host = &ctx->rt->host,
			.call = &call,
			.state = ctx->state,
			.input = input,
		};
		st = perform(&args);
		out = args.output;
	} else {
		st = act->run(&call, ctx->state, input, &out);
	}
	conn_leave(ctx);
	cJSON_Delete(empty);
	if (st != LUONG_OK) {
		snprintf(err, errlen, "%s: %s.%s: %s", name, conn, action,
			 call.error[0] ? call.error : luong_status_text(st));
		cJSON_Delete(out);
		expr_free(x);
		return -1;
	}
	if (expr_eval(x, out, NULL, &list, err, errlen)) {
		cJSON_Delete(out);
		expr_free(x);
		return -1;
	}
	cJSON_Delete(out);
	expr_free(x);
	if (!cJSON_IsArray(list)) {
		snprintf(err, errlen,
			 _("%s: codes must give an array of codes"), name);
		cJSON_Delete(list);
		return -1;
	}
	*codes = list;
	return 0;
}

static bool has_code(const cJSON *arr, const char *code)
{
	const cJSON *c;

	cJSON_ArrayForEach (c, arr)
		if (cJSON_IsString(c) && !strcmp(c->valuestring, code))
			return true;
	return false;
}

static cJSON *side_result(const cJSON *req, const char *name,
			  const cJSON *codes, cJSON *unmatched)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(
		o, "connection",
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(req, name), "connectio"
								     "n")));
	cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(codes));
	cJSON_AddItemToObject(o, "unmatched", unmatched);
	return o;
}

int engine_codes(struct engine *e, const cJSON *req, cJSON **result, char *err,
		 size_t errlen)
{
	const char *table = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(req, "mapping"));
	cJSON *left = NULL, *right = NULL, *tables = NULL, *reached;
	cJSON *only_left, *only_right;
	const cJSON *map = NULL, *c;
	int matched = 0;

	if (table) {
		tables = mappings_read(e->rt, err, errlen);
		if (!tables)
			return -1;
		map = cJSON_GetObjectItemCaseSensitive(tables, table);
		if (!cJSON_IsObject(map)) {
			snprintf(err, errlen, _("unknown mapping table \"%s\""),
				 table);
			cJSON_Delete(tables);
			return -1;
		}
	}
	if (side_codes(e, cJSON_GetObjectItemCaseSensitive(req, "left"), "left",
		       &left, err, errlen) ||
	    side_codes(e, cJSON_GetObjectItemCaseSensitive(req, "right"),
		       "right", &right, err, errlen)) {
		cJSON_Delete(left);
		cJSON_Delete(tables);
		return -1;
	}
	only_left = cJSON_CreateArray();
	reached = cJSON_CreateArray();
	cJSON_ArrayForEach (c, left) {
		const cJSON *to;
		const char *code;
		char num[32];

		if (!cJSON_IsString(c))
			continue;
		to = map ? cJSON_GetObjectItemCaseSensitive(map, c->valuestring)
			 : NULL;
		code = c->valuestring;
		if (cJSON_IsString(to)) {
			code = to->valuestring;
		} else if (cJSON_IsNumber(to)) {
			snprintf(num, sizeof(num), "%g", to->valuedouble);
			code = num;
		}
		if (has_code(right, code)) {
			matched++;
			cJSON_AddItemToArray(reached, cJSON_CreateString(code));
		} else {
			cJSON_AddItemToArray(
				only_left, cJSON_CreateString(c->valuestring));
		}
	}
	only_right = cJSON_CreateArray();
	cJSON_ArrayForEach (c, right)
		if (cJSON_IsString(c) && !has_code(reached, c->valuestring))
			cJSON_AddItemToArray(
				only_right, cJSON_CreateString(c->valuestring));
	*result = cJSON_CreateObject();
	cJSON_AddItemToObject(*result, "left",
			      side_result(req, "left", left, only_left));
	cJSON_AddItemToObject(*result, "right",
			      side_result(req, "right", right, only_right));
	cJSON_AddNumberToObject(*result, "matched", matched);
	if (table)
		cJSON_AddStringToObject(*result, "mapping", table);
	cJSON_Delete(reached);
	cJSON_Delete(left);
	cJSON_Delete(right);
	cJSON_Delete(tables);
	return 0;
}
