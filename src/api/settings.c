/* settings.c: tenant settings: the schema as a table, RFC 7396 merge, validation, GET and PUT. */
#include "api/api.h"
#include "api/settings.h"
#include "auth/authz.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/util.h"
#include "net/webhook.h"
#include "http/response.h"
#include "http/validate.h"
#include "http/worker.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

/* ---- The settings schema (SPEC §5), as data ------------------------------------ */

enum skind { SK_BOOL, SK_COLOR, SK_URL, SK_CIDRS, SK_INT, SK_TEXT };

struct skey {
	const char *section;
	const char *key;
	enum skind  kind;
	bool        nullable;
	long        min, max;      /* SK_INT range; SK_TEXT length */
	bool        restricted;    /* only a superadmin changes it */
	const char *def;           /* default, as JSON */
};

/* Sensitive keys (SPEC §2): read and changed by people with a role of admin and up, never by API keys. */
static bool
sensitive(const struct skey *k)
{
	return strcmp(k->section, "security") == 0 || strcmp(k->section, "integrations") == 0 ||
	    (strcmp(k->section, "notifications") == 0 && strcmp(k->key, "webhook_url") == 0);
}

static const struct skey skeys[] = {
	{ "branding", "primary_color", SK_COLOR, false, 0, 0, false, "\"#000000\"" },
	{ "branding", "logo_url", SK_URL, true, 0, 0, false, "null" },
	{ "notifications", "email_enabled", SK_BOOL, false, 0, 0, false, "true" },
	{ "notifications", "webhook_url", SK_URL, true, 0, 0, false, "null" },
	{ "security", "ip_whitelist", SK_CIDRS, false, 0, 0, false, "[]" },
	{ "security", "mfa_required", SK_BOOL, false, 0, 0, false, "false" },
	{ "security", "session_timeout_minutes", SK_INT, false, 5, 1440, false, "60" },
	{ "features", "custom_models_enabled", SK_BOOL, false, 0, 0, true, "false" },
	{ "features", "api_access_enabled", SK_BOOL, false, 0, 0, true, "true" },
	{ "features", "sso_enabled", SK_BOOL, false, 0, 0, true, "false" },
	{ "integrations", "slack_workspace", SK_TEXT, true, 1, 100, false, "null" },
	{ "integrations", "microsoft_teams", SK_TEXT, true, 1, 100, false, "null" },
};
#define NSKEYS (sizeof(skeys) / sizeof(skeys[0]))
#define IP_WHITELIST_MAX 100
#define URL_MAX 2048

static bool
known_section(const char *s)
{
	for (size_t i = 0; i < NSKEYS; i++)
		if (strcmp(skeys[i].section, s) == 0)
			return true;
	return false;
}

static const struct skey *
find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < NSKEYS; i++)
		if (strcmp(skeys[i].section, section) == 0 && strcmp(skeys[i].key, key) == 0)
			return &skeys[i];
	return NULL;
}

/* ---- Value checks ----------------------------------------------------------------- */

static bool
valid_color(const char *s)
{
	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool
settings_url_ok(const char *s)
{
	const char *host = s + 8, *end;
	size_t n = strlen(s), hl;
	struct webhook_url wu;

	if (n > URL_MAX || strncasecmp(s, "https://", 8) != 0)   /* schemes are case-insensitive */
		return false;
	/* What the notifier could not deliver to is refused here, in place, not at the first delivery. */
	if (!net_webhook_url_parse(s, &wu))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '\\' || s[i] == '"' ||
		    s[i] == '<' || s[i] == '>')
			return false;
	end = host + strcspn(host, "/?#");
	hl = (size_t)(end - host);
	if (hl == 0 || memchr(host, '@', hl) != NULL)
		return false;   /* no host, or credentials in the URL */
	if (host[0] == '[') {
		const char *close = memchr(host, ']', hl);
		char v6[64];
		unsigned char bin[16];
		size_t vl;
		int64_t port;

		if (close == NULL || (vl = (size_t)(close - host - 1)) == 0 || vl >= sizeof(v6))
			return false;
		memcpy(v6, host + 1, vl);
		v6[vl] = '\0';
		if (inet_pton(AF_INET6, v6, bin) != 1)
			return false;
		if (close + 1 == end)
			return true;
		if (close[1] != ':' || end - close - 2 < 1 || end - close - 2 > 5)
			return false;
		memcpy(v6, close + 2, (size_t)(end - close - 2));
		v6[end - close - 2] = '\0';
		return core_parse_i64(v6, 1, 65535, &port) && isdigit((unsigned char)v6[0]);
	}
	for (size_t i = 0; i < hl; i++) {
		char c = host[i];

		if (c == ':') {   /* port: digits only, 1..65535 */
			int64_t port;
			char digits[8];
			size_t dl = hl - i - 1;

			if (i == 0 || dl == 0 || dl > 5)
				return false;
			memcpy(digits, host + i + 1, dl);
			digits[dl] = '\0';
			return core_parse_i64(digits, 1, 65535, &port);
		}
		if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
			return false;
	}
	return host[0] != '.' && host[0] != '-';
}

