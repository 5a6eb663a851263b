/* members.c: members and invitations: list, invite, accept, change role, remove, revoke. */
#include "api/api.h"
#include "auth/authz.h"
#include "auth/members.h"
#include "auth/password.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/meter.h"
#include "core/util.h"
#include "net/mail.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define INVITE_TOKEN_LEN 32

/* Hex SHA-256 of s, in the arena: how invitation tokens are stored and found. */
static const char *
sha256_hex(struct arena *a, const char *s)
{
	char *hex = arena_alloc(a, 65);

	return hex != NULL && core_sha256_hex(s, hex) ? hex : NULL;
}

static int
verdict_response(struct req *r, struct member_verdict v)
{
	return http_error(r, v.status, v.code, v.message);
}

/*
 * The users meter at an invitation or acceptance, from ST_INVITE_SEATS:
 * would `seats` seats pass the users limit plus grace? Then 429
 * usage_limit_exceeded (the pipeline rolls the request back), else 0.
 */
static int
seats_check(struct req *r, const PGresult *res, long long seats)
{
	long long limit = db_i64(res, 0, 2), cap;
	struct json_object *d, *e;

	if (db_rows(res) != 1 || db_val(res, 0, 2) == NULL || limit < 0)
		return 0;
	cap = core_meter_hard_cap(limit, (int)db_i64(res, 0, 3));
	if (seats <= cap)
		return 0;
	/* The same detail shape as a refused usage batch. */
	d = json_object_new_array();
	e = api_detail_obj("users", "is at its limit");
	json_object_object_add(e, "meter", json_object_new_string("users"));
	json_object_object_add(e, "limit", json_object_new_int64(limit));
	json_object_object_add(e, "used", json_object_new_int64(seats - 1));
	json_object_object_add(e, "requested", json_object_new_int64(1));
	json_object_array_add(d, e);
	return http_error_details(r, 429, "usage_limit_exceeded",
	    arena_printf(r->a, "this workspace's plan allows %lld users (members and pending "
		"invitations); remove a member or revoke an invitation, or upgrade the plan", cap), d);
}

/* ---- list ------------------------------------------------------------------- */

int
api_member_list_prefetch(struct req *r, struct db_batch *b)
{
	struct page pg;
	int st;

	const char *q = api_query(r, "q");

	if ((st = api_page(r, &pg)) != 0)
		return st;
	if (q != NULL && (strlen(q) > 100 || http_has_control(q, strlen(q))))
		return http_error(r, 400, "invalid_request", "q must be at most 100 characters of text");
	db_add(b, ST_MEMBER_LIST, 6, pg.limit_s, pg.offset_s, pg.page_s, q, pg.cursor_ts, pg.cursor_id);
	return 0;
}

/*
 * GET /api/v1/tenants/{id}/users?q&cursor&page&limit (member): 200 {users,
 * total, page, limit, next_cursor}, in joined order; q searches e-mail and
 * name. 400 bad page/limit/cursor/q; 401; 403; 503.
 */
