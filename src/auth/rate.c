/* rate.c: batched rate counting for the read classes: each worker counts locally and flushes in one statement. */
#include "auth/rate.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096   /* a power of two */

/* One (tenant, class) of the current window, as this worker sees it. */
struct counter {
	struct counter *next;
	char            tenant[UUID_LEN + 1];
	char            cls[16];
	long long       window, secs, limit;   /* window: its start (epoch seconds) */
	long long       shared;     /* the window's total across workers at our last flush */
	long long       local;      /* our hits since then */
	bool            flushed;    /* we flushed (or learned) this window's count before */
	double          pending_ms; /* monotonic time of the oldest unflushed hit */
};

struct rate_table {
	struct counter *bucket[BUCKETS];
	int             shard;
	double          flush_ms;
	size_t          n, npending;
	double          oldest_ms;   /* of all unflushed hits; valid when npending > 0 */
	bool            half_full;   /* a counter holds half its batch: flush after this request */
	bool            failing;     /* the last flush failed (and said so) */
	struct rate_stats st;
};

/* ---- The catalog ------------------------------------------------------------ */

/* Columns of ST_RATE_CATALOG. */
enum { RC_TIER, RC_EXEMPT, RC_CLASS, RC_MAX, RC_SECS };

struct rate_catalog *
rate_catalog_from(struct arena *a, const PGresult *res, size_t *size)
{
	int rows = db_rows(res), n = 0;
	struct rate_catalog *c;

	*size = sizeof(*c) + sizeof(c->rule[0]) * (size_t)rows;
	if ((c = arena_alloc(a, *size)) == NULL)
		return NULL;
	for (int i = 0; i < rows; i++) {
		const char *tier = db_val(res, i, RC_TIER), *cls = db_val(res, i, RC_CLASS);
		long long max = db_i64(res, i, RC_MAX), secs = db_i64(res, i, RC_SECS);

		/* Exempt tiers and -1 are "not limited": no rule at all. */
		if (tier == NULL || cls == NULL || db_bool(res, i, RC_EXEMPT) || max < 0 || secs <= 0 ||
		    strlen(tier) >= sizeof(c->rule[0].tier) || strlen(cls) >= sizeof(c->rule[0].cls))
			continue;
		snprintf(c->rule[n].tier, sizeof(c->rule[n].tier), "%s", tier);
		snprintf(c->rule[n].cls, sizeof(c->rule[n].cls), "%s", cls);
		c->rule[n].limit = max;
		c->rule[n].secs = secs;
		n++;
	}
	c->n = n;
	*size = sizeof(*c) + sizeof(c->rule[0]) * (size_t)n;
	return c;
}

const struct rate_rule *
rate_catalog_find(const struct rate_catalog *c, const char *tier, const char *cls)
{
	if (tier == NULL)
		return NULL;
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->rule[i].tier, tier) == 0 && strcmp(c->rule[i].cls, cls) == 0)
			return &c->rule[i];
	return NULL;
}

long long
rate_batch(long long limit)
{
	long long b = limit / 100;

	return b < 1 ? 1 : b > 64 ? 64 : b;
}

/* ---- Counters ----------------------------------------------------------------- */

struct rate_table *
rate_table_new(int shard, double flush_ms)
{
	struct rate_table *t = calloc(1, sizeof(*t));

	if (t != NULL) {
		t->shard = shard;
		t->flush_ms = flush_ms;
	}
	return t;
}

void
rate_table_free(struct rate_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct counter *c = t->bucket[i], *nx; c != NULL; c = nx) {
			nx = c->next;
			free(c);
		}
	free(t);
}

