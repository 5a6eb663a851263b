/* test_router.c: unit tests for src/http/router: matching rules as tables, and invariants of the real route table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "http/request.h"
#include "app/routes.h"
#include "http/router.h"

/*
 * Two kinds of test. A table of {method, path} -> {outcome, route, params,
 * Allow} over a small route table declared here (handlers NULL: never
 * called), which pins down the matching rules of router.h. And invariants
 * checked over every row of the real table in routes.c, so a route added
 * tomorrow is covered without a new test.
 */

static int
setup(void **state)
{
	struct arena *a = arena_new(4096);

	if (a == NULL)
		return -1;
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static const char *
match_name(enum route_match m)
{
	switch (m) {
	case ROUTE_FOUND:      return "FOUND";
	case ROUTE_NOT_FOUND:  return "NOT_FOUND";
	case ROUTE_BAD_METHOD: return "BAD_METHOD";
	case ROUTE_BAD_PARAM:  return "BAD_PARAM";
	}
	return "?";
}

/* ========================================================================
 * The rules, over a table of our own
 * ===================================================================== */

#define R(m, p) { .method = (m), .pattern = (p), .cap = CAP_PUBLIC, .handler = NULL }

/* Literals are listed before the parameter routes they could be confused with. */
static const struct route table[] = {
	R(HTTP_GET,    "/health"),
	R(HTTP_GET,    "/api/v1/tenants"),
	R(HTTP_POST,   "/api/v1/tenants"),
	R(HTTP_GET,    "/api/v1/tenants/current"),
	R(HTTP_GET,    "/api/v1/tenants/current/usage"),
	R(HTTP_GET,    "/api/v1/tenants/current/settings"),
	R(HTTP_PUT,    "/api/v1/tenants/current/settings"),
	R(HTTP_GET,    "/api/v1/tenants/{tenant}"),
	R(HTTP_PATCH,  "/api/v1/tenants/{tenant}"),
	R(HTTP_GET,    "/api/v1/tenants/{tenant}/users"),
	R(HTTP_POST,   "/api/v1/tenants/{tenant}/users/invite"),
	R(HTTP_DELETE, "/api/v1/tenants/{tenant}/users/{uuid}"),
	R(HTTP_PATCH,  "/api/v1/tenants/{tenant}/users/{uuid}/role"),
	R(HTTP_POST,   "/api/v1/tenants/{tenant}/api-keys/{uuid}/rotate"),
	R(HTTP_GET,    "/admin/billing/tenants/{tenant}/usage"),
	R(HTTP_GET,    "/w/new"),
	R(HTTP_GET,    "/w/{slug}"),
	R(HTTP_GET,    "/w/{slug}/settings"),
	R(HTTP_POST,   "/w/{slug}/settings"),
	R(HTTP_GET,    "/invite/{token}"),
	R(HTTP_POST,   "/a/{uuid}/b/{uuid}/c/{uuid}/d/{uuid}"),
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

#define T1 "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21"
#define T1U "0B5E9A1C-3F4D-4E8A-9C2B-7D6E5F4A3B21"
#define U2 "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
#define U2U "9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A"
#define TOK16 "abcdefghIJKLMN-_"
#define TOK15 "abcdefghIJKLMN-"
#define S63 "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abc"
#define T128 "0123456789abcdef" "0123456789abcdef" "0123456789abcdef" "0123456789abcdef" \
	"0123456789abcdef" "0123456789abcdef" "0123456789abcdef" "0123456789abcdef"

#define GET     HTTP_GET
#define HEAD    HTTP_HEAD
#define POST    HTTP_POST
#define PUT     HTTP_PUT
#define PATCH   HTTP_PATCH
#define DELETE  HTTP_DELETE
#define OPTIONS HTTP_OPTIONS
#define OTHER   HTTP_OTHER

struct route_case {
	enum http_method m;
	const char      *path;
	enum route_match want;
	const char      *pattern;                 /* ROUTE_FOUND: the route's pattern */
	const char      *params[ROUTE_PARAMS_MAX]; /* ROUTE_FOUND: NULL past the last */
	unsigned         allow;                   /* ROUTE_BAD_METHOD: the Allow mask */
};

#define FOUND(pat, ...)   ROUTE_FOUND, pat, { __VA_ARGS__ }, 0
#define NOT_FOUND         ROUTE_NOT_FOUND, NULL, { NULL }, 0
#define BAD_PARAM         ROUTE_BAD_PARAM, NULL, { NULL }, 0
#define BAD_METHOD(mask)  ROUTE_BAD_METHOD, NULL, { NULL }, (mask)

static const struct route_case cases[] = {
	/* Literals; HEAD is served by GET routes. */
	{ GET,    "/health",                         FOUND("/health", NULL) },
	{ HEAD,   "/health",                         FOUND("/health", NULL) },
	{ POST,   "/health",                         BAD_METHOD(GET | HEAD) },
	{ OPTIONS, "/health",                        BAD_METHOD(GET | HEAD) },
	{ OTHER,  "/health",                         BAD_METHOD(GET | HEAD) },
	{ GET,    "/api/v1/tenants",                 FOUND("/api/v1/tenants", NULL) },
	{ POST,   "/api/v1/tenants",                 FOUND("/api/v1/tenants", NULL) },
	{ DELETE, "/api/v1/tenants",                 BAD_METHOD(GET | HEAD | POST) },

	/* The literal "current" beats {tenant}. */
	{ GET,    "/api/v1/tenants/current",         FOUND("/api/v1/tenants/current", NULL) },
	{ HEAD,   "/api/v1/tenants/current",         FOUND("/api/v1/tenants/current", NULL) },
	{ PATCH,  "/api/v1/tenants/current",         BAD_METHOD(GET | HEAD) },
	{ GET,    "/api/v1/tenants/current/usage",   FOUND("/api/v1/tenants/current/usage", NULL) },
	{ GET,    "/api/v1/tenants/current/settings", FOUND("/api/v1/tenants/current/settings", NULL) },
	{ PUT,    "/api/v1/tenants/current/settings", FOUND("/api/v1/tenants/current/settings", NULL) },
	{ DELETE, "/api/v1/tenants/current/settings", BAD_METHOD(GET | HEAD | PUT) },
	{ GET,    "/api/v1/tenants/current/users",   BAD_PARAM },

	/* {tenant}: a UUID, either case in, lower case out. */
	{ GET,    "/api/v1/tenants/" T1,             FOUND("/api/v1/tenants/{tenant}", T1) },
	{ GET,    "/api/v1/tenants/" T1U,            FOUND("/api/v1/tenants/{tenant}", T1) },
	{ HEAD,   "/api/v1/tenants/" T1U,            FOUND("/api/v1/tenants/{tenant}", T1) },
	{ PATCH,  "/api/v1/tenants/" T1,             FOUND("/api/v1/tenants/{tenant}", T1) },
	{ DELETE, "/api/v1/tenants/" T1,             BAD_METHOD(GET | HEAD | PATCH) },
	{ POST,   "/api/v1/tenants/" T1,             BAD_METHOD(GET | HEAD | PATCH) },
	{ GET,    "/api/v1/tenants/not-a-uuid",      BAD_PARAM },
	{ GET,    "/api/v1/tenants/0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b2",  BAD_PARAM },
	{ GET,    "/api/v1/tenants/0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b211", BAD_PARAM },
	{ GET,    "/api/v1/tenants/0b5e9a1c3f4d4e8a9c2b7d6e5f4a3b21", BAD_PARAM },
	{ GET,    "/api/v1/tenants/0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b2z", BAD_PARAM },
	{ GET,    "/api/v1/tenants/" T1 "/users",    FOUND("/api/v1/tenants/{tenant}/users", T1) },
	{ GET,    "/api/v1/tenants/nope/users",      BAD_PARAM },
	{ POST,   "/api/v1/tenants/" T1 "/users/invite",
	                                             FOUND("/api/v1/tenants/{tenant}/users/invite", T1) },

	/* Two parameters, in order, both lower-cased. */
	{ PATCH,  "/api/v1/tenants/" T1U "/users/" U2U "/role",
	                                 FOUND("/api/v1/tenants/{tenant}/users/{uuid}/role", T1, U2) },
	{ DELETE, "/api/v1/tenants/" T1 "/users/" U2U,
	                                 FOUND("/api/v1/tenants/{tenant}/users/{uuid}", T1, U2) },
	{ GET,    "/api/v1/tenants/" T1 "/users/" U2, BAD_METHOD(DELETE) },
	{ PATCH,  "/api/v1/tenants/" T1 "/users/bad/role", BAD_PARAM },
	{ PATCH,  "/api/v1/tenants/bad/users/" U2 "/role", BAD_PARAM },
	{ POST,   "/api/v1/tenants/" T1 "/api-keys/" U2 "/rotate",
	                                 FOUND("/api/v1/tenants/{tenant}/api-keys/{uuid}/rotate", T1, U2) },
	{ GET,    "/admin/billing/tenants/" T1U "/usage",
	                                 FOUND("/admin/billing/tenants/{tenant}/usage", T1) },
	{ POST,   "/a/" T1 "/b/" U2 "/c/" T1U "/d/" U2U,
	                                 FOUND("/a/{uuid}/b/{uuid}/c/{uuid}/d/{uuid}", T1, U2, T1, U2) },

	/* Slashes: a trailing or doubled slash is another path. */
	{ GET,    "/health/",                        NOT_FOUND },
	{ GET,    "//health",                        NOT_FOUND },
	{ GET,    "/api/v1/tenants/",                NOT_FOUND },
	{ GET,    "/api/v1/tenants/current/",        NOT_FOUND },
	{ GET,    "/api/v1/tenants/" T1 "/",         NOT_FOUND },
	{ GET,    "/api//v1/tenants",                NOT_FOUND },
	{ GET,    "/api/v1/tenants//users",          NOT_FOUND },
	{ GET,    "/api/v1//tenants/" T1,            NOT_FOUND },
	{ GET,    "/w//settings",                    NOT_FOUND },

	/* Unknown paths, and literals are case-sensitive. */
	{ GET,    "/",                               NOT_FOUND },
	{ GET,    "",                                NOT_FOUND },
	{ GET,    "health",                          NOT_FOUND },
	{ GET,    "/nope",                           NOT_FOUND },
	{ GET,    "/HEALTH",                         NOT_FOUND },
	{ GET,    "/healthz",                        NOT_FOUND },
	{ GET,    "/api/v1/tenants/current/usage/x", NOT_FOUND },
	{ GET,    "/api/v1",                         NOT_FOUND },

	/* {slug}: lower-case letters, digits, inner dashes, 1..63. */
	{ GET,    "/w/acme",                         FOUND("/w/{slug}", "acme") },
	{ GET,    "/w/acme-2",                       FOUND("/w/{slug}", "acme-2") },
	{ GET,    "/w/a",                            FOUND("/w/{slug}", "a") },
	{ GET,    "/w/" S63,                         FOUND("/w/{slug}", S63) },
	{ GET,    "/w/" S63 "d",                     BAD_PARAM },
	{ GET,    "/w/new",                          FOUND("/w/new", NULL) },
	{ GET,    "/w/Acme",                         BAD_PARAM },
	{ GET,    "/w/-acme",                        BAD_PARAM },
	{ GET,    "/w/acme-",                        BAD_PARAM },
	{ GET,    "/w/ac_me",                        BAD_PARAM },
	{ GET,    "/w/ac.me",                        BAD_PARAM },
	{ GET,    "/w/ac%20me",                      BAD_PARAM },
	{ GET,    "/w/acme/settings",                FOUND("/w/{slug}/settings", "acme") },
	{ POST,   "/w/acme/settings",                FOUND("/w/{slug}/settings", "acme") },
	{ DELETE, "/w/acme/settings",                BAD_METHOD(GET | HEAD | POST) },
	{ GET,    "/w/ACME/settings",                BAD_PARAM },

	/* {token}: URL-safe, 16..128. */
	{ GET,    "/invite/" TOK16,                  FOUND("/invite/{token}", TOK16) },
	{ GET,    "/invite/" T128,                   FOUND("/invite/{token}", T128) },
	{ GET,    "/invite/" TOK15,                  BAD_PARAM },
	{ GET,    "/invite/" T128 "x",               BAD_PARAM },
	{ GET,    "/invite/abcdefghijklmnop=",       BAD_PARAM },
	{ GET,    "/invite/abcdefghijklmno.p",       BAD_PARAM },
	{ GET,    "/invite/abcdefghijklmno+p",       BAD_PARAM },
	{ GET,    "/invite/abcdefghijklmn\xC3\xA9",  BAD_PARAM },
	{ POST,   "/invite/" TOK16,                  BAD_METHOD(GET | HEAD) },
};

/* Check one request against one expectation; returns true when they agree. */
static bool
check_case(const struct route *tab, size_t n, const struct route_case *c, struct arena *a,
    size_t row)
{
	const struct route *out = NULL;
	const char *params[ROUTE_PARAMS_MAX] = { "junk", "junk", "junk", "junk" };
	unsigned allow = 0xdead;
	enum route_match got = http_route_find(tab, n, c->m, c->path, a, &out, params, &allow);
	bool ok = got == c->want;

	if (ok && got == ROUTE_FOUND) {
		enum http_method want_m = c->m == HTTP_HEAD ? HTTP_GET : c->m;

		ok = out != NULL && strcmp(out->pattern, c->pattern) == 0 && out->method == want_m;
		for (int i = 0; ok && i < ROUTE_PARAMS_MAX; i++) {
			if (c->params[i] == NULL)
				ok = params[i] == NULL;
			else
				ok = params[i] != NULL && strcmp(params[i], c->params[i]) == 0;
		}
	}
	if (ok && got == ROUTE_BAD_METHOD)
		ok = allow == c->allow;
	if (ok && got != ROUTE_FOUND)
		ok = out == NULL;
	if (!ok) {
		print_error("row %zu %s %s: want %s %s allow=0x%x, got %s %s allow=0x%x "
		    "params=[%s, %s, %s, %s]\n", row, http_method_name(c->m), c->path,
		    match_name(c->want), c->pattern ? c->pattern : "-", c->allow,
		    match_name(got), out ? out->pattern : "-", allow,
		    got == ROUTE_FOUND && params[0] ? params[0] : "-",
		    got == ROUTE_FOUND && params[1] ? params[1] : "-",
		    got == ROUTE_FOUND && params[2] ? params[2] : "-",
		    got == ROUTE_FOUND && params[3] ? params[3] : "-");
	}
	return ok;
}

static void
route_table(void **state)
{
	struct arena *a = *state;
	int fails = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!check_case(table, NTABLE, &cases[i], a, i))
			fails++;
		arena_reset(a);
	}
	assert_int_equal(fails, 0);
}