int
api_member_list(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* ---- invite ----------------------------------------------------------------- */

/*
 * The invitation email. The address was validated (no CR/LF), the tenant
 * name comes from the database and is put in the body only.
 */
static void
send_invitation(struct req *r, const char *email, const char *role, const char *url)
{
	struct buf m;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (r->w->cfg.sendmail == NULL)
		return;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_init(&m);
	buf_printf(&m, "To: %s\r\nFrom: tenantry <no-reply@tenantry.invalid>\r\n"
	    "Subject: You are invited to a tenantry workspace\r\nDate: %s\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", email, date);
	buf_printf(&m, "%s invited you to the workspace \"%s\" as %s.\r\n\r\n"
	    "Accept the invitation within 7 days:\r\n%s\r\n",
	    r->who.email ? r->who.email : "An administrator", r->tenant.name ? r->tenant.name : "",
	    role, url);
	if (!m.oom && !net_mail_send(r->w->cfg.sendmail, m.p, m.len, 5000, r->request_id))
		log_warn(r->request_id, "invitation email not sent; the invite_url still works");
	buf_release(&m);
}

static const struct field invite_fields[] = {
	{ "email", FT_EMAIL, true, 0, 0 },
	{ "role", FT_STRING, true, 1, 16 },
};

/*
 * POST /api/v1/tenants/{id}/users/invite {email, role} (admin; only an
 * owner invites an owner): 201 {invitation:{id,email,role,expires_at},
 * token, invite_url}; the token is shown only here and stored hashed. A
 * pending invitation of the same address is replaced. 400 invalid fields;
 * 403; 409 already a member; 503.
 */
int
api_member_invite(struct req *r, struct db_batch *pre)
{
	struct fval v[2];
	struct db_batch b = { 0 };
	struct member_change mc = { 0 };
	struct member_verdict mv;
	char token[INVITE_TOKEN_LEN + 1];
	const char *p[9], *hash, *url;
	struct json_object *body, *inv;
	enum db_status st;
	enum role role;
	int rc, ci, seats;

	if ((rc = http_fields(r, invite_fields, 2, v)) != 0)
		return rc;
	if ((role = auth_role_parse(v[1].s)) == ROLE_NONE)
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("role", "must be owner, admin, member or viewer"));
	mc = (struct member_change){ .actor = r->tenant.role, .superadmin = r->who.superadmin,
	    .to = role, .invite = true };
	if ((mv = auth_member_change(&mc)).status != 0)
		return verdict_response(r, mv);
	if (!core_random_base62(token, INVITE_TOKEN_LEN) || (hash = sha256_hex(r->a, token)) == NULL)
		return http_error_default(r, 500);

	p[0] = v[0].s;
	p[1] = v[1].s;
	p[2] = hash;
	p[3] = r->who.user_id;
	api_audit(r, p + 4);
	db_add(&b, ST_MEMBER_BY_EMAIL, 1, v[0].s);
	db_add(&b, ST_TENANT_LOCK, 0);
	seats = db_add(&b, ST_INVITE_SEATS, 1, v[0].s);
	db_add(&b, ST_INVITE_REVOKE_PENDING, 1, v[0].s);
	ci = db_addv(&b, ST_INVITE_CREATE, 9, p);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	if (db_rows(b.q[0].res) > 0)
		return http_error(r, 409, "conflict", "that address is already a member of this tenant");
	if ((rc = seats_check(r, b.q[seats].res,
	    db_i64(b.q[seats].res, 0, 0) + db_i64(b.q[seats].res, 0, 1) + 1)) != 0)
		return rc;
	if ((st = db_commit(r->w->db, r->a, r->request_id)) != DB_OK)
		return api_db_fail(r, st);

	url = arena_printf(r->a, "%s/invite/%s", r->w->cfg.public_url, token);
	send_invitation(r, v[0].s, v[1].s, url);
	if ((inv = json_tokener_parse(db_val(b.q[ci].res, 0, 0))) == NULL)
		return http_error_default(r, 500);
	body = json_object_new_object();
	json_object_object_add(body, "invitation", inv);
	json_object_object_add(body, "token", json_object_new_string(token));
	json_object_object_add(body, "invite_url", json_object_new_string(url));
	return http_json(r, 201, body);
}

/* ---- role and removal --------------------------------------------------------- */

int
api_member_lock_prefetch(struct req *r, struct db_batch *b)
{
	if (db_add(b, ST_TENANT_LOCK, 0) < 0 || db_add(b, ST_MEMBER_STATE, 1, r->param[1]) < 0)
		return 500;
	return 0;
}

/* The owner rules' inputs for a change of r->param[1] to `to`. */
static struct member_change
change_of(struct req *r, struct db_batch *pre, enum role to)
{
	const PGresult *lock = auth_pre(pre, 1);   /* ST_MEMBER_STATE, after the lock */

	return (struct member_change){
		.actor = r->tenant.role, .superadmin = r->who.superadmin,
		.self = strcmp(r->param[1], r->who.user_id) == 0,
		.from = auth_role_parse(db_val(lock, 0, 0)), .to = to,
		.owners = db_i64(lock, 0, 1),
	};
}

/*
 * PATCH /api/v1/tenants/{id}/users/{user_id}/role {role} (admin, owner
 * rules): 200 the membership; 400; 403; 404 not a member; 409 the last
 * owner; 503. The tenant row is locked first, so concurrent changes cannot
 * both demote "the other" owner.
 */
