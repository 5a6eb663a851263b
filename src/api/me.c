/* me.c: GET /api/v1/me, the caller and its workspaces; the caller's own sessions. */
#include "api/api.h"
#include "auth/authz.h"
#include "http/response.h"
#include "http/worker.h"

int
api_me_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, r->who.cred == CRED_API_KEY ? ST_ME_KEY : ST_ME, 0) < 0 ? 500 : 0;
}

/*
 * 200 {kind: "user", user, tenants, tenant} for a user, {kind: "api_key",
 * api_key: {id, name, prefix, scopes, created_at, expires_at}, tenant} for
 * an API key; 401/403/503 come from authorisation.
 */
int
api_me(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* The hash of the session the request itself carries, "" for a bearer token. */
static const char *
own_session(const struct req *r)
{
	return r->who.cred == CRED_SESSION ? r->who.session_hash : "";
}

int
api_me_sessions_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_ME_SESSIONS, 1, own_session(r)) < 0 ? 500 : 0;
}

/*
 * GET /api/v1/me/sessions (a user: identity or tenant token, or the
 * dashboard): 200 {sessions: [{id, created_at, last_seen_at, expires_at,
 * client_addr, user_agent, current}]}, the live dashboard sessions of the
 * caller. API keys: 403 (a key is no person).
 */
int
api_me_sessions(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}

/* Run one of the ending statements in the request's transaction; the count of ended sessions, or -1 (sent). */
static long long
end_sessions(struct req *r, enum stmt st, const char *what)
{
	struct db_batch b = { 0 };
	const char *actor[5];   /* type, id, label, request id, client (api_audit) */
	enum db_status ds;

	api_audit(r, actor);
	db_add(&b, st, 4, what, actor[2], actor[3], actor[4]);
	if ((ds = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK) {
		api_db_fail(r, ds);
		return -1;
	}
	return db_i64(b.q[0].res, 0, 0);
}

/*
 * DELETE /api/v1/me/sessions/{id}: 204, that session of the caller has
 * ended (its cookie is refused on every worker within SPEC §2's bound),
 * audited as session.revoked; 404 when the caller has no such session.
 */
int
api_me_session_end(struct req *r, struct db_batch *pre)
{
	(void)pre;
	return api_me_session_end_one(r, r->param[0]);
}

int
api_me_session_end_one(struct req *r, const char *id)
{
	long long n;

	if ((n = end_sessions(r, ST_ME_SESSION_END, id)) < 0)
		return r->status;
	if (n == 0)
		return http_error(r, 404, "not_found", "you have no such session");
	return http_empty(r, 204);
}

/*
 * DELETE /api/v1/me/sessions: 200 {ended: n}, every dashboard session of
 * the caller has ended but the one this request comes from (with a bearer
 * token: all of them), each audited.
 */
int
api_me_sessions_end_others(struct req *r, struct db_batch *pre)
{
	struct json_object *o;
	long long n;

	(void)pre;
	if ((n = end_sessions(r, ST_ME_SESSIONS_END_OTHERS, own_session(r))) < 0)
		return r->status;
	o = json_object_new_object();
	json_object_object_add(o, "ended", json_object_new_int64(n));
	return http_json(r, 200, o);
}
