/* account.c: pages outside a workspace: sign in and out, the workspace list, the account's sessions, operators' tenants, invitations. */
#include "web/web.h"
#include "api/api.h"
#include "auth/authz.h"
#include "auth/session.h"
#include "core/log.h"
#include "http/response.h"
#include "http/worker.h"

#include <string.h>

/* GET /: 303 to the workspace list (which sends a visitor without a session to sign in). */
int
web_root(struct req *r, struct db_batch *pre)
{
	(void)pre;
	return http_redirect(r, "/dashboard");
}

/* The sign-in form with an optional error; never echoes the password. */
static int
login_page(struct req *r, int status, const char *email, const char *error)
{
	struct json_object *ctx = web_ctx(r, "Sign in");
	const char *next = web_next_ok(r->method == HTTP_POST ? web_form(r, "next") : api_query(r, "next"));

	web_add_str(ctx, "email", email);
	web_add_str(ctx, "next", next);
	web_add_str(ctx, "error", error);
	return web_render(r, status, "login", ctx);
}

/* GET /login?next=/path: 200 the form. */
int
web_login_form(struct req *r, struct db_batch *pre)
{
	(void)pre;
	return login_page(r, 200, NULL, NULL);
}

/*
 * POST /login {email, password, next, csrf_token}: 303 to next (same-site
 * paths only) or /dashboard with a new session cookie (a new id every
 * time: an id planted before sign-in is never promoted); 401 the form
 * again with "invalid email or password"; 429 while locked out; 403 bad
 * CSRF token (the pipeline); 503.
 */
