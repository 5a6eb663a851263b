/* authz.c: the one authorisation function: principal -> tenant context -> role -> capability. */
#include "auth/authz.h"
#include "auth/apikey.h"
#include "auth/context.h"
#include "auth/jwt.h"
#include "auth/rate.h"
#include "auth/session.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/meter.h"
#include "http/response.h"
#include "http/router.h"
#include "http/worker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Columns of ST_CTX_TENANT_ID / ST_CTX_TENANT_SLUG. */
enum { C_USER_FOUND, C_EMAIL, C_USER_NAME, C_SUPERADMIN, C_TENANT_FOUND, C_TENANT_ID,
       C_SLUG, C_TENANT_NAME, C_TIER, C_STATUS, C_ROLE };
/* Columns of ST_CTX_KEY and ST_CTX_KEY_TENANT. */
enum { K_ID, K_NAME, K_SCOPES, K_EXPIRED, K_REVOKED, K_TENANT, K_HASH, K_EXPIRES_AT, K_REVOKED_AT };
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
 * Verify a JWT, or find that these very bytes were verified before (the
 * answer is a function of the bytes and our secret): a token's signature
 * is checked once per worker while it is cached, its expiry at every use.
 * Kept in the worker's cache under "J" and the token's SHA-256 (a fifth of
 * the token's size), with no tag: no database fact is involved.
 */
static enum jwt_result
jwt_verify_memo(struct req *r, const char *token, struct jwt_claims *c)
{
	time_t now = time(NULL);
	enum jwt_result jr;
	char key[66] = "J";
	const void *v;
	size_t len;

	if (!r->cache_ok || !core_sha256_hex(token, key + 1))
		return auth_jwt_verify(&r->w->jwt, token, now, c);
	if ((v = cache_get(r->w->cache, key, 65, core_mono_ms(), &len)) != NULL && len == sizeof(*c)) {
		memcpy(c, v, sizeof(*c));
		return c->exp < (long long)now - JWT_SKEW ? JWT_EXPIRED : JWT_OK;
	}
	if ((jr = auth_jwt_verify(&r->w->jwt, token, now, c)) == JWT_OK)
		cache_put(r->w->cache, key, 65, c, sizeof(*c), NULL, 0, r->cache_since, r->t0);
	return jr;
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
	jr = jwt_verify_memo(r, h, &c);
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
 * The read classes are counted by the worker and flushed in batches
 * (auth/rate.c) when their limit is large enough for a batch of more than
 * one (200 a window and up); every other class, and a small read limit,
 * stays exact, counted in the database in the request's own round trip (a
 * write's count rolls back with a failed write).
 */
static bool
rate_read_class(const char *cls)
{
	return strcmp(cls, "read") == 0 || strcmp(cls, "settings_read") == 0;
}

static bool
rate_batched(const struct rate_rule *rule)
{
	return rule != NULL && rate_batch(rule->limit) > 1;
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

/* The RateLimit-* headers; with taken false, also 429 rate_limited with Retry-After. */
static int
rate_answer(struct req *r, long long limit, long long remaining, long long reset, bool taken)
{
	http_header(r, "RateLimit-Limit", arena_printf(r->a, "%lld", limit));
	http_header(r, "RateLimit-Remaining", arena_printf(r->a, "%lld", remaining));
	http_header(r, "RateLimit-Reset", arena_printf(r->a, "%lld", reset));
	if (taken)
		return 0;
	http_header(r, "Retry-After", arena_printf(r->a, "%lld", reset > 0 ? reset : 1));
	return http_error(r, 429, "rate_limited",
	    "this workspace made too many requests of this kind; try again after Retry-After seconds");
}

/*
 * RateLimit-* headers from a RATE_TAKE result, and 429 when the window is
 * used up. 0 when the request may go on (also when the tenant's tier does
 * not limit the class). The first request of a window finds no rows: it
 * makes them and counts again, in the request's transaction or, outside
 * one, in a new one with the same authorisation context.
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
	return rate_answer(r, w.limit, w.remaining, w.reset, db_bool(res, 0, R_TAKEN));
}

/*
 * A read class, counted by this worker (SPEC §5's batched counting) under
 * the tier's rule: the local count, a flush first when this counter's
 * batch is full. 0, 429, or 503 (the flush could not be made).
 */
static int
rate_local(struct req *r, const struct rate_rule *rule)
{
	long long limit, remaining, reset;
	enum rate_result v;

	/*
	 * At most two flushes: the last window's hits, then learning the new
	 * window's count (a first hit at a window's start needs both).
	 */
	for (int tries = 0;; tries++) {
		v = rate_take(r->w->rate, r->tenant.id, rule, (long long)time(NULL), core_mono_ms(),
		    &limit, &remaining, &reset);
		if (v != RATE_FLUSH_FIRST)
			break;
		if (tries >= 2 || rate_flush(r->w->rate, r->w->db, r->a, (long long)time(NULL),
		    r->request_id) != DB_OK) {
			log_warn(r->request_id, "read counts could not be flushed: answering 503");
			return http_error_default(r, 503);
		}
	}
	return rate_answer(r, limit, remaining, reset, v == RATE_ADMIT);
}

/* ---- Contexts: from the database's rows, or from the cache ------------------ */

/*
 * The tenant part of a context row: found, then id, slug, name, tier and
 * status in the columns from col (ctx_tenant_* and ctx_key_tenant alike).
 */
static void
ctx_tenant_cols(const PGresult *res, int col, struct auth_ctx *c)
{
	c->tenant_found = db_bool(res, 0, col);
	if (c->tenant_found)
		snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", db_val(res, 0, col + 1));
	c->slug = db_val(res, 0, col + 2);
	c->tenant_name = db_val(res, 0, col + 3);
	c->tier = db_val(res, 0, col + 4);
	c->status = db_val(res, 0, col + 5);
}

/* A user's context from a ctx_tenant_* row (or the user part only, no tenant named). */
static void
ctx_of_user(const PGresult *res, struct auth_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->user_found = db_bool(res, 0, C_USER_FOUND);
	c->superadmin = db_bool(res, 0, C_SUPERADMIN);
	c->email = db_val(res, 0, C_EMAIL);
	c->name = db_val(res, 0, C_USER_NAME);
	c->role = auth_role_parse(db_val(res, 0, C_ROLE));
	c->member = c->role != ROLE_NONE;
	ctx_tenant_cols(res, C_TENANT_FOUND, c);
}

static double
db_f64(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);

	return v != NULL ? strtod(v, NULL) : 0;
}

/*
 * An API key's context from the ctx_key and ctx_key_tenant rows; false
 * for a key the database does not know (or whose stored hash differs).
 */
static bool
ctx_of_key(const struct req *r, const PGresult *k, const PGresult *t, struct auth_ctx *c)
{
	const char *stored;

	memset(c, 0, sizeof(*c));
	c->key = true;
	if (db_rows(k) != 1 || (stored = db_val(k, 0, K_HASH)) == NULL ||
	    !core_ct_equal(stored, r->who.key_hash, 64))
		return false;
	c->key_id = db_val(k, 0, K_ID);
	c->key_name = db_val(k, 0, K_NAME);
	c->scopes = auth_scopes_parse(db_val(k, 0, K_SCOPES));
	c->expired = db_bool(k, 0, K_EXPIRED);
	c->revoked = db_bool(k, 0, K_REVOKED);
	c->expires_at = db_f64(k, 0, K_EXPIRES_AT);
	c->revoked_at = db_f64(k, 0, K_REVOKED_AT);
	ctx_tenant_cols(t, KT_FOUND, c);
	c->api_access = db_bool(t, 0, KT_API_ACCESS);
	return true;
}

static void
tenant_set(struct req *r, const struct auth_ctx *c, enum role role)
{
	r->tenant.present = true;
	memcpy(r->tenant.id, c->tenant_id, UUID_LEN + 1);
	r->tenant.slug = c->slug;
	r->tenant.name = c->tenant_name;
	r->tenant.tier = c->tier;
	r->tenant.status = c->status;
	r->tenant.role = role;
}

/* Wall-clock seconds with a fraction, to compare with a key's dates. */
static double
epoch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The API key half of authorisation: the key is neither revoked nor
 * expired (as the database said, and at this instant by its dates: a
 * rotation's grace ends on time in a cached context too), its tenant
 * exists, allows API access and agrees with the tenant the request names
 * (id or slug). 0, or the error sent.
 */
static int
adopt_key(struct req *r, const struct auth_ctx *c, const char *tid, const char *slug)
{
	double now = epoch_now();

	if (c->revoked || (c->revoked_at > 0 && c->revoked_at <= now))
		return unauth(r, "the API key has been revoked");
	if (c->expired || (c->expires_at > 0 && c->expires_at <= now))
		return unauth(r, "the API key has expired");
	if (!c->tenant_found)
		return unauth(r, "the API key is not valid");
	r->who.key_id = c->key_id;
	r->who.key_name = c->key_name;
	r->who.scopes = c->scopes;
	if ((tid != NULL && strcmp(tid, c->tenant_id) != 0) ||
	    (slug != NULL && (c->slug == NULL || strcmp(slug, c->slug) != 0)))
		return http_error(r, 403, "tenant_mismatch", "this API key belongs to another tenant");
	if (!c->api_access)
		return http_error(r, 403, "feature_not_available",
		    "API access is not enabled for this workspace (plan or features.api_access_enabled)");
	tenant_set(r, c, ROLE_NONE);
	return 0;
}

/* The user half: the user exists and, when a tenant is named, may act there. */
static int
adopt_user(struct req *r, const struct auth_ctx *c, bool named)
{
	if (!c->user_found)
		return unauth(r, "the token's user no longer exists");
	r->who.superadmin = c->superadmin;
	r->who.email = c->email;
	r->who.name = c->name;
	if (!named)
		return 0;
	if (!c->tenant_found || (!c->member && !c->superadmin)) {
		/*
		 * A non-member cannot tell a tenant that does not exist from
		 * one that is not theirs: both are 403. Only a superadmin, who
		 * may see every tenant, learns 404.
		 */
		if (c->superadmin)
			return http_error(r, 404, "tenant_not_found", "no such tenant");
		return http_error(r, 403, "permission_denied", "you are not a member of this tenant");
	}
	tenant_set(r, c, c->role);
	return 0;
}

/* Capability, operator routes' explicit context, a suspended workspace. 0 or the error sent. */
static int
decide(struct req *r)
{
	const struct route *rt = r->route;
	enum role need;

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
	return 0;
}

/* ---- The worker's cache (SPEC §2) -------------------------------------------- */

/*
 * A context is cached only when it lets the caller in somewhere: a user who
 * exists (a member or a superadmin in the tenant named, if any), a key that
 * is valid and whose tenant exists. Everything else is decided by the
 * database every time. Tags: the user or the key, and the tenant (the
 * tenant's row, its memberships, its plan's features).
 */
static void
ctx_store(struct req *r, const char *key, size_t klen, const struct auth_ctx *c, bool named)
{
	char tag[48];
	uint64_t tags[3];
	int n = 0;
	size_t len;
	void *blob;

	if (c->key) {
		if (c->revoked || c->expired || !c->tenant_found || c->key_id == NULL)
			return;
		tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "k:%s", c->key_id));
		tags[n++] = cache_tag("catalog", 7);
	} else {
		if (!c->user_found || (named && (!c->tenant_found || (!c->member && !c->superadmin))))
			return;
		tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "u:%s", r->who.user_id));
	}
	if (c->tenant_found)
		tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "t:%s", c->tenant_id));
	if ((blob = auth_ctx_pack(r->a, c, &len)) != NULL)
		cache_put(r->w->cache, key, klen, blob, len, tags, n, r->cache_since, r->t0);
}

