/* tenants.c: tenant routes: list, create, get, patch, stats, and the current tenant. */
#include "api/api.h"
#include "auth/authz.h"
#include "core/log.h"
#include "core/util.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int
api_tenant_current_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_TENANT_CURRENT, 0) < 0 ? 500 : 0;
}

/*
 * GET /api/v1/tenants/current: 200 {id, name, slug, subscription_tier,
 * created_at, user_role, member_count}; 400 tenant_context_required, 401,
 * 403, 503 from authorisation.
 */
int
api_tenant_current(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* ---- list ------------------------------------------------------------------ */

static bool
valid_tier_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

int
api_tenant_list_prefetch(struct req *r, struct db_batch *b)
{
	struct page pg;
	const char *tier = api_query(r, "tier"), *q = api_query(r, "q");
	const char *status = api_query(r, "status");
	int st;

	if ((st = api_page(r, &pg)) != 0)
		return st;
	if (tier != NULL && !valid_tier_name(tier))
		return http_error(r, 400, "invalid_request", "tier must be a tier name");
	if (status != NULL && strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0)
		return http_error(r, 400, "invalid_request", "status must be active or suspended");
	if (q != NULL && (strlen(q) > 100 || http_has_control(q, strlen(q))))
		return http_error(r, 400, "invalid_request", "q must be at most 100 characters of text");
	db_add(b, ST_TENANT_LIST, 8, tier, status, q, pg.cursor_ts, pg.cursor_id, pg.limit_s,
	    pg.offset_s, pg.page_s);
	return 0;
}

/*
 * GET /api/v1/tenants?page&cursor&limit&tier&status&q: 200 {tenants, total,
 * page, limit, next_cursor}, newest first; a superadmin sees every tenant,
 * anyone else the tenants they belong to. 400 bad page/limit/cursor/tier/
 * status/q; 401; 503.
 */
int
api_tenant_list(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* ---- create ---------------------------------------------------------------- */

static const struct field create_fields[] = {
	{ "name", FT_STRING, true, 3, 100 },
	{ "slug", FT_STRING, false, 1, 63 },
	{ "tier", FT_STRING, false, 1, 32 },
	{ "owner_email", FT_EMAIL, false, 0, 0 },
};
enum { C_NAME, C_SLUG, C_TIER, C_OWNER, C__N };

/*
 * POST /api/v1/tenants (superadmin): 201 the tenant, with default settings
 * and, given owner_email, its owner; 400 invalid fields, unknown tier or
 * owner; 409 slug taken; 503.
 */
int
api_tenant_create(struct req *r, struct db_batch *pre)
{
	struct fval v[C__N];
	struct db_batch b = { 0 };
	char slug[64], id[UUID_LEN + 1];
	const char *p[10];
	enum db_status st;
	int rc;

	if ((rc = http_fields(r, create_fields, C__N, v)) != 0)
		return rc;
	if (v[C_SLUG].set)
		snprintf(slug, sizeof(slug), "%s", v[C_SLUG].s);
	else
		core_slugify(v[C_NAME].s, slug);
	if (!core_slug_valid(slug, strlen(slug)))
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("slug", "must be lower-case letters, digits and '-', 1-63 characters"));
	if (v[C_TIER].set && !valid_tier_name(v[C_TIER].s))
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("tier", "is not a tier"));
	if (!core_uuid_new(id))
		return http_error_default(r, 500);
	p[0] = id;
	p[1] = v[C_NAME].s;
	p[2] = slug;
	p[3] = v[C_TIER].set ? v[C_TIER].s : "free";
	p[4] = v[C_OWNER].set ? v[C_OWNER].s : NULL;
	api_audit(r, p + 5);
	db_add(&b, ST_SET_TENANT, 1, id);
	db_addv(&b, ST_TENANT_CREATE_API, 10, p);
	st = db_exec(r->w->db, r->a, &b, r->request_id);
	if (st == DB_CONFLICT)
		return http_error(r, 409, "conflict", "a tenant with this slug already exists");
	if (st == DB_REFUSED && b.constraint != NULL && strstr(b.constraint, "tier") != NULL)
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("tier", "is not a tier"));
	if (st != DB_OK)
		return api_db_fail(r, st);
	if (!db_bool(b.q[1].res, 0, 1))
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("owner_email", "no user has this email"));
	return api_send_pg_json(r, 201, b.q[1].res);
}

/* ---- get, patch, stats ----------------------------------------------------- */

int
api_tenant_get_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_TENANT_GET, 0) < 0 ? 500 : 0;
}

