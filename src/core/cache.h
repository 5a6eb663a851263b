/* cache.h: a bounded per-process cache of read-mostly facts, dropped by tag (push invalidation) and by age. */
#ifndef TENANTRY_CACHE_H
#define TENANTRY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What may be kept, and for how long, is SPEC §2's rule: every entry was
 * read from PostgreSQL by this process, carries the tags of the facts it
 * was built from ("t:<tenant id>", "u:<user id>", ...), and is never
 * returned once
 *   - a notification named one of its tags after its read began,
 *   - the whole cache was cleared after its read began (the listening
 *     connection dropped, or the tag table overflowed), or
 *   - it is older than the TTL (measured from the start of its read).
 * Keys are compared byte for byte (the hash only picks the bucket), so an
 * entry is found only under exactly the key it was stored with.
 *
 * Invalidation is by generation, not by walking entries: each
 * invalidation takes the next sequence number and records it against the
 * tag; an entry is valid while every tag's record is older than the
 * sequence number its read began at. A tag's record is needed only for a
 * TTL (older entries are dead anyway), so the tag table holds at most the
 * tags named in the last TTL; if it fills up, everything is cleared.
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

struct cache *cache_new(size_t max_entries, size_t max_bytes, double ttl_ms);
void          cache_free(struct cache *c);
bool          cache_enabled(const struct cache *c);

/* The tag of a fact's name ("t:8c1e...", "catalog"); never 0. */
uint64_t cache_tag(const char *name, size_t len);

/*
 * The sequence number to record as "since" for a read that starts now: an
 * invalidation processed after this call has a larger one.
 */
uint64_t cache_seq(const struct cache *c);

/*
 * The value stored under key if it is still valid at now_ms (monotonic
 * milliseconds), with its length in *len; NULL otherwise (a dead entry is
 * freed). The pointer is the cache's and stays valid only until the next
 * put, invalidate or clear: copy what must live longer.
 */
const void *cache_get(struct cache *c, const char *key, size_t klen, double now_ms, size_t *len);

/*
 * Store a copy of val under key (replacing any entry there), tagged with
 * tags[0..ntags), as read from a read that began at sequence since and
 * monotonic time read_ms. Refused (false) when the cache is off, ntags is
 * over CACHE_TAGS_MAX, the entry is too big, or something it depends on was
 * invalidated since (then it would be dead on arrival).
 */
bool cache_put(struct cache *c, const char *key, size_t klen, const void *val, size_t len,
    const uint64_t *tags, int ntags, uint64_t since, double read_ms);

/* A notification named tag at now_ms: every entry carrying it dies. */
void cache_invalidate(struct cache *c, uint64_t tag, double now_ms);
/* Everything dies (a missed notification is possible). */
void cache_clear(struct cache *c);

void cache_stats(const struct cache *c, struct cache_stats *out);

#endif
