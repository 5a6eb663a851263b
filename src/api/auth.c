/* auth.c: POST /api/v1/auth/login and POST /api/v1/auth/tenant-token. */
#include "api/api.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "core/log.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct field login_fields[] = {
	{ "email", FT_SECRET, true, 1, 254 },
	{ "password", FT_SECRET, true, 1, AUTH_PASSWORD_MAX },
};

/*
 * Add the token fields to body and send it. The token string is copied into
 * the JSON and freed here.
 */
static int
send_token(struct req *r, struct json_object *body, char *token)
{
	if (token == NULL) {
		json_object_put(body);
		return http_error_default(r, 500);
	}
	json_object_object_add(body, "access_token", json_object_new_string(token));
	json_object_object_add(body, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(body, "expires_in", json_object_new_int(r->w->cfg.token_ttl));
	free(token);
	return http_json(r, 200, body);
}

#define LOGIN_PAIR_MAX 10    /* failures of one (email, address) pair in 15 minutes */
#define LOGIN_ADDR_MAX 100   /* failures of one address, any email, in 15 minutes: then a pair's first failure locks it */

/* Columns of ST_LOGIN_GATE. */
enum { G_PAIR, G_ADDR, G_RETRY };

/*
 * Check a sign-in (the JSON API's and the dashboard's): 0 with *uid_out
 * the user's id (arena); else the error written: 401 "invalid email or
 * password" for an unknown email and a wrong password alike, after the
 * same Argon2id work; 429 rate_limited with Retry-After once an (email,
 * client address) pair failed 10 times in 15 minutes, or once at all while
 * the address failed 100 times (checked before the password, so a locked
 * pair learns nothing, whether the email exists included); 503. A success
 * clears the pair's failures and upgrades an old password hash.
 */
int
api_login_check(struct req *r, const char *email_in, const char *password, size_t pwlen,
    const char **uid_out)
{
	struct db_batch b = { .retry = true }, f = { 0 };
	const char *email, *who, *uid = NULL, *hash = NULL, *now, *client = r->client ? r->client : "-";
	enum db_status st;
	bool ok;
	int gate, look = -1;
	long long pair;

	/* A malformed email is just an unknown one: same answer, same cost. */
	email = core_email_normalize(r->a, email_in);
	who = email ? email : email_in;   /* what the failure counter is keyed on */
	now = arena_printf(r->a, "%lld", (long long)time(NULL));
	gate = db_add(&b, ST_LOGIN_GATE, 3, who, client, now);
	if (email != NULL)
		look = db_add(&b, ST_USER_LOGIN, 1, email);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	/*
	 * A locked pair, or a pair that failed once from an address over its
	 * cap: refused before the password. A clean pair is always heard, so
	 * a spraying address cannot lock out an account that never failed
	 * from it, and gets one guess an email per window.
	 */
	pair = db_i64(b.q[gate].res, 0, G_PAIR);
	if (pair >= LOGIN_PAIR_MAX || (pair > 0 && db_i64(b.q[gate].res, 0, G_ADDR) >= LOGIN_ADDR_MAX)) {
		long long retry = db_i64(b.q[gate].res, 0, G_RETRY);

		http_header(r, "Retry-After", arena_printf(r->a, "%lld", retry > 0 ? retry : 1));
		return http_error(r, 429, "rate_limited", "too many failed sign-ins; try again later");
	}
	if (look >= 0) {
		uid = db_val(b.q[look].res, 0, 0);
		hash = db_val(b.q[look].res, 0, 1);
	}
	ok = auth_password_verify(uid ? hash : auth_password_dummy(), password, pwlen);
	if (!ok || uid == NULL) {
		db_add(&f, ST_LOGIN_FAILED, 3, who, client, now);
		if (db_exec(r->w->db, r->a, &f, r->request_id) != DB_OK)
			log_warn(r->request_id, "login failure not counted");
		return http_error(r, 401, "unauthenticated", "invalid email or password");
	}

	if (auth_password_needs_rehash(hash)) {
		char nh[AUTH_HASH_MAX];
		struct db_batch u = { 0 };

		/*
		 * Best effort: a failed upgrade must not fail a correct login.
		 * The user's own context first: RLS lets a user update only their
		 * own row.
		 */
		if (auth_password_hash(password, pwlen, nh)) {
			db_add(&u, ST_CTX_USER, 1, uid);
			db_add(&u, ST_USER_SET_HASH, 2, uid, nh);
			if (db_exec(r->w->db, r->a, &u, r->request_id) != DB_OK)
				log_warn(r->request_id, "password hash upgrade failed");
		}
	}

	memset(&b, 0, sizeof(b));
	b.retry = true;
	db_add(&b, ST_LOGIN_OK, 2, who, client);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	*uid_out = uid;
	return 0;
}

/*
 * 200 {access_token, token_type, expires_in, user, tenants}; 401, 429, 503
 * as api_login_check() says; 400 malformed body.
 */
int
api_login(struct req *r, struct db_batch *pre)
{
	struct fval v[2];
	struct db_batch b = { .retry = true };
	const char *uid;
	struct json_object *me, *user, *tenants, *body;
	enum db_status st;
	int rc;

	(void)pre;
	if ((rc = http_fields(r, login_fields, 2, v)) != 0)
		return rc;
	if ((rc = api_login_check(r, v[0].s, v[1].s, v[1].len, &uid)) != 0)
		return rc;
	db_add(&b, ST_CTX_USER, 1, uid);
	db_add(&b, ST_ME, 0);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	if ((me = json_tokener_parse(db_val(b.q[1].res, 0, 0) ? db_val(b.q[1].res, 0, 0) : "")) == NULL)
		return http_error_default(r, 500);
	body = json_object_new_object();
	if (json_object_object_get_ex(me, "user", &user))
		json_object_object_add(body, "user", json_object_get(user));
	if (json_object_object_get_ex(me, "tenants", &tenants))
		json_object_object_add(body, "tenants", json_object_get(tenants));
	json_object_put(me);
	return send_token(r, body, auth_jwt_issue(&r->w->jwt, JWT_IDENTITY, uid, NULL,
	    time(NULL), r->w->cfg.token_ttl));
}

/*
 * 200 {access_token, token_type, expires_in, tenant_id, role}. The route
 * takes the tenant from the body and auth_authorize has checked membership
 * (a superadmin who is not a member gets role null); 400/401/403/503 come
 * from there.
 */
int
api_tenant_token(struct req *r, struct db_batch *pre)
{
	static const struct field f[] = { { "tenant_id", FT_UUID, true, 0, 0 } };
	struct fval v[1];
	const char *role = auth_role_name(r->tenant.role);
	struct json_object *body;
	int rc;

	if ((rc = http_fields(r, f, 1, v)) != 0)
		return rc;
	body = json_object_new_object();
	json_object_object_add(body, "tenant_id", json_object_new_string(r->tenant.id));
	json_object_object_add(body, "role", role ? json_object_new_string(role) : NULL);
	return send_token(r, body, auth_jwt_issue(&r->w->jwt, JWT_TENANT, r->who.user_id,
	    r->tenant.id, time(NULL), r->w->cfg.token_ttl));
}