int
web_login(struct req *r, struct db_batch *pre)
{
	const char *email = web_form(r, "email"), *pw = web_form(r, "password"), *uid;
	const char *next = web_next_ok(web_form(r, "next"));
	char id[SESSION_ID_LEN + 1], hash[65], csrf[SESSION_ID_LEN + 1], old[65];
	struct db_batch b = { 0 };
	enum db_status ds;
	bool html = r->html;
	int st;

	(void)pre;
	if (email == NULL || *email == '\0' || pw == NULL || *pw == '\0' || strlen(email) > 254 ||
	    strlen(pw) > 1024)
		return login_page(r, 400, email && strlen(email) <= 254 ? email : NULL,
		    "Enter your email and password.");
	r->html = false;
	st = api_login_check(r, email, pw, strlen(pw), &uid);
	r->html = html;
	if (st != 0) {
		/*
		 * The API's answer is not the page's: drop its JSON body and, on
		 * 401, its WWW-Authenticate: Bearer (nothing else was set yet);
		 * a lockout's Retry-After stays.
		 */
		buf_clear(r->out, 64 * 1024);
		if (st == 401)
			buf_clear(r->hdr, 16 * 1024);
		if (st == 401)
			return login_page(r, 401, email, "Invalid email or password.");
		if (st == 429)
			return login_page(r, 429, email, "Too many failed sign-ins. Try again in a few minutes.");
		return http_error_default(r, st);
	}
	if (!auth_session_new(id, hash, csrf))
		return http_error_default(r, 500);
	/* Whatever session this browser had ends here: one browser, one fresh session. */
	if (auth_session_cookie(r, old))
		db_add(&b, ST_SESSION_DELETE, 1, old);
	db_add(&b, ST_CTX_USER, 1, uid);
	db_add(&b, ST_SESSION_CREATE, 4, hash, csrf, r->client ? r->client : "-",
	    r->user_agent ? r->user_agent : "");
	if ((ds = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, ds);
	auth_session_set_cookie(r, id);
	log_info(r->request_id, "dashboard sign-in: user %s", uid);
	return http_redirect(r, next ? next : "/dashboard");
}

/* POST /logout {csrf_token}: 303 /login; the session is deleted server-side. 403 bad token. */
int
web_logout(struct req *r, struct db_batch *pre)
{
	struct db_batch b = { 0 };
	enum db_status ds;

	(void)pre;
	db_add(&b, ST_SESSION_DELETE, 1, r->who.session_hash);
	if ((ds = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
		return api_db_fail(r, ds);
	auth_session_clear_cookie(r);
	return web_redirect(r, "/login", "signed_out");
}

/* GET /dashboard: the user's workspaces with role and tier (the switcher's list); no tenant context. */
int
web_dashboard(struct req *r, struct db_batch *pre)
{
	(void)pre;
	return web_render(r, 200, "dashboard", web_ctx(r, "Your workspaces"));
}

/*
 * A browser as a person reads it: "Firefox on Linux" from a User-Agent, or
 * the agent itself, shortened, when it names nothing known.
 */
static const char *
device_of(struct req *r, const char *ua)
{
	static const struct { const char *needle, *name; } browsers[] = {
		{ "Edg/", "Edge" }, { "OPR/", "Opera" }, { "Firefox/", "Firefox" },
		{ "Chrome/", "Chrome" }, { "Safari/", "Safari" }, { "curl/", "curl" },
	}, systems[] = {
		{ "Android", "Android" }, { "iPhone", "iPhone" }, { "iPad", "iPad" },
		{ "Windows", "Windows" }, { "Mac OS X", "macOS" }, { "CrOS", "ChromeOS" }, { "Linux", "Linux" },
	};
	const char *b = NULL, *o = NULL;

	if (ua == NULL || *ua == '\0')
		return "Unknown device";
	for (size_t i = 0; b == NULL && i < sizeof(browsers) / sizeof(browsers[0]); i++)
		if (strstr(ua, browsers[i].needle) != NULL)
			b = browsers[i].name;
	for (size_t i = 0; o == NULL && i < sizeof(systems) / sizeof(systems[0]); i++)
		if (strstr(ua, systems[i].needle) != NULL)
			o = systems[i].name;
	if (b != NULL && o != NULL)
		return arena_printf(r->a, "%s on %s", b, o);
	if (b != NULL || o != NULL)
		return b != NULL ? b : o;
	return arena_printf(r->a, "%.40s%s", ua, strlen(ua) > 40 ? "…" : "");
}

/*
 * GET /account: the signed-in user's sessions (this one marked, the others
 * each with a sign-out button, and one for all of them). Any signed-in
 * user; the data is the API's GET /api/v1/me/sessions.
 */
int
web_account(struct req *r, struct db_batch *pre)
{
	struct json_object *body, *ctx, *list;
	int st, others = 0;

	if ((st = web_api(r, pre, api_me_sessions, &body)) != 200 ||
	    !json_object_object_get_ex(body, "sessions", &list))
		return http_error_default(r, st != 200 ? st : 500);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *s = json_object_array_get_idx(list, i), *ua, *cur;

		json_object_object_get_ex(s, "user_agent", &ua);
		web_add_str(s, "device", device_of(r, ua ? json_object_get_string(ua) : NULL));
		if (!json_object_object_get_ex(s, "current", &cur) || !json_object_get_boolean(cur))
			others++;
	}
	web_times(list, (const char *const[]){ "created_at", "last_seen_at", "expires_at", NULL });
	ctx = web_ctx(r, "Your account");
	json_object_object_add(ctx, "sessions", json_object_get(list));
	json_object_object_add(ctx, "has_others", json_object_new_boolean(others > 0));
	return web_render(r, 200, "account", ctx);
}

/*
 * POST /account {csrf_token, action}: the account page's forms, posted to
 * the page itself. action=end_session with session=<id>: that session
 * signs out; action=end_others: every other session does. 303 /account
 * with a notice; 404 a session that is not (or no longer) the user's; 400
 * an unknown action or a malformed id.
 */
int
web_account_post(struct req *r, struct db_batch *pre)
{
	const char *action = web_form(r, "action"), *id = web_form(r, "session");
	int st;

	(void)pre;
	if (action != NULL && strcmp(action, "end_session") == 0) {
		if (id == NULL || !core_uuid_valid(id))
			return http_error(r, 400, "invalid_request", "That is not a session of yours.");
		if ((st = api_me_session_end_one(r, id)) == 204)
			return web_redirect(r, "/account", "session_ended");
		return st == 404 ? http_error(r, 404, "not_found", "That session has already ended.") : st;
	}
	if (action != NULL && strcmp(action, "end_others") == 0) {
		if ((st = api_me_sessions_end_others(r, pre)) == 200)
			return web_redirect(r, "/account", "sessions_ended");
		return st;
	}
	return http_error(r, 400, "invalid_request", "That form is not one of this page's.");
}

/*
 * GET /admin/tenants?q&tier&status&cursor (superadmin): every tenant,
 * newest first, searchable by name and slug, filtered by tier and status,
 * 50 a page, pages chained by the list's cursor (the same cost at any
 * depth; ?page=N still works). 400 bad page, limit, cursor or filter.
 */
int
web_admin_tenants(struct req *r, struct db_batch *pre)
{
	struct json_object *body, *ctx, *v;
	const char *q = api_query(r, "q"), *tier = api_query(r, "tier"), *status = api_query(r, "status");
	const char *filter;
	long long page = 1;
	int st;

	if ((st = web_api(r, pre, api_tenant_list, &body)) != 200)
		return http_error_default(r, st);
	if (json_object_object_get_ex(body, "tenants", &v))
		web_times(v, (const char *const[]){ "created_at", NULL });
	ctx = web_ctx(r, "All tenants");
	json_object_object_add(ctx, "list", json_object_get(body));
	web_add_str(ctx, "q", q);
	if (json_object_object_get_ex(body, "page", &v))
		page = json_object_get_int64(v);
	/* The filters' options, with the ones in use selected. */
	{
		static const char *const tiers[] = { "free", "starter", "business", "enterprise" };
		static const char *const statuses[] = { "active", "suspended" };
		struct json_object *opts = json_object_new_array(), *sopts = json_object_new_array();

		for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "value", json_object_new_string(tiers[i]));
			json_object_object_add(o, "selected",
			    json_object_new_boolean(tier != NULL && strcmp(tier, tiers[i]) == 0));
			json_object_array_add(opts, o);
		}
		json_object_object_add(ctx, "tiers", opts);
		for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "value", json_object_new_string(statuses[i]));
			json_object_object_add(o, "selected",
			    json_object_new_boolean(status != NULL && strcmp(status, statuses[i]) == 0));
			json_object_array_add(sopts, o);
		}
		json_object_object_add(ctx, "statuses", sopts);
	}
	filter = arena_printf(r->a, "%s%s%s%s%s%s", q ? "&q=" : "", q ? web_url_encode(r, q) : "",
	    tier ? "&tier=" : "", tier ? web_url_encode(r, tier) : "",
	    status ? "&status=" : "", status ? web_url_encode(r, status) : "");
	if (page > 1)
		json_object_object_add(ctx, "first_url", json_object_new_string(arena_printf(r->a,
		    "/admin/tenants?page=1%s", filter)));
	if (json_object_object_get_ex(body, "next_cursor", &v))
		json_object_object_add(ctx, "next_url", json_object_new_string(arena_printf(r->a,
		    "/admin/tenants?cursor=%s%s", web_url_encode(r, json_object_get_string(v)), filter)));
	return web_render(r, 200, "admin_tenants", ctx);
}

