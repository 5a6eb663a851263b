/* web.h: the dashboard: server-rendered pages over the same handlers and data as the JSON API. */
#ifndef TENANTRY_WEB_H
#define TENANTRY_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "db/db.h"
#include "http/request.h"
#include "http/router.h"

struct worker;

/*
 * Compile every template under TENANTRY_TEMPLATE_DIR (a syntax error, an
 * unreadable file or a partial that does not exist is a start-up error)
 * and route dashboard errors to HTML pages. False with the reason in err.
 */
bool web_init(struct worker *w, char *err, size_t errlen);
void web_free(struct worker *w);

/* ---- Rendering (page.c) -------------------------------------------------- */

/*
 * The context every page starts from: user, nav (the workspace switcher),
 * ws (the workspace in context, with what the role may do), csrf, flash.
 * The caller owns the object; web_render() takes it.
 */
struct json_object *web_ctx(struct req *r, const char *title);

/* o[k] = the string v, or JSON null when v is NULL. */
void web_add_str(struct json_object *o, const char *k, const char *v);

/* The arena puts o (one reference) when the request ends. */
void web_defer_json(struct req *r, struct json_object *o);

/* Render template name with ctx (taken and freed) as the response. */
int web_render(struct req *r, int status, const char *name, struct json_object *ctx);
/* Template name with ctx (not taken) appended to out: a fragment to keep. TMPL_OK or the error. */
int web_render_to(struct req *r, const char *name, struct json_object *ctx, struct buf *out);

/*
 * The same, followed by rawlen bytes of trusted markup raw (made by a
 * template, its data escaped there) and then template after with the same
 * ctx: a page around a fragment that is kept rendered, with no copy of it
 * through the context.
 */
int web_render_around(struct req *r, int status, const char *name, const char *raw, size_t rawlen,
    const char *after, struct json_object *ctx);

/*
 * 303 to location (a same-site path) with an optional flash message code
 * shown once by the next page (see the table in page.c).
 */
int web_redirect(struct req *r, const char *location, const char *flash);

/*
 * Run a JSON API handler on r and capture its answer instead of sending
 * it: returns the handler's status, with the parsed body in *out (owned by
 * the arena; NULL when there was none). The response is reset so the page
 * can write its own. The form fields, made into r->json, are its input.
 */
int web_api(struct req *r, struct db_batch *pre, route_handler h, struct json_object **out);

/* s percent-encoded for a query value (unreserved characters kept), in the arena; NULL on OOM. */
const char *web_url_encode(struct req *r, const char *s);

/*
 * For each object in o (or o itself) and each RFC 3339 UTC time under one of
 * keys (NULL-terminated), add "<key>_h": "YYYY-MM-DD HH:MM UTC" for display.
 */
void web_times(struct json_object *o, const char *const *keys);

/* The form's field, or NULL. */
const char *web_form(const struct req *r, const char *key);

/* A same-site path for ?next= (starts with one "/", no scheme, no "//"); else NULL. */
const char *web_next_ok(const char *next);

/*
 * From an API error body: its message, and its details as {field:
 * problem} (the arena owns both; details may be empty).
 */
const char *web_error_message(struct json_object *body, const char *fallback);
struct json_object *web_error_fields(struct json_object *body);

/* A sub-batch whose auth_pre(…, 0) is auth_pre(pre, from) (several prefetches on one page). */
void web_pre_at(const struct db_batch *pre, int from, struct db_batch *out);

/* ---- Pages: account (account.c) ----------------------------------------- */
int web_root(struct req *r, struct db_batch *pre);
int web_login_form(struct req *r, struct db_batch *pre);
int web_login(struct req *r, struct db_batch *pre);
int web_logout(struct req *r, struct db_batch *pre);
int web_dashboard(struct req *r, struct db_batch *pre);
/* /account: the user's own sessions, each one ended from here (POST /account), or all the others. */
int web_account(struct req *r, struct db_batch *pre);
int web_account_post(struct req *r, struct db_batch *pre);
int web_admin_tenants(struct req *r, struct db_batch *pre);
int web_invite_prefetch(struct req *r, struct db_batch *b);
int web_invite_form(struct req *r, struct db_batch *pre);
int web_invite_accept(struct req *r, struct db_batch *pre);

/* ---- Pages: a workspace (workspace.c) ----------------------------------- */
int web_overview_prefetch(struct req *r, struct db_batch *b);
int web_overview(struct req *r, struct db_batch *pre);
int web_settings(struct req *r, struct db_batch *pre);
int web_settings_save(struct req *r, struct db_batch *pre);
int web_billing(struct req *r, struct db_batch *pre);
int web_keys(struct req *r, struct db_batch *pre);
int web_key_create(struct req *r, struct db_batch *pre);
int web_key_prefetch(struct req *r, struct db_batch *b);
int web_key_revoke_form(struct req *r, struct db_batch *pre);
int web_key_revoke(struct req *r, struct db_batch *pre);
int web_members_prefetch(struct req *r, struct db_batch *b);
int web_members(struct req *r, struct db_batch *pre);
int web_members_post_prefetch(struct req *r, struct db_batch *b);
int web_members_post(struct req *r, struct db_batch *pre);
int web_member_prefetch(struct req *r, struct db_batch *b);
int web_member_remove_form(struct req *r, struct db_batch *pre);
int web_member_remove(struct req *r, struct db_batch *pre);
int web_activity(struct req *r, struct db_batch *pre);
int web_activity_csv_prefetch(struct req *r, struct db_batch *b);

#endif
