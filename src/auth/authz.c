/* authz.c: the one authorisation function: principal -> tenant context -> role -> capability. */
#include "auth/authz.h"
#include "auth/apikey.h"
#include "auth/jwt.h"
#include "auth/session.h"
#include "core/log.h"
#include "http/response.h"
#include "http/router.h"
#include "http/worker.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Columns of ST_CTX_TENANT_ID / ST_CTX_TENANT_SLUG. */
enum { C_USER_FOUND, C_EMAIL, C_USER_NAME, C_SUPERADMIN, C_TENANT_FOUND, C_TENANT_ID,
       C_SLUG, C_TENANT_NAME, C_TIER, C_STATUS, C_ROLE };
/* Columns of ST_CTX_KEY and ST_CTX_KEY_TENANT. */
enum { K_ID, K_NAME, K_SCOPES, K_EXPIRED, K_REVOKED, K_TENANT, K_HASH };
enum { KT_FOUND, KT_ID, KT_SLUG, KT_NAME, KT_TIER, KT_STATUS, KT_API_ACCESS };
/* Columns of ST_RATE_TAKE. */
enum { R_TAKEN, R_LIMIT, R_SECS, R_START, R_HITS, R_READY };
#define RATE_SHARDS 16

static int
unauth(struct req *r, const char *why)
{
	return http_error(r, 401, "unauthenticated", why);
}

/*
 * Read the Bearer credential. Absent: CRED_NONE. Present but unusable: 401,
 * never a fall-through to anonymous.
 */
static int
read_credentials(struct req *r)
{
	const char *h = r->authorization;
	struct jwt_claims c;
	enum jwt_result jr;

	r->who.cred = CRED_NONE;
	if (r->route->flags & RF_HTML) {
		/* Pages know only the session cookie; a missing or dead one means "sign in". */
		if (auth_session_cookie(r, r->who.session_hash))
			r->who.cred = CRED_SESSION;
		return 0;
	}
	if (h == NULL || *h == '\0')
		return 0;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return unauth(r, "use an Authorization: Bearer token");
	h += 7;
	while (*h == ' ')
		h++;
	if (strncmp(h, APIKEY_PREFIX, 4) == 0) {
		/* The checksum turns a mistyped or made-up key away without a database lookup. */
		if (!auth_apikey_valid(h)) {
			log_info(r->request_id, "API key refused: malformed or bad checksum");
			return unauth(r, "the API key is not valid");
		}
		if (!core_sha256_hex(h, r->who.key_hash))
			return http_error_default(r, 500);
		r->who.cred = CRED_API_KEY;
		return 0;
	}
	jr = auth_jwt_verify(&r->w->jwt, h, time(NULL), &c);
	if (jr != JWT_OK) {
		/* The reason goes to the log (never the token); the client learns less. */
		log_info(r->request_id, "token refused: %s", auth_jwt_result_name(jr));
		return unauth(r, jr == JWT_EXPIRED ? "the token has expired" : "the token is not valid");
	}
	memcpy(r->who.user_id, c.sub, sizeof(c.sub));
	if (c.kind == JWT_TENANT) {
		r->who.cred = CRED_TENANT;
		memcpy(r->who.claim_tenant, c.tenant_id, sizeof(c.tenant_id));
	} else {
		r->who.cred = CRED_IDENTITY;
	}
	return 0;
}

/* Adopt cand as the tenant id, or refuse if a different one was named. */
static bool
agree(const char **tenant, const char *cand)
{
	if (cand == NULL)
		return true;
	if (*tenant != NULL && strcmp(*tenant, cand) != 0)
		return false;
	*tenant = cand;
	return true;
}

/*
 * Gather every place the request names a tenant: path (id or slug), the
 * tenant token's claim, X-Tenant-ID, the body's tenant_id (tenant-token).
 * All that are present must name the same tenant. A slug is checked against
 * the id inside app.ctx, where the slug is resolved.
 */