/* ---- Invitations --------------------------------------------------------------------- */

/* The invitation behind {token}, found by its hash; queued for the page and the POST. */
int
web_invite_prefetch(struct req *r, struct db_batch *b)
{
	char hash[65];
	const char *h;

	if (!core_sha256_hex(r->param[0], hash) || (h = arena_strdup(r->a, hash)) == NULL)
		return http_error_default(r, 500);
	db_add(b, ST_INVITE_SET_HASH, 1, h);
	db_add(b, ST_WEB_INVITE_CTX, 1, h);
	return db_add(b, ST_WEB_INVITE, 1, h) < 0 ? http_error_default(r, 500) : 0;
}

/* The invitation page: who invited you where, and how to accept. */
static int
invite_page(struct req *r, struct db_batch *pre, int status, const char *error, struct json_object *fields)
{
	struct json_object *ctx, *inv, *v;
	const PGresult *res = auth_pre(pre, 2);

	if ((inv = db_rows(res) == 1 ? json_tokener_parse(db_val(res, 0, 0)) : NULL) == NULL)
		return http_error(r, 404, "invitation_not_found", "This invitation link is not valid.");
	ctx = web_ctx(r, "Join a workspace");
	if (json_object_object_get_ex(inv, "state", &v) && strcmp(json_object_get_string(v), "open") != 0) {
		json_object_put(inv);
		json_object_put(ctx);
		return http_error(r, 410, "invitation_closed",
		    "This invitation was already used, was revoked, or has expired. Ask for a new one.");
	}
	web_times(inv, (const char *const[]){ "expires_at", NULL });
	json_object_object_add(ctx, "invite", inv);
	json_object_object_add(ctx, "token", json_object_new_string(r->param[0]));
	web_add_str(ctx, "error", error);
	json_object_object_add(ctx, "errors", fields ? fields : json_object_new_object());
	web_add_str(ctx, "name", web_form(r, "name"));
	json_object_object_add(ctx, "login_url", json_object_new_string(arena_printf(r->a,
	    "/login?next=/invite/%s", r->param[0])));
	return web_render(r, status, "invite", ctx);
}

