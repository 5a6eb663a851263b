/* keys.c: API key lifecycle: list, create (the secret shown once), rotate with grace, revoke. */
#include "api/api.h"
#include "auth/apikey.h"
#include "auth/authz.h"
#include "core/meter.h"
#include "core/util.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define KEY_GRACE_MAX 604800   /* rotation grace: at most 7 days */
#define KEY_SCOPES_MAX 3

/* Columns of ST_KEY_ROTATE. */
enum { RO_NAME, RO_SCOPES, RO_EXPIRES, RO_BEFORE, RO_VALID };

static int
no_feature(struct req *r)
{
	return http_error(r, 403, "feature_not_available",
	    "API keys need a plan with API access and features.api_access_enabled");
}

/* ---- list ----------------------------------------------------------------------- */

int
api_key_list_prefetch(struct req *r, struct db_batch *b)
{
	struct page pg;
	int st;

	if ((st = api_page(r, &pg)) != 0)
		return st;
	return db_add(b, ST_KEY_LIST, 5, pg.limit_s, pg.offset_s, pg.page_s, pg.cursor_ts,
	    pg.cursor_id) < 0 ? 500 : 0;
}

/*
 * GET /api/v1/tenants/{id}/api-keys (admin): 200 {api_keys: [{id, name,
 * prefix, scopes, created_at, created_by, last_used_at, expires_at,
 * revoked_at}], total, page, limit, next_cursor}, newest first; never a
 * secret or a hash. 400 page/limit/cursor; 401; 403; 503.
 */
int
api_key_list(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* ---- create and rotate ------------------------------------------------------------ */

/*
 * Make a key and store it (its hash) with name, scopes and expiry: the
 * shared half of create and rotate. before is the audit row's "before"
 * (the rotated key) or NULL. Answers 201 with the key, shown only here.
 */
static int
key_issue(struct req *r, const char *name, const char *scopes, const char *expires,
    const char *action, const char *before)
{
	struct db_batch b = { .commit = true };
	char key[APIKEY_LEN + 1], hash[65], display[APIKEY_DISPLAY_LEN + 1];
	struct json_object *body;
	const char *p[13];
	enum db_status st;

	if (!auth_apikey_new(key) || !core_sha256_hex(key, hash))
		return http_error_default(r, 500);
	auth_apikey_display(key, display);
	p[0] = name;
	p[1] = scopes;
	p[2] = display;
	p[3] = hash;
	p[4] = r->who.user_id;
	p[5] = expires;
	p[6] = action;
	p[7] = before;
	api_audit(r, p + 8);
	db_addv(&b, ST_KEY_CREATE, 13, p);
	st = db_exec(r->w->db, r->a, &b, r->request_id);
	if (st != DB_OK) {
		OPENSSL_cleanse(key, sizeof(key));
		return api_db_fail(r, st);
	}
	if ((body = json_tokener_parse(db_val(b.q[0].res, 0, 0) ? db_val(b.q[0].res, 0, 0) : "")) == NULL) {
		OPENSSL_cleanse(key, sizeof(key));
		return http_error_default(r, 500);
	}
	json_object_object_add(body, "key", json_object_new_string(key));
	OPENSSL_cleanse(key, sizeof(key));
	return http_json(r, 201, body);
}

int
api_key_feature_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_KEY_FEATURE, 0) < 0 ? 500 : 0;
}

static const struct field create_fields[] = {
	{ "name", FT_STRING, true, 1, 100 },
	{ "scopes", FT_ARRAY, true, 1, KEY_SCOPES_MAX },
	{ "expires_at", FT_STRING, false, 1, 40 },
};
enum { F_NAME, F_SCOPES, F_EXPIRES, F__N };

/* scopes as a text[] literal of known, distinct names, or NULL with the problem in *why. */
static const char *
scopes_literal(struct req *r, struct json_object *a, const char **why)
{
	char lit[64] = "{";
	unsigned seen = 0;

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *v = json_object_array_get_idx(a, i);
		unsigned bit;

		if (!json_object_is_type(v, json_type_string) ||
		    (bit = auth_scopes_parse(json_object_get_string(v))) == 0 ||
		    strchr(json_object_get_string(v), ' ') != NULL) {
			*why = "must be scopes from read, write, usage:write";
			return NULL;
		}
		if (seen & bit) {
			*why = "must not repeat a scope";
			return NULL;
		}
		seen |= bit;
		if (strlen(lit) > 1)
			strcat(lit, ",");
		strcat(lit, json_object_get_string(v));
	}
	strcat(lit, "}");
	return arena_strdup(r->a, lit);
}

