/* workspace.c: a workspace's pages: overview, settings, billing, API keys, members, activity. */
#include "web/web.h"
#include "api/api.h"
#include "api/usage.h"
#include "auth/authz.h"
#include "core/log.h"
#include "core/meter.h"
#include "http/response.h"
#include "http/worker.h"
#include "web/chart.h"
#include "tmpl/tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Every page here is one route of the route table (the capability it needs
 * is declared there) whose data comes from the JSON API's own prefetch
 * statements and handlers (web_api): a page can show nothing the API would
 * not give the same principal, and a form changes data only through the
 * handler the API uses, with its validation, audit row and transaction.
 */

static const char *
ws_path(struct req *r, const char *tail)
{
	return arena_printf(r->a, "/w/%s%s", r->tenant.slug, tail);
}

static const char *
fmt_int(struct req *r, int64_t v)
{
	char s[32];

	web_fmt_int(v, s);
	return arena_strdup(r->a, s);
}

/*
 * A quota for display: {name, unit, used, limit, pct, bar (0-100), level
 * (ok, warn at 80 %, over at 100 %), unlimited}.
 */
static struct json_object *
quota_view(struct req *r, const char *name, const char *unit, int64_t used, int64_t limit)
{
	struct json_object *q = json_object_new_object();
	/* Two decimals, as the API reports it (a zero limit reads 100 %). */
	int64_t hundredths = limit >= 0 ? (int64_t)(core_meter_percentage(used, limit) * 100.0 + 0.5) : 0;

	web_add_str(q, "name", name);
	web_add_str(q, "unit", unit);
	web_add_str(q, "used", fmt_int(r, used));
	if (limit < 0) {
		json_object_object_add(q, "unlimited", json_object_new_boolean(true));
	} else {
		web_add_str(q, "limit", fmt_int(r, limit));
		web_add_str(q, "pct", arena_printf(r->a, "%lld.%02lld", (long long)(hundredths / 100),
		    (long long)(hundredths % 100)));
		json_object_object_add(q, "bar", json_object_new_int64(hundredths >= 10000 ? 100 : hundredths / 100));
		web_add_str(q, "level", hundredths >= 10000 ? "over" : hundredths >= 8000 ? "warn" : "ok");
	}
	return q;
}

/* ---- Overview ------------------------------------------------------------------------- */

/* The meters now (0) and the last ten audit events (1). */
int
web_overview_prefetch(struct req *r, struct db_batch *b)
{
	int st;

	if ((st = api_usage_meters_queue(r, b)) != 0)
		return st;
	return db_add(b, ST_WEB_RECENT, 1, "10") < 0 ? http_error_default(r, 500) : 0;
}

/* GET /w/{slug} (viewer and up): plan, a gauge per meter, recent activity (admins). */
int
web_overview(struct req *r, struct db_batch *pre)
{
	struct meter_row *m;
	struct json_object *ctx, *quotas, *recent;
	int n;

	if ((n = api_usage_meters(r, auth_pre(pre, 0), &m)) < 0)
		return http_error_default(r, 500);
	ctx = web_ctx(r, r->tenant.name);
	json_object_object_add(ctx, "tab_overview", json_object_new_boolean(true));
	quotas = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(quotas, quota_view(r, m[i].name, m[i].unit, m[i].used, m[i].limit));
	json_object_object_add(ctx, "quotas", quotas);
	/* The audit log is for admins (SPEC §2); a viewer's overview leaves it out. */
	if (auth_allows(r, CAP_BILLING_READ) &&
	    (recent = json_tokener_parse(db_val(auth_pre(pre, 1), 0, 0) ? db_val(auth_pre(pre, 1), 0, 0) : "[]")) != NULL) {
		web_times(recent, (const char *const[]){ "occurred_at", NULL });
		json_object_object_add(ctx, "recent", recent);
	}
	return web_render(r, 200, "overview", ctx);
}

/* ---- Settings ------------------------------------------------------------------------- */