int
api_member_role(struct req *r, struct db_batch *pre)
{
	static const struct field f[] = { { "role", FT_STRING, true, 1, 16 } };
	struct fval v[1];
	struct member_change mc;
	struct member_verdict mv;
	struct db_batch b = { .commit = true };
	const char *p[7];
	enum db_status st;
	enum role to;
	int rc;

	if ((rc = http_fields(r, f, 1, v)) != 0)
		return rc;
	if ((to = auth_role_parse(v[0].s)) == ROLE_NONE)
		return http_error_details(r, 400, "invalid_request", "some fields are not valid",
		    api_detail("role", "must be owner, admin, member or viewer"));
	mc = change_of(r, pre, to);
	if ((mv = auth_member_change(&mc)).status != 0)
		return verdict_response(r, mv);
	p[0] = r->param[1];
	p[1] = v[0].s;
	api_audit(r, p + 2);
	db_addv(&b, ST_MEMBER_SET_ROLE, 7, p);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	return api_send_pg_json(r, 200, b.q[0].res);
}

/*
 * DELETE /api/v1/tenants/{id}/users/{user_id} (admin, owner rules; anyone
 * may be removed by an admin except an owner, and the last owner never):
 * 204; 403; 404; 409; 503.
 */
int
api_member_remove(struct req *r, struct db_batch *pre)
{
	struct member_change mc = change_of(r, pre, ROLE_NONE);
	struct member_verdict mv;
	struct db_batch b = { .commit = true };
	const char *p[6];
	enum db_status st;

	if ((mv = auth_member_change(&mc)).status != 0)
		return verdict_response(r, mv);
	p[0] = r->param[1];
	api_audit(r, p + 1);
	db_addv(&b, ST_MEMBER_REMOVE, 6, p);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	return http_empty(r, 204);
}

/* ---- invitations ------------------------------------------------------------- */

int
api_invite_list_prefetch(struct req *r, struct db_batch *b)
{
	struct page pg;
	int st;

	if ((st = api_page(r, &pg)) != 0)
		return st;
	return db_add(b, ST_INVITE_LIST, 5, pg.limit_s, pg.cursor_ts, pg.cursor_id, pg.page_s,
	    pg.offset_s) < 0 ? 500 : 0;
}

/*
 * GET /api/v1/tenants/{id}/invitations?cursor&page&limit (admin): 200
 * {invitations:[pending, newest first], page, limit, next_cursor}; 400
 * bad page/limit/cursor.
 */