/* GET /api/v1/tenants/{id} (member): 200 the tenant; 401/403/404/503. */
int
api_tenant_get(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

static const struct field patch_fields[] = {
	{ "name", FT_STRING, false, 3, 100 },
	{ "tier", FT_STRING, false, 1, 32 },
	{ "status", FT_STRING, false, 1, 16 },
	{ "limits", FT_OBJECT, false, 0, 0 },
};
enum { P_NAME, P_TIER, P_STATUS, P_LIMITS, P__N };

/* limits: {meter: integer >= -1 or null}; NULL if fine, else the problem. */
static const char *
check_limits(struct json_object *o)
{
	if (json_object_object_length(o) > 64)
		return "has too many meters";
	json_object_object_foreach(o, k, val) {
		if (strlen(k) == 0 || strlen(k) > 63)
			return "names an unknown meter";
		if (val == NULL)
			continue;
		if (!json_object_is_type(val, json_type_int) || json_object_get_int64(val) < -1)
			return "values must be integers >= -1 (unlimited) or null (the tier's limit)";
	}
	return NULL;
}

/*
 * PATCH /api/v1/tenants/{id}: an admin may change name; a superadmin also
 * tier, status (active|suspended) and limits (overrides per meter). 200 the
 * tenant; 400 invalid fields, unknown tier or meter; 403 a field above the
 * caller's capability; 401/404/503. One audit row with before and after.
 */
int
api_tenant_patch(struct req *r, struct db_batch *pre)
{
	struct fval v[P__N];
	struct db_batch b = { 0 }, a = { .commit = true };
	const char *limits = NULL, *problem, *p[6];
	struct json_object *details;
	enum db_status st;
	int rc;

	if ((rc = http_fields(r, patch_fields, P__N, v)) != 0)
		return rc;
	if ((v[P_TIER].set || v[P_STATUS].set || v[P_LIMITS].set) && !auth_allows(r, CAP_SUPERADMIN))
		return http_error(r, 403, "permission_denied",
		    "only a superadmin may change tier, status or limits");
	details = json_object_new_array();
	if (v[P_STATUS].set && strcmp(v[P_STATUS].s, "active") != 0 &&
	    strcmp(v[P_STATUS].s, "suspended") != 0)
		json_object_array_add(details, api_detail_obj("status", "must be active or suspended"));
	if (v[P_TIER].set && !valid_tier_name(v[P_TIER].s))
		json_object_array_add(details, api_detail_obj("tier", "is not a tier"));
	if (v[P_LIMITS].set) {
		if ((problem = check_limits(v[P_LIMITS].o)) != NULL)
			json_object_array_add(details, api_detail_obj("limits", problem));
		else
			limits = json_object_to_json_string_ext(v[P_LIMITS].o, JSON_C_TO_STRING_PLAIN);
	}
	if (json_object_array_length(details) > 0)
		return http_error_details(r, 400, "invalid_request", "some fields are not valid", details);
	json_object_put(details);

	db_add(&b, ST_TENANT_PATCH, 4, v[P_NAME].s, v[P_TIER].s, v[P_STATUS].s, limits);
	st = db_exec(r->w->db, r->a, &b, r->request_id);
	if (st == DB_REFUSED && b.constraint != NULL)
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail(strstr(b.constraint, "tier") ? "tier" : "limits",
			strstr(b.constraint, "tier") ? "is not a tier" : "names an unknown meter"));
	if (st != DB_OK)
		return api_db_fail(r, st);
	p[0] = db_val(b.q[0].res, 0, 0);
	api_audit(r, p + 1);
	db_addv(&a, ST_TENANT_AFTER_PATCH, 6, p);
	if ((st = db_exec(r->w->db, r->a, &a, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	return api_send_pg_json(r, 200, a.q[0].res);
}

int
api_tenant_stats_prefetch(struct req *r, struct db_batch *b)
{
	if (db_add(b, ST_TENANT_STATS, 0) < 0)
		return 500;
	return api_usage_prefetch(r, b);
}

/*
 * GET /api/v1/tenants/{id}/stats (member): 200 {tenant_id, members,
 * api_keys, invitations_pending, audit_events_24h, usage: {meter: {used,
 * limit, percentage, period, unit}}} (usage in the current period);
 * 401/403/404/503.
 */
int
api_tenant_stats(struct req *r, struct db_batch *pre)
{
	const char *j = db_val(auth_pre(pre, 0), 0, 0);
	struct json_object *body, *usage;

	if (j == NULL)
		return http_error_default(r, 404);
	if ((body = json_tokener_parse(j)) == NULL)
		return http_error_default(r, 500);
	if ((usage = api_usage_quotas_now(r, auth_pre(pre, 1))) == NULL) {
		json_object_put(body);
		return http_error_default(r, 500);
	}
	json_object_object_add(body, "usage", usage);
	return http_json(r, 200, body);
}