/*
 * router.h: "Literal segments win over parameters." That holds whatever
 * order the table lists them in: here each parameter route comes first.
 */
static const struct route params_first[] = {
	R(HTTP_GET, "/t/{tenant}"),
	R(HTTP_GET, "/t/current"),
	R(HTTP_GET, "/w/{slug}"),
	R(HTTP_GET, "/w/new"),
	R(HTTP_GET, "/i/{token}"),
	R(HTTP_GET, "/i/abcdefghijklmnopq"),
};

static const struct route_case params_first_cases[] = {
	{ GET, "/t/current",          FOUND("/t/current", NULL) },
	{ GET, "/t/" T1U,             FOUND("/t/{tenant}", T1) },
	{ GET, "/w/acme",             FOUND("/w/{slug}", "acme") },
	{ GET, "/w/new",              FOUND("/w/new", NULL) },
	{ GET, "/i/abcdefghijklmnopr", FOUND("/i/{token}", "abcdefghijklmnopr") },
	{ GET, "/i/abcdefghijklmnopq", FOUND("/i/abcdefghijklmnopq", NULL) },
};

static void
literal_wins_in_any_order(void **state)
{
	struct arena *a = *state;
	int fails = 0;
	size_t n = sizeof(params_first) / sizeof(params_first[0]);

	for (size_t i = 0; i < sizeof(params_first_cases) / sizeof(params_first_cases[0]); i++) {
		if (!check_case(params_first, n, &params_first_cases[i], a, i))
			fails++;
		arena_reset(a);
	}
	assert_int_equal(fails, 0);
}

