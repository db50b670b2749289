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

#include "i18n.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

/* The trigger's document as a link's source. */
static struct link source_of(const struct flow *f, const struct doc_row *row)
{
	return (struct link){
		.a_conn = f->trigger_connection,
		.a_kind = f->trigger_kind,
		.a_id = row->doc_id,
		.flow = f->id,
		.doc_id = row->doc_id,
	};
}

/* ---- claims ------------------------------------------------------------- */

/*
 * Who makes a linked record is decided here, under links_mu: a claim
 * in memory until the store has committed it, then the store's row. A
 * worker does not wait for that commit (it goes with the next group
 * commit, while the action's request is on its way), so claiming costs
 * no fsync of its own.
 */
struct link_claim {
	char *key; /* a and b's connection and kind */
	char *flow, *doc_id;
	uint64_t gen;
	struct link_claim *next;
};

struct claim_done {
	struct engine *e;
	uint64_t gen;
};

static char *claim_key(const struct link *l)
{
	return xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", l->a_conn, l->a_kind,
			 l->a_id, l->b_conn, l->b_kind);
}

static void claim_free(struct link_claim *c)
{
	free(c->key);
	free(c->flow);
	free(c->doc_id);
	free(c);
}

/* Drops the claims matching gen (non-zero), or flow and document. */
static void claims_drop(struct engine *e, uint64_t gen, const char *flow,
			const char *doc_id)
{
	struct link_claim **p = &e->claims, *c;

	while ((c = *p)) {
		if (gen ? c->gen == gen
			: !strcmp(c->flow, flow) &&
				    !strcmp(c->doc_id, doc_id)) {
			*p = c->next;
			claim_free(c);
		} else {
			p = &c->next;
		}
	}
}

/* On the store's writer, once the claim is committed. */
static void claim_committed(void *ud, int rc)
{
	struct claim_done *d = ud;

	pthread_mutex_lock(&d->e->links_mu);
	claims_drop(d->e, d->gen, NULL, NULL);
	pthread_mutex_unlock(&d->e->links_mu);
	free(d);
}

/* The claim held in memory, as a link row in *held. */
static bool claim_held(struct engine *e, const char *key,
		       const struct link *want, struct link *held)
{
	struct link_claim *c;

	for (c = e->claims; c && strcmp(c->key, key); c = c->next)
		;
	if (!c)
		return false;
	*held = (struct link){
		.a_conn = xstrdup(want->a_conn),
		.a_kind = xstrdup(want->a_kind),
		.a_id = xstrdup(want->a_id),
		.b_conn = xstrdup(want->b_conn),
		.b_kind = xstrdup(want->b_kind),
		.flow = xstrdup(c->flow),
		.doc_id = xstrdup(c->doc_id),
	};
	return true;
}

static void claim_take(struct engine *e, const char *key,
		       const struct link *want)
{
	struct link_claim *c = xcalloc(1, sizeof(*c));
	struct claim_done *d = xmalloc(sizeof(*d));

	c->key = xstrdup(key);
	c->flow = xstrdup(want->flow);
	c->doc_id = xstrdup(want->doc_id);
	c->gen = ++e->claims_gen;
	c->next = e->claims;
	e->claims = c;
	d->e = e;
	d->gen = c->gen;
	store_link_claim_async(e->rt->store, want, claim_committed, d);
}

static bool ours(const struct link *held, const struct link *want)
{
	return !strcmp(held->flow, want->flow) &&
	       !strcmp(held->doc_id, want->doc_id);
}

enum link_check link_before_step(struct engine *e, const struct flow *f,
				 const struct flow_step *st,
				 const struct doc_row *row, struct link *held)
{
	struct link want = source_of(f, row);
	enum link_check r = LINK_MAKE;
	char *key;
	int rc;

	want.b_conn = st->connection;
	want.b_kind = st->link->kind;
	want.step = st->id;
	key = claim_key(&want);
	memset(held, 0, sizeof(*held));
	pthread_mutex_lock(&e->links_mu);
	if (claim_held(e, key, &want, held)) {
		r = ours(held, &want) ? LINK_MAKE : LINK_BUSY;
	} else if ((rc = store_link_get(e->rt->store, &want, held)) < 0) {
		r = LINK_ERROR;
	} else if (rc == 1) {
		claim_take(e, key, &want);
	} else {
		/* this document's own claim: a retry, or after a restart */
		r = held->made		? LINK_MADE
		    : ours(held, &want) ? LINK_MAKE
					: LINK_BUSY;
	}
	pthread_mutex_unlock(&e->links_mu);
	free(key);
	if (r == LINK_MAKE || r == LINK_ERROR)
		link_free(held);
	return r;
}

