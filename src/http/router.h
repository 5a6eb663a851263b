/* router.h: the route table's shape and the matcher that maps a request to one route. */
#ifndef TENANTRY_ROUTER_H
#define TENANTRY_ROUTER_H

#include <stddef.h>

#include "auth/auth.h"
#include "db/db.h"
#include "http/request.h"

/* Route flags. */
#define RF_JSON         0x01   /* needs a JSON object body (415/413/400 before auth) */
#define RF_TX           0x02   /* a write: auth opens a transaction the handler continues */
#define RF_TENANT_OPT   0x04   /* use a tenant context when one is given (claim, header) */
#define RF_TENANT_BODY  0x08   /* the body's "tenant_id" names the tenant (tenant-token) */
#define RF_IDENTITY     0x10   /* only an identity token will do (401 for a tenant token) */
#define RF_SUSPENDED_OK 0x20   /* still served for a suspended tenant (read-only billing) */
#define RF_OPT_AUTH     0x40   /* CAP_PUBLIC, but a credential, if sent, is verified and used */
#define RF_EXPLICIT_CTX 0x80   /* the path alone is no context: below superadmin, a tenant
                                  token or X-Tenant-ID must name the tenant (billing) */
#define RF_RATE_SETTINGS 0x100 /* counts in settings_read / settings_write, not read / write */
#define RF_RATE_USAGE   0x200  /* counts in the usage class */
#define RF_HTML         0x400  /* a dashboard page: the session cookie is the credential
                                  (never a bearer), POSTs carry a form with a CSRF token,
                                  and errors are HTML pages */
#define RF_CACHE        0x800  /* a read whose answer is a function of the tenant's facts,
                                  the caller's role and kind, the plans and the day: the
                                  worker may answer it from its cache (SPEC §2) */
#define RF_CACHE_USAGE  0x1000 /* ... and of the tenant's usage */
#define RF_SECRET_PATH  0x2000 /* a path segment is a credential (an invitation token): logs
                                  show the route's pattern, never the path (SPEC §7) */

/*
 * prefetch validates the query string and queues read statements behind
 * the authorisation query, so a read costs one database round trip; they
 * run with the tenant's RLS setting and their results are handed to the
 * handler in the same batch. It returns 0, or the 4xx status it answered
 * (a malformed query parameter). A handler returns the HTTP status it
 * produced (see response.h).
 */
typedef int  (*route_prefetch)(struct req *r, struct db_batch *b);
typedef int  (*route_handler)(struct req *r, struct db_batch *pre);

/*
 * Pattern segments: literals, or typed parameters validated before any
 * handler runs (a malformed one is 400): {uuid}, {tenant} (a tenant id: the
 * path's tenant context), {slug} (a workspace slug: the path's tenant
 * context), {token} (URL-safe secret, 16..128 chars).
 */
struct route {
	enum http_method method;
	const char      *pattern;
	enum cap         cap;
	unsigned         flags;
	route_prefetch   prefetch;
	route_handler    handler;
};


enum route_match {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,      /* 404 */
	ROUTE_BAD_METHOD,     /* 405; *allow holds the methods that exist */
	ROUTE_BAD_PARAM,      /* 400: the shape matched, a typed parameter did not */
};

/*
 * Find the route for (m, path) in table. On ROUTE_FOUND, *out is the route
 * and params[] point into the arena (one per parameter, in order). HEAD
 * matches GET routes. Literal segments win over parameters.
 */
enum route_match http_route_find(const struct route *table, size_t n, enum http_method m,
    const char *path, struct arena *a, const struct route **out,
    const char *params[ROUTE_PARAMS_MAX], unsigned *allow);

/* Index of the {tenant} or {slug} parameter of a pattern, or -1. */
int http_route_tenant_param(const struct route *rt, bool *is_slug);

#endif