/* ========================================================================
 * http_route_tenant_param
 * ===================================================================== */

static const struct {
	const char *pattern;
	int         idx;
	bool        is_slug;
} tenant_param_cases[] = {
	{ "/health",                                  -1, false },
	{ "/api/v1/tenants/current",                  -1, false },
	{ "/a/{uuid}",                                -1, false },
	{ "/invite/{token}",                          -1, false },
	{ "/api/v1/tenants/{tenant}",                  0, false },
	{ "/api/v1/tenants/{tenant}/users/{uuid}",     0, false },
	{ "/w/{slug}",                                 0, true },
	{ "/w/{slug}/settings",                        0, true },
	{ "/x/{uuid}/tenants/{tenant}",                1, false },
	{ "/invite/{token}/w/{slug}",                  1, true },
	{ "/a/{uuid}/b/{token}/c/{tenant}",            2, false },
};

static void
tenant_param_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(tenant_param_cases) / sizeof(tenant_param_cases[0]); i++) {
		struct route rt = R(HTTP_GET, tenant_param_cases[i].pattern);
		bool is_slug = !tenant_param_cases[i].is_slug;
		int got = http_route_tenant_param(&rt, &is_slug);

		if (got != tenant_param_cases[i].idx ||
		    (got >= 0 && is_slug != tenant_param_cases[i].is_slug)) {
			print_error("tenant param row %zu %s: want %d/%d got %d/%d\n", i,
			    rt.pattern, tenant_param_cases[i].idx, tenant_param_cases[i].is_slug,
			    got, is_slug);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* ========================================================================
 * The real table (routes.c)
 * ===================================================================== */

static const struct route_case real_cases[] = {
	{ GET,    "/health",             FOUND("/health", NULL) },
	{ HEAD,   "/health",             FOUND("/health", NULL) },
	{ POST,   "/health",             BAD_METHOD(GET | HEAD) },
	{ GET,    "/health/",            NOT_FOUND },
	{ GET,    "//health",            NOT_FOUND },
	{ GET,    "/api/v1/me",          FOUND("/api/v1/me", NULL) },
	{ POST,   "/api/v1/auth/login",  FOUND("/api/v1/auth/login", NULL) },
	{ GET,    "/api/v1/auth/login",  BAD_METHOD(POST) },
	{ HEAD,   "/api/v1/auth/login",  BAD_METHOD(POST) },
	{ GET,    "/api/v1/nope",        NOT_FOUND },
	{ GET,    "/nope",               NOT_FOUND },
};

static void
real_table_cases(void **state)
{
	struct arena *a = *state;
	int fails = 0;

	for (size_t i = 0; i < sizeof(real_cases) / sizeof(real_cases[0]); i++) {
		if (!check_case(routes, nroutes, &real_cases[i], a, i))
			fails++;
		arena_reset(a);
	}
	assert_int_equal(fails, 0);
}

enum seg { SEG_LIT, SEG_UUID, SEG_TENANT, SEG_SLUG, SEG_TOKEN, SEG_UNKNOWN };

static enum seg
seg_of(const char *s, size_t n)
{
	if (n < 2 || s[0] != '{' || s[n - 1] != '}')
		return SEG_LIT;
	if (n == 6 && memcmp(s, "{uuid}", 6) == 0)
		return SEG_UUID;
	if (n == 8 && memcmp(s, "{tenant}", 8) == 0)
		return SEG_TENANT;
	if (n == 6 && memcmp(s, "{slug}", 6) == 0)
		return SEG_SLUG;
	if (n == 7 && memcmp(s, "{token}", 7) == 0)
		return SEG_TOKEN;
	return SEG_UNKNOWN;
}

/*
 * A concrete path for a pattern: UUIDs upper-case (so lower-casing shows),
 * a slug and a token. bad_param >= 0 replaces that parameter with a value
 * valid for no parameter kind but {slug}/{token}-shaped ("Not_Valid").
 */
static void
path_for(const char *pattern, int bad_param, char *out, size_t cap)
{
	size_t len = 0;
	int np = 0;

	out[0] = '\0';
	for (const char *p = pattern; *p == '/';) {
		const char *s = ++p;
		size_t l = strcspn(s, "/");
		enum seg k = seg_of(s, l);
		const char *v = NULL;

		switch (k) {
		case SEG_UUID:   v = U2U; break;
		case SEG_TENANT: v = T1U; break;
		case SEG_SLUG:   v = "acme-co"; break;
		case SEG_TOKEN:  v = TOK16; break;
		default:         break;
		}
		if (v != NULL && np++ == bad_param)
			v = "Not.Valid";
		if (v != NULL)
			len += (size_t)snprintf(out + len, cap - len, "/%s", v);
		else
			len += (size_t)snprintf(out + len, cap - len, "/%.*s", (int)l, s);
		p = s + l;
	}
}

/* What the router must hand back for parameter k of path_for(pattern, -1). */
static const char *
param_for(const char *pattern, int k)
{
	int np = 0;

	for (const char *p = pattern; *p == '/';) {
		const char *s = ++p;
		size_t l = strcspn(s, "/");
		enum seg kind = seg_of(s, l);

		if (kind != SEG_LIT && np++ == k) {
			switch (kind) {
			case SEG_UUID:   return U2;
			case SEG_TENANT: return T1;
			case SEG_SLUG:   return "acme-co";
			default:         return TOK16;
			}
		}
		p = s + l;
	}
	return "(none)";
}

static int
nparams(const char *pattern)
{
	int np = 0;

	for (const char *p = pattern; *p == '/';) {
		const char *s = ++p;
		size_t l = strcspn(s, "/");

		if (seg_of(s, l) != SEG_LIT)
			np++;
		p = s + l;
	}
	return np;
}

/* Every pattern is well formed: typed parameters of known kinds only. */
static void
real_table_patterns_well_formed(void **state)
{
	static const unsigned methods = HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_PATCH |
	    HTTP_DELETE | HTTP_OPTIONS;
	int fails = 0;

	(void)state;
	assert_true(nroutes > 0);
	for (size_t i = 0; i < nroutes; i++) {
		const char *p = routes[i].pattern;
		unsigned m = (unsigned)routes[i].method;

		if (p == NULL || p[0] != '/' || strstr(p, "//") != NULL ||
		    (p[1] != '\0' && p[strlen(p) - 1] == '/')) {
			print_error("route %zu \"%s\": malformed pattern\n", i, p ? p : "(null)");
			fails++;
			continue;
		}
		/* One real method, never HEAD (served by GET) nor OTHER. */
		if ((m & methods) == 0 || (m & (m - 1)) != 0) {
			print_error("route %zu %s: method 0x%x\n", i, p, m);
			fails++;
		}
		if (routes[i].handler == NULL) {
			print_error("route %zu %s: no handler\n", i, p);
			fails++;
		}
		if (nparams(p) > ROUTE_PARAMS_MAX) {
			print_error("route %zu %s: more than %d parameters\n", i, p, ROUTE_PARAMS_MAX);
			fails++;
		}
		for (const char *q = p; *q == '/';) {
			const char *s = ++q;
			size_t l = strcspn(s, "/");

			if (seg_of(s, l) == SEG_UNKNOWN || (l > 0 && (memchr(s, '{', l) ||
			    memchr(s, '}', l)) && seg_of(s, l) == SEG_LIT)) {
				print_error("route %zu %s: segment \"%.*s\" is not {uuid}, {tenant}, "
				    "{slug}, {token} or a literal\n", i, p, (int)l, s);
				fails++;
			}
			q = s + l;
		}
		for (size_t k = 0; k < i; k++) {
			if (routes[k].method == routes[i].method &&
			    strcmp(routes[k].pattern, p) == 0) {
				print_error("route %zu %s %s: duplicate of route %zu\n", i,
				    http_method_name(routes[i].method), p, k);
				fails++;
			}
		}
	}
	assert_int_equal(fails, 0);
}

/* The Allow mask the table implies for a pattern. */
static unsigned
allow_of(const char *pattern)
{
	unsigned allow = 0;

	for (size_t i = 0; i < nroutes; i++) {
		if (strcmp(routes[i].pattern, pattern) == 0) {
			allow |= (unsigned)routes[i].method;
			if (routes[i].method == HTTP_GET)
				allow |= HTTP_HEAD;
		}
	}
	return allow;
}

/*
 * Every route is reachable: a concrete path for its pattern finds exactly
 * it (so no earlier route shadows it, literal or not), with its parameters
 * lower-cased where they are UUIDs; HEAD finds GET routes; a method the
 * path lacks is 405 with the right Allow; a malformed parameter is 400.
 */
static void
real_table_every_route_reachable(void **state)
{
	static const enum http_method probe[] = {
		HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS,
	};
	struct arena *a = *state;
	int fails = 0;

	for (size_t i = 0; i < nroutes; i++) {
		const struct route *rt = &routes[i], *out;
		const char *params[ROUTE_PARAMS_MAX];
		char path[1024];
		unsigned allow, want_allow = allow_of(rt->pattern);
		enum route_match got;
		int np = nparams(rt->pattern);

		path_for(rt->pattern, -1, path, sizeof(path));
		got = http_route_find(routes, nroutes, rt->method, path, a, &out, params, &allow);
		if (got != ROUTE_FOUND || out != rt) {
			print_error("route %zu %s %s: path %s gives %s %s\n", i,
			    http_method_name(rt->method), rt->pattern, path, match_name(got),
			    out ? out->pattern : "-");
			fails++;
			continue;
		}
		for (int k = 0; k < np; k++) {
			const char *want = param_for(rt->pattern, k);

			if (params[k] == NULL || strcmp(params[k], want) != 0) {
				print_error("route %zu %s: parameter %d is \"%s\", want \"%s\"\n", i,
				    rt->pattern, k, params[k] ? params[k] : "(null)", want);
				fails++;
			}
		}
		for (int k = np; k < ROUTE_PARAMS_MAX; k++) {
			if (params[k] != NULL) {
				print_error("route %zu %s: parameter slot %d is set\n", i, rt->pattern, k);
				fails++;
			}
		}
		if (rt->method == HTTP_GET &&
		    (http_route_find(routes, nroutes, HTTP_HEAD, path, a, &out, params, &allow) !=
		    ROUTE_FOUND || out != rt)) {
			print_error("route %zu %s: HEAD does not find the GET route\n", i, rt->pattern);
			fails++;
		}
		for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++) {
			if ((want_allow & probe[k]) != 0)
				continue;
			got = http_route_find(routes, nroutes, probe[k], path, a, &out, params, &allow);
			if (got != ROUTE_BAD_METHOD || allow != want_allow || out != NULL) {
				print_error("route %zu %s %s: want 405 allow=0x%x, got %s allow=0x%x\n",
				    i, http_method_name(probe[k]), rt->pattern, want_allow,
				    match_name(got), allow);
				fails++;
			}
			break;
		}
		for (int k = 0; k < np; k++) {
			path_for(rt->pattern, k, path, sizeof(path));
			got = http_route_find(routes, nroutes, rt->method, path, a, &out, params, &allow);
			if (got != ROUTE_BAD_PARAM) {
				print_error("route %zu %s: bad parameter %d in %s gives %s\n", i,
				    rt->pattern, k, path, match_name(got));
				fails++;
			}
		}
		/* A trailing slash is another path. */
		path_for(rt->pattern, -1, path, sizeof(path));
		if (strlen(path) > 1) {
			strcat(path, "/");
			got = http_route_find(routes, nroutes, rt->method, path, a, &out, params, &allow);
			if (got != ROUTE_NOT_FOUND) {
				print_error("route %zu %s: %s gives %s\n", i, rt->pattern, path,
				    match_name(got));
				fails++;
			}
		}
		arena_reset(a);
	}
	assert_int_equal(fails, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(route_table, setup, teardown),
		cmocka_unit_test_setup_teardown(literal_wins_in_any_order, setup, teardown),
		cmocka_unit_test(tenant_param_table),
		cmocka_unit_test_setup_teardown(real_table_cases, setup, teardown),
		cmocka_unit_test(real_table_patterns_well_formed),
		cmocka_unit_test_setup_teardown(real_table_every_route_reachable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