/* The rate rules of every tier, from the cache; NULL when they must be read. */
static const struct rate_catalog *
catalog_cached(struct req *r)
{
	size_t len;

	return r->cache_ok ? cache_get_copy(r->w->cache, r->a, "Crate", 5, core_mono_ms(), &len) : NULL;
}

static void
catalog_read(struct req *r, const PGresult *res)
{
	uint64_t tag = cache_tag("catalog", 7);
	struct rate_catalog *c;
	size_t size;

	if ((c = rate_catalog_from(r->a, res, &size)) != NULL)
		cache_put(r->w->cache, "Crate", 5, c, size, &tag, 1, r->cache_since, r->t0);
}

/*
 * The cache key of a cacheable route's answer for this context: the route,
 * the raw query string, the tenant, the caller's role, superadmin flag and
 * kind (key or user), and the UTC day (periods and "today" depend on it).
 * 0 when the query is too long to be worth a key.
 */
static size_t
answer_key(const struct req *r, const char *tenant, enum role role, bool superadmin, char *out,
    size_t cap)
{
	char day[11];
	int n;

	if (strlen(r->query != NULL ? r->query : "") > 256)
		return 0;
	core_day_format(core_day_of((int64_t)time(NULL)), day);
	/* The route by its address: the cache is the process's, and so is the table. */
	n = snprintf(out, cap, "R%" PRIxPTR "\037%s\037%s\037%d\037%d\037%c\037%s", (uintptr_t)r->route,
	    r->query != NULL ? r->query : "", tenant, (int)role, (int)superadmin,
	    r->who.cred == CRED_API_KEY ? 'k' : 'u', day);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void
auth_cache_store(struct req *r, int status)
{
	const struct route *rt = r->route;
	char key[512], tag[48];
	uint64_t tags[3];
	size_t klen;
	int n = 0;

	if (rt == NULL || !(rt->flags & RF_CACHE) || !r->cache_ok || r->cached || status != 200 ||
	    r->streamed || !r->tenant.present || r->ctype == NULL ||
	    strcmp(r->ctype, "application/json") != 0 || (klen = answer_key(r, r->tenant.id, r->tenant.role, r->who.superadmin, key, sizeof(key))) == 0)
		return;
	tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "t:%s", r->tenant.id));
	tags[n++] = cache_tag("catalog", 7);
	if (rt->flags & RF_CACHE_USAGE)
		tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "usage:%s", r->tenant.id));
	cache_put(r->w->cache, key, klen, r->out->p, r->out->len, tags, n, r->cache_since, r->t0);
}

