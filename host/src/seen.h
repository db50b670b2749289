/*
 * seen.h - the content hash the ledger holds for each (flow, document)
 * it has seen, kept in memory by the store's writer: a polled record
 * whose content has not changed is known without a read of the ledger
 * (a stock poll lists every item each time; most are unchanged).
 *
 * A cache, never the truth: the writer puts in only what its own
 * transaction wrote or read, and empties it when a transaction is rolled
 * back; a miss is asked of the ledger. Not thread-safe: one owner.
 */
#ifndef LUONG_SEEN_H
#define LUONG_SEEN_H

#include <stdbool.h>
#include <stddef.h>

struct seen;

/* At most max_entries documents are kept; past that, new ones are asked
 * of the ledger each time. */
struct seen *seen_new(size_t max_entries);
void seen_free(struct seen *c);
/* True if the ledger holds `hash_hex` (SHA-256, 64 hex digits) as the
 * content of this flow's document. */
bool seen_same(const struct seen *c, const char *flow, const char *doc_id,
	       const char *hash_hex);
/* The ledger now holds hash_hex for the document; NULL: unknown (a
 * replay may have put an older content back). */
void seen_put(struct seen *c, const char *flow, const char *doc_id,
	      const char *hash_hex);
/* Forgets everything (after a rollback). */
void seen_clear(struct seen *c);
size_t seen_count(const struct seen *c);

#endif
