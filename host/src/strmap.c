/* strmap.c - see strmap.h. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void strmap_init(struct strmap *m)
{
	m->n_buckets = 64;
	m->count = 0;
	m->buckets = xcalloc(m->n_buckets, sizeof(*m->buckets));
}

void strmap_clear(struct strmap *m)
{
	for (size_t i = 0; m->buckets && i < m->n_buckets; i++)
		while (m->buckets[i]) {
			struct strmap_entry *e = m->buckets[i];

			m->buckets[i] = e->next;
			free(e->key);
			free(e);
		}
	free(m->buckets);
	m->buckets = NULL;
	m->n_buckets = m->count = 0;
}

static struct strmap_entry **slot(const struct strmap *m, const char *key)
{
	struct strmap_entry **p = &m->buckets[hash(key) & (m->n_buckets - 1)];

	while (*p && strcmp((*p)->key, key))
		p = &(*p)->next;
	return p;
}

static void grow(struct strmap *m)
{
	struct strmap old = *m;

	m->n_buckets *= 2;
	m->buckets = xcalloc(m->n_buckets, sizeof(*m->buckets));
	for (size_t i = 0; i < old.n_buckets; i++)
		while (old.buckets[i]) {
			struct strmap_entry *e = old.buckets[i];
			struct strmap_entry **b =
				&m->buckets[hash(e->key) & (m->n_buckets - 1)];

			old.buckets[i] = e->next;
			e->next = *b;
			*b = e;
		}
	free(old.buckets);
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = *slot(m, key);

	return e ? e->value : NULL;
}

bool strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_entry **p = slot(m, key), *e;

	if (*p) {
		(*p)->value = value;
		return false;
	}
	e = xmalloc(sizeof(*e));
	e->key = xstrdup(key);
	e->value = value;
	e->next = NULL;
	*p = e;
	if (++m->count > m->n_buckets)
		grow(m);
	return true;
}

void *strmap_del(struct strmap *m, const char *key)
{
	struct strmap_entry **p = slot(m, key), *e = *p;
	void *v;

	if (!e)
		return NULL;
	*p = e->next;
	v = e->value;
	free(e->key);
	free(e);
	m->count--;
	return v;
}

void strmap_each(const struct strmap *m,
		 void (*fn)(void *ud, const char *key, void *value), void *ud)
{
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct strmap_entry *e = m->buckets[i]; e; e = e->next)
			fn(ud, e->key, e->value);
}