bool
settings_cidr_ok(const char *s)
{
	struct netaddr net;
	int bits;

	/* The same parser the worker enforces the list with (core/netaddr.c). */
	return core_cidr_parse(s, &net, &bits);
}

/*
 * A JSON string that is a C string: no U+0000 inside, which the checks
 * below (strlen, inet_pton, the URL parser) would stop at while the whole
 * string is stored (and PostgreSQL's jsonb refuses it). The edge's parser
 * already refuses U+0000; this keeps the schema true on its own
 * (fuzz_cidr: "1:2:3:4:5:6:7:8/64\0junk" was accepted as an allow-list entry).
 */
static bool
c_string(struct json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	    strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

/* NULL if v is a valid value for k, else the problem. */
static const char *
check_value(const struct skey *k, struct json_object *v)
{
	if (v == NULL)
		return k->nullable ? NULL : "must not be null";
	if (json_object_is_type(v, json_type_string) && !c_string(v))
		return "must not contain U+0000";
	switch (k->kind) {
	case SK_BOOL:
		return json_object_is_type(v, json_type_boolean) ? NULL : "must be true or false";
	case SK_COLOR:
		return json_object_is_type(v, json_type_string) && valid_color(json_object_get_string(v))
		    ? NULL : "must be #RRGGBB";
	case SK_URL:
		return json_object_is_type(v, json_type_string) && settings_url_ok(json_object_get_string(v))
		    ? NULL : "must be an absolute https:// URL with a host";
	case SK_INT:
		if (!json_object_is_type(v, json_type_int))
			return "must be an integer";
		if (json_object_get_int64(v) < k->min || json_object_get_int64(v) > k->max)
			return "must be from 5 to 1440";
		return NULL;
	case SK_TEXT: {
		const char *s;
		size_t n;

		if (!json_object_is_type(v, json_type_string))
			return "must be a string or null";
		s = json_object_get_string(v);
		n = http_utf8_chars(s, strlen(s));
		if ((long)n < k->min || (long)n > k->max || http_has_control(s, strlen(s)))
			return "must be 1-100 characters without control characters";
		return NULL;
	}
	case SK_CIDRS:
		if (!json_object_is_type(v, json_type_array))
			return "must be a list of IPv4 or IPv6 CIDR blocks";
		if (json_object_array_length(v) > IP_WHITELIST_MAX)
			return "may hold at most 100 entries";
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *e = json_object_array_get_idx(v, i);

			if (!c_string(e) || !settings_cidr_ok(json_object_get_string(e)))
				return "entries must be IPv4 or IPv6 CIDR blocks (e.g. 203.0.113.0/24)";
		}
		return NULL;
	}
	return "unknown kind";
}

/* ---- Merge and validate ------------------------------------------------------------- */

static void
detail(struct json_object *details, const char *field, const char *problem)
{
	json_object_array_add(details, api_detail_obj(field, problem));
}

/*
 * RFC 7396 merge of patch into target (both objects), in place: null
 * removes a key, an object merges recursively, anything else replaces.
 */
void
settings_merge(struct json_object *target, struct json_object *patch)
{
	json_object_object_foreach(patch, k, pv) {
		struct json_object *tv;

		if (pv == NULL) {
			json_object_object_del(target, k);
		} else if (json_object_is_type(pv, json_type_object)) {
			if (!json_object_object_get_ex(target, k, &tv) || !json_object_is_type(tv, json_type_object)) {
				tv = json_object_new_object();
				json_object_object_add(target, k, tv);
			}
			settings_merge(tv, pv);
		} else {
			json_object_object_add(target, k, json_object_get(pv));
		}
	}
}

