/*
 * strmap.h - a small string-keyed hash map (separate chaining, grows by
 * doubling). Keys are copied; values are the caller's.
 */
#ifndef LUONG_STRMAP_H
#define LUONG_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_entry {
	char *key;
	void *value;
	struct strmap_entry *next;
};

struct strmap {
	struct strmap_entry **buckets;
	size_t n_buckets, count;
};

void strmap_init(struct strmap *m);
/* Frees the entries; values are left to the caller (see strmap_each). */
void strmap_clear(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to value; false if the key was there (value replaced). */
bool strmap_put(struct strmap *m, const char *key, void *value);
/* Removes key; its value, or NULL if absent. */
void *strmap_del(struct strmap *m, const char *key);
/* Calls fn for every entry (do not change the map meanwhile). */
void strmap_each(const struct strmap *m,
		 void (*fn)(void *ud, const char *key, void *value), void *ud);

#endif