static size_t
slot(const char *tenant, const char *cls)
{
	uint32_t h = 2166136261u;

	for (const char *p = tenant; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = cls; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h & (BUCKETS - 1);
}

static struct counter *
counter_get(struct rate_table *t, const char *tenant, const char *cls)
{
	size_t i = slot(tenant, cls);
	struct counter *c;

	for (c = t->bucket[i]; c != NULL; c = c->next)
		if (strcmp(c->tenant, tenant) == 0 && strcmp(c->cls, cls) == 0)
			return c;
	if (strlen(tenant) > UUID_LEN || strlen(cls) >= sizeof(c->cls) || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	memcpy(c->tenant, tenant, strlen(tenant) + 1);
	memcpy(c->cls, cls, strlen(cls) + 1);
	c->window = -1;
	c->next = t->bucket[i];
	t->bucket[i] = c;
	t->n++;
	return c;
}

bool
rate_known(const struct rate_table *t, const char *tenant, const char *cls, long long now)
{
	const struct counter *c;

	for (c = t->bucket[slot(tenant, cls)]; c != NULL; c = c->next)
		if (strcmp(c->tenant, tenant) == 0 && strcmp(c->cls, cls) == 0)
			return c->flushed && c->secs > 0 &&
			    c->window == now - ((now % c->secs) + c->secs) % c->secs;
	return false;
}

enum rate_result
rate_take(struct rate_table *t, const char *tenant, const struct rate_rule *rule,
    long long now, double mono_ms, long long *limit, long long *remaining, long long *reset)
{
	long long start = now - ((now % rule->secs) + rule->secs) % rule->secs;
	struct counter *c = counter_get(t, tenant, rule->cls);
	long long used;

	*limit = rule->limit;
	*reset = start + rule->secs - now;
	if (c == NULL) {
		*remaining = 0;
		return RATE_REFUSE;   /* out of memory: refuse rather than count nothing */
	}
	if (c->window != start) {
		/* A new window. Hits of the old one still unflushed go first, to their window. */
		if (c->local > 0)
			return RATE_FLUSH_FIRST;
		c->window = start;
		c->shared = 0;
		c->flushed = false;
	}
	c->secs = rule->secs;
	c->limit = rule->limit;
	if (!c->flushed)
		return RATE_FLUSH_FIRST;   /* learn the window's count before the first hit here */
	used = c->shared + c->local;
	if (used >= rule->limit) {
		*remaining = 0;
		return RATE_REFUSE;
	}
	if (c->local >= rate_batch(rule->limit))
		return RATE_FLUSH_FIRST;
	if (2 * (c->local + 1) >= rate_batch(rule->limit))
		t->half_full = true;
	if (c->local++ == 0) {
		c->pending_ms = mono_ms;
		if (t->npending++ == 0 || mono_ms < t->oldest_ms)
			t->oldest_ms = mono_ms;
	}
	*remaining = rule->limit - used - 1;
	return RATE_ADMIT;
}

void
rate_seen(struct rate_table *t, const char *tenant, const struct rate_rule *rule, long long window,
    long long count)
{
	struct counter *c = counter_get(t, tenant, rule->cls);

	if (c == NULL)
		return;
	if (c->window != window) {
		if (c->local > 0)
			return;   /* the old window's hits go first (rate_take asks for the flush) */
		c->window = window;
		c->shared = 0;
	}
	if (count > c->shared)
		c->shared = count;
	c->flushed = true;
}

bool
rate_pending(const struct rate_table *t)
{
	return t->npending > 0;
}

double
rate_due_in(const struct rate_table *t, double mono_ms)
{
	double d;

	if (t->npending == 0)
		return -1;
	d = t->oldest_ms + t->flush_ms - mono_ms;
	return d > 0 ? d : 0;
}

bool
rate_due(const struct rate_table *t, double mono_ms)
{
	return t->npending > 0 && (t->half_full || mono_ms - t->oldest_ms >= t->flush_ms);
}

/* ---- The flush -------------------------------------------------------------- */

/* Columns of ST_RATE_FLUSH. */
enum { RF_TENANT, RF_CLASS, RF_WINDOW, RF_TOTAL };

/* Drop counters of ended windows that hold nothing unflushed (the table stays small). */
static void
sweep(struct rate_table *t, long long now)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		struct counter **pp = &t->bucket[i];

		while (*pp != NULL) {
			struct counter *c = *pp;

			if (c->local == 0 && (c->window < 0 || c->window + c->secs <= now)) {
				*pp = c->next;
				free(c);
				t->n--;
			} else {
				pp = &c->next;
			}
		}
	}
}