/* The form's fields from a settings document (what the API returned, or what was posted). */
static struct json_object *
settings_form(struct json_object *settings, const char *name)
{
	struct json_object *f = json_object_new_object(), *sec, *v;
	static const struct {
		const char *sec, *key, *field;
	} keys[] = {
		{ "branding", "primary_color", "branding_primary_color" },
		{ "branding", "logo_url", "branding_logo_url" },
		{ "notifications", "email_enabled", "notifications_email_enabled" },
		{ "notifications", "webhook_url", "notifications_webhook_url" },
		{ "security", "mfa_required", "security_mfa_required" },
		{ "security", "session_timeout_minutes", "security_session_timeout_minutes" },
		{ "security", "ip_whitelist", "security_ip_whitelist" },
	};

	web_add_str(f, "name", name);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_object_object_get_ex(settings, keys[i].sec, &sec) ||
		    !json_object_object_get_ex(sec, keys[i].key, &v) || v == NULL)
			continue;
		if (json_object_is_type(v, json_type_array)) {
			/* One CIDR a line in the textarea. */
			size_t len = 0;
			char *s;

			for (size_t j = 0; j < json_object_array_length(v); j++)
				len += strlen(json_object_get_string(json_object_array_get_idx(v, j))) + 1;
			if ((s = calloc(1, len + 1)) == NULL)
				continue;
			for (size_t j = 0; j < json_object_array_length(v); j++) {
				strcat(s, json_object_get_string(json_object_array_get_idx(v, j)));
				strcat(s, "\n");
			}
			json_object_object_add(f, keys[i].field, json_object_new_string(s));
			free(s);
		} else if (json_object_is_type(v, json_type_boolean)) {
			json_object_object_add(f, keys[i].field, json_object_get(v));
		} else {
			web_add_str(f, keys[i].field, json_object_get_string(v));
		}
	}
	/* Which sections the viewer may see at all (sensitive ones are omitted below admin). */
	json_object_object_add(f, "has_security", json_object_new_boolean(
	    json_object_object_get_ex(settings, "security", &sec)));
	json_object_object_add(f, "has_webhook", json_object_new_boolean(
	    json_object_object_get_ex(settings, "notifications", &sec) &&
	    json_object_object_get_ex(sec, "webhook_url", &v)));
	return f;
}

static int
settings_page(struct req *r, int status, struct json_object *form, const char *version,
    struct json_object *errors, const char *error, bool stale)
{
	struct json_object *ctx = web_ctx(r, "Settings");

	json_object_object_add(ctx, "tab_settings", json_object_new_boolean(true));
	json_object_object_add(ctx, "form", form);
	web_add_str(ctx, "version", version);
	json_object_object_add(ctx, "errors", errors ? errors : json_object_new_object());
	web_add_str(ctx, "error", error);
	json_object_object_add(ctx, "stale", json_object_new_boolean(stale));
	return web_render(r, status, "settings", ctx);
}

/* GET /w/{slug}/settings (viewer and up; read-only below admin, sensitive keys hidden). */
int
web_settings(struct req *r, struct db_batch *pre)
{
	struct json_object *body, *settings, *v;
	int st;

	if ((st = web_api(r, pre, api_settings_get, &body)) != 200)
		return http_error_default(r, st);
	if (!json_object_object_get_ex(body, "settings", &settings))
		return http_error_default(r, 500);
	json_object_object_get_ex(body, "version", &v);
	return settings_page(r, 200, settings_form(settings, r->tenant.name),
	    v ? json_object_get_string(v) : NULL, NULL, NULL, false);
}

/* A form value as the JSON the API expects: "" is null for optional URLs. */
static struct json_object *
url_or_null(const char *s)
{
	return s == NULL || *s == '\0' ? NULL : json_object_new_string(s);
}

/*
 * POST /w/{slug}/settings (admin): the form as the API's settings PUT with
 * If-Match: the form's version. 303 back with "Settings saved."; 422 the
 * form again with each problem next to its field; 412 the form again,
 * saying someone else saved first (a reload shows their version); 429.
 */