/*
 * The whole request from the cache, if every piece is there and fresh:
 * the context, the rate rules, the answer. Returns -1 when something is
 * missing (the caller asks the database for everything), else what
 * authorisation returns: 0 with the answer in place (r->cached), or the
 * error sent. Decisions are the same functions the database path uses.
 */
static int
from_cache(struct req *r, const char *ckey, size_t cklen, const char *tid, const char *slug)
{
	const struct rate_catalog *cat;
	const struct rate_rule *rule;
	struct auth_ctx c;
	const void *v;
	const char *cls;
	char akey[512];
	size_t len, aklen;
	int st;

	if ((v = cache_get(r->w->cache, ckey, cklen, core_mono_ms(), &len)) == NULL ||
	    !auth_ctx_unpack(r->a, v, len, &c) || (cat = catalog_cached(r)) == NULL)
		return -1;
	/* A limit counted exactly is counted by the database: the database path. */
	cls = rate_class(r->route);
	rule = cls != NULL ? rate_catalog_find(cat, c.tier, cls) : NULL;
	if (rule != NULL && !rate_batched(rule))
		return -1;
	/* The answer this context would get (adopt sets the same tenant, role and flag). */
	if ((aklen = answer_key(r, c.tenant_id, c.key ? ROLE_NONE : c.role, !c.key && c.superadmin,
	    akey, sizeof(akey))) == 0 || (v = cache_get(r->w->cache, akey, aklen, core_mono_ms(), &len)) == NULL)
		return -1;
	if ((st = c.key ? adopt_key(r, &c, tid, slug) : adopt_user(r, &c, true)) != 0)
		return st;
	if ((st = decide(r)) != 0)
		return st;
	if (rule != NULL && (st = rate_local(r, rule)) != 0)
		return st;
	r->cached = true;
	r->cache_use = "hit";
	return http_json_raw(r, 200, v, len) == 200 ? 0 : 500;
}

