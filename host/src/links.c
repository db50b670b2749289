/*
 * links.c - the engine's side of record links (SPEC B11): a step that
 * makes a linked record first claims it, so one source document makes at
 * most one record of a kind in a target whichever flow sends it; what it
 * made is recorded from its output; flow expressions read links through
 * link(). The table itself is the store's (store.h, record links).
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runtime.h"
#include "util.h"

/* The trigger's document as a link's source. */
static struct link source_of(const struct flow *f, const struct doc_row *row)
{
	return (struct link){
		.a_conn = f->trigger_connection, .a_kind = f->trigger_kind,
		.a_id = row->doc_id, .flow = f->id, .doc_id = row->doc_id,
	};
}

enum link_check link_before_step(struct engine *e, const struct flow *f,
				 const struct flow_step *st,
				 const struct doc_row *row, struct link *held)
{
	struct link want = source_of(f, row);
	int rc;

	want.b_conn = st->connection;
	want.b_kind = st->link->kind;
	want.step = st->id;
	rc = store_link_claim(e->rt->store, &want, held);
	if (rc < 0)
		return LINK_ERROR;
	if (!rc)
		return LINK_MAKE;
	return held->made ? LINK_MADE : LINK_BUSY;
}

/* A JSON value as link text: strings as they are, numbers and the rest
 * as JSON; NULL for null or absent. Owned. */
static char *ref_text(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	return cJSON_PrintUnformatted(v);
}

void link_after_step(struct engine *e, const struct flow *f,
		     const struct flow_step *st, const struct doc_row *row,
		     const cJSON *output, const cJSON *vars)
{
	struct link l = source_of(f, row);
	cJSON *ref = NULL;
	char err[512];

	if (expr_eval(st->link->ref, output, vars, &ref, err, sizeof(err)))
		log_msg(LUONG_LOG_WARN, NULL, "flow=%s doc=%s step=%s: link: "
			"%s; %s is linked without its id", f->id, row->doc_id,
			st->id, err, st->link->kind);
	l.b_conn = st->connection;
	l.b_kind = st->link->kind;
	l.step = st->id;
	l.b_id = ref_text(cJSON_GetObjectItemCaseSensitive(ref, "id"));
	l.b_code = ref_text(cJSON_GetObjectItemCaseSensitive(ref, "code"));
	l.output = output ? cJSON_PrintUnformatted(output) : NULL;
	if (store_link_put(e->rt->store, &l))
		log_msg(LUONG_LOG_ERROR, NULL, "flow=%s doc=%s step=%s: cannot "
			"record the link to %s %s in %s", f->id, row->doc_id,
			st->id, st->link->kind, l.b_id ? l.b_id : "", l.b_conn);
	free(l.b_id);
	free(l.b_code);
	free(l.output);
	cJSON_Delete(ref);
}

void link_release(struct engine *e, const struct flow *f, const char *doc_id)
{
	for (size_t i = 0; i < f->n_steps; i++)
		if (f->steps[i].link) {
			store_link_release(e->rt->store, f->id, doc_id);
			return;
		}
}

cJSON *link_step_output(const struct link *held)
{
	cJSON *out = held->output ? cJSON_Parse(held->output) : NULL;

	if (out)
		return out;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", held->b_id);
	cJSON_AddStringToObject(out, "code", held->b_code);
	return out;
}

char *link_made_note(const struct link *held)
{
	const char *ref = held->b_code ? held->b_code
			  : held->b_id ? held->b_id : "(no id)";

	return xasprintf("%s %s in %s was made from %s %s by flow %s "
			 "(document %s); not made again", held->b_kind, ref,
			 held->b_conn, held->a_kind, held->a_id, held->flow,
			 held->doc_id);
}

char *link_busy_note(const struct link *held)
{
	return xasprintf("flow %s (document %s) is making %s in %s for %s %s; "
			 "waiting for it", held->flow, held->doc_id,
			 held->b_kind, held->b_conn, held->a_kind, held->a_id);
}

/* ---- link() in expressions ---------------------------------------------- */

/* One query of link(): [connection, kind, from]; from is null (the
 * document), an id of the trigger's connection, or {connection, kind,
 * id}. The link value, or null. Owned. */
static cJSON *resolve(struct engine *e, const struct flow *f,
		      const struct doc_row *row, const cJSON *q)
{
	const cJSON *conn = cJSON_GetArrayItem(q, 0);
	const cJSON *kind = cJSON_GetArrayItem(q, 1);
	const cJSON *from = cJSON_GetArrayItem(q, 2);
	struct link_end rec = { f->trigger_connection, NULL, row->doc_id };
	const cJSON *c, *k, *id;
	char *id_text = NULL;
	struct link l;
	cJSON *v = NULL;

	if (!cJSON_IsString(conn))
		return cJSON_CreateNull();
	if (cJSON_IsObject(from)) {
		c = cJSON_GetObjectItemCaseSensitive(from, "connection");
		k = cJSON_GetObjectItemCaseSensitive(from, "kind");
		id = cJSON_GetObjectItemCaseSensitive(from, "id");
		if (cJSON_IsString(c))
			rec.connection = c->valuestring;
		rec.kind = cJSON_IsString(k) ? k->valuestring : NULL;
		rec.id = id_text = ref_text(id);
	} else if (from && !cJSON_IsNull(from)) {
		rec.id = id_text = ref_text(from);
	}
	if (rec.id && !store_link_find(e->rt->store, &rec, conn->valuestring,
				       cJSON_IsString(kind) ? kind->valuestring
							    : NULL, &l)) {
		v = link_seen_from(&l, rec.connection, rec.id);
		link_free(&l);
	}
	free(id_text);
	return v ? v : cJSON_CreateNull();
}

#define LINK_ROUNDS 8 /* link() calls that depend on earlier ones */

int link_eval(struct engine *e, const struct flow *f,
	      const struct doc_row *row, struct expr *x, const cJSON *doc,
	      cJSON *vars, cJSON **out, char *err, size_t errlen)
{
	cJSON *links = cJSON_GetObjectItemCaseSensitive(vars, "links");
	cJSON *wants = NULL, *w;

	if (!links)
		links = cJSON_AddObjectToObject(vars, "links");
	for (int round = 0; round < LINK_ROUNDS; round++) {
		if (expr_eval_links(x, doc, vars, out, &wants, err, errlen))
			return -1;
		if (!wants)
			return 0;
		cJSON_Delete(*out);
		*out = NULL;
		cJSON_ArrayForEach(w, wants)
			cJSON_AddItemToObject(links,
				cJSON_GetObjectItem(w, "key")->valuestring,
				resolve(e, f, row,
					cJSON_GetObjectItem(w, "query")));
		cJSON_Delete(wants);
		wants = NULL;
	}
	snprintf(err, errlen, "link() asked for links more than %d rounds "
		 "deep", LINK_ROUNDS);
	return -1;
}
