/* cache.c: a bounded per-process cache of read-mostly facts, dropped by tag (push invalidation) and by age. */
#include "core/cache.h"

#include <stdlib.h>
#include <string.h>

/* Tags named within a TTL that the table can remember before it clears everything. */
#define TAG_SLOTS 16384

struct entry {
	struct entry *hnext;          /* bucket chain */
	struct entry *prev, *next;    /* LRU list, most recent first */
	uint64_t      hash;
	uint64_t      since;          /* cache_seq() when its read began */
	double        read_ms;
	uint64_t      tags[CACHE_TAGS_MAX];
	int           ntags;
	size_t        klen, vlen, voff;
	unsigned char data[];         /* key, padding, value */
};

struct tag_rec {
	uint64_t tag;                 /* 0: empty slot */
	uint64_t seq;
	double   ms;
};

struct cache {
	size_t          max_entries, max_bytes;
	double          ttl_ms;
	struct entry  **bucket;
	size_t          nbuckets;     /* a power of two */
	struct entry   *head, *tail;
	uint64_t        seq;          /* last sequence number handed out */
	uint64_t        floor;        /* entries read before this are dead (a clear) */
	struct tag_rec *tags;
	size_t          ntags;
	struct cache_stats st;
};

/* FNV-1a, 64 bits: keys and tag names are ours (ids and hashes), not an attacker's choice. */
static uint64_t
fnv(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
cache_tag(const char *name, size_t len)
{
	uint64_t h = fnv(name, len);

	return h != 0 ? h : 1;
}

struct cache *
cache_new(size_t max_entries, size_t max_bytes, double ttl_ms)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->ttl_ms = ttl_ms;
	if (max_entries == 0)
		return c;
	for (c->nbuckets = 64; c->nbuckets < max_entries; c->nbuckets <<= 1)
		;
	c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
	c->tags = calloc(TAG_SLOTS, sizeof(*c->tags));
	if (c->bucket == NULL || c->tags == NULL) {
		cache_free(c);
		return NULL;
	}
	return c;
}

bool
cache_enabled(const struct cache *c)
{
	return c != NULL && c->max_entries > 0;
}