int
web_settings_save(struct req *r, struct db_batch *pre)
{
	struct json_object *patch = json_object_new_object(), *sec, *ips, *body, *errors, *posted;
	const char *name = web_form(r, "name"), *version = web_form(r, "version");
	const char *timeout = web_form(r, "security_session_timeout_minutes");
	const char *iplist = web_form(r, "security_ip_whitelist");
	int64_t minutes = 0;
	bool bad_timeout = false;
	int st;

	sec = json_object_new_object();
	web_add_str(sec, "primary_color", web_form(r, "branding_primary_color") ? web_form(r, "branding_primary_color") : "");
	json_object_object_add(sec, "logo_url", url_or_null(web_form(r, "branding_logo_url")));
	json_object_object_add(patch, "branding", sec);
	sec = json_object_new_object();
	json_object_object_add(sec, "email_enabled", json_object_new_boolean(web_form(r, "notifications_email_enabled") != NULL));
	json_object_object_add(sec, "webhook_url", url_or_null(web_form(r, "notifications_webhook_url")));
	json_object_object_add(patch, "notifications", sec);
	sec = json_object_new_object();
	json_object_object_add(sec, "mfa_required", json_object_new_boolean(web_form(r, "security_mfa_required") != NULL));
	if (timeout == NULL || !core_parse_i64(timeout, INT32_MIN, INT32_MAX, &minutes))
		bad_timeout = true;
	else
		json_object_object_add(sec, "session_timeout_minutes", json_object_new_int64(minutes));
	ips = json_object_new_array();
	for (const char *p = iplist ? iplist : ""; *p != '\0';) {
		size_t n = strcspn(p, "\r\n, ");

		if (n > 0)
			json_object_array_add(ips, json_object_new_string_len(p, (int)n));
		p += n;
		p += strspn(p, "\r\n, ");
	}
	json_object_object_add(sec, "ip_whitelist", ips);
	json_object_object_add(patch, "security", sec);

	/* What the form shows again if the save fails: exactly what was posted. */
	posted = settings_form(patch, name);
	if (timeout != NULL)
		web_add_str(posted, "security_session_timeout_minutes", timeout);
	if (bad_timeout) {
		errors = json_object_new_object();
		web_add_str(errors, "security_session_timeout_minutes", "must be a whole number of minutes (5-1440)");
		json_object_put(patch);
		return settings_page(r, 422, posted, version, errors, "Some settings need fixing.", false);
	}
	r->json = json_object_new_object();
	json_object_object_add(r->json, "name", json_object_new_string(name ? name : ""));
	json_object_object_add(r->json, "settings", patch);
	if (web_form(r, "confirm_ip_lockout") != NULL)
		json_object_object_add(r->json, "confirm_ip_lockout", json_object_new_boolean(true));
	if (version != NULL && *version != '\0')
		r->if_match = arena_printf(r->a, "\"%s\"", version);
	st = web_api(r, pre, api_settings_put, &body);
	json_object_put(r->json);
	r->json = NULL;
	if (st == 200) {
		json_object_put(posted);
		return web_redirect(r, ws_path(r, "/settings"), "saved");
	}
	if (st == 422 || st == 400) {
		struct json_object *fields = web_error_fields(body), *ip;

		/* The lock-out guard, in the customer's words, with the box that confirms it. */
		if (json_object_object_get_ex(fields, "security_ip_whitelist", &ip) &&
		    strncmp(json_object_get_string(ip), "does not include the address", 28) == 0) {
			json_object_object_add(fields, "security_ip_whitelist", json_object_new_string(arena_printf(r->a,
			    "This list leaves out the address you are using now (%s): saving it would lock you out "
			    "of this workspace. Add your address, or tick the box below to save anyway.",
			    r->client != NULL ? r->client : "unknown")));
			json_object_object_add(fields, "ip_lockout", json_object_new_boolean(true));
		}
		return settings_page(r, 422, posted, version, fields, "Some settings need fixing.", false);
	}
	if (st == 412)
		return settings_page(r, 412, posted, version, NULL,
		    "Someone else changed these settings while you were editing. Nothing was saved.", true);
	json_object_put(posted);
	return http_error(r, st, "settings", web_error_message(body, "The settings could not be saved."));
}

/* ---- Billing -------------------------------------------------------------------------- */

/* "YYYY-MM" plus delta months. */
static const char *
month_add(struct req *r, const char *month, int delta)
{
	int y, m;

	if (!core_month_parse(month, &y, &m))
		return NULL;
	m += delta;
	while (m < 1) { m += 12; y--; }
	while (m > 12) { m -= 12; y++; }
	return arena_printf(r->a, "%04d-%02d", y, m);
}

/*
 * The month's totals and charts (template billing_meters) from the billing
 * API's answer for the month, into frag: "YYYY-MM", a NUL, the markup. 0, or
 * the error status written.
 */