/* ---- Dashboard sessions in the cache (RF_HTML | RF_CACHE pages, GET only) ------ */

/* "W", the session's hash and the workspace's slug; 0 if it does not fit. */
static size_t
session_key(const struct req *r, const char *slug, char *out, size_t cap)
{
	int n = snprintf(out, cap, "W%s\037%s", r->who.session_hash, slug != NULL ? slug : "");

	return slug != NULL && n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/*
 * Keep what the session path established for this workspace: the session's
 * deadlines (ST_SESSION_FACTS, read after the keep-alive), the user, the CSRF
 * token, the workspace switcher and the user's context there. Only a live
 * session whose user may act in the workspace is kept (as ctx_store). Tags:
 * the session (its end), the user (password, superadmin, memberships, and
 * through 006_session_cache.sql every workspace of theirs: the switcher and
 * the idle limit), the tenant.
 */
static void
session_store(struct req *r, const char *key, size_t klen, const struct auth_ctx *c,
    const PGresult *f)
{
	struct auth_session_entry e = { .user_id = r->who.user_id, .csrf = r->who.csrf,
	    .nav = r->web_nav };
	char tag[80];
	uint64_t tags[3];
	size_t len;
	void *blob;

	if (db_rows(f) != 1 || !c->user_found || !c->tenant_found || (!c->member && !c->superadmin) ||
	    (e.ctx = auth_ctx_pack(r->a, c, &e.ctx_len)) == NULL)
		return;
	/* From the request's start, before the database's now(): deadlines err early, never late. */
	auth_session_facts_at(&e.facts, r->t0, db_f64(f, 0, 0), db_f64(f, 0, 1), db_f64(f, 0, 2),
	    (int)db_i64(f, 0, 3), db_f64(f, 0, 4), db_f64(f, 0, 5));
	tags[0] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "s:%s", r->who.session_hash));
	tags[1] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "u:%s", r->who.user_id));
	tags[2] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "t:%s", c->tenant_id));
	if ((blob = auth_session_pack(r->a, &e, &len)) != NULL)
		cache_put(r->w->cache, key, klen, blob, len, tags, 3, r->cache_since, r->t0);
}

