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
#include "core/netaddr.h"
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
       C_SLUG, C_TENANT_NAME, C_TIER, C_STATUS, C_ROLE, C_SET_TENANT, C_IP_ALLOW };
/* Columns of ST_CTX_KEY and ST_CTX_KEY_TENANT. */
enum { K_ID, K_NAME, K_SCOPES, K_EXPIRED, K_REVOKED, K_TENANT, K_HASH, K_EXPIRES_AT, K_REVOKED_AT };
enum { KT_FOUND, KT_ID, KT_SLUG, KT_NAME, KT_TIER, KT_STATUS, KT_API_ACCESS, KT_IP_ALLOW };
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
	c->ip_allow = db_val(res, 0, C_IP_ALLOW);
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
	c->ip_allow = db_val(t, 0, KT_IP_ALLOW);
	return true;
}
/* ---- The decision: a pure function of the facts ------------------------------ */

static const struct auth_verdict ALLOW = { 0, NULL, NULL };

static struct auth_verdict
verdict(int status, const char *code, const char *message)
{
	return (struct auth_verdict){ status, code, message };
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
key_route_ok(enum cap cap, unsigned flags)
{
	switch (cap) {
	case CAP_TENANT_READ:
	case CAP_BILLING_READ:
	case CAP_TENANT_WRITE:
	case CAP_USAGE_WRITE:
		return !(flags & RF_TENANT_BODY);
	case CAP_PRINCIPAL:
		return (flags & RF_TENANT_OPT) != 0;
	default:
		return false;
	}
}

struct auth_verdict
auth_decide_route(const struct auth_facts *f)
{
	if (f->cred == CRED_NONE)
		return f->cap == CAP_PUBLIC ? ALLOW : verdict(401, "unauthenticated", "authentication required");
	/* A page knows only the session cookie, and the API never does (read_credentials). */
	if (((f->flags & RF_HTML) != 0) != (f->cred == CRED_SESSION))
		return verdict(401, "unauthenticated", "authentication required");
	if ((f->flags & RF_IDENTITY) && f->cred != CRED_IDENTITY)
		return verdict(401, "unauthenticated", f->cred == CRED_API_KEY ?
		    "this route needs an identity token, not an API key" :
		    "this route needs an identity token, not a tenant-scoped one");
	if (f->cred == CRED_API_KEY && !key_route_ok(f->cap, f->flags))
		return verdict(403, "permission_denied",
		    "API keys cannot do this (members, API keys, sensitive settings and operator routes need a user)");
	if (cap_needs_tenant(f->cap) && !f->tenant_named && f->cred != CRED_API_KEY)
		return verdict(400, "tenant_context_required",
		    "name a tenant: a tenant-scoped token, the path, or X-Tenant-ID");
	return ALLOW;
}

/* Is a tenant in context once the caller is let in? A key's own; a user's when named. */
static bool
tenant_present(const struct auth_facts *f)
{
	return f->cred == CRED_API_KEY || f->tenant_named;
}

bool
auth_facts_allow(const struct auth_facts *f, enum cap c)
{
	if (f->cred == CRED_API_KEY) {
		/* A key acts by its scopes, in its own tenant only; never as a role. */
		bool get = (f->method & (HTTP_GET | HTTP_HEAD)) != 0;

		switch (c) {
		case CAP_PRINCIPAL:    return true;
		case CAP_TENANT_READ:
		case CAP_BILLING_READ: return get && (f->scopes & SCOPE_READ);
		case CAP_TENANT_WRITE: return !get && (f->scopes & SCOPE_WRITE);
		case CAP_USAGE_WRITE:  return !get && (f->scopes & SCOPE_USAGE);
		default:               return false;
		}
	}
	switch (c) {
	case CAP_PUBLIC:
		return true;
	case CAP_PRINCIPAL:
		return f->cred != CRED_NONE;
	case CAP_SUPERADMIN:
		return f->superadmin;
	default:
		return f->superadmin || (tenant_present(f) && f->role >= auth_cap_min_role(c));
	}
}

/*
 * The API key half: the key is known, neither revoked nor expired, its
 * tenant exists, agrees with the tenant the request names (id or slug)
 * and allows API access.
 */
static struct auth_verdict
decide_key(const struct auth_facts *f)
{
	if (!f->known)
		return verdict(401, "unauthenticated", "the API key is not valid");
	if (f->revoked)
		return verdict(401, "unauthenticated", "the API key has been revoked");
	if (f->expired)
		return verdict(401, "unauthenticated", "the API key has expired");
	if (!f->tenant_found)
		return verdict(401, "unauthenticated", "the API key is not valid");
	if (f->other_tenant)
		return verdict(403, "tenant_mismatch", "this API key belongs to another tenant");
	if (!f->api_access)
		return verdict(403, "feature_not_available",
		    "API access is not enabled for this workspace (plan or features.api_access_enabled)");
	return ALLOW;
}

/* The user half: the user exists and, when a tenant is named, may act there. */
static struct auth_verdict
decide_user(const struct auth_facts *f)
{
	if (!f->known)
		return verdict(401, "unauthenticated", "the token's user no longer exists");
	if (f->tenant_named && (!f->tenant_found || (f->role == ROLE_NONE && !f->superadmin))) {
		/*
		 * A non-member cannot tell a tenant that does not exist from
		 * one that is not theirs: both are 403. Only a superadmin, who
		 * may see every tenant, learns 404.
		 */
		if (f->superadmin)
			return verdict(404, "tenant_not_found", "no such tenant");
		return verdict(403, "permission_denied", "you are not a member of this tenant");
	}
	return ALLOW;
}

struct auth_verdict
auth_decide(const struct auth_facts *f)
{
	struct auth_verdict v = auth_decide_route(f);
	enum role need;

	if (v.status != 0 || f->cred == CRED_NONE)
		return v;
	if ((v = f->cred == CRED_API_KEY ? decide_key(f) : decide_user(f)).status != 0)
		return v;
	/*
	 * The workspace's IP allow-list holds every credential acting there
	 * (a superadmin too, unless the deployment exempts them: adopt()), and
	 * only those who may act there learn that it exists.
	 */
	if (tenant_present(f) && f->addr_refused)
		return verdict(403, "ip_not_allowed", "this workspace does not accept requests from your address");
	/* The capability. */
	if (!auth_facts_allow(f, f->cap)) {
		if (f->cred == CRED_API_KEY)
			return verdict(403, "permission_denied", "this API key's scopes do not allow this");
		if (f->cap == CAP_SUPERADMIN)
			return verdict(403, "permission_denied", "this needs a superadmin");
		need = auth_cap_min_role(f->cap);
		return verdict(403, "permission_denied",
		    need >= ROLE_ADMIN ? "this needs the admin or owner role" : "you may not do this");
	}
	/*
	 * Operator routes (billing) read the path as "which tenant", not as
	 * "act in this tenant": a member must also carry that tenant as their
	 * context, so an identity token alone means superadmin is required.
	 */
	if ((f->flags & RF_EXPLICIT_CTX) && !f->superadmin && f->cred == CRED_IDENTITY && !f->x_tenant)
		return verdict(403, "permission_denied",
		    "this needs a superadmin, or a tenant-scoped token or X-Tenant-ID for this tenant");
	/* A suspended workspace is read-only billing for its members, nothing else. */
	if (tenant_present(f) && !f->superadmin && !(f->flags & RF_SUSPENDED_OK) && f->suspended)
		return verdict(403, "tenant_suspended", "this workspace is suspended");
	return ALLOW;
}

static int
refuse(struct req *r, struct auth_verdict v)
{
	/* The one refusal that names something of the request: the address it came from. */
	if (v.status == 403 && strcmp(v.code, "ip_not_allowed") == 0 && r->client != NULL) {
		const char *m = arena_printf(r->a, "%s (%s); ask an owner of the workspace to allow it",
		    v.message, r->client);

		if (m != NULL)
			v.message = m;
	}
	return http_error(r, v.status, v.code, v.message);
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

/* What the request alone tells: the credential, the route, the tenant it names. */
static void
request_facts(const struct req *r, bool named, struct auth_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->cred = r->who.cred;
	f->cap = r->route->cap;
	f->flags = r->route->flags;
	f->method = r->method;
	f->tenant_named = named;
	f->x_tenant = r->x_tenant_id != NULL;
}

/*
 * Is the client's address outside the tenant's IP allow-list (an empty list
 * allows every address)? A request whose address is unknown or is no IP
 * address is outside any non-empty list.
 */
static bool
addr_refused(const struct req *r, const struct auth_ctx *c)
{
	struct netaddr a;

	if (core_cidr_list_empty(c->ip_allow))
		return false;
	if (!c->key && c->superadmin && r->w->cfg.allowlist_exempt_superadmin)
		return false;
	return r->client == NULL || !core_addr_parse(r->client, &a) || !core_cidr_list_contains(c->ip_allow, &a);
}

static bool
is_suspended(const char *status)
{
	return status != NULL && strcmp(status, "suspended") == 0;
}

/*
 * Decide on context c (from the database or the cache, the same either
 * way; key_known: an API key's context is the stored key's) for the
 * tenant the request names (tid or slug; named: any), and let r->who and
 * r->tenant take what it establishes. A key's dates are
 * checked at this instant, not only as the database saw them when the
 * context was read: a rotation's grace ends on time in a cached context
 * too. 0, or the error sent.
 */
static int
adopt(struct req *r, const struct auth_ctx *c, bool key_known, const char *tid, const char *slug,
    bool named)
{
	struct auth_facts f;
	struct auth_verdict v;

	request_facts(r, named, &f);
	f.known = c->key ? key_known : c->user_found;
	f.superadmin = !c->key && c->superadmin;
	f.tenant_found = c->tenant_found;
	f.role = c->key ? ROLE_NONE : c->role;
	f.suspended = is_suspended(c->status);
	f.addr_refused = addr_refused(r, c);
	if (c->key) {
		double now = epoch_now();

		f.scopes = c->scopes;
		f.revoked = c->revoked || (c->revoked_at > 0 && c->revoked_at <= now);
		f.expired = c->expired || (c->expires_at > 0 && c->expires_at <= now);
		f.other_tenant = (tid != NULL && strcmp(tid, c->tenant_id) != 0) ||
		    (slug != NULL && (c->slug == NULL || strcmp(slug, c->slug) != 0));
		f.api_access = c->api_access;
	}
	v = auth_decide(&f);
	if (c->key) {
		if (v.status == 0 || v.code == NULL || strcmp(v.code, "unauthenticated") != 0) {
			r->who.key_id = c->key_id;
			r->who.key_name = c->key_name;
			r->who.scopes = c->scopes;
		}
	} else if (c->user_found) {
		r->who.superadmin = c->superadmin;
		r->who.email = c->email;
		r->who.name = c->name;
	}
	if (v.status != 0)
		return refuse(r, v);
	if (c->key)
		tenant_set(r, c, ROLE_NONE);
	else if (named)
		tenant_set(r, c, c->role);
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
	if ((st = adopt(r, &c, true, tid, slug, true)) != 0)
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
	if ((st = adopt(r, &c, true, NULL, slug, true)) != 0)
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

/* What one authorisation carries from phase to phase. */
struct authz {
	const char *tid, *slug;   /* the tenant the request names (id or slug), if any */
	bool        named;        /* ... and whether it names one at all */
	bool        anonymous;    /* a public route without a credential: no context */
	const char *cls;          /* the rate-limit class counted here, or NULL */
	char        ckey[AUTH_CTX_KEY_MAX], skey[AUTH_CTX_KEY_MAX];   /* cache keys: bearer, session */
	size_t      cklen, sklen;
	/* Indexes in the batch, -1: not queued. */
	int         take, nav, touch, facts, catq, ruleq;
	int         refused;      /* the 4xx the route's prefetch answered (a malformed query), 0: none */
	const struct rate_catalog *cat;   /* the cached rules, when no rule is read */
};

/*
 * Phase 1, the credential: read it (401 for one that is present but
 * unusable) and let the route and the credential's kind decide what they
 * alone decide. 0 to go on (z->anonymous: with no context at all), or the
 * error sent.
 */
static int
phase_credential(struct req *r, struct authz *z)
{
	const struct route *rt = r->route;
	struct auth_facts f;
	struct auth_verdict v;
	int st;

	if (rt->cap == CAP_PUBLIC && !(rt->flags & RF_OPT_AUTH)) {
		z->anonymous = true;   /* credentials are not even read: login works with a stale header */
		return 0;
	}
	if ((st = read_credentials(r)) != 0)
		return st;
	request_facts(r, true, &f);   /* the tenant is not asked yet: phase 2 */
	if ((v = auth_decide_route(&f)).status != 0)
		return refuse(r, v);
	z->anonymous = r->who.cred == CRED_NONE;   /* RF_OPT_AUTH without a credential */
	return 0;
}

/* Phase 2, the tenant the request names: every place that names one agrees, or 400/403. */
static int
phase_tenant(struct req *r, struct authz *z)
{
	const struct route *rt = r->route;
	struct auth_facts f;
	struct auth_verdict v;
	int st;

	if ((st = tenant_candidates(r, &z->tid, &z->slug)) != 0)
		return st;
	request_facts(r, z->tid != NULL || z->slug != NULL, &f);
	if ((v = auth_decide_route(&f)).status != 0)
		return refuse(r, v);
	if (!cap_needs_tenant(rt->cap) && !(rt->flags & (RF_TENANT_OPT | RF_TENANT_BODY)))
		z->tid = z->slug = NULL;
	z->named = z->tid != NULL || z->slug != NULL;
	return 0;
}

/*
 * Phase 3, the cache (SPEC §2): a cacheable read may be answered without
 * the database -- only GETs (writes are always decided on the database's
 * state, in their transaction), only while listening. -1: not answered
 * here; else what authorisation returns.
 */
static int
phase_cache(struct req *r, struct authz *z)
{
	const struct route *rt = r->route;
	int st;

	if (!(rt->flags & RF_CACHE))
		return -1;
	if (r->who.cred != CRED_SESSION) {
		r->cache_use = r->cache_ok ? "miss" : r->no_cache ? "bypass" : "off";
		if (r->cache_ok && (z->cklen = auth_ctx_key(z->ckey, &r->who, z->tid, z->slug)) > 0 &&
		    (st = from_cache(r, z->ckey, z->cklen, z->tid, z->slug)) >= 0)
			return st;
	} else if (r->method & (HTTP_GET | HTTP_HEAD)) {
		/* A cacheable page, read (never written) with a session: the same rule. */
		r->cache_use = r->cache_ok ? "miss" : r->no_cache ? "bypass" : "off";
		if (r->cache_ok && (z->sklen = session_key(r, z->slug, z->skey, sizeof(z->skey))) > 0 &&
		    (st = session_from_cache(r, z->skey, z->sklen, z->slug)) >= 0)
			return st;
	}
	return -1;
}

/*
 * Phase 4, the batch: the context's statements (b->pre marks where the
 * route's prefetch begins), the prefetch, the credential's keep-alive and,
 * last so a write's count rolls back with a failed write, the rate count
 * or what deciding it needs. 0, or the error sent.
 */
static int
phase_queue(struct req *r, struct db_batch *b, struct authz *z)
{
	const struct route *rt = r->route;
	int st;

	if (!z->anonymous) {
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
			if (z->slug != NULL)
				db_add(b, ST_CTX_TENANT_SLUG, 1, z->slug);
			else
				db_add(b, ST_CTX_TENANT_ID, 1, z->tid);
		}
	}
	b->pre = b->n;
	/*
	 * A prefetch refuses a malformed query (400) before anything is read;
	 * that answer waits until the caller is known to be allowed here at
	 * all: who may not use a route learns 401/403, whatever the query.
	 */
	if (rt->prefetch != NULL && (st = rt->prefetch(r, b)) != 0) {
		if (st >= 500)
			return st;
		z->refused = st;
		b->n = b->pre;
	}
	if (r->who.cred == CRED_API_KEY)
		db_add(b, ST_KEY_TOUCH, 1, r->who.key_hash);
	if (r->who.cred == CRED_SESSION) {
		z->touch = db_add(b, ST_SESSION_TOUCH, 1, r->who.session_hash);
		z->nav = db_add(b, ST_WEB_NAV, 0);   /* the header's workspace switcher */
		if (z->sklen > 0)
			z->facts = db_add(b, ST_SESSION_FACTS, 1, r->who.session_hash);
	}
	if (r->who.cred == CRED_NONE || (!z->named && r->who.cred != CRED_API_KEY) ||
	    (z->cls = rate_class(rt)) == NULL)
		return 0;
	/*
	 * A read class is decided after the batch, on the tier's rule and the
	 * window's count read in this batch: batched, or an exact count in a
	 * second round trip (a small limit: little traffic). The rules of
	 * every tier are read too when the cache lacks them, for the requests
	 * it will answer.
	 */
	if (!rate_read_class(z->cls)) {
		if ((z->take = rate_queue(r, b, z->cls, false)) < 0)
			return http_error_default(r, 500);
	} else if (z->tid != NULL && (z->cat = catalog_cached(r)) != NULL &&
	    rate_known(r->w->rate, z->tid, z->cls, (long long)time(NULL))) {
		/* This worker counts the window already: the tier's rule comes from the cache. */
	} else if ((z->ruleq = db_add(b, ST_RATE_RULE, 2, z->cls,
	    arena_printf(r->a, "%lld", (long long)time(NULL)))) < 0 ||
	    (r->cache_ok && catalog_cached(r) == NULL && (z->catq = db_add(b, ST_RATE_CATALOG, 0)) < 0)) {
		return http_error_default(r, 500);
	}
	return 0;
}

/*
 * Phase 6, adoption: the context the database returned, kept in the cache
 * for the next requests, decided on (adopt). 0, or the error sent.
 */
static int
phase_adopt(struct req *r, struct db_batch *b, struct authz *z)
{
	struct auth_ctx c;
	int st;

	if (z->catq >= 0)
		catalog_read(r, b->q[z->catq].res);
	if (r->who.cred == CRED_API_KEY) {
		bool known = ctx_of_key(r, b->q[1].res, b->q[2].res, &c);

		if (!known)
			log_info(r->request_id, "API key refused: unknown");
		st = adopt(r, &c, known, z->tid, z->slug, true);
	} else {
		if (r->who.cred == CRED_SESSION) {
			/*
			 * No row: no such session, or it ended (idle, absolute,
			 * password changed); not alive: idle longer than a
			 * workspace of the user allows now (a limit tightened
			 * since the last request).
			 */
			if (db_rows(b->q[0].res) != 1 || z->touch < 0 || !db_bool(b->q[z->touch].res, 0, 0))
				return unauth(r, "your session has ended; sign in again");
			snprintf(r->who.user_id, sizeof(r->who.user_id), "%s", db_val(b->q[0].res, 0, 2));
			r->who.csrf = db_val(b->q[0].res, 0, 3);
			if (z->nav >= 0)
				r->web_nav = db_val(b->q[z->nav].res, 0, 0);
		}
		ctx_of_user(b->q[1].res, &c);
		st = adopt(r, &c, true, z->tid, z->slug, z->named);
		if (z->facts >= 0 && st == 0)
			session_store(r, z->skey, z->sklen, &c, b->q[z->facts].res);
	}
	if (z->cklen > 0)
		ctx_store(r, z->ckey, z->cklen, &c, z->named);
	return st;
}

/*
 * Phase 7, the rate limit of the class counted here: exact (the count
 * read in the batch), batched by this worker under the rule read in the
 * batch or kept in the cache, or exact in a second round trip. 0, 429 or
 * 503 (the error sent).
 */
static int
phase_rate(struct req *r, struct db_batch *b, struct authz *z)
{
	struct rate_rule one = { .tier = "" };
	const PGresult *res;
	enum db_status ds;

	if (z->take >= 0)
		return rate_verdict(r, b->q[z->take].res, z->cls);
	if (z->cat != NULL && z->ruleq < 0) {
		const struct rate_rule *rule = r->tenant.present ? rate_catalog_find(z->cat, r->tenant.tier, z->cls) : NULL;

		if (rule == NULL)
			return 0;   /* not limited */
		one = *rule;
		if (rate_batched(&one))
			return rate_local(r, &one);
		goto exact;
	}
	if (z->ruleq < 0 || !r->tenant.present || db_rows(b->q[z->ruleq].res) != 1)
		return 0;   /* not limited */
	res = b->q[z->ruleq].res;
	snprintf(one.cls, sizeof(one.cls), "%s", z->cls);
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
		int take;

		auth_ctx_again(r, &again);
		if ((take = rate_queue(r, &again, z->cls, false)) < 0)
			return http_error_default(r, 500);
		if ((ds = db_exec(r->w->db, r->a, &again, r->request_id)) != DB_OK)
			return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
		return rate_verdict(r, again.q[take].res, z->cls);
	}
}

int
auth_authorize(struct req *r, struct db_batch *b)
{
	struct authz z = { .take = -1, .nav = -1, .touch = -1, .facts = -1, .catq = -1, .ruleq = -1, .refused = 0 };
	enum db_status ds;
	int st;

	memset(b, 0, sizeof(*b));
	b->begin = (r->route->flags & RF_TX) != 0;
	b->retry = !b->begin;
	memset(&r->who, 0, sizeof(r->who));
	memset(&r->tenant, 0, sizeof(r->tenant));

	if ((st = phase_credential(r, &z)) != 0 ||
	    (!z.anonymous && (st = phase_tenant(r, &z)) != 0))
		return st;
	if (!z.anonymous && (st = phase_cache(r, &z)) >= 0)
		return st;
	if ((st = phase_queue(r, b, &z)) != 0)
		return st;
	/* Phase 5, one round trip. */
	if (b->n == 0 && !b->begin)
		return z.refused;
	if ((ds = db_exec(r->w->db, r->a, b, r->request_id)) != DB_OK)
		return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
	if (z.anonymous)
		return z.refused;   /* a public route, an anonymous caller */
	if ((st = phase_adopt(r, b, &z)) != 0)
		return st;
	if (z.refused != 0)
		return z.refused;   /* allowed in: the prefetch's 400 stands (not counted against the rate limit) */
	return phase_rate(r, b, &z);
}


bool
auth_allows(const struct req *r, enum cap c)
{
	struct auth_facts f;

	request_facts(r, r->tenant.present, &f);
	f.known = true;
	f.superadmin = r->who.superadmin;
	f.tenant_found = r->tenant.present;
	f.role = r->tenant.role;
	f.scopes = r->who.scopes;
	return auth_facts_allow(&f, c);
}

void
auth_ctx_again(const struct req *r, struct db_batch *b)
{
	if (r->who.cred == CRED_API_KEY) {
		db_add(b, ST_CTX_KEY_HASH, 1, r->who.key_hash);
		db_add(b, ST_CTX_KEY, 1, r->who.key_hash);
		db_add(b, ST_CTX_KEY_TENANT, 0);
	} else {
		db_add(b, ST_CTX_USER, 1, r->who.user_id);
		db_add(b, ST_CTX_TENANT_ID, 1, r->tenant.present ? r->tenant.id : NULL);
	}
	b->pre = b->n;
}

const PGresult *
auth_pre(const struct db_batch *b, int i)
{
	/* The batch records where the authorisation context ends (b->pre). */
	return (b->pre + i < b->n) ? b->q[b->pre + i].res : NULL;
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