int
api_invite_list(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* DELETE /api/v1/tenants/{id}/invitations/{invitation_id} (admin): 204; 404 not pending. */
int
api_invite_revoke(struct req *r, struct db_batch *pre)
{
	struct db_batch b = { .commit = true };
	const char *p[6];
	enum db_status st;

	p[0] = r->param[1];
	api_audit(r, p + 1);
	db_addv(&b, ST_INVITE_REVOKE, 6, p);
	if ((st = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	if (strcmp(db_val(b.q[0].res, 0, 0), "0") == 0)
		return http_error(r, 404, "invitation_not_found", "no pending invitation with this id");
	return http_empty(r, 204);
}

static const struct field accept_fields[] = {
	{ "token", FT_STRING, true, 16, 128 },
	{ "name", FT_STRING, false, 1, 100 },
	{ "password", FT_SECRET, false, AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX },
};
enum { A_TOKEN, A_NAME, A_PASSWORD, A__N };
/* Columns of ST_INVITE_LOOKUP. */
enum { I_ID, I_TENANT, I_EMAIL, I_ROLE, I_ACCEPTED, I_REVOKED, I_EXPIRED, I_HAS_ACCOUNT };

/*
 * POST /api/v1/invitations/accept {token, name?, password?}: a new user
 * sends name and password and no bearer; an existing user sends their
 * identity token and no password. 200 {tenant_id, user_id, role}. 400
 * missing or extra fields; 401 bad token; 403 the invitation is for another
 * address; 404 unknown token; 409 the address has an account (sign in
 * first); 410 used, revoked or expired. Nothing is created unless it ends 200.
 */
int
api_invite_accept(struct req *r, struct db_batch *pre)
{
	struct fval v[A__N];
	struct db_batch look = { 0 }, b = { 0 };
	const char *hash, *email, *uid, *p[8], *au[5];
	char newid[UUID_LEN + 1], pw[AUTH_HASH_MAX];
	const PGresult *inv;
	struct json_object *body;
	bool signed_in = r->who.cred != CRED_NONE;
	enum db_status st;
	int rc, claim, join, seats;

	if ((rc = http_fields(r, accept_fields, A__N, v)) != 0)
		return rc;
	if (signed_in && (v[A_PASSWORD].set || v[A_NAME].set))
		return http_error(r, 400, "invalid_request",
		    "signed in: send only the token (no name or password)");
	if (!signed_in && (!v[A_PASSWORD].set || !v[A_NAME].set))
		return http_error_details(r, 400, "invalid_request",
		    "a new account needs a name and a password (or sign in and send your token)",
		    api_detail(v[A_NAME].set ? "password" : "name", "is required"));
	if ((hash = sha256_hex(r->a, v[A_TOKEN].s)) == NULL)
		return http_error_default(r, 500);

	db_add(&look, ST_INVITE_SET_HASH, 1, hash);
	db_add(&look, ST_INVITE_LOOKUP, 1, hash);
	if ((st = db_exec(r->w->db, r->a, &look, r->request_id)) != DB_OK)
		return api_db_fail(r, st);
	inv = look.q[1].res;
	if (db_rows(inv) == 0)
		return http_error(r, 404, "invitation_not_found", "no such invitation");
	if (db_bool(inv, 0, I_ACCEPTED))
		return http_error(r, 410, "invitation_used", "this invitation was already accepted");
	if (db_bool(inv, 0, I_REVOKED))
		return http_error(r, 410, "invitation_revoked", "this invitation was revoked");
	if (db_bool(inv, 0, I_EXPIRED))
		return http_error(r, 410, "invitation_expired", "this invitation has expired");
	email = db_val(inv, 0, I_EMAIL);

	if (signed_in) {
		if (r->who.email == NULL || strcmp(r->who.email, email) != 0)
			return http_error(r, 403, "permission_denied",
			    "this invitation was sent to another email address");
		uid = r->who.user_id;
	} else {
		if (db_bool(inv, 0, I_HAS_ACCOUNT))
			return http_error(r, 409, "conflict",
			    "an account with this email exists: sign in, then accept with your token");
		if (!core_uuid_new(newid) || !auth_password_hash(v[A_PASSWORD].s, v[A_PASSWORD].len, pw))
			return http_error_default(r, 500);
		uid = newid;
	}

	/* The invitation's tenant is this transaction's context from here on. */
	db_add(&b, ST_SET_TENANT, 1, db_val(inv, 0, I_TENANT));
	if (!signed_in)
		db_add(&b, ST_USER_CREATE_ID, 4, hash, uid, v[A_NAME].s, pw);
	db_add(&b, ST_TENANT_LOCK, 0);
	claim = db_add(&b, ST_INVITE_CLAIM, 2, db_val(inv, 0, I_ID), uid);
	au[0] = "user";
	au[1] = uid;
	au[2] = email;
	au[3] = r->request_id;
	au[4] = r->client;
	p[0] = uid;
	p[1] = db_val(inv, 0, I_ROLE);
	p[2] = db_val(inv, 0, I_ID);
	memcpy(p + 3, au, sizeof(au));
	join = db_addv(&b, ST_MEMBER_JOIN, 8, p);
	seats = db_add(&b, ST_INVITE_SEATS, 1, email);
	st = db_exec(r->w->db, r->a, &b, r->request_id);
	if (st == DB_CONFLICT)
		return http_error(r, 409, "conflict",
		    "an account with this email exists: sign in, then accept with your token");
	if (st != DB_OK)
		return api_db_fail(r, st);
	if (db_rows(b.q[claim].res) != 1)   /* accepted by a concurrent request */
		return http_error(r, 410, "invitation_used", "this invitation was already accepted");
	/*
	 * Seats were reserved at the invitation; a plan lowered since then
	 * still holds for someone who joins now (not for a member already).
	 */
	if (db_bool(b.q[join].res, 0, 1) &&
	    (rc = seats_check(r, b.q[seats].res, db_i64(b.q[seats].res, 0, 0))) != 0)
		return rc;

	body = json_object_new_object();
	json_object_object_add(body, "tenant_id", json_object_new_string(db_val(inv, 0, I_TENANT)));
	json_object_object_add(body, "user_id", json_object_new_string(uid));
	json_object_object_add(body, "role", json_object_new_string(db_val(b.q[join].res, 0, 0)));
	return http_json(r, 200, body);
}
