/* cache.c: a bounded per-process cache of read-mostly facts, dropped by tag (push invalidation) and by age. */
#include "core/cache.h"
#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

struct entry;

/* An entry's membership in the list of one tag's bucket (one per tag of the entry). */
struct tag_node {
	struct tag_node *prev, *next;
	uint64_t         tag;
	struct entry    *e;
};

struct entry {
	struct entry   *hnext;          /* key bucket chain */
	struct entry   *prev, *next;    /* LRU list, most recent first */
	uint64_t        hash;
	uint64_t        since;          /* cache_seq() when its read began */
	double          read_ms;
	struct tag_node node[CACHE_TAGS_MAX];
	int             ntags;
	size_t          klen, vlen, voff;
	unsigned char   data[];         /* key, padding, value */
};

struct cache {
	size_t            max_entries, max_bytes;
	double            ttl_ms, max_age_ms;
	double            validated_ms;  /* nothing committed before this was missed (cache_validated) */
	struct entry    **bucket;
	struct tag_node **tbucket;       /* tag -> the entries carrying it */
	size_t            nbuckets;      /* a power of two, for both tables */
	struct entry     *head, *tail;
	uint64_t          seq;           /* bumped by every clear */
	uint64_t          floor;         /* entries read before this are dead (a clear) */
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
cache_new(size_t max_entries, size_t max_bytes, double ttl_ms, double max_age_ms)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->ttl_ms = ttl_ms;
	c->max_age_ms = max_age_ms > ttl_ms ? max_age_ms : ttl_ms;
	if (max_entries == 0)
		return c;
	for (c->nbuckets = 64; c->nbuckets < max_entries; c->nbuckets <<= 1)
		;
	c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
	c->tbucket = calloc(c->nbuckets, sizeof(*c->tbucket));
	if (c->bucket == NULL || c->tbucket == NULL) {
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
	for (int i = 0; i < e->ntags; i++) {
		struct tag_node *n = &e->node[i];

		if (n->prev != NULL)
			n->prev->next = n->next;
		else
			c->tbucket[n->tag & (c->nbuckets - 1)] = n->next;
		if (n->next != NULL)
			n->next->prev = n->prev;
	}
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
	free(c->tbucket);
	free(c);
}

uint64_t
cache_seq(const struct cache *c)
{
	return c->seq;
}

/*
 * Alive: not read before a clear, younger than the maximum age, and read or
 * revalidated within the TTL. (A change to one of its facts has dropped it
 * already: cache_invalidate.)
 */
static bool
entry_alive(const struct cache *c, const struct entry *e, double now_ms)
{
	double fresh = e->read_ms > c->validated_ms ? e->read_ms : c->validated_ms;

	return e->since >= c->floor && now_ms >= e->read_ms && now_ms - e->read_ms < c->max_age_ms &&
	    now_ms - fresh < c->ttl_ms;
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
	if ((e = malloc(sizeof(*e) + voff + len)) == NULL)
		return false;
	h = fnv(key, klen);
	if ((old = find(c, key, klen, h)) != NULL)
		entry_drop(c, old);
	*e = (struct entry){ .hash = h, .since = since, .read_ms = read_ms, .ntags = ntags,
	    .klen = klen, .vlen = len, .voff = voff };
	memcpy(e->data, key, klen);
	memcpy(e->data + voff, val, len);
	while (c->tail != NULL && (c->st.entries + 1 > c->max_entries ||
	    c->st.bytes + klen + len > c->max_bytes)) {
		entry_drop(c, c->tail);
		c->st.evictions++;
	}
	e->hnext = c->bucket[h & (c->nbuckets - 1)];
	c->bucket[h & (c->nbuckets - 1)] = e;
	for (int i = 0; i < ntags; i++) {
		struct tag_node *n = &e->node[i], **head = &c->tbucket[tags[i] & (c->nbuckets - 1)];

		*n = (struct tag_node){ .prev = NULL, .next = *head, .tag = tags[i], .e = e };
		if (*head != NULL)
			(*head)->prev = n;
		*head = n;
	}
	lru_push(c, e);
	c->st.entries++;
	c->st.bytes += klen + len;
	return true;
}

void
cache_invalidate(struct cache *c, uint64_t tag)
{
	struct tag_node *n;

	if (!cache_enabled(c))
		return;
	c->st.invalidations++;
	/* Dropping an entry unlinks all its nodes: look again from the bucket's head. */
	do {
		for (n = c->tbucket[tag & (c->nbuckets - 1)]; n != NULL && n->tag != tag; n = n->next)
			;
		if (n != NULL)
			entry_drop(c, n->e);
	} while (n != NULL);
}

void
cache_validated(struct cache *c, double ms)
{
	if (ms > c->validated_ms)
		c->validated_ms = ms;
}

void
cache_clear(struct cache *c)
{
	if (!cache_enabled(c))
		return;
	while (c->head != NULL)
		entry_drop(c, c->head);
	c->floor = ++c->seq;
	c->validated_ms = 0;
	c->st.clears++;
}

void
cache_stats(const struct cache *c, struct cache_stats *out)
{
	*out = c != NULL ? c->st : (struct cache_stats){ 0 };
}

void *
cache_get_copy(struct cache *c, struct arena *a, const char *key, size_t klen, double now_ms,
    size_t *len)
{
	const void *v = cache_get(c, key, klen, now_ms, len);
	char *copy;

	if (v == NULL || (copy = arena_alloc(a, *len + 1)) == NULL)
		return NULL;
	memcpy(copy, v, *len);
	copy[*len] = '\0';
	return copy;
}
