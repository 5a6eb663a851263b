/* authz.c: the one authorisation function: principal -> tenant context -> role -> capability. */
#include "auth/authz.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "http/response.h"
#include "http/router.h"
#include "http/worker.h"

#include <string.h>
#include <strings.h>
#include <time.h>

/* Columns of ST_CTX_TENANT_ID / ST_CTX_TENANT_SLUG. */
enum { C_USER_FOUND, C_EMAIL, C_USER_NAME, C_SUPERADMIN, C_TENANT_FOUND, C_TENANT_ID,
       C_SLUG, C_TENANT_NAME, C_TIER, C_STATUS, C_ROLE };

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
	if (h == NULL || *h == '\0')
		return 0;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return unauth(r, "use an Authorization: Bearer token");
	h += 7;
	while (*h == ' ')
		h++;
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

int
auth_authorize(struct req *r, struct db_batch *b)
{
	const struct route *rt = r->route;
	const char *tid = NULL, *slug = NULL;
	const PGresult *ctx;
	enum db_status ds;
	enum role need;
	int st;

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
		return unauth(r, "this route needs an identity token, not a tenant-scoped one");
	if ((st = tenant_candidates(r, &tid, &slug)) != 0)
		return st;
	if (cap_needs_tenant(rt->cap) && tid == NULL && slug == NULL)
		return http_error(r, 400, "tenant_context_required",
		    "name a tenant: a tenant-scoped token, the path, or X-Tenant-ID");
	if (!cap_needs_tenant(rt->cap) && !(rt->flags & (RF_TENANT_OPT | RF_TENANT_BODY)))
		tid = slug = NULL;
	db_add(b, ST_CTX_USER, 1, r->who.user_id);
	if (slug != NULL)
		db_add(b, ST_CTX_TENANT_SLUG, 1, slug);
	else
		db_add(b, ST_CTX_TENANT_ID, 1, tid);
run:
	if (rt->prefetch != NULL && (st = rt->prefetch(r, b)) != 0)
		return st;
	if (b->n == 0 && !b->begin)
		return 0;
	if ((ds = db_exec(r->w->db, r->a, b, r->request_id)) != DB_OK)
		return http_error_default(r, ds == DB_UNAVAILABLE ? 503 : 500);
	if (r->who.cred == CRED_NONE)
		return 0;   /* public route, anonymous caller */

	ctx = b->q[1].res;
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
		r->tenant.present = true;
		memcpy(r->tenant.id, db_val(ctx, 0, C_TENANT_ID), UUID_LEN + 1);
		r->tenant.slug = db_val(ctx, 0, C_SLUG);
		r->tenant.name = db_val(ctx, 0, C_TENANT_NAME);
		r->tenant.tier = db_val(ctx, 0, C_TIER);
		r->tenant.status = db_val(ctx, 0, C_STATUS);
		r->tenant.role = role;
	}

	if (!auth_allows(r, rt->cap)) {
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
	if ((rt->flags & RF_EXPLICIT_CTX) && !r->who.superadmin && r->who.cred != CRED_TENANT &&
	    r->x_tenant_id == NULL)
		return http_error(r, 403, "permission_denied",
		    "this needs a superadmin, or a tenant-scoped token or X-Tenant-ID for this tenant");
	/* A suspended workspace is read-only billing for its members, nothing else. */
	if (r->tenant.present && !r->who.superadmin && !(rt->flags & RF_SUSPENDED_OK) &&
	    r->tenant.status != NULL && strcmp(r->tenant.status, "suspended") == 0)
		return http_error(r, 403, "tenant_suspended", "this workspace is suspended");
	return 0;
}

bool
auth_allows(const struct req *r, enum cap c)
{
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
	db_add(b, ST_CTX_USER, 1, r->who.user_id);
	db_add(b, ST_CTX_TENANT_ID, 1, r->tenant.present ? r->tenant.id : NULL);
}

const PGresult *
auth_pre(const struct db_batch *b, int i)
{
	/* With a principal, q[0] and q[1] are the authorisation context. */
	int base = (b->n > 1 && b->q[0].st == ST_CTX_USER) ? 2 : 0;

	return (base + i < b->n) ? b->q[base + i].res : NULL;
}