/*
 * A page read with the session, its context, the rate rules and the page's
 * data all cached and fresh: the session's deadlines are checked here, at
 * this use (auth_session_fresh: absolute and idle limits, the password
 * cut-off, and a keep-alive that is not yet due), then the same decisions
 * as the database path. -1: something is missing or due, take the database
 * path whole. Else 0 (the handler renders r->page_cached) or the error sent.
 */
static int
session_from_cache(struct req *r, const char *key, size_t klen, const char *slug)
{
	const struct rate_catalog *cat;
	const struct rate_rule *rule;
	struct auth_session_entry e;
	struct auth_ctx c;
	const void *v;
	const char *cls;
	char akey[512], *page;
	size_t len, aklen;
	double now = core_mono_ms();
	int st;

	if ((v = cache_get(r->w->cache, key, klen, now, &len)) == NULL ||
	    !auth_session_unpack(r->a, v, len, &e) || !auth_session_fresh(&e.facts, now) ||
	    !auth_ctx_unpack(r->a, e.ctx, e.ctx_len, &c) || c.slug == NULL || strcmp(c.slug, slug) != 0 ||
	    (cat = catalog_cached(r)) == NULL)
		return -1;
	cls = rate_class(r->route);
	rule = cls != NULL ? rate_catalog_find(cat, c.tier, cls) : NULL;
	if (rule != NULL && !rate_batched(rule))
		return -1;
	if ((aklen = answer_key(r, c.tenant_id, c.role, c.superadmin, akey, sizeof(akey))) == 0 ||
	    (page = cache_get_copy(r->w->cache, r->a, akey, aklen, now, &len)) == NULL)
		return -1;
	snprintf(r->who.user_id, sizeof(r->who.user_id), "%s", e.user_id);
	r->who.csrf = e.csrf;
	r->web_nav = e.nav;
	if ((st = adopt_user(r, &c, true)) != 0 || (st = decide(r)) != 0)
		return st;
	if (rule != NULL && (st = rate_local(r, rule)) != 0)
		return st;
	r->page_cached = page;
	r->page_cached_len = len;
	r->cache_use = "hit";
	return 0;
}