/*
 * Check the patch's shape against the schema (unknown sections or keys,
 * sections that are not objects) and every value in the merged document.
 * Then fill each missing key with its default, so removing a key with null
 * resets it. Adds one detail per bad field.
 */
static void
validate(struct json_object *patch, struct json_object *merged, struct json_object *details)
{
	char field[128];

	json_object_object_foreach(patch, sec, sv) {
		if (!known_section(sec)) {
			detail(details, sec, "is not a settings section");
			continue;
		}
		if (sv == NULL)
			continue;
		if (!json_object_is_type(sv, json_type_object)) {
			detail(details, sec, "must be an object");
			continue;
		}
		json_object_object_foreach(sv, key, kv) {
			(void)kv;
			if (find_key(sec, key) == NULL) {
				snprintf(field, sizeof(field), "%s.%s", sec, key);
				detail(details, field, "is not a known setting");
			}
		}
	}
	for (size_t i = 0; i < NSKEYS; i++) {
		const struct skey *k = &skeys[i];
		struct json_object *so, *v;
		const char *problem;

		if (!json_object_object_get_ex(merged, k->section, &so) || so == NULL) {
			so = json_object_new_object();
			json_object_object_add(merged, k->section, so);
		} else if (!json_object_is_type(so, json_type_object)) {
			/* Reported above when the patch did it; a stored one is reset. */
			if (!json_object_object_get_ex(patch, k->section, NULL)) {
				so = json_object_new_object();
				json_object_object_add(merged, k->section, so);
			} else {
				continue;
			}
		}
		if (!json_object_object_get_ex(so, k->key, &v)) {
			json_object_object_add(so, k->key, json_tokener_parse(k->def));
			continue;
		}
		if ((problem = check_value(k, v)) != NULL) {
			snprintf(field, sizeof(field), "%s.%s", k->section, k->key);
			detail(details, field, problem);
		}
	}
}

/* The value of k in doc, or its default when absent (*owned then set). */
static struct json_object *
value_or_default(struct json_object *doc, const struct skey *k, struct json_object **owned)
{
	struct json_object *so, *v;

	*owned = NULL;
	if (json_object_object_get_ex(doc, k->section, &so) && so != NULL &&
	    json_object_is_type(so, json_type_object) && json_object_object_get_ex(so, k->key, &v))
		return v;
	return *owned = json_tokener_parse(k->def);
}

/*
 * One detail per key the actor may not change whose value differs between
 * before and after: features.* below superadmin, the sensitive keys for an
 * API key. A key absent from before counts as its default (so a key added
 * to the schema later never blocks a save). Keys already reported as
 * invalid are skipped.
 */
static void
restricted_changes(struct json_object *before, struct json_object *after,
    enum settings_actor who, struct json_object *details)
{
	char field[128];

	for (size_t i = 0; i < NSKEYS; i++) {
		const struct skey *k = &skeys[i];
		struct json_object *o1, *o2, *v1, *v2;
		bool reported = false;
		const char *why;

		if (k->restricted && who != SETTINGS_SUPERADMIN)
			why = "only a superadmin may change features";
		else if (sensitive(k) && who == SETTINGS_API_KEY)
			why = "an API key may not change security, webhook or integration settings";
		else
			continue;
		snprintf(field, sizeof(field), "%s.%s", k->section, k->key);
		for (size_t d = 0; d < json_object_array_length(details); d++) {
			struct json_object *f;

			if (json_object_object_get_ex(json_object_array_get_idx(details, d), "field", &f) &&
			    (strcmp(json_object_get_string(f), field) == 0 ||
			     strcmp(json_object_get_string(f), k->section) == 0))
				reported = true;
		}
		if (reported)
			continue;
		v1 = value_or_default(before, k, &o1);
		v2 = value_or_default(after, k, &o2);
		if (!json_object_equal(v1, v2))
			detail(details, field, why);
		json_object_put(o1);
		json_object_put(o2);
	}
}

struct json_object *
settings_apply(struct json_object *current, struct json_object *patch, enum settings_actor who,
    struct json_object *details)
{
	struct json_object *merged = NULL;   /* json_object_deep_copy wants *dst == NULL */
	size_t len;