static int
tenant_candidates(struct req *r, const char **id, const char **slug)
{
	const struct route *rt = r->route;
	bool is_slug = false;
	int pi = http_route_tenant_param(rt, &is_slug);
	char *hdr;

	*id = NULL;
	*slug = NULL;
	if (pi >= 0) {
		if (is_slug)
			*slug = r->param[pi];
		else
			*id = r->param[pi];
	}
	if (r->who.cred == CRED_TENANT && !agree(id, r->who.claim_tenant))
		goto mismatch;
	if (r->x_tenant_id != NULL) {
		if (!core_uuid_valid(r->x_tenant_id))
			return http_error(r, 400, "invalid_request", "X-Tenant-ID must be a UUID");
		if ((hdr = arena_strdup(r->a, r->x_tenant_id)) == NULL)
			return http_error_default(r, 500);
		core_uuid_lower(hdr, hdr);
		if (!agree(id, hdr))
			goto mismatch;
	}
	if (rt->flags & RF_TENANT_BODY) {
		struct json_object *v;
		char *b;

		if (!json_object_object_get_ex(r->json, "tenant_id", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    !core_uuid_valid(json_object_get_string(v)))
			return http_error(r, 400, "invalid_request", "tenant_id must be a UUID");
		if ((b = arena_strdup(r->a, json_object_get_string(v))) == NULL)
			return http_error_default(r, 500);
		core_uuid_lower(b, b);
		if (!agree(id, b))
			goto mismatch;
	}
	return 0;
mismatch:
	return http_error(r, 403, "tenant_mismatch",
	    "the tenant named by the path, token and X-Tenant-ID must agree");
}

static bool
cap_needs_tenant(enum cap c)
{
	return auth_cap_min_role(c) != ROLE_NONE;
}

/*
 * Routes an API key may ever reach (its scopes are checked later): tenant
 * reads and billing, tenant writes, usage ingestion, and /me. Never
 * members, keys, sensitive settings, superadmin routes or the dashboard.
 */
static bool
key_route_ok(const struct route *rt)
{
	switch (rt->cap) {
	case CAP_TENANT_READ:
	case CAP_BILLING_READ:
	case CAP_TENANT_WRITE:
	case CAP_USAGE_WRITE:
		return !(rt->flags & RF_TENANT_BODY);
	case CAP_PRINCIPAL:
		return (rt->flags & RF_TENANT_OPT) != 0;
	default:
		return false;
	}
}

/* The rate-limit class a route's requests count in (SPEC §5); NULL: not limited here. */
static const char *
rate_class(const struct route *rt)
{
	bool read = (rt->method & (HTTP_GET | HTTP_HEAD)) != 0;

	if (rt->flags & RF_TENANT_BODY)
		return NULL;   /* tenant-token: a sign-in step, not tenant traffic */
	if (rt->flags & RF_RATE_USAGE)
		return "usage";
	if (rt->flags & RF_RATE_SETTINGS)
		return read ? "settings_read" : "settings_write";
	return read ? "read" : "write";
}

/*
 * Queue the rate-limit count of class cls (with init, the making of the
 * window's rows first); the index of RATE_TAKE, or -1.
 */
static int
rate_queue(struct req *r, struct db_batch *b, const char *cls, bool init)
{
	const char *now = arena_printf(r->a, "%lld", (long long)time(NULL));
	const char *shard = arena_printf(r->a, "%d", (int)(getpid() % RATE_SHARDS));

	if (now == NULL || shard == NULL || (init && db_add(b, ST_RATE_INIT, 2, cls, now) < 0))
		return -1;
	return db_add(b, ST_RATE_TAKE, 3, cls, now, shard);
}

/*
 * RateLimit-* headers from a RATE_TAKE result, and 429 rate_limited with
 * Retry-After when the window is used up. 0 when the request may go on
 * (also when the tenant's tier does not limit the class). The first
 * request of a window finds no rows: it makes them and counts again, in
 * the request's transaction or, for a read whose batch has ended, in a
 * new one with the same authorisation context.
 */
static int
rate_verdict(struct req *r, const PGresult *res, const char *cls)
{
	struct rate_window w;

	if (db_rows(res) == 1 && !db_bool(res, 0, R_READY)) {
		struct db_batch again = { .retry = true };
		enum db_status ds;
		int take;

		if (!db_in_tx(r->w->db))
			auth_ctx_again(r, &again);
		else
			again.retry = false;
		if ((take = rate_queue(r, &again, cls, true)) < 0)
			return http_error_default(r, 500);
		if ((ds = db_exec(r->w->db, r->a, &again, r->request_id)) != DB_OK)
			return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
		res = again.q[take].res;
	}
	if (db_rows(res) != 1)
		return 0;
	w = auth_rate_window(time(NULL), db_i64(res, 0, R_LIMIT), db_i64(res, 0, R_SECS),
	    db_i64(res, 0, R_HITS));
	http_header(r, "RateLimit-Limit", arena_printf(r->a, "%lld", w.limit));
	http_header(r, "RateLimit-Remaining", arena_printf(r->a, "%lld", w.remaining));
	http_header(r, "RateLimit-Reset", arena_printf(r->a, "%lld", w.reset));
	if (db_bool(res, 0, R_TAKEN))
		return 0;
	http_header(r, "Retry-After", arena_printf(r->a, "%lld", w.reset > 0 ? w.reset : 1));
	return http_error(r, 429, "rate_limited",
	    "this workspace made too many requests of this kind; try again after Retry-After seconds");
}

/*
 * The request's tenant context from a context row whose columns from col
 * are id, slug, name, tier, status (both ctx_tenant_* and ctx_key_tenant).
 */
static void
tenant_set(struct req *r, const PGresult *res, int col, enum role role)
{
	r->tenant.present = true;
	memcpy(r->tenant.id, db_val(res, 0, col), UUID_LEN + 1);
	r->tenant.slug = db_val(res, 0, col + 1);
	r->tenant.name = db_val(res, 0, col + 2);
	r->tenant.tier = db_val(res, 0, col + 3);
	r->tenant.status = db_val(res, 0, col + 4);
	r->tenant.role = role;
}

/*
 * The API key half of authorisation, after the batch ran: the key exists,
 * is neither revoked nor expired, its tenant allows API access and agrees
 * with the tenant the request names (id or slug). 0, or the error sent.
 */
static int
key_context(struct req *r, const struct db_batch *b, const char *tid, const char *slug)
{
	const PGresult *k = b->q[1].res, *t = b->q[2].res;
	const char *stored;

	if (db_rows(k) != 1 || (stored = db_val(k, 0, K_HASH)) == NULL ||
	    !core_ct_equal(stored, r->who.key_hash, 64)) {
		log_info(r->request_id, "API key refused: unknown");
		return unauth(r, "the API key is not valid");
	}
	if (db_bool(k, 0, K_REVOKED))
		return unauth(r, "the API key has been revoked");
	if (db_bool(k, 0, K_EXPIRED))
		return unauth(r, "the API key has expired");
	if (!db_bool(t, 0, KT_FOUND))
		return unauth(r, "the API key is not valid");
	r->who.key_id = db_val(k, 0, K_ID);
	r->who.key_name = db_val(k, 0, K_NAME);
	r->who.scopes = auth_scopes_parse(db_val(k, 0, K_SCOPES));
	if ((tid != NULL && strcmp(tid, db_val(t, 0, KT_ID)) != 0) ||
	    (slug != NULL && strcmp(slug, db_val(t, 0, KT_SLUG)) != 0))
		return http_error(r, 403, "tenant_mismatch", "this API key belongs to another tenant");
	if (!db_bool(t, 0, KT_API_ACCESS))
		return http_error(r, 403, "feature_not_available",
		    "API access is not enabled for this workspace (plan or features.api_access_enabled)");
	tenant_set(r, t, KT_ID, ROLE_NONE);
	return 0;
}

int
auth_authorize(struct req *r, struct db_batch *b)
{
	const struct route *rt = r->route;
	const char *tid = NULL, *slug = NULL, *cls = NULL;
	const PGresult *ctx;
	enum db_status ds;
	enum role need;
	int st, take = -1, nav = -1, touch = -1;

	memset(b, 0, sizeof(*b));
	b->begin = (rt->flags & RF_TX) != 0;
	b->retry = !b->begin;
	memset(&r->who, 0, sizeof(r->who));
	memset(&r->tenant, 0, sizeof(r->tenant));

	if (rt->cap == CAP_PUBLIC && !(rt->flags & RF_OPT_AUTH))
		goto run;   /* credentials are not even read: login works with a stale header */

	if ((st = read_credentials(r)) != 0)
		return st;
	if (r->who.cred == CRED_NONE && rt->cap == CAP_PUBLIC)
		goto run;   /* RF_OPT_AUTH without a credential: anonymous */
	if (r->who.cred == CRED_NONE)
		return unauth(r, "authentication required");
	if ((rt->flags & RF_IDENTITY) && r->who.cred != CRED_IDENTITY)
		return unauth(r, r->who.cred == CRED_API_KEY ? "this route needs an identity token, not an API key"
		    : "this route needs an identity token, not a tenant-scoped one");
	if (r->who.cred == CRED_API_KEY && !key_route_ok(rt))
		return http_error(r, 403, "permission_denied",
		    "API keys cannot do this (members, API keys, sensitive settings and operator routes need a user)");
	if ((st = tenant_candidates(r, &tid, &slug)) != 0)
		return st;
	if (cap_needs_tenant(rt->cap) && tid == NULL && slug == NULL && r->who.cred != CRED_API_KEY)
		return http_error(r, 400, "tenant_context_required",
		    "name a tenant: a tenant-scoped token, the path, or X-Tenant-ID");
	if (!cap_needs_tenant(rt->cap) && !(rt->flags & (RF_TENANT_OPT | RF_TENANT_BODY)))
		tid = slug = NULL;
	if (r->who.cred == CRED_API_KEY) {
		/* The key names its own tenant; tid and slug, if any, must agree (checked after). */
		db_add(b, ST_CTX_KEY_HASH, 1, r->who.key_hash);
		db_add(b, ST_CTX_KEY, 1, r->who.key_hash);
		db_add(b, ST_CTX_KEY_TENANT, 0);
	} else {
		if (r->who.cred == CRED_SESSION)
			db_add(b, ST_CTX_SESSION, 1, r->who.session_hash);
		else
			db_add(b, ST_CTX_USER, 1, r->who.user_id);
		if (slug != NULL)
			db_add(b, ST_CTX_TENANT_SLUG, 1, slug);
		else
			db_add(b, ST_CTX_TENANT_ID, 1, tid);
	}
run:
	if (rt->prefetch != NULL && (st = rt->prefetch(r, b)) != 0)
		return st;
	/*
	 * Last in the batch, so a read holds its shard row only until the
	 * batch commits; a write's count rolls back with a failed write.
	 */
	if (r->who.cred == CRED_API_KEY)
		db_add(b, ST_KEY_TOUCH, 1, r->who.key_hash);
	if (r->who.cred == CRED_SESSION) {
		touch = db_add(b, ST_SESSION_TOUCH, 1, r->who.session_hash);
		nav = db_add(b, ST_WEB_NAV, 0);   /* the header's workspace switcher */
	}
	if (r->who.cred != CRED_NONE && (tid != NULL || slug != NULL || r->who.cred == CRED_API_KEY) &&
	    (cls = rate_class(rt)) != NULL && (take = rate_queue(r, b, cls, false)) < 0)
		return http_error_default(r, 500);
	if (b->n == 0 && !b->begin)
		return 0;
	if ((ds = db_exec(r->w->db, r->a, b, r->request_id)) != DB_OK)
		return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
	if (r->who.cred == CRED_NONE)
		return 0;   /* public route, anonymous caller */
	if (r->who.cred == CRED_API_KEY) {
		if ((st = key_context(r, b, tid, slug)) != 0)
			return st;
		goto decide;
	}

	ctx = b->q[1].res;
	if (r->who.cred == CRED_SESSION) {
		/*
		 * No row: no such session, or it ended (idle, absolute, password
		 * changed); not alive: idle longer than a workspace of the user
		 * allows now (a limit tightened since the last request).
		 */
		if (db_rows(b->q[0].res) != 1 || touch < 0 || !db_bool(b->q[touch].res, 0, 0))
			return unauth(r, "your session has ended; sign in again");
		snprintf(r->who.user_id, sizeof(r->who.user_id), "%s", db_val(b->q[0].res, 0, 2));
		r->who.csrf = db_val(b->q[0].res, 0, 3);
		if (nav >= 0)
			r->web_nav = db_val(b->q[nav].res, 0, 0);
	}
	if (!db_bool(ctx, 0, C_USER_FOUND))
		return unauth(r, "the token's user no longer exists");
	r->who.superadmin = db_bool(ctx, 0, C_SUPERADMIN);
	r->who.email = db_val(ctx, 0, C_EMAIL);
	r->who.name = db_val(ctx, 0, C_USER_NAME);

	if (tid != NULL || slug != NULL) {
		enum role role = auth_role_parse(db_val(ctx, 0, C_ROLE));

		if (!db_bool(ctx, 0, C_TENANT_FOUND) || (role == ROLE_NONE && !r->who.superadmin)) {
			/*
			 * A non-member cannot tell a tenant that does not exist
			 * from one that is not theirs: both are 403. Only a
			 * superadmin, who may see every tenant, learns 404.
			 */
			if (r->who.superadmin)
				return http_error(r, 404, "tenant_not_found", "no such tenant");
			return http_error(r, 403, "permission_denied", "you are not a member of this tenant");
		}
		tenant_set(r, ctx, C_TENANT_ID, role);
	}

decide:
	if (!auth_allows(r, rt->cap)) {
		if (r->who.cred == CRED_API_KEY)
			return http_error(r, 403, "permission_denied", "this API key's scopes do not allow this");
		if (rt->cap == CAP_SUPERADMIN)
			return http_error(r, 403, "permission_denied", "this needs a superadmin");
		need = auth_cap_min_role(rt->cap);
		return http_error(r, 403, "permission_denied",
		    need >= ROLE_ADMIN ? "this needs the admin or owner role" : "you may not do this");
	}
	/*
	 * Operator routes (billing) read the path as "which tenant", not as
	 * "act in this tenant": a member must also carry that tenant as their
	 * context, so an identity token alone means superadmin is required.
	 */
	if ((rt->flags & RF_EXPLICIT_CTX) && !r->who.superadmin && r->who.cred == CRED_IDENTITY &&
	    r->x_tenant_id == NULL)
		return http_error(r, 403, "permission_denied",
		    "this needs a superadmin, or a tenant-scoped token or X-Tenant-ID for this tenant");
	/* A suspended workspace is read-only billing for its members, nothing else. */
	if (r->tenant.present && !r->who.superadmin && !(rt->flags & RF_SUSPENDED_OK) &&
	    r->tenant.status != NULL && strcmp(r->tenant.status, "suspended") == 0)
		return http_error(r, 403, "tenant_suspended", "this workspace is suspended");
	return take >= 0 ? rate_verdict(r, b->q[take].res, cls) : 0;
}

bool
auth_allows(const struct req *r, enum cap c)
{
	if (r->who.cred == CRED_API_KEY) {
		/* A key acts by its scopes, in its own tenant only; never as a role. */
		bool get = (r->method & (HTTP_GET | HTTP_HEAD)) != 0;

		switch (c) {
		case CAP_PRINCIPAL:    return true;
		case CAP_TENANT_READ:
		case CAP_BILLING_READ: return get && (r->who.scopes & SCOPE_READ);
		case CAP_TENANT_WRITE: return !get && (r->who.scopes & SCOPE_WRITE);
		case CAP_USAGE_WRITE:  return !get && (r->who.scopes & SCOPE_USAGE);
		default:               return false;
		}
	}
	switch (c) {
	case CAP_PUBLIC:
		return true;
	case CAP_PRINCIPAL:
		return r->who.cred != CRED_NONE;
	case CAP_SUPERADMIN:
		return r->who.superadmin;
	default:
		return r->who.superadmin ||
		    (r->tenant.present && r->tenant.role >= auth_cap_min_role(c));
	}
}

void
auth_ctx_again(const struct req *r, struct db_batch *b)
{
	if (r->who.cred == CRED_API_KEY) {
		db_add(b, ST_CTX_KEY_HASH, 1, r->who.key_hash);
		db_add(b, ST_CTX_KEY, 1, r->who.key_hash);
		db_add(b, ST_CTX_KEY_TENANT, 0);
		return;
	}
	db_add(b, ST_CTX_USER, 1, r->who.user_id);
	db_add(b, ST_CTX_TENANT_ID, 1, r->tenant.present ? r->tenant.id : NULL);
}

const PGresult *
auth_pre(const struct db_batch *b, int i)
{
	/* With a principal, the batch starts with the authorisation context. */
	int base = 0;

	if (b->n > 1 && (b->q[0].st == ST_CTX_USER || b->q[0].st == ST_CTX_SESSION))
		base = 2;
	else if (b->n > 2 && b->q[0].st == ST_CTX_KEY_HASH)
		base = 3;
	return (base + i < b->n) ? b->q[base + i].res : NULL;
}

struct rate_window
auth_rate_window(long long now, long long limit, long long secs, long long hits)
{
	struct rate_window w = { .limit = limit };
	long long start;

	if (secs <= 0)
		secs = 1;
	start = now - ((now % secs) + secs) % secs;   /* floor, also for a clock before 1970 */
	w.reset = start + secs - now;                /* 1..secs: never 0, the window is still open */
	w.remaining = limit - hits > 0 ? limit - hits : 0;
	return w;
}
