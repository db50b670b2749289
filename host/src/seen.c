/*
 * seen.c - see seen.h. One chained hash table of documents per flow (a
 * host has a few dozen flows at most); an entry is one allocation: the
 * document id and the first 128 bits of its content hash, enough that
 * two different contents are never taken for one.
 */
#include "seen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define HASH_BYTES 16

struct seen_doc {
	struct seen_doc *next;
	uint64_t key;
	unsigned char hash[HASH_BYTES];
	char id[];
};

struct seen_flow {
	struct seen_flow *next;
	char *id;
	struct seen_doc **buckets;
	size_t n_buckets, count;
};

struct seen {
	struct seen_flow *flows;
	size_t count, max;
};

static uint64_t key_of(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The first HASH_BYTES of a hex hash; -1 if it is not one. */
static int hash_bytes(const char *hex, unsigned char *out)
{
	if (!hex || strlen(hex) != 64)
		return -1;
	for (int i = 0; i < HASH_BYTES; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

struct seen *seen_new(size_t max_entries)
{
	struct seen *c = xcalloc(1, sizeof(*c));

	c->max = max_entries;
	return c;
}

static void flow_empty(struct seen_flow *f)
{
	for (size_t i = 0; i < f->n_buckets; i++)
		while (f->buckets[i]) {
			struct seen_doc *d = f->buckets[i];

			f->buckets[i] = d->next;
			free(d);
		}
	free(f->buckets);
	f->buckets = NULL;
	f->n_buckets = f->count = 0;
}

void seen_clear(struct seen *c)
{
	while (c && c->flows) {
		struct seen_flow *f = c->flows;

		c->flows = f->next;
		flow_empty(f);
		free(f->id);
		free(f);
	}
	if (c)
		c->count = 0;
}

void seen_free(struct seen *c)
{
	seen_clear(c);
	free(c);
}

size_t seen_count(const struct seen *c)
{
	return c->count;
}

static struct seen_flow *flow_of(const struct seen *c, const char *flow)
{
	struct seen_flow *f;

	for (f = c->flows; f && strcmp(f->id, flow); f = f->next)
		;
	return f;
}

static struct seen_doc **slot(const struct seen_flow *f, const char *doc_id,
			      uint64_t key)
{
	struct seen_doc **p = &f->buckets[key & (f->n_buckets - 1)];

	while (*p && ((*p)->key != key || strcmp((*p)->id, doc_id)))
		p = &(*p)->next;
	return p;
}

bool seen_same(const struct seen *c, const char *flow, const char *doc_id,
	       const char *hash_hex)
{
	const struct seen_flow *f = flow_of(c, flow);
	unsigned char want[HASH_BYTES];
	struct seen_doc *d;

	if (!f || !f->count || hash_bytes(hash_hex, want))
		return false;
	d = *slot(f, doc_id, key_of(doc_id));
	return d && !memcmp(d->hash, want, HASH_BYTES);
}

static void grow(struct seen_flow *f)
{
	size_t n = f->n_buckets ? f->n_buckets * 2 : 1024;
	struct seen_doc **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < f->n_buckets; i++)
		while (f->buckets[i]) {
			struct seen_doc *d = f->buckets[i];

			f->buckets[i] = d->next;
			d->next = b[d->key & (n - 1)];
			b[d->key & (n - 1)] = d;
		}
	free(f->buckets);
	f->buckets = b;
	f->n_buckets = n;
}

void seen_put(struct seen *c, const char *flow, const char *doc_id,
	      const char *hash_hex)
{
	struct seen_flow *f = flow_of(c, flow);
	unsigned char h[HASH_BYTES];
	uint64_t key = key_of(doc_id);
	struct seen_doc **p, *d;
	size_t len;

	if (f && f->count) {
		p = slot(f, doc_id, key);
		if (*p && !hash_bytes(hash_hex, h)) {
			memcpy((*p)->hash, h, HASH_BYTES);
			return;
		}
		if (*p) { /* unknown now: forgotten */
			d = *p;
			*p = d->next;
			free(d);
			f->count--;
			c->count--;
			return;
		}
	}
	if (hash_bytes(hash_hex, h) || c->count >= c->max)
		return;
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		f->id = xstrdup(flow);
		f->next = c->flows;
		c->flows = f;
	}
	if (f->count >= f->n_buckets) /* load factor at most 1 */
		grow(f);
	len = strlen(doc_id) + 1;
	d = xmalloc(sizeof(*d) + len);
	d->key = key;
	memcpy(d->hash, h, HASH_BYTES);
	memcpy(d->id, doc_id, len);
	p = &f->buckets[key & (f->n_buckets - 1)];
	d->next = *p;
	*p = d;
	f->count++;
	c->count++;
}
