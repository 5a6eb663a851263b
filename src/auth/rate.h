/* rate.h: batched rate counting for the read classes: each worker counts locally and flushes in one statement. */
#ifndef TENANTRY_RATE_H
#define TENANTRY_RATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "db/db.h"

/*
 * SPEC §5 lets counting be batched. A worker admits a request of a
 * tenant's class when (the window's count as the database last told it) +
 * (this worker's hits not yet flushed) is under the limit; before its first
 * hit of a window it asks the database for that count; it flushes all
 * its unflushed hits in one statement at least every TENANTRY_RATE_FLUSH_MS
 * and, at the latest, before a counter would hold more than
 * rate_batch(limit) unflushed hits. The bound that follows (docs/decisions.md):
 *
 *     a window admits at most  limit + N * rate_batch(limit) - 1  requests,
 *
 * N the number of workers on all hosts; a worker killed without its exit
 * flush loses at most its unflushed hits (< rate_batch(limit) per counter,
 * or TENANTRY_RATE_FLUSH_MS of traffic). The classes that must stay exact
 * (settings_write, every write) keep the transactional count in authz.c.
 */

/* A tier's limit of a class: limit requests per secs seconds. */
struct rate_rule {
	char      tier[33];
	char      cls[16];
	long long limit, secs;
};

/* The rules of every tier, as read by ST_RATE_CATALOG; cached as one blob. */
struct rate_catalog {
	int              n;
	struct rate_rule rule[];
};

/* ST_RATE_CATALOG's rows as a catalog in the arena (NULL on OOM). */
struct rate_catalog *rate_catalog_from(struct arena *a, const PGresult *res, size_t *size);
/* The rule of (tier, cls), or NULL: not limited (exempt tier, -1, or no row). */
const struct rate_rule *rate_catalog_find(const struct rate_catalog *c, const char *tier, const char *cls);

/* At most this many unflushed hits per counter and worker: 1 % of the limit, 1..64. */
long long rate_batch(long long limit);

enum rate_result {
	RATE_ADMIT,        /* counted locally */
	RATE_REFUSE,       /* the window is used up (as far as this worker knows) */
	RATE_FLUSH_FIRST,  /* the counter's batch is full: flush, then ask again */
};

struct rate_table;

struct rate_table *rate_table_new(int shard, double flush_ms);
void               rate_table_free(struct rate_table *t);

/*
 * One request of (tenant, cls) under rule at now (epoch seconds), mono_ms
 * its monotonic time. On RATE_ADMIT and RATE_REFUSE, *limit, *remaining
 * and *reset (seconds) are what the RateLimit-* headers say.
 */
enum rate_result rate_take(struct rate_table *t, const char *tenant, const struct rate_rule *rule,
    long long now, double mono_ms, long long *limit, long long *remaining, long long *reset);

/*
 * The database's count of (tenant, rule's class) in the window starting at
 * window, read on this request's way: the counter knows it from now on (no
 * flush needed to learn it).
 */
void rate_seen(struct rate_table *t, const char *tenant, const struct rate_rule *rule,
    long long window, long long count);

/*
 * Does this worker know the count of (tenant, cls) in the window holding
 * now, from a flush or a read (so a request needs no statement to learn it)?
 */
bool rate_known(const struct rate_table *t, const char *tenant, const char *cls, long long now);

/*
 * Should the worker flush now (between requests)? Unflushed hits older than
 * the flush interval, or a counter at half its batch (so a request rarely
 * has to wait for a flush of a full batch).
 */
bool rate_due(const struct rate_table *t, double mono_ms);
/* Any unflushed hits? */
bool rate_pending(const struct rate_table *t);
/* Milliseconds until rate_due() turns true; < 0 when nothing is pending. */
double rate_due_in(const struct rate_table *t, double mono_ms);

/*
 * Send every unflushed hit in one statement (ST_RATE_FLUSH) on db, outside
 * any transaction, and learn each counter's total across workers. On
 * failure the hits stay unflushed. now: epoch seconds (old windows go).
 */
enum db_status rate_flush(struct rate_table *t, struct db *db, struct arena *a, long long now,
    const char *rid);

/*
 * The two halves of a flush's answer, apart for the unit tests' simulated
 * database: every unflushed hit is now counted in the shared total (and
 * every counter sent knows its window's count: rate_flushed), and a counter
 * learns its window's total over every worker (rate_learn).
 */
void      rate_flushed(struct rate_table *t, double mono_ms, long long now);
void      rate_learn(struct rate_table *t, const char *tenant, const char *cls, long long window,
    long long total);
long long rate_unflushed(const struct rate_table *t, const char *tenant, const char *cls);

struct rate_stats {
	unsigned long long flushes, flushed_hits, flush_failures;
	double             last_flush_ms, max_lag_ms;   /* lag: oldest hit's wait at its flush */
	size_t             counters;
};
void rate_stats(const struct rate_table *t, struct rate_stats *out);

#endif