static int
billing_fragment(struct req *r, struct db_batch *pre, struct buf *frag)
{
	struct json_object *body, *ctx, *meters, *list, *v;
	const char *month;
	int st, chart_n = 0;

	/* The API's own answer, handed over as objects (no text round trip). */
	if ((st = api_billing_build(r, pre, false, &body)) != 0)
		return st;
	web_defer_json(r, body);
	if (!json_object_object_get_ex(body, "month", &v) || !json_object_object_get_ex(body, "meters", &meters))
		return http_error_default(r, 500);
	month = json_object_get_string(v);
	ctx = json_object_new_object();
	web_add_str(ctx, "month", month);
	list = json_object_new_array();
	json_object_object_add(ctx, "meters", list);
	json_object_object_foreach(meters, name, meter) {
		struct json_object *daily, *o, *x;
		struct chart c = { 0 };
		struct buf svg;
		int64_t total = 0, limit = -1, peak = 0, *vals;
		const char *unit = "", *measure;
		bool gauge = false, daily_limit = false;
		int n;

		if (!json_object_object_get_ex(meter, "daily", &daily) ||
		    (n = (int)json_object_array_length(daily)) < 1 || n > 31)
			continue;
		if ((vals = arena_alloc(r->a, sizeof(int64_t) * (size_t)n)) == NULL)
			goto oom;
		for (int d = 0; d < n; d++) {
			vals[d] = json_object_object_get_ex(json_object_array_get_idx(daily, d), "quantity", &x) ?
			    json_object_get_int64(x) : 0;
			if (vals[d] > peak)
				peak = vals[d];
		}
		if (json_object_object_get_ex(meter, "period", &x) && x != NULL)
			daily_limit = strcmp(json_object_get_string(x), "day") == 0;
		if (json_object_object_get_ex(meter, "total", &x))
			total = json_object_get_int64(x);
		if (json_object_object_get_ex(meter, "limit", &x) && x != NULL)
			limit = json_object_get_int64(x);
		if (json_object_object_get_ex(meter, "unit", &x) && x != NULL)
			unit = json_object_get_string(x);
		if (json_object_object_get_ex(meter, "kind", &x))
			gauge = strcmp(json_object_get_string(x), "gauge") == 0;
		/*
		 * A monthly counter's limit is on the month's total: a line across
		 * its daily bars would only flatten them; the desc and caption say it.
		 */
		c = (struct chart){ .id = arena_printf(r->a, "chart-%d", chart_n++), .title = name,
		    .unit = unit, .month = month, .v = vals, .n = n, .gauge = gauge, .limit = limit,
		    .limit_on_total = !gauge && !daily_limit };
		buf_init(&svg);
		if (!web_chart_svg(&svg, &c) || svg.oom) {
			buf_release(&svg);
			goto oom;
		}
		/*
		 * Against its limit, as the quota API measures it: a gauge's peak,
		 * a daily counter's busiest day, a monthly counter's total.
		 */
		measure = gauge ? "peak" : daily_limit ? "busiest day" : "month total";
		o = quota_view(r, name, unit, gauge ? total : daily_limit ? peak : total, limit);
		web_add_str(o, "measure", measure);
		if (!gauge && daily_limit)
			web_add_str(o, "month_total", fmt_int(r, total));
		/* Trusted markup: built by web_chart_svg, every data string in it escaped. */
		json_object_object_add(o, "svg", json_object_new_string_len(svg.p, (int)svg.len));
		buf_release(&svg);
		json_object_array_add(list, o);
	}
	buf_append(frag, month, strlen(month) + 1);
	st = web_render_to(r, "billing_meters", ctx, frag);
	json_object_put(ctx);
	if (st != TMPL_OK || frag->oom) {
		log_error(r->request_id, "template billing_meters: %s", st != TMPL_OK ? tmpl_strerror(st) : "out of memory");
		return http_error_default(r, 500);
	}
	return 0;
oom:
	json_object_put(ctx);
	return http_error_default(r, 500);
}

/*
 * GET /w/{slug}/billing?month=YYYY-MM (admin): the API's billing usage for
 * the month, one server-rendered SVG bar chart a meter, totals against
 * limits, previous and next month links. 400 page for a malformed month.
 * The totals and charts are a function of the tenant, the month and the
 * UTC day: kept in the worker's cache (auth_cache_store_page) and, on a
 * cached session's next read, taken from r->page_cached with no database
 * round trip at all.
 */