void links_fini(struct engine *e)
{
	store_flush(e->rt->store); /* its claims' callbacks have run */
	pthread_mutex_lock(&e->links_mu);
	while (e->claims) {
		struct link_claim *c = e->claims;

		e->claims = c->next;
		claim_free(c);
	}
	pthread_mutex_unlock(&e->links_mu);
	pthread_mutex_destroy(&e->links_mu);
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
		log_msg(LUONG_LOG_WARN, NULL,
			"flow=%s doc=%s step=%s: link: "
			"%s; %s is linked without its id",
			f->id, row->doc_id, st->id, err, st->link->kind);
	l.b_conn = st->connection;
	l.b_kind = st->link->kind;
	l.step = st->id;
	l.b_id = ref_text(cJSON_GetObjectItemCaseSensitive(ref, "id"));
	l.b_code = ref_text(cJSON_GetObjectItemCaseSensitive(ref, "code"));
	l.output = output ? cJSON_PrintUnformatted(output) : NULL;
	if (st->link->echo) {
		cJSON *doc = cJSON_Parse(row->payload);

		l.echo = echo_hash(st->link->echo, doc, vars);
		cJSON_Delete(doc);
	}
	/* with the next group commit, before the document's own update */
	store_link_put_async(e->rt->store, &l, NULL, NULL);
	free(l.echo);
	free(l.b_id);
	free(l.b_code);
	free(l.output);
	cJSON_Delete(ref);
}

void link_release(struct engine *e, const struct flow *f, const char *doc_id)
{
	for (size_t i = 0; i < f->n_steps; i++)
		if (f->steps[i].link) {
			/* queued after its claim: the row is there to drop
			 * (not under links_mu, which the writer takes) */
			store_link_release(e->rt->store, f->id, doc_id);
			pthread_mutex_lock(&e->links_mu);
			claims_drop(e, 0, f->id, doc_id);
			pthread_mutex_unlock(&e->links_mu);
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
			  : held->b_id ? held->b_id
				       : "(no id)";

	return xasprintf(_("%s %s in %s was made from %s %s by flow %s "
			   "(document %s); not made again"),
			 held->b_kind, ref, held->b_conn, held->a_kind,
			 held->a_id, held->flow, held->doc_id);
}

char *link_busy_note(const struct link *held)
{
	return xasprintf(_("flow %s (document %s) is making %s in %s for %s "
			   "%s; "
			   "waiting for it"),
			 held->flow, held->doc_id, held->b_kind, held->b_conn,
			 held->a_kind, held->a_id);
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
	if (rec.id &&
	    !store_link_find(e->rt->store, &rec, conn->valuestring,
			     cJSON_IsString(kind) ? kind->valuestring : NULL,
			     &l)) {
		v = link_seen_from(&l, rec.connection, rec.id);
		link_free(&l);
	}
	free(id_text);
	return v ? v : cJSON_CreateNull();
}

#define LINK_ROUNDS 8 /* link() calls that depend on earlier ones */

int link_eval(struct engine *e, const struct flow *f, const struct doc_row *row,
	      struct expr *x, const cJSON *doc, cJSON *vars, cJSON **out,
	      char *err, size_t errlen)
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
		cJSON_ArrayForEach (w, wants)
			cJSON_AddItemToObject(
				links,
				cJSON_GetObjectItem(w, "key")->valuestring,
				resolve(e, f, row,
					cJSON_GetObjectItem(w, "query")));
		cJSON_Delete(wants);
		wants = NULL;
	}
	snprintf(err, errlen,
		 _("link() asked for links more than %d rounds "
		   "deep"),
		 LINK_ROUNDS);
	return -1;
}