void
rate_flushed(struct rate_table *t, double mono_ms, long long now)
{
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct counter *c = t->bucket[i]; c != NULL; c = c->next)
			if (c->local > 0 || !c->flushed) {
				t->st.flushed_hits += (unsigned long long)c->local;
				c->shared += c->local;
				c->local = 0;
				c->flushed = true;
			}
	if (t->npending > 0 && mono_ms - t->oldest_ms > t->st.max_lag_ms)
		t->st.max_lag_ms = mono_ms - t->oldest_ms;
	t->npending = 0;
	t->half_full = false;
	t->st.flushes++;
	t->st.last_flush_ms = mono_ms;
	sweep(t, now);
}

void
rate_learn(struct rate_table *t, const char *tenant, const char *cls, long long window, long long total)
{
	struct counter *c;

	if (tenant == NULL || cls == NULL)
		return;
	for (c = t->bucket[slot(tenant, cls)]; c != NULL; c = c->next)
		if (strcmp(c->tenant, tenant) == 0 && strcmp(c->cls, cls) == 0)
			break;
	if (c != NULL && c->window == window && total > c->shared)
		c->shared = total;
}

long long
rate_unflushed(const struct rate_table *t, const char *tenant, const char *cls)
{
	for (const struct counter *c = t->bucket[slot(tenant, cls)]; c != NULL; c = c->next)
		if (strcmp(c->tenant, tenant) == 0 && strcmp(c->cls, cls) == 0)
			return c->local;
	return 0;
}

enum db_status
rate_flush(struct rate_table *t, struct db *db, struct arena *a, long long now, const char *rid)
{
	struct buf ten, cls, win, secs, hits, first;
	struct db_batch b = { .n = 0 };
	struct buf *all[] = { &ten, &cls, &win, &secs, &hits, &first };
	enum db_status ds = DB_OK;
	const PGresult *res;
	double mono = core_mono_ms();
	int q, sent = 0;

	if (db_in_tx(db))
		return DB_ERROR;   /* never inside a request's transaction */
	for (size_t i = 0; i < 6; i++) {
		buf_init(all[i]);
		buf_putc(all[i], '{');
	}
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct counter *c = t->bucket[i]; c != NULL; c = c->next) {
			if (c->local == 0 && c->flushed)
				continue;
			if (sent++ > 0)
				for (size_t j = 0; j < 6; j++)
					buf_putc(all[j], ',');
			buf_puts(&ten, c->tenant);
			buf_puts(&cls, c->cls);
			buf_printf(&win, "%lld", c->window);
			buf_printf(&secs, "%lld", c->secs);
			buf_printf(&hits, "%lld", c->local);
			buf_puts(&first, c->flushed ? "f" : "t");
		}
	for (size_t i = 0; i < 6; i++)
		buf_putc(all[i], '}');
	if (sent == 0)
		goto done;
	if (ten.oom || cls.oom || win.oom || secs.oom || hits.oom || first.oom) {
		ds = DB_ERROR;
		goto done;
	}
	db_add(&b, ST_RATE_FLUSH_SCOPE, 0);
	q = db_add(&b, ST_RATE_FLUSH, 7, ten.p, cls.p, win.p, secs.p, hits.p, first.p,
	    arena_printf(a, "%d", t->shard));
	if ((ds = db_exec(db, a, &b, rid)) != DB_OK)
		goto done;
	rate_flushed(t, mono, now);
	res = b.q[q].res;
	for (int i = 0; i < db_rows(res); i++)
		rate_learn(t, db_val(res, i, RF_TENANT), db_val(res, i, RF_CLASS), db_i64(res, i, RF_WINDOW),
		    db_i64(res, i, RF_TOTAL));
done:
	if (ds != DB_OK) {
		/* Once per outage, not once per attempt. */
		t->st.flush_failures++;
		if (!t->failing)
			log_warn(rid, "rate counts not flushed (%d counters wait for the next flush)", sent);
		t->failing = true;
	} else {
		t->failing = false;
	}
	for (size_t i = 0; i < 6; i++)
		buf_release(all[i]);
	return ds;
}

void
rate_stats(const struct rate_table *t, struct rate_stats *out)
{
	*out = t->st;
	out->counters = t->n;
}
