/* page.c: the dashboard's rendering: templates, the page context, error pages, redirects, flash. */
#include "web/web.h"
#include "auth/authz.h"
#include "auth/session.h"
#include "core/log.h"
#include "http/response.h"
#include "http/worker.h"
#include "tmpl/tmpl.h"

#include <stdio.h>
#include <string.h>

/*
 * Flash messages: a redirect after a POST names one of these codes in a
 * short-lived cookie; the next page shows the text once and clears it.
 * Only codes travel, so a crafted cookie can show nothing but these.
 */
static const struct {
	const char *code, *text;
} flashes[] = {
	{ "saved",          "Settings saved." },
	{ "key_revoked",    "The API key was revoked." },
	{ "member_removed", "The member was removed from the workspace." },
	{ "role_changed",   "The role was changed." },
	{ "signed_out",     "You are signed out." },
	{ "joined",         "Welcome! You joined the workspace." },
	{ "session_ended",  "That session is signed out." },
	{ "sessions_ended", "Every other session is signed out." },
};

static void
tmpl_set_release(void *p)
{
	tmpl_set_free(p);
}

static int web_error_page(struct req *r, int status, const char *code, const char *message,
    struct json_object *details);
static const char *sentence(struct req *r, const char *m);

bool
web_init(struct worker *w, char *err, size_t errlen)
{
	char e[256];

	if ((w->tmpl = tmpl_set_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (tmpl_set_load_dir(w->tmpl, w->cfg.template_dir, e, sizeof(e)) != 0 ||
	    tmpl_set_check(w->tmpl, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "templates (TENANTRY_TEMPLATE_DIR=%s): %s", w->cfg.template_dir, e);
		tmpl_set_release(w->tmpl);
		w->tmpl = NULL;
		return false;
	}
	http_html_error = web_error_page;
	return true;
}

void
web_free(struct worker *w)
{
	tmpl_set_free(w->tmpl);
	w->tmpl = NULL;
}

/* ---- Context ------------------------------------------------------------------------ */

static void
put_json(void *o)
{
	json_object_put(o);
}

void
web_defer_json(struct req *r, struct json_object *o)
{
	arena_defer(r->a, put_json, o);
}

/* Parse JSON text owned elsewhere; the arena frees the object. NULL if s is not JSON. */
static struct json_object *
arena_json(struct req *r, const char *s)
{
	struct json_object *o;

	if (s == NULL || (o = json_tokener_parse(s)) == NULL)
		return NULL;
	web_defer_json(r, o);
	return o;
}

void
web_add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* The workspace in context, and which of its pages and controls r's principal may use. */
static struct json_object *
ws_ctx(struct req *r)
{
	struct json_object *ws = json_object_new_object();
	const char *role = auth_role_name(r->tenant.role);

	web_add_str(ws, "id", r->tenant.id);
	web_add_str(ws, "slug", r->tenant.slug);
	web_add_str(ws, "name", r->tenant.name);
	web_add_str(ws, "tier", r->tenant.tier);
	web_add_str(ws, "status", r->tenant.status);
	web_add_str(ws, "role", role ? role : (r->who.superadmin ? "superadmin" : NULL));
	json_object_object_add(ws, "suspended", json_object_new_boolean(
	    r->tenant.status && strcmp(r->tenant.status, "suspended") == 0));
	json_object_object_add(ws, "can_edit", json_object_new_boolean(auth_allows(r, CAP_TENANT_WRITE)));
	json_object_object_add(ws, "can_sensitive", json_object_new_boolean(auth_allows(r, CAP_TENANT_SENSITIVE)));
	json_object_object_add(ws, "can_members", json_object_new_boolean(auth_allows(r, CAP_MEMBERS_MANAGE)));
	json_object_object_add(ws, "can_keys", json_object_new_boolean(auth_allows(r, CAP_KEYS_MANAGE)));
	json_object_object_add(ws, "can_billing", json_object_new_boolean(auth_allows(r, CAP_BILLING_READ)));
	return ws;
}

struct json_object *
web_ctx(struct req *r, const char *title)
{
	struct json_object *ctx = json_object_new_object(), *user, *nav;
	const char *flash = auth_cookie(r, FLASH_COOKIE);

	web_add_str(ctx, "title", title);
	web_add_str(ctx, "csrf", auth_csrf_token(r));
	web_add_str(ctx, "request_id", r->request_id);
	if (r->who.cred == CRED_SESSION && r->who.email != NULL) {
		user = json_object_new_object();
		web_add_str(user, "name", r->who.name);
		web_add_str(user, "email", r->who.email);
		json_object_object_add(user, "superadmin", json_object_new_boolean(r->who.superadmin));
		json_object_object_add(ctx, "user", user);
		if ((nav = arena_json(r, r->web_nav)) != NULL && json_object_is_type(nav, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(nav); i++) {
				struct json_object *e = json_object_array_get_idx(nav, i), *s;

				if (r->tenant.present && json_object_object_get_ex(e, "slug", &s) &&
				    r->tenant.slug && strcmp(json_object_get_string(s), r->tenant.slug) == 0)
					json_object_object_add(e, "current", json_object_new_boolean(true));
			}
			json_object_object_add(ctx, "nav", json_object_get(nav));
		}
	}
	if (r->tenant.present && r->who.cred == CRED_SESSION)
		json_object_object_add(ctx, "ws", ws_ctx(r));
	if (flash != NULL) {
		for (size_t i = 0; i < sizeof(flashes) / sizeof(flashes[0]); i++)
			if (strcmp(flash, flashes[i].code) == 0)
				web_add_str(ctx, "flash", flashes[i].text);
		http_header(r, "Set-Cookie", FLASH_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax");
	}
	return ctx;
}

/* ---- Rendering ---------------------------------------------------------------------- */

static int
emit_buf(void *ud, const char *s, size_t n)
{
	return buf_append(ud, s, n) ? 0 : 1;
}

int
web_render_to(struct req *r, const char *name, struct json_object *ctx, struct buf *out)
{
	return tmpl_render(r->w->tmpl, name, ctx, emit_buf, out);
}

int
web_render(struct req *r, int status, const char *name, struct json_object *ctx)
{
	return web_render_around(r, status, name, NULL, 0, NULL, ctx);
}

int
web_render_around(struct req *r, int status, const char *name, const char *raw, size_t rawlen,
    const char *after, struct json_object *ctx)
{
	int rc;

	buf_clear(r->out, 64 * 1024);
	rc = tmpl_render(r->w->tmpl, name, ctx, emit_buf, r->out);
	if (rc == TMPL_OK && raw != NULL)
		buf_append(r->out, raw, rawlen);
	if (rc == TMPL_OK && after != NULL)
		rc = tmpl_render(r->w->tmpl, name = after, ctx, emit_buf, r->out);
	json_object_put(ctx);
	if (rc != TMPL_OK || r->out->oom) {
		static const char fail[] = "<!doctype html><title>Error</title><p>This page could not be shown.</p>";

		log_error(r->request_id, "template %s: %s", name, rc != TMPL_OK ? tmpl_strerror(rc) : "out of memory");
		buf_clear(r->out, 64 * 1024);
		return http_text(r, 500, "text/html", fail, sizeof(fail) - 1);
	}
	return http_body_ready(r, status, "text/html");
}

int
web_redirect(struct req *r, const char *location, const char *flash)
{
	if (flash != NULL)
		http_header(r, "Set-Cookie", arena_printf(r->a,
		    FLASH_COOKIE "=%s; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax", flash));
	return http_redirect(r, location);
}

const char *
web_url_encode(struct req *r, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = arena_alloc(r->a, strlen(s) * 3 + 1), *p = o;

	if (o == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

static const char *
error_title(int status)
{
	switch (status) {
	case 400: return "That request was not understood";
	case 403: return "You don't have access to this";
	case 404: return "Page not found";
	case 405: return "Not allowed";
	case 409: return "That conflicts with existing data";
	case 410: return "This link is no longer valid";
	case 429: return "Too many requests";
	case 503: return "Temporarily unavailable";
	default:  return status >= 500 ? "Something went wrong" : "That did not work";
	}
}

/*
 * http_html_error for pages: 401 sends the browser to sign in (with the
 * page to come back to; a dead session's cookie is removed), anything else
 * is the error page with the same status.
 */
static int
web_error_page(struct req *r, int status, const char *code, const char *message,
    struct json_object *details)
{
	struct json_object *ctx;
	const char *next;

	(void)details;
	if (status == 401) {
		if (auth_cookie(r, SESSION_COOKIE) != NULL)
			auth_session_clear_cookie(r);
		next = r->method == HTTP_GET && r->query[0] != '\0' ?
		    arena_printf(r->a, "%s?%s", r->path, r->query) : r->path;
		if (next == NULL || web_next_ok(next) == NULL || strcmp(r->path, "/dashboard") == 0)
			return http_redirect(r, "/login");
		return http_redirect(r, arena_printf(r->a, "/login?next=%s", web_url_encode(r, next)));
	}
	ctx = web_ctx(r, error_title(status));
	json_object_object_add(ctx, "status", json_object_new_int(status));
	web_add_str(ctx, "code", code);
	web_add_str(ctx, "message", sentence(r, message));
	return web_render(r, status, "error", ctx);
}

/* ---- Display helpers ----------------------------------------------------------------- */

void
web_times(struct json_object *o, const char *const *keys)
{
	if (o == NULL)
		return;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			web_times(json_object_array_get_idx(o, i), keys);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	for (const char *const *k = keys; *k != NULL; k++) {
		struct json_object *v;
		const char *s;
		char key[64], h[24];

		/* 2026-11-30T18:45:52Z -> 2026-11-30 18:45 UTC (the datetime attribute keeps the exact time) */
		if (!json_object_object_get_ex(o, *k, &v) || !json_object_is_type(v, json_type_string) ||
		    strlen(s = json_object_get_string(v)) < 17 || s[10] != 'T' || s[16] != ':' ||
		    s[strlen(s) - 1] != 'Z')
			continue;
		snprintf(key, sizeof(key), "%s_h", *k);
		snprintf(h, sizeof(h), "%.10s %.5s UTC", s, s + 11);
		json_object_object_add(o, key, json_object_new_string(h));
	}
}

/* "this needs a superadmin" -> "This needs a superadmin." for a page. */
static const char *
sentence(struct req *r, const char *m)
{
	size_t n = m ? strlen(m) : 0;
	char *s;

	if (n == 0 || (s = arena_alloc(r->a, n + 2)) == NULL)
		return m;
	memcpy(s, m, n + 1);
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 'a' + 'A');
	if (strchr(".!?", s[n - 1]) == NULL) {
		s[n] = '.';
		s[n + 1] = '\0';
	}
	return s;
}

/* ---- Forms and the API ---------------------------------------------------------------- */

const char *
web_form(const struct req *r, const char *key)
{
	return http_kv_get(r->form, r->nform, key);
}

const char *
web_next_ok(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
		return NULL;
	for (const char *p = next; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return NULL;
	if (strncmp(next, "/login", 6) == 0 || strncmp(next, "/logout", 7) == 0)
		return NULL;
	return next;
}

int
web_api(struct req *r, struct db_batch *pre, route_handler h, struct json_object **out)
{
	bool html = r->html;
	int st;

	r->html = false;
	st = h(r, pre);
	r->html = html;
	*out = r->out->len > 0 ? arena_json(r, r->out->p) : NULL;
	buf_clear(r->out, 64 * 1024);
	r->responded = false;
	r->ctype = NULL;
	return st;
}

const char *
web_error_message(struct json_object *body, const char *fallback)
{
	struct json_object *e, *m;

	if (body != NULL && json_object_object_get_ex(body, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m))
		return json_object_get_string(m);
	return fallback;
}

struct json_object *
web_error_fields(struct json_object *body)
{
	struct json_object *out = json_object_new_object(), *e, *d;

	if (body == NULL || !json_object_object_get_ex(body, "error", &e) ||
	    !json_object_object_get_ex(e, "details", &d) || !json_object_is_type(d, json_type_array))
		return out;
	for (size_t i = 0; i < json_object_array_length(d); i++) {
		struct json_object *x = json_object_array_get_idx(d, i), *f, *p;

		if (json_object_object_get_ex(x, "field", &f) && json_object_object_get_ex(x, "problem", &p)) {
			/* "settings.branding.primary_color" -> "branding_primary_color": a Mustache name. */
			const char *n = json_object_get_string(f);
			char key[128];
			size_t k = 0;

			if (strncmp(n, "settings.", 9) == 0)
				n += 9;
			for (; *n != '\0' && k + 1 < sizeof(key); n++)
				key[k++] = *n == '.' ? '_' : *n;
			key[k] = '\0';
			json_object_object_add(out, key, json_object_get(p));
		}
	}
	return out;
}

void
web_pre_at(const struct db_batch *pre, int from, struct db_batch *out)
{
	*out = *pre;
	out->pre = pre->pre + from;
}