/* GET /invite/{token}: 200 the invitation; 404 unknown; 410 used, revoked or expired. */
int
web_invite_form(struct req *r, struct db_batch *pre)
{
	return invite_page(r, pre, 200, NULL, NULL);
}

/*
 * POST /invite/{token}: signed in, accept as yourself; otherwise {name,
 * password} make the account, which is then signed in. 303 to the
 * workspace; 4xx the page again with the reason (another address, an
 * existing account, a password too short, seats used up); 404/410 page.
 */
int
web_invite_accept(struct req *r, struct db_batch *pre)
{
	struct json_object *body, *v;
	const char *name = web_form(r, "name"), *pw = web_form(r, "password"), *uid, *slug = NULL;
	char id[SESSION_ID_LEN + 1], hash[65], csrf[SESSION_ID_LEN + 1];
	struct db_batch b = { 0 };
	enum db_status ds;
	int st;

	r->json = json_object_new_object();
	json_object_object_add(r->json, "token", json_object_new_string(r->param[0]));
	if (r->who.cred != CRED_SESSION) {
		json_object_object_add(r->json, "name", json_object_new_string(name ? name : ""));
		json_object_object_add(r->json, "password", json_object_new_string(pw ? pw : ""));
	}
	st = web_api(r, pre, api_invite_accept, &body);
	json_object_put(r->json);
	r->json = NULL;
	if (st != 200) {
		if (st == 404 || st == 410 || st >= 500)
			return http_error(r, st, "invitation", web_error_message(body, "This invitation cannot be used."));
		return invite_page(r, pre, st, web_error_message(body, "That did not work."), web_error_fields(body));
	}
	if (!json_object_object_get_ex(body, "user_id", &v) || (uid = json_object_get_string(v)) == NULL)
		return http_error_default(r, 500);
	/* The new member's workspace, by slug, for the redirect. */
	if (json_object_object_get_ex(body, "tenant_id", &v)) {
		const char *tid = json_object_get_string(v);

		db_add(&b, ST_CTX_USER, 1, uid);
		db_add(&b, ST_WEB_TENANT_SLUG, 1, tid);
		if (r->who.cred != CRED_SESSION) {
			/* The account was just made: sign it in, with a new session. */
			if (!auth_session_new(id, hash, csrf))
				return http_error_default(r, 500);
			db_add(&b, ST_SESSION_CREATE, 4, hash, csrf, r->client ? r->client : "-",
			    r->user_agent ? r->user_agent : "");
		}
		if ((ds = db_exec(r->w->db, r->a, &b, r->request_id)) != DB_OK)
			return api_db_fail(r, ds);
		slug = db_val(b.q[1].res, 0, 0);
		if (r->who.cred != CRED_SESSION)
			auth_session_set_cookie(r, id);
	}
	return web_redirect(r, slug ? arena_printf(r->a, "/w/%s", slug) : "/dashboard", "joined");
}