int
web_billing(struct req *r, struct db_batch *pre)
{
	struct json_object *ctx;
	struct buf frag = { 0 };
	const char *data, *month, *markup;
	size_t len;
	int st;

	if (r->page_cached != NULL) {
		data = r->page_cached;
		len = r->page_cached_len;
	} else {
		buf_init(&frag);
		if ((st = billing_fragment(r, pre, &frag)) != 0) {
			buf_release(&frag);
			return st;
		}
		auth_cache_store_page(r, frag.p, frag.len);
		data = frag.p;
		len = frag.len;
	}
	month = data;
	markup = memchr(data, '\0', len);
	if (markup == NULL || markup - data != 7) {
		buf_release(&frag);
		return http_error_default(r, 500);
	}
	markup++;
	ctx = web_ctx(r, arena_printf(r->a, "Billing %s", month));
	json_object_object_add(ctx, "tab_billing", json_object_new_boolean(true));
	web_add_str(ctx, "month", month);
	web_add_str(ctx, "prev_month", month_add(r, month, -1));
	web_add_str(ctx, "next_month", month_add(r, month, 1));
	/* Trusted markup: billing_meters rendered it, escaping every data string. */
	st = web_render_around(r, 200, "billing", markup, len - (size_t)(markup - data), "partials/foot", ctx);
	buf_release(&frag);
	return st;
}

/* ---- API keys ------------------------------------------------------------------------- */

/* The keys page: the list (from the API), an error, and a new key's secret shown once. */
static int
keys_page(struct req *r, struct db_batch *pre, int status, const char *error,
    struct json_object *created)
{
	struct json_object *body, *ctx, *keys;
	int st;

	if ((st = web_api(r, pre, api_key_list, &body)) != 200)
		return http_error_default(r, st);
	if (json_object_object_get_ex(body, "api_keys", &keys))
		web_times(keys, (const char *const[]){ "created_at", "last_used_at", "expires_at", "revoked_at", NULL });
	ctx = web_ctx(r, "API keys");
	json_object_object_add(ctx, "tab_keys", json_object_new_boolean(true));
	json_object_object_add(ctx, "list", json_object_get(body));
	web_add_str(ctx, "error", error);
	json_object_object_add(ctx, "created", created);
	return web_render(r, status, "keys", ctx);
}

/* GET /w/{slug}/api-keys (admin): the keys, never their secrets. */
int
web_keys(struct req *r, struct db_batch *pre)
{
	return keys_page(r, pre, 200, NULL, NULL);
}

/*
 * POST /w/{slug}/api-keys {name, scope (repeated), expires (YYYY-MM-DD)}
 * (admin): 201 the page with the new key's secret, the only time it is
 * shown; 400 the page with the problem; 403 plan without API access.
 */
int
web_key_create(struct req *r, struct db_batch *pre)
{
	struct json_object *scopes = json_object_new_array(), *body;
	struct db_batch list = { 0 };
	const char *expires = web_form(r, "expires");
	enum db_status ds;
	int st;

	for (size_t i = 0; i < r->nform; i++)
		if (strcmp(r->form[i].key, "scope") == 0)
			json_object_array_add(scopes, json_object_new_string(r->form[i].val));
	r->json = json_object_new_object();
	web_add_str(r->json, "name", web_form(r, "name") ? web_form(r, "name") : "");
	json_object_object_add(r->json, "scopes", scopes);
	if (expires != NULL && *expires != '\0')
		web_add_str(r->json, "expires_at", strlen(expires) == 10 ?
		    arena_printf(r->a, "%sT00:00:00Z", expires) : expires);
	st = web_api(r, pre, api_key_create, &body);
	json_object_put(r->json);
	r->json = NULL;
	/*
	 * The list again, the new key included. The handler has committed, so
	 * the context is set again first (without it RLS shows no rows).
	 */
	auth_ctx_again(r, &list);
	if (api_key_list_prefetch(r, &list) != 0 ||
	    (ds = db_exec(r->w->db, r->a, &list, r->request_id)) != DB_OK)
		return http_error(r, st == 201 ? 503 : st, "api_key",
		    web_error_message(body, "The key could not be created."));
	if (st == 201)
		return keys_page(r, &list, 201, NULL, json_object_get(body));
	return keys_page(r, &list, st, web_error_message(body, "The key could not be created."), NULL);
}

/*
 * A confirmation page ("revoke this key?", "remove this member?"): the one
 * row the prefetch found (JSON) under key in the context of template tmpl,
 * or 404 with code and message when there is none.
 */
static int
confirm_page(struct req *r, struct db_batch *pre, const char *key, const char *tmpl,
    const char *title, const char *tab, const char *code, const char *missing)
{
	const PGresult *res = auth_pre(pre, 0);
	struct json_object *ctx, *row;

	if (db_rows(res) != 1 || (row = json_tokener_parse(db_val(res, 0, 0))) == NULL)
		return http_error(r, 404, code, missing);
	ctx = web_ctx(r, title);
	json_object_object_add(ctx, tab, json_object_new_boolean(true));
	json_object_object_add(ctx, key, row);
	json_object_object_add(ctx, "self", json_object_new_boolean(strcmp(r->param[1], r->who.user_id) == 0));
	return web_render(r, 200, tmpl, ctx);
}

