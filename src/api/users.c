/* users.c: POST /api/v1/users, superadmins create accounts. */
#include "api/api.h"
#include "auth/password.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <string.h>

static const struct field user_fields[] = {
	{ "email", FT_EMAIL, true, 0, 0 },
	{ "password", FT_SECRET, true, AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX },
	{ "name", FT_STRING, true, 1, 100 },
	{ "is_superadmin", FT_BOOL, false, 0, 0 },
};
enum { F_EMAIL, F_PASSWORD, F_NAME, F_SUPERADMIN, F__N };

/*
 * 201 the user; 400 invalid fields; 409 the email is taken; 503. Runs in
 * the transaction auth opened; the user and its audit row commit together.
 */
int
api_user_create(struct req *r, struct db_batch *pre)
{
	struct fval v[F__N];
	char hash[AUTH_HASH_MAX];
	struct db_batch b = { .commit = true };
	enum db_status st;
	int rc;

	if ((rc = http_fields(r, user_fields, F__N, v)) != 0)
		return rc;
	if (!auth_password_hash(v[F_PASSWORD].s, v[F_PASSWORD].len, hash))
		return http_error_default(r, 500);
	db_add(&b, ST_USER_CREATE, 9, v[F_EMAIL].s, v[F_NAME].s, hash,
	    v[F_SUPERADMIN].set && v[F_SUPERADMIN].b ? "true" : "false",
	    "user", r->who.user_id, r->who.email, r->request_id, r->client);
	st = db_exec(r->w->db, r->a, &b, r->request_id);
	if (st == DB_CONFLICT)
		return http_error(r, 409, "conflict", "a user with this email already exists");
	if (st != DB_OK)
		return api_db_fail(r, st);
	return api_send_pg_json(r, 201, b.q[0].res);
}