void
auth_cache_store_page(struct req *r, const void *v, size_t len)
{
	const struct route *rt = r->route;
	char key[512], tag[48];
	uint64_t tags[3];
	size_t klen;
	int n = 0;

	if (rt == NULL || (rt->flags & (RF_CACHE | RF_HTML)) != (RF_CACHE | RF_HTML) || !r->cache_ok ||
	    r->page_cached != NULL || r->who.cred != CRED_SESSION || !r->tenant.present ||
	    (klen = answer_key(r, r->tenant.id, r->tenant.role, r->who.superadmin, key, sizeof(key))) == 0)
		return;
	tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "t:%s", r->tenant.id));
	tags[n++] = cache_tag("catalog", 7);
	if (rt->flags & RF_CACHE_USAGE)
		tags[n++] = cache_tag(tag, (size_t)snprintf(tag, sizeof(tag), "usage:%s", r->tenant.id));
	cache_put(r->w->cache, key, klen, v, len, tags, n, r->cache_since, r->t0);
}

/* ---- The one authorisation function ------------------------------------------ */

int
auth_authorize(struct req *r, struct db_batch *b)
{
	const struct route *rt = r->route;
	const char *tid = NULL, *slug = NULL, *cls = NULL;
	struct rate_rule one = { .tier = "" };
	char ckey[AUTH_CTX_KEY_MAX], skey[AUTH_CTX_KEY_MAX];
	const PGresult *res;
	size_t cklen = 0, sklen = 0;
	struct auth_ctx c;
	enum db_status ds;
	int st, take = -1, nav = -1, touch = -1, facts = -1, catq = -1, ruleq = -1;
	const struct rate_catalog *cat = NULL;   /* the cached rules, when no rule is read */

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

	/*
	 * A cacheable read may be answered without the database (SPEC §2):
	 * only GETs (writes are always decided on the database's state, in
	 * their transaction), only bearer credentials, only while listening.
	 */
	if ((rt->flags & RF_CACHE) && r->who.cred != CRED_SESSION) {
		r->cache_use = r->cache_ok ? "miss" : "off";
		if (r->cache_ok && (cklen = auth_ctx_key(ckey, &r->who, tid, slug)) > 0 &&
		    (st = from_cache(r, ckey, cklen, tid, slug)) >= 0)
			return st;
	}
	/* A cacheable page, read (never written) with a session: the same rule. */
	if ((rt->flags & RF_CACHE) && r->who.cred == CRED_SESSION && (r->method & (HTTP_GET | HTTP_HEAD))) {
		r->cache_use = r->cache_ok ? "miss" : "off";
		if (r->cache_ok && (sklen = session_key(r, slug, skey, sizeof(skey))) > 0 &&
		    (st = session_from_cache(r, skey, sklen, slug)) >= 0)
			return st;
	}

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
	 * Last in the batch, so a write's count rolls back with a failed
	 * write. A read class needs the tiers' rules, unless they are cached.
	 */
	if (r->who.cred == CRED_API_KEY)
		db_add(b, ST_KEY_TOUCH, 1, r->who.key_hash);
	if (r->who.cred == CRED_SESSION) {
		touch = db_add(b, ST_SESSION_TOUCH, 1, r->who.session_hash);
		nav = db_add(b, ST_WEB_NAV, 0);   /* the header's workspace switcher */
		if (sklen > 0)
			facts = db_add(b, ST_SESSION_FACTS, 1, r->who.session_hash);
	}
	if (r->who.cred != CRED_NONE && (tid != NULL || slug != NULL || r->who.cred == CRED_API_KEY) &&
	    (cls = rate_class(rt)) != NULL) {
		/*
		 * A read class is decided after the batch, on the tier's rule
		 * and the window's count read in this batch: batched, or an
		 * exact count in a second round trip (a small limit: little
		 * traffic). The rules of every tier are read too when the cache
		 * lacks them, for the requests it will answer.
		 */
		if (!rate_read_class(cls)) {
			if ((take = rate_queue(r, b, cls, false)) < 0)
				return http_error_default(r, 500);
		} else if (tid != NULL && (cat = catalog_cached(r)) != NULL &&
		    rate_known(r->w->rate, tid, cls, (long long)time(NULL))) {
			/* This worker counts the window already: the tier's rule comes from the cache. */
		} else if ((ruleq = db_add(b, ST_RATE_RULE, 2, cls,
		    arena_printf(r->a, "%lld", (long long)time(NULL)))) < 0 ||
		    (r->cache_ok && catalog_cached(r) == NULL && (catq = db_add(b, ST_RATE_CATALOG, 0)) < 0)) {
			return http_error_default(r, 500);
		}
	}
	if (b->n == 0 && !b->begin)
		return 0;
	if ((ds = db_exec(r->w->db, r->a, b, r->request_id)) != DB_OK)
		return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
	if (r->who.cred == CRED_NONE)
		return 0;   /* public route, anonymous caller */
	if (catq >= 0)
		catalog_read(r, b->q[catq].res);

	if (r->who.cred == CRED_API_KEY) {
		if (!ctx_of_key(r, b->q[1].res, b->q[2].res, &c)) {
			log_info(r->request_id, "API key refused: unknown");
			return unauth(r, "the API key is not valid");
		}
		st = adopt_key(r, &c, tid, slug);
	} else {
		if (r->who.cred == CRED_SESSION) {
			/*
			 * No row: no such session, or it ended (idle, absolute,
			 * password changed); not alive: idle longer than a
			 * workspace of the user allows now (a limit tightened
			 * since the last request).
			 */
			if (db_rows(b->q[0].res) != 1 || touch < 0 || !db_bool(b->q[touch].res, 0, 0))
				return unauth(r, "your session has ended; sign in again");
			snprintf(r->who.user_id, sizeof(r->who.user_id), "%s", db_val(b->q[0].res, 0, 2));
			r->who.csrf = db_val(b->q[0].res, 0, 3);
			if (nav >= 0)
				r->web_nav = db_val(b->q[nav].res, 0, 0);
		}
		ctx_of_user(b->q[1].res, &c);
		st = adopt_user(r, &c, tid != NULL || slug != NULL);
		if (facts >= 0 && st == 0)
			session_store(r, skey, sklen, &c, b->q[facts].res);
	}
	if (cklen > 0)
		ctx_store(r, ckey, cklen, &c, tid != NULL || slug != NULL);
	if (st != 0 || (st = decide(r)) != 0)
		return st;
	if (take >= 0)
		return rate_verdict(r, b->q[take].res, cls);
	if (cat != NULL && ruleq < 0) {
		const struct rate_rule *rule = r->tenant.present ? rate_catalog_find(cat, r->tenant.tier, cls) : NULL;

		if (rule == NULL)
			return 0;   /* not limited */
		one = *rule;
		if (rate_batched(&one))
			return rate_local(r, &one);
		goto exact;
	}
	if (ruleq < 0 || !r->tenant.present || db_rows(b->q[ruleq].res) != 1)
		return 0;   /* not limited */
	res = b->q[ruleq].res;
	snprintf(one.cls, sizeof(one.cls), "%s", cls);
	one.limit = db_i64(res, 0, 0);
	one.secs = db_i64(res, 0, 1);
	if (rate_batched(&one)) {
		rate_seen(r->w->rate, r->tenant.id, &one, db_i64(res, 0, 2), db_i64(res, 0, 3));
		return rate_local(r, &one);
	}
exact:
	/* An exact read count: its own round trip, in the same context. */
	{
		struct db_batch again = { .retry = true };

		auth_ctx_again(r, &again);
		if ((take = rate_queue(r, &again, cls, false)) < 0)
			return http_error_default(r, 500);
		if ((ds = db_exec(r->w->db, r->a, &again, r->request_id)) != DB_OK)
			return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
		return rate_verdict(r, again.q[take].res, cls);
	}
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