/* The key named by the path (ST_WEB_KEY). */
int
web_key_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_WEB_KEY, 1, r->param[1]) < 0 ? http_error_default(r, 500) : 0;
}

/* GET /w/{slug}/api-keys/{id}/revoke (admin): "revoke this key?" with the form; 404. */
int
web_key_revoke_form(struct req *r, struct db_batch *pre)
{
	return confirm_page(r, pre, "key", "key_revoke", "Revoke API key", "tab_keys",
	    "api_key_not_found", "There is no such API key in this workspace.");
}

/* POST /w/{slug}/api-keys/{id}/revoke (admin): 303 to the list, the key answering 401 from now on; 404. */
int
web_key_revoke(struct req *r, struct db_batch *pre)
{
	struct json_object *body;
	int st = web_api(r, pre, api_key_revoke, &body);

	if (st != 204)
		return http_error(r, st, "api_key", web_error_message(body, "The key could not be revoked."));
	return web_redirect(r, ws_path(r, "/api-keys"), "key_revoked");
}

/* ---- Members -------------------------------------------------------------------------- */

/* Members (0) and, for those who manage them, pending invitations (1). */
int
web_members_prefetch(struct req *r, struct db_batch *b)
{
	int st;

	if ((st = api_member_list_prefetch(r, b)) != 0)
		return st;
	/* The first 100 pending invitations: the query string's cursor is the members'. */
	return db_add(b, ST_INVITE_LIST, 5, "100", NULL, NULL, "1", "0") < 0 ? http_error_default(r, 500) : 0;
}

static const char *const roles[] = { "viewer", "member", "admin", "owner" };

/* The role choices of a <select>, selected marked; only an owner may grant owner. */
static struct json_object *
role_options(bool owner, const char *selected)
{
	struct json_object *opts = json_object_new_array();

	for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
		struct json_object *o;

		if (strcmp(roles[k], "owner") == 0 && !owner)
			continue;
		o = json_object_new_object();
		web_add_str(o, "value", roles[k]);
		json_object_object_add(o, "selected", json_object_new_boolean(strcmp(selected, roles[k]) == 0));
		json_object_array_add(opts, o);
	}
	return opts;
}

/* The members page: list, role forms and invitations for managers, an error or a new invite link. */
static int
members_page(struct req *r, struct db_batch *pre, int first, int status, const char *error,
    struct json_object *invited)
{
	struct json_object *body, *inv = NULL, *ctx, *users;
	struct db_batch sub;
	bool manage = auth_allows(r, CAP_MEMBERS_MANAGE), owner = r->who.superadmin || r->tenant.role == ROLE_OWNER;
	int st;

	web_pre_at(pre, first, &sub);
	if ((st = web_api(r, &sub, api_member_list, &body)) != 200)
		return http_error_default(r, st);
	if (manage) {
		web_pre_at(pre, first + 1, &sub);
		if (web_api(r, &sub, api_invite_list, &inv) != 200)
			inv = NULL;
	}
	ctx = web_ctx(r, "Members");
	json_object_object_add(ctx, "tab_members", json_object_new_boolean(true));
	/* Each member's role choices; only an owner may grant owner. */
	if (json_object_object_get_ex(body, "users", &users)) {
		web_times(users, (const char *const[]){ "joined_at", NULL });
		for (size_t i = 0; i < json_object_array_length(users); i++) {
			struct json_object *u = json_object_array_get_idx(users, i), *role, *id;
			const char *cur = json_object_object_get_ex(u, "role", &role) ? json_object_get_string(role) : "";

			json_object_object_add(u, "roles", role_options(owner, cur));
			json_object_object_add(u, "editable", json_object_new_boolean(manage &&
			    (owner || strcmp(cur, "owner") != 0)));
			if (json_object_object_get_ex(u, "user_id", &id))
				json_object_object_add(u, "self", json_object_new_boolean(
				    strcmp(json_object_get_string(id), r->who.user_id) == 0));
		}
	}
	json_object_object_add(ctx, "list", json_object_get(body));
	/* The search box and the pages: a GET form, pages chained by the list's cursor. */
	{
		const char *q = api_query(r, "q"), *qs = q ? arena_printf(r->a, "&q=%s", web_url_encode(r, q)) : "";
		struct json_object *v;

		web_add_str(ctx, "q", q);
		json_object_object_add(ctx, "one", json_object_new_boolean(
		    json_object_object_get_ex(body, "total", &v) && json_object_get_int64(v) == 1));
		if (json_object_object_get_ex(body, "page", &v) && json_object_get_int64(v) > 1)
			json_object_object_add(ctx, "first_url", json_object_new_string(arena_printf(r->a,
			    "%s?page=1%s", ws_path(r, "/members"), qs)));
		if (json_object_object_get_ex(body, "next_cursor", &v))
			json_object_object_add(ctx, "next_url", json_object_new_string(arena_printf(r->a,
			    "%s?cursor=%s%s", ws_path(r, "/members"), web_url_encode(r, json_object_get_string(v)), qs)));
	}
	if (inv != NULL) {
		struct json_object *list;

		if (json_object_object_get_ex(inv, "invitations", &list))
			web_times(list, (const char *const[]){ "expires_at", NULL });
		json_object_object_add(ctx, "invitations", json_object_get(inv));
	}
	json_object_object_add(ctx, "invite_roles", role_options(owner, "member"));
	web_add_str(ctx, "error", error);
	json_object_object_add(ctx, "invited", invited);
	return web_render(r, status, "members", ctx);
}

