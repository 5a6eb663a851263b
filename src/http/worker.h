/* worker.h: what one worker process holds for its whole life. */
#ifndef TENANTRY_WORKER_H
#define TENANTRY_WORKER_H

#include "auth/jwt.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/cache.h"
#include "db/db.h"

struct tmpl_set;
struct db_listen;
struct rate_table;

/*
 * Nothing here is needed for correctness: a worker can die or be added at
 * any moment and no other worker or host notices. The arena and the two
 * buffers are reused by every request.
 */
struct worker {
	struct config  cfg;
	struct jwt_key jwt;
	struct db     *db;
	struct arena  *a;
	struct buf     hdr;
	struct buf     out;
	struct tmpl_set *tmpl;    /* the dashboard's templates, compiled at start-up */
	/*
	 * What a worker may keep between requests (SPEC §2, §5): copies of
	 * database facts that every change pushes out (cache, kept only
	 * while listen is listening), and its own not yet flushed read counts
	 * (rate). Losing either loses nothing that matters.
	 */
	struct cache      *cache;
	struct db_listen  *listen;
	struct rate_table *rate;
	bool               cache_live;   /* listening now: the cache may be used */
	bool               meter_catalog_due;   /* a read missed the meter catalog: read it after the response */
};

#endif