static void
lru_unlink(struct cache *c, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
entry_drop(struct cache *c, struct entry *e)
{
	struct entry **pp = &c->bucket[e->hash & (c->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(c, e);
	c->st.entries--;
	c->st.bytes -= e->klen + e->vlen;
	free(e);
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	while (c->head != NULL)
		entry_drop(c, c->head);
	free(c->bucket);
	free(c->tags);
	free(c);
}

uint64_t
cache_seq(const struct cache *c)
{
	return c->seq;
}

/* The sequence number of tag's last invalidation still remembered; 0 if none. */
static uint64_t
tag_seq(const struct cache *c, uint64_t tag)
{
	for (size_t i = tag & (TAG_SLOTS - 1);; i = (i + 1) & (TAG_SLOTS - 1)) {
		if (c->tags[i].tag == tag)
			return c->tags[i].seq;
		if (c->tags[i].tag == 0)
			return 0;
	}
}

static bool
entry_alive(const struct cache *c, const struct entry *e, double now_ms)
{
	if (e->since < c->floor || now_ms - e->read_ms >= c->ttl_ms || now_ms < e->read_ms)
		return false;
	for (int i = 0; i < e->ntags; i++)
		if (tag_seq(c, e->tags[i]) > e->since)
			return false;
	return true;
}

static struct entry *
find(const struct cache *c, const char *key, size_t klen, uint64_t h)
{
	for (struct entry *e = c->bucket[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
			return e;
	return NULL;
}

const void *
cache_get(struct cache *c, const char *key, size_t klen, double now_ms, size_t *len)
{
	struct entry *e;
	uint64_t h;

	if (!cache_enabled(c))
		return NULL;
	h = fnv(key, klen);
	if ((e = find(c, key, klen, h)) == NULL) {
		c->st.misses++;
		return NULL;
	}
	if (!entry_alive(c, e, now_ms)) {
		entry_drop(c, e);
		c->st.misses++;
		return NULL;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	c->st.hits++;
	*len = e->vlen;
	return e->data + e->voff;
}

bool
cache_put(struct cache *c, const char *key, size_t klen, const void *val, size_t len,
    const uint64_t *tags, int ntags, uint64_t since, double read_ms)
{
	struct entry *e, *old;
	size_t voff = (klen + 7) & ~(size_t)7;
	uint64_t h;

	if (!cache_enabled(c) || ntags < 0 || ntags > CACHE_TAGS_MAX || since < c->floor ||
	    klen + len > c->max_bytes / 4)
		return false;
	for (int i = 0; i < ntags; i++)
		if (tag_seq(c, tags[i]) > since)
			return false;   /* changed while it was being read */
	if ((e = malloc(sizeof(*e) + voff + len)) == NULL)
		return false;
	h = fnv(key, klen);
	if ((old = find(c, key, klen, h)) != NULL)
		entry_drop(c, old);
	*e = (struct entry){ .hash = h, .since = since, .read_ms = read_ms, .ntags = ntags,
	    .klen = klen, .vlen = len, .voff = voff };
	memcpy(e->tags, tags, sizeof(*tags) * (size_t)ntags);
	memcpy(e->data, key, klen);
	memcpy(e->data + voff, val, len);
	while (c->tail != NULL && (c->st.entries + 1 > c->max_entries ||
	    c->st.bytes + klen + len > c->max_bytes)) {
		entry_drop(c, c->tail);
		c->st.evictions++;
	}
	e->hnext = c->bucket[h & (c->nbuckets - 1)];
	c->bucket[h & (c->nbuckets - 1)] = e;
	lru_push(c, e);
	c->st.entries++;
	c->st.bytes += klen + len;
	return true;
}

/*
 * Keep only the records of the last TTL (an entry read before an older one
 * has expired anyway). Returns false if the table is still too full.
 */
static bool
tags_prune(struct cache *c, double now_ms)
{
	struct tag_rec *old = c->tags;
	size_t n = 0;

	if ((c->tags = calloc(TAG_SLOTS, sizeof(*c->tags))) == NULL) {
		c->tags = old;
		return false;
	}
	for (size_t i = 0; i < TAG_SLOTS; i++) {
		size_t j;

		if (old[i].tag == 0 || now_ms - old[i].ms >= c->ttl_ms)
			continue;
		for (j = old[i].tag & (TAG_SLOTS - 1); c->tags[j].tag != 0; j = (j + 1) & (TAG_SLOTS - 1))
			;
		c->tags[j] = old[i];
		n++;
	}
	free(old);
	c->ntags = n;
	return n < TAG_SLOTS / 4;
}

void
cache_invalidate(struct cache *c, uint64_t tag, double now_ms)
{
	size_t i;

	if (!cache_enabled(c))
		return;
	c->st.invalidations++;
	if (c->ntags >= TAG_SLOTS / 2 && !tags_prune(c, now_ms)) {
		cache_clear(c);
		return;
	}
	c->seq++;
	for (i = tag & (TAG_SLOTS - 1); c->tags[i].tag != 0 && c->tags[i].tag != tag;
	    i = (i + 1) & (TAG_SLOTS - 1))
		;
	if (c->tags[i].tag == 0)
		c->ntags++;
	c->tags[i] = (struct tag_rec){ tag, c->seq, now_ms };
}

void
cache_clear(struct cache *c)
{
	if (!cache_enabled(c))
		return;
	while (c->head != NULL)
		entry_drop(c, c->head);
	memset(c->tags, 0, sizeof(*c->tags) * TAG_SLOTS);
	c->ntags = 0;
	c->floor = ++c->seq;
	c->st.clears++;
}

void
cache_stats(const struct cache *c, struct cache_stats *out)
{
	*out = c != NULL ? c->st : (struct cache_stats){ 0 };
}