	if (json_object_deep_copy(current, &merged, NULL) != 0)
		return NULL;
	settings_merge(merged, patch);
	validate(patch, merged, details);
	if (who != SETTINGS_SUPERADMIN)
		restricted_changes(current, merged, who, details);
	json_object_to_json_string_length(merged, JSON_C_TO_STRING_PLAIN, &len);
	if (json_object_array_length(details) == 0 && len > SETTINGS_MAX_BYTES)
		detail(details, "settings", "the settings document must be at most 10 KiB");
	return merged;
}

/* ---- Routes ------------------------------------------------------------------------ */

int
api_settings_get_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_SETTINGS_GET, 0) < 0 ? 500 : 0;
}

static void
etag(struct req *r, const char *version)
{
	http_header(r, "ETag", arena_printf(r->a, "\"%s\"", version));
}

/*
 * GET /api/v1/tenants/current/settings (member): 200 {settings, updated_at,
 * version} with ETag "<version>"; security.*, notifications.webhook_url
 * and integrations.* are left out below admin.
 */
int
api_settings_get(struct req *r, struct db_batch *pre)
{
	const PGresult *res = auth_pre(pre, 0);

	if (db_val(res, 0, 1) != NULL)
		etag(r, db_val(res, 0, 1));
	return api_send_pg_json(r, 200, res);
}

int
api_settings_put_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, ST_SETTINGS_LOCK, 0) < 0 ? 500 : 0;
}

/* If-Match: "<n>" or W/"<n>" or *; -1 absent or *, -2 malformed. */
static long long
if_match(const char *h)
{
	int64_t v;
	char digits[24];
	size_t n;

	if (h == NULL || strcmp(h, "*") == 0)
		return -1;
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	n = strlen(h);
	if (n < 3 || n > 22 || h[0] != '"' || h[n - 1] != '"')
		return -2;
	memcpy(digits, h + 1, n - 2);
	digits[n - 2] = '\0';
	return core_parse_i64(digits, 0, INT64_MAX, &v) ? v : -2;
}

static const struct field put_fields[] = {
	{ "name", FT_SECRET, false, 0, 1000 },   /* checked below: its errors are 422 */
	{ "settings", FT_OBJECT, false, 0, 0 },
	{ "confirm_ip_lockout", FT_BOOL, false, 0, 0 },
};

/*
 * The lock-out guard: an IP allow-list that would refuse the very address
 * it is being saved from (the rule auth_decide enforces) is saved only
 * when the request says it means it ("confirm_ip_lockout": true); else a
 * detail on the field. A superadmin the deployment exempts is not held.
 */
static void
lockout_guard(const struct req *r, struct json_object *settings, bool confirmed, struct json_object *details)
{
	struct json_object *sec, *ips;
	struct netaddr a;
	char list[4096];
	size_t n = 0;

	if (confirmed || settings == NULL || (r->who.superadmin && r->w->cfg.allowlist_exempt_superadmin) ||
	    !json_object_object_get_ex(settings, "security", &sec) ||
	    !json_object_object_get_ex(sec, "ip_whitelist", &ips) || !json_object_is_type(ips, json_type_array) ||
	    json_object_array_length(ips) == 0)
		return;
	for (size_t i = 0; i < json_object_array_length(ips) && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s ",
		    json_object_get_string(json_object_array_get_idx(ips, i)));
	if (r->client != NULL && core_addr_parse(r->client, &a) && core_cidr_list_contains(list, &a))
		return;
	json_object_array_add(details, api_detail_obj("settings.security.ip_whitelist",
	    arena_printf(r->a, "does not include the address you are saving from (%s): you would lose access; "
	    "add it, or confirm (confirm_ip_lockout: true)", r->client != NULL ? r->client : "unknown")));
}

/*
 * PUT /api/v1/tenants/current/settings {name?, settings?} (admin): merges
 * settings (RFC 7396; null resets a key to its default) and renames. The
 * row is locked in the authorisation round trip, so concurrent writers are
 * serialised and none is lost; with If-Match a stale version is 412 and
 * nothing changes. 200 {settings, updated_at, version} with ETag; 400 body
 * not an object/unknown top-level field; 412; 422 invalid_settings with one
 * detail per field (features.* by a non-superadmin included); 429 over 10
 * updates an hour (enterprise exempt); 401/403/503.
 */