/*
 * POST /api/v1/tenants/{id}/api-keys {name, scopes, expires_at?} (admin):
 * 201 {id, name, prefix, scopes, created_at, expires_at, key}; the key is
 * shown only here and stored as its SHA-256. 400 bad fields (scopes from
 * read, write, usage:write; expires_at RFC 3339 in the future); 403 role or
 * feature_not_available; 401; 503.
 */
int
api_key_create(struct req *r, struct db_batch *pre)
{
	struct fval v[F__N];
	const char *scopes, *why = NULL, *expires = NULL;
	int64_t at;
	int rc;

	if ((rc = http_fields(r, create_fields, F__N, v)) != 0)
		return rc;
	if ((scopes = scopes_literal(r, v[F_SCOPES].o, &why)) == NULL)
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("scopes", why ? why : "is not valid"));
	if (v[F_EXPIRES].set) {
		char t[21];

		if (!core_rfc3339_parse(v[F_EXPIRES].s, &at) || at <= (int64_t)time(NULL))
			return http_error_details(r, 400, "invalid_request", "some fields are not valid",
			    api_detail("expires_at", "must be an RFC 3339 time in the future"));
		core_rfc3339((time_t)at, t);
		expires = arena_strdup(r->a, t);
	}
	if (!db_bool(auth_pre(pre, 0), 0, 0))
		return no_feature(r);
	return key_issue(r, v[F_NAME].s, scopes, expires, "api_key.created", NULL);
}

/*
 * POST /api/v1/tenants/{id}/api-keys/{key_id}/rotate {grace_seconds?}
 * (admin): 201 a new key with the same name, scopes and expiry (the body of
 * create); the old key keeps working for grace_seconds (0..604800, default
 * 0), then answers 401. 400 bad grace; 403 role or feature; 404 no such key;
 * 409 the key is already revoked or expired; 401; 503.
 */
int
api_key_rotate(struct req *r, struct db_batch *pre)
{
	static const struct field f[] = { { "grace_seconds", FT_INT, false, 0, KEY_GRACE_MAX } };
	struct fval v[1];
	struct db_batch b = { 0 };
	const char *grace;
	const PGresult *old;
	enum db_status st;
	int rc;

	if ((rc = http_fields(r, f, 1, v)) != 0)
		return rc;
	if (!db_bool(auth_pre(pre, 0), 0, 0))
		return no_feature(r);
	grace = arena_printf(r->a, "%lld", v[0].set ? v[0].i : 0LL);
	db_add(&b, ST_KEY_ROTATE, 2, r->param[1], grace);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	old = b.q[0].res;
	if (db_rows(old) != 1)
		return http_error(r, 404, "api_key_not_found", "no such API key in this tenant");
	if (!db_bool(old, 0, RO_VALID))
		return http_error(r, 409, "conflict", "this API key is already revoked or expired");
	return key_issue(r, db_val(old, 0, RO_NAME), db_val(old, 0, RO_SCOPES), db_val(old, 0, RO_EXPIRES),
	    "api_key.rotated", db_val(old, 0, RO_BEFORE));
}

/*
 * DELETE /api/v1/tenants/{id}/api-keys/{key_id} (admin): 204; the key
 * answers 401 from its very next use (a rotation's grace is cut short).
 * 404 no such key; 409 already revoked; 401; 403; 503.
 */
int
api_key_revoke(struct req *r, struct db_batch *pre)
{
	struct db_batch b = { 0 };
	const char *p[6];
	enum db_status st;

	(void)pre;
	p[0] = r->param[1];
	api_audit(r, p + 1);
	db_addv(&b, ST_KEY_REVOKE, 6, p);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	if (db_i64(b.q[0].res, 0, 0) == 1)
		return http_empty(r, 204);
	if (!db_bool(b.q[0].res, 0, 1))
		return http_error(r, 404, "api_key_not_found", "no such API key in this tenant");
	return http_error(r, 409, "conflict", "this API key is already revoked");
}
