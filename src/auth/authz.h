/* authz.h: the one authorisation function: principal -> tenant context -> role -> capability. */
#ifndef TENANTRY_AUTHZ_H
#define TENANTRY_AUTHZ_H

#include "db/db.h"
#include "http/request.h"

/*
 * Decide whether r may run its route, and run the route's prefetch reads in
 * the same database round trip. Returns 0 when allowed: r->who and r->tenant
 * are filled, b holds the authorisation context at b->q[0..1] and the
 * prefetched results after it (auth_pre() finds them), and for RF_TX routes a
 * transaction is open. Otherwise writes the error response and returns its
 * status:
 *   400 invalid_request (malformed X-Tenant-ID), tenant_context_required
 *   401 unauthenticated (no, bad, expired token or API key; revoked key;
 *       unknown user; wrong kind)
 *   403 permission_denied (role, scope, a route keys never reach),
 *       tenant_mismatch, tenant_suspended, feature_not_available (API keys)
 *   404 tenant_not_found (superadmin naming a tenant that does not exist)
 *   429 rate_limited (the tenant's window for the route's class is used up)
 *   503 unavailable (database)
 * It also counts the request against the tenant's rate limit and sets the
 * RateLimit-* headers when the tier limits the route's class.
 *
 * A cacheable read (RF_CACHE) whose context, rate rules and answer are all
 * in the worker's cache is decided and answered without the database: then
 * r->cached is set, the answer is in r, and b is empty.
 */
int auth_authorize(struct req *r, struct db_batch *b);

/*
 * After the handler: keep a cacheable route's answer (RF_CACHE, status 200,
 * read from the database in this request while listening) for the next
 * request of the same tenant, role and kind (SPEC §2's rules).
 */
void auth_cache_store(struct req *r, int status);

/*
 * A cacheable page's handler keeps the data it built from the database in
 * this request (v, len bytes: whatever the page needs to render itself
 * again), under the same key and tags as an answer (tenant, role, kind,
 * query, UTC day; t:, catalog and, RF_CACHE_USAGE, usage:). The next GET
 * by a cached session finds it in r->page_cached and reads nothing.
 */
void auth_cache_store_page(struct req *r, const void *v, size_t len);

/*
 * Does the authorised request r also hold capability c? For checks finer
 * than the route (a superadmin-only field in a body): the same rule as
 * auth_authorize, never a handler's own.
 */
bool auth_allows(const struct req *r, enum cap c);

/*
 * Queue the authorisation context of an already authorised request again
 * (a later transaction of the same request, e.g. the pages of a CSV export).
 */
void auth_ctx_again(const struct req *r, struct db_batch *b);

/* The i-th prefetched result of a batch that auth_authorize ran. */
const PGresult *auth_pre(const struct db_batch *b, int i);

/*
 * The RateLimit-* values of a fixed window of secs seconds at time now, for
 * limit requests of which hits were made: remaining (never negative) and
 * reset (seconds until the window ends: 1..secs).
 */
struct rate_window {
	long long limit, remaining, reset;
};
struct rate_window auth_rate_window(long long now, long long limit, long long secs, long long hits);

#endif
