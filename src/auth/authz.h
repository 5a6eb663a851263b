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
 * The decision itself, a pure function of what is known about a request:
 * auth_authorize gathers these facts (from the credential, the route, the
 * tenant the request names and the context the database or the cache
 * holds) and does what the verdict says; nothing else decides. The unit
 * test tests/unit/test_authz_decide.c holds the table.
 */
struct auth_facts {
	/* The request, known before any database read. */
	enum cred cred;
	enum cap  cap;            /* the route's capability */
	unsigned  flags;          /* the route's RF_* flags */
	unsigned  method;         /* the request's HTTP_* */
	bool      tenant_named;   /* path, token claim, X-Tenant-ID or body names a tenant */
	bool      x_tenant;       /* X-Tenant-ID was sent */
	/* The context, from the database or the cache. */
	bool      known;          /* the user exists / the key is the one stored */
	bool      superadmin;
	bool      tenant_found;   /* the tenant named (the key's own) exists */
	enum role role;           /* the caller's role there; ROLE_NONE: not a member */
	bool      suspended;      /* that tenant's status is "suspended" */
	bool      addr_refused;   /* that tenant's IP allow-list does not hold the client's address */
	/* API keys only. */
	unsigned  scopes;
	bool      revoked, expired;   /* at this instant */
	bool      other_tenant;       /* the request names a tenant that is not the key's */
	bool      api_access;         /* the key's tenant may use API keys */
};

/* status 0: allowed; else the error to answer (code and message as sent). */
struct auth_verdict {
	int         status;
	const char *code;
	const char *message;
};

/*
 * What the credential kind and the route alone decide (before the
 * database): no credential, the wrong kind, a route keys never reach, no
 * tenant named. With cred CRED_NONE on a public route: allowed, anonymous.
 */
struct auth_verdict auth_decide_route(const struct auth_facts *f);
/* The whole decision: auth_decide_route, then the context's own. */
struct auth_verdict auth_decide(const struct auth_facts *f);
/* Does a caller with these facts (already allowed in) hold capability c? */
bool auth_facts_allow(const struct auth_facts *f, enum cap c);

/*
 * Does the authorised request r also hold capability c? For checks finer
 * than the route (a superadmin-only field in a body, a control a page
 * shows): auth_facts_allow on r's facts, never a handler's own rule.
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