/* GET /w/{slug}/members (viewer and up; controls for admins and owners). */
int
web_members(struct req *r, struct db_batch *pre)
{
	/* Both lists follow the authorisation context (two statements). */
	return members_page(r, pre, 0, 200, NULL, NULL);
}

/* POST /w/{slug}/members: a role change names the member; lock them as the API does. */
int
web_members_post_prefetch(struct req *r, struct db_batch *b)
{
	const char *action = web_form(r, "action"), *uid = web_form(r, "user_id");
	char *id;

	if (action == NULL || strcmp(action, "role") != 0)
		return 0;
	if (uid == NULL || !core_uuid_valid(uid))
		return http_error(r, 400, "invalid_request", "Choose a member.");
	/* As the router would have made it from a {uuid} path segment. */
	if ((id = arena_strdup(r->a, uid)) == NULL)
		return http_error_default(r, 500);
	core_uuid_lower(id, id);
	r->param[1] = id;
	return api_member_lock_prefetch(r, b);
}

/*
 * POST /w/{slug}/members {action: invite, email, role | action: role,
 * user_id, role} (admin; owner rules as in the API): an invitation is sent
 * and the page shows its link once (201); a role change redirects with a
 * notice; a refusal shows the page with the reason (400, 403, 409, 429).
 */
int
web_members_post(struct req *r, struct db_batch *pre)
{
	const char *action = web_form(r, "action");
	struct json_object *body, *inv = NULL;
	struct db_batch list = { 0 };
	enum db_status ds;
	route_handler h;
	int st;

	r->json = json_object_new_object();
	web_add_str(r->json, "role", web_form(r, "role") ? web_form(r, "role") : "");
	if (action != NULL && strcmp(action, "invite") == 0) {
		web_add_str(r->json, "email", web_form(r, "email") ? web_form(r, "email") : "");
		h = api_member_invite;
	} else if (action != NULL && strcmp(action, "role") == 0) {
		h = api_member_role;
	} else {
		json_object_put(r->json);
		r->json = NULL;
		return http_error(r, 400, "invalid_request", "Unknown action.");
	}
	st = web_api(r, pre, h, &body);
	json_object_put(r->json);
	r->json = NULL;
	if (st == 200 && h == api_member_role)
		return web_redirect(r, ws_path(r, "/members"), "role_changed");
	if (st == 201) {
		struct json_object *v;

		inv = json_object_new_object();
		if (json_object_object_get_ex(body, "invite_url", &v))
			json_object_object_add(inv, "url", json_object_get(v));
		web_add_str(inv, "email", web_form(r, "email"));
	}
	/*
	 * The lists again, a new invitation included: after the handler's
	 * commit, so with the authorisation context set again (two statements).
	 */
	auth_ctx_again(r, &list);
	if (web_members_prefetch(r, &list) != 0 ||
	    (ds = db_exec(r->w->db, r->a, &list, r->request_id)) != DB_OK) {
		json_object_put(inv);
		return http_error(r, st >= 400 ? st : 503, "members",
		    web_error_message(body, "The members could not be listed."));
	}
	return members_page(r, &list, 0, st,
	    st == 201 ? NULL : web_error_message(body, "That did not work."), inv);
}