int
api_settings_put(struct req *r, struct db_batch *pre)
{
	struct fval v[3];
	const PGresult *lock = auth_pre(pre, 0);
	struct json_object *current, *merged = NULL, *details, *before;
	struct db_batch b = { 0 };
	const char *p[8], *name = NULL, *ver = db_val(lock, 0, 2);
	long long want = if_match(r->if_match);
	enum db_status st;
	int rc, upd;

	if ((rc = http_fields(r, put_fields, 3, v)) != 0)
		return rc;
	if (want == -2)
		return http_error(r, 400, "invalid_request", "If-Match must be a quoted version, e.g. \"3\"");
	if (want >= 0 && (ver == NULL || want != db_i64(lock, 0, 2))) {
		if (ver != NULL)
			etag(r, ver);
		return http_error(r, 412, "concurrent_update",
		    "the settings changed since you read them; reload and apply your change again");
	}
	if ((current = json_tokener_parse(db_val(lock, 0, 1) ? db_val(lock, 0, 1) : "")) == NULL)
		return http_error_default(r, 500);
	details = json_object_new_array();
	if (v[0].set) {
		size_t chars = http_utf8_chars(v[0].s, v[0].len);

		if (chars < 3 || chars > 100 || http_has_control(v[0].s, v[0].len))
			detail(details, "name", "must be 3-100 characters without control characters");
		name = v[0].s;
	}
	if (v[1].set && (merged = settings_apply(current, v[1].o, r->who.superadmin ? SETTINGS_SUPERADMIN :
	    r->who.cred == CRED_API_KEY ? SETTINGS_API_KEY : SETTINGS_ADMIN, details)) == NULL) {
		json_object_put(current);
		json_object_put(details);
		return http_error_default(r, 500);
	}
	if (json_object_array_length(details) == 0)
		lockout_guard(r, merged, v[2].set && v[2].b, details);
	if (json_object_array_length(details) > 0) {
		json_object_put(current);
		json_object_put(merged);
		return http_error_details(r, 422, "invalid_settings", "some settings are not valid", details);
	}
	json_object_put(details);

	before = json_object_new_object();
	json_object_object_add(before, "name", json_object_new_string(db_val(lock, 0, 0)));
	json_object_object_add(before, "settings", current);
	p[0] = name;
	p[1] = json_object_to_json_string_ext(merged ? merged : current, JSON_C_TO_STRING_PLAIN);
	p[2] = json_object_to_json_string_ext(before, JSON_C_TO_STRING_PLAIN);
	api_audit(r, p + 3);
	upd = db_addv(&b, ST_SETTINGS_UPDATE, 8, p);
	st = db_exec(r->w->db, r->a, &b, r->request_id);
	json_object_put(merged);
	json_object_put(before);
	if (st != DB_OK)
		return api_db_fail(r, st);
	etag(r, db_val(b.q[upd].res, 0, 1));
	return api_send_pg_json(r, 200, b.q[upd].res);
}

/*
 * GET /api/v1/tenants/{id}/webhook-secret (admin): 200 {secret, algorithm,
 * header}: the key that signs this tenant's webhooks (X-Tenantry-Signature:
 * sha256=<hex HMAC-SHA256 of the raw body>, keyed with the secret's text).
 * Derived from the server secret and the tenant id, so it is stored nowhere
 * and every worker and `tenantryctl notify` agree; it changes when the
 * server secret is rotated. 401, 403, 404, 503.
 */
int
api_webhook_secret(struct req *r, struct db_batch *pre)
{
	struct json_object *o;
	char key[64];

	(void)pre;
	if (!net_webhook_key(r->w->cfg.jwt_secret, r->w->cfg.jwt_secret_len, r->tenant.id, key))
		return http_error_default(r, 500);
	o = json_object_new_object();
	json_object_object_add(o, "secret", json_object_new_string(key));
	json_object_object_add(o, "algorithm", json_object_new_string("HMAC-SHA256"));
	json_object_object_add(o, "header", json_object_new_string("X-Tenantry-Signature"));
	OPENSSL_cleanse(key, sizeof(key));
	return http_json(r, 200, o);
}
