/* worker.h: what one worker process holds for its whole life. */
#ifndef TENANTRY_WORKER_H
#define TENANTRY_WORKER_H

#include "auth/jwt.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "db/db.h"

struct tmpl_set;

/*
 * Nothing here is per-tenant or per-user: a worker can die or be added at
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
};

#endif