/* The member named by the path (ST_WEB_MEMBER). */
int
web_member_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_WEB_MEMBER, 1, r->param[1]) < 0 ? http_error_default(r, 500) : 0;
}

/* GET /w/{slug}/members/{user_id}/remove (admin): "remove this member?" with the form; 404. */
int
web_member_remove_form(struct req *r, struct db_batch *pre)
{
	return confirm_page(r, pre, "member", "member_remove", "Remove member", "tab_members",
	    "user_not_found", "There is no such member in this workspace.");
}

/*
 * POST /w/{slug}/members/{user_id}/remove (admin; only an owner removes an
 * owner, never the last one): 303 to the list (or, having left, to
 * /dashboard); 403/404/409 page with the reason.
 */
int
web_member_remove(struct req *r, struct db_batch *pre)
{
	struct json_object *body;
	int st = web_api(r, pre, api_member_remove, &body);

	if (st != 204)
		return http_error(r, st, "member", web_error_message(body, "The member could not be removed."));
	if (strcmp(r->param[1], r->who.user_id) == 0)
		return web_redirect(r, "/dashboard", "member_removed");
	return web_redirect(r, ws_path(r, "/members"), "member_removed");
}

/* ---- Activity ------------------------------------------------------------------------- */

/* The filter as a query string (for the next page and the CSV link), into the arena. */
static const char *
activity_query(struct req *r)
{
	static const char *const keys[] = { "action", "actor", "from", "to" };
	struct buf b;
	const char *s;

	buf_init(&b);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = api_query(r, keys[i]);

		if (v != NULL)
			buf_printf(&b, "%s%s=%s", b.len ? "&" : "", keys[i], web_url_encode(r, v));
	}
	s = arena_strdup(r->a, b.p ? b.p : "");
	buf_release(&b);
	return s;
}

/*
 * GET /w/{slug}/activity?action&actor&from&to&cursor (admin): the audit log
 * newest first, 50 a page, with the filter form, a next-page link and a
 * CSV link for the whole filtered range. 400 page for a malformed filter.
 */
int
web_activity(struct req *r, struct db_batch *pre)
{
	struct json_object *body, *ctx, *v;
	const char *q;
	int st;

	if ((st = web_api(r, pre, api_activity, &body)) != 200)
		return http_error(r, st, "invalid_request", web_error_message(body, "The filter is not valid."));
	q = activity_query(r);
	if (json_object_object_get_ex(body, "events", &v))
		web_times(v, (const char *const[]){ "occurred_at", NULL });
	ctx = web_ctx(r, "Activity");
	json_object_object_add(ctx, "tab_activity", json_object_new_boolean(true));
	json_object_object_add(ctx, "list", json_object_get(body));
	{
		static const char *const keys[] = { "action", "actor", "from", "to" };
		struct json_object *f = json_object_new_object();

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			web_add_str(f, keys[i], api_query(r, keys[i]));
		json_object_object_add(ctx, "filter", f);
	}
	web_add_str(ctx, "csv_url", arena_printf(r->a, "/w/%s/activity.csv%s%s", r->tenant.slug, *q ? "?" : "", q));
	if (json_object_object_get_ex(body, "next_cursor", &v) && v != NULL)
		web_add_str(ctx, "next_url", arena_printf(r->a, "/w/%s/activity?%s%scursor=%s", r->tenant.slug,
		    q, *q ? "&" : "", json_object_get_string(v)));
	if (api_query(r, "cursor") != NULL)
		web_add_str(ctx, "first_url", arena_printf(r->a, "/w/%s/activity%s%s", r->tenant.slug, *q ? "?" : "", q));
	return web_render(r, 200, "activity", ctx);
}

/*
 * GET /w/{slug}/activity.csv?action&actor&from&to (admin): the API's CSV
 * export of the filtered range; the route's handler is api_activity.
 */
int
web_activity_csv_prefetch(struct req *r, struct db_batch *b)
{
	struct kv *qv = arena_alloc(r->a, sizeof(*qv) * (r->nqv + 1));

	if (qv == NULL)
		return http_error_default(r, 500);
	/* Only the filter is taken from the query; the format is this route's. */
	for (size_t i = 0; i < r->nqv; i++)
		qv[i] = r->qv[i];
	for (size_t i = 0; i < r->nqv; i++)
		if (strcmp(qv[i].key, "format") == 0)
			qv[i].val = "csv";
	qv[r->nqv] = (struct kv){ "format", "csv" };
	r->qv = qv;
	r->nqv++;
	return api_activity_prefetch(r, b);
}
