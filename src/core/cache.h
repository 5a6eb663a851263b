/* cache.h: a bounded per-process cache of read-mostly facts, dropped by tag (push invalidation) and by age. */
#ifndef TENANTRY_CACHE_H
#define TENANTRY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What may be kept, and for how long, is SPEC §2's rule: every entry was
 * read from PostgreSQL by this process, carries the tags of the facts it
 * was built from ("t:<tenant id>", "u:<user id>", ...), and is dropped
 *   - when a notification names one of its tags (cache_invalidate: the
 *     worker applies every notification that has arrived before it
 *     answers the next request, and fills entries only within a request,
 *     so a change committed after an entry's read always drops it),
 *   - when the whole cache is cleared (the listening connection came or
 *     went: a notification may have been missed), and
 *   - when it was neither read nor revalidated within the TTL. The
 *     listening connection revalidates everything at once
 *     (cache_validated): the echo of a NOTIFY it sent itself proves that
 *     every notification committed before it has been applied. With no
 *     echo, entries die TTL after their read.
 *   - at the latest max_age after its read, whatever the echoes say (a
 *     writer that bypassed the triggers is seen that late at worst).
 * Keys are compared byte for byte (the hash only picks the bucket), so an
 * entry is found only under exactly the key it was stored with.
 *
 * Capacity: at most max_entries entries and max_bytes of keys and values;
 * the least recently used entry goes first. max_entries 0: the cache is
 * off (every get misses, every put is refused).
 */

#define CACHE_TAGS_MAX 4

struct cache;

struct cache_stats {
	uint64_t hits;            /* gets that returned an entry */
	uint64_t misses;          /* gets that found none, or a dead one */
	uint64_t invalidations;   /* tags named by notifications */
	uint64_t clears;          /* whole-cache drops */
	uint64_t evictions;       /* entries pushed out by capacity */
	size_t   entries;
	size_t   bytes;
};

struct cache *cache_new(size_t max_entries, size_t max_bytes, double ttl_ms, double max_age_ms);
void          cache_free(struct cache *c);
bool          cache_enabled(const struct cache *c);

/* The tag of a fact's name ("t:8c1e...", "catalog"); never 0. */
uint64_t cache_tag(const char *name, size_t len);

/* The mark to store as "since" for a read that starts now: a clear after it kills the entry. */
uint64_t cache_seq(const struct cache *c);

/*
 * The value stored under key if it is still valid at now_ms (monotonic
 * milliseconds), with its length in *len; NULL otherwise (a dead entry is
 * freed). The pointer is the cache's and stays valid only until the next
 * put, invalidate or clear: copy what must live longer.
 */
const void *cache_get(struct cache *c, const char *key, size_t klen, double now_ms, size_t *len);

struct arena;
/*
 * cache_get, copied into the arena with a NUL byte after it (so the copy
 * outlives later puts, and text can be used as a string); NULL when there
 * is no live entry or no memory.
 */
void *cache_get_copy(struct cache *c, struct arena *a, const char *key, size_t klen, double now_ms,
    size_t *len);

/*
 * Store a copy of val under key (replacing any entry there), tagged with
 * tags[0..ntags), from a read that began at mark since and monotonic time
 * read_ms. Refused (false) when the cache is off, ntags is over
 * CACHE_TAGS_MAX, the entry is too big, or the cache was cleared since.
 */
bool cache_put(struct cache *c, const char *key, size_t klen, const void *val, size_t len,
    const uint64_t *tags, int ntags, uint64_t since, double read_ms);

/* A notification named tag: every entry carrying it goes. */
void cache_invalidate(struct cache *c, uint64_t tag);
/* Nothing committed before monotonic time ms has been missed: entries read before count as read then. */
void cache_validated(struct cache *c, double ms);
/* Everything dies (a missed notification is possible). */
void cache_clear(struct cache *c);

void cache_stats(const struct cache *c, struct cache_stats *out);

#endif
