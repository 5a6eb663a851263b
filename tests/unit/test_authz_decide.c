/* test_authz_decide.c: the authorisation decision as a table: credential x capability x route flags x role x tenant status -> status. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app/routes.h"
#include "auth/authz.h"
#include "http/router.h"

/* Shorthands for the table. */
#define ID   CRED_IDENTITY
#define TT   CRED_TENANT
#define KEY  CRED_API_KEY
#define SES  CRED_SESSION
#define NONE CRED_NONE
#define GET  HTTP_GET
#define POST HTTP_POST
#define R    SCOPE_READ
#define W    SCOPE_WRITE
#define U    SCOPE_USAGE

/* A user in a tenant that exists (known, found, named), or a valid key of its own tenant. */
struct row {
	int         line;
	enum cred   cred;
	enum cap    cap;
	unsigned    flags;
	unsigned    method;
	bool        named;
	enum role   role;
	bool        superadmin, suspended;
	unsigned    scopes;
	/* Departures from a valid context: */
	const char *what;   /* "" | "unknown" | "no-tenant" | "revoked" | "expired" | "other" | "no-api" | "x-tenant" | "addr" */
	int         status;
	const char *code;   /* error.code, or "code:words the message holds" */
};

#define ROW(...) { __LINE__, __VA_ARGS__ }

static const struct row table[] = {
	/* No credential: public routes are anonymous, everything else is 401. */
	ROW(NONE, CAP_PUBLIC,         0,            GET,  false, ROLE_NONE,   false, false, 0, "", 0,   NULL),
	ROW(NONE, CAP_PUBLIC,         RF_OPT_AUTH,  GET,  false, ROLE_NONE,   false, false, 0, "", 0,   NULL),
	ROW(NONE, CAP_PRINCIPAL,      0,            GET,  false, ROLE_NONE,   false, false, 0, "", 401, "unauthenticated"),
	ROW(NONE, CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, 0, "", 401, "unauthenticated"),
	ROW(NONE, CAP_SUPERADMIN,     0,            GET,  false, ROLE_NONE,   false, false, 0, "", 401, "unauthenticated"),
	ROW(NONE, CAP_TENANT_READ,    RF_HTML,      GET,  true,  ROLE_NONE,   false, false, 0, "", 401, "unauthenticated"),
	/* A page takes only a session; the API never takes one. */
	ROW(TT,   CAP_TENANT_READ,    RF_HTML,      GET,  true,  ROLE_OWNER,  false, false, 0, "", 401, "unauthenticated"),
	ROW(KEY,  CAP_TENANT_READ,    RF_HTML,      GET,  true,  ROLE_NONE,   false, false, R, "", 401, "unauthenticated"),
	ROW(SES,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_OWNER,  false, false, 0, "", 401, "unauthenticated"),

	/* Identity-only routes refuse tenant tokens and keys with 401. */
	ROW(ID,   CAP_PRINCIPAL,      RF_IDENTITY,  POST, false, ROLE_NONE,   false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_PRINCIPAL,      RF_IDENTITY,  POST, true,  ROLE_OWNER,  false, false, 0, "", 401, "unauthenticated:tenant-scoped"),
	ROW(KEY,  CAP_PRINCIPAL,      RF_IDENTITY,  POST, true,  ROLE_NONE,   false, false, R, "", 401, "unauthenticated:not an API key"),

	/* A tenant capability with no tenant named: 400 for users, keys name their own. */
	ROW(ID,   CAP_TENANT_READ,    0,            GET,  false, ROLE_NONE,   false, false, 0, "", 400, "tenant_context_required"),
	ROW(ID,   CAP_TENANT_WRITE,   RF_TX,        POST, false, ROLE_NONE,   true,  false, 0, "", 400, "tenant_context_required"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  false, ROLE_NONE,   false, false, R, "", 0,   NULL),

	/* Roles (SPEC §2): viewer reads; admin and up write, manage, bill. */
	ROW(TT,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_VIEWER, false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_VIEWER, false, false, 0, "", 403, "permission_denied:admin or owner"),
	ROW(TT,   CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_MEMBER, false, false, 0, "", 403, "permission_denied"),
	ROW(TT,   CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_ADMIN,  false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_MEMBERS_MANAGE, RF_TX,        POST, true,  ROLE_MEMBER, false, false, 0, "", 403, "permission_denied"),
	ROW(TT,   CAP_MEMBERS_MANAGE, RF_TX,        POST, true,  ROLE_OWNER,  false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_KEYS_MANAGE,    RF_TX,        POST, true,  ROLE_ADMIN,  false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_BILLING_READ,   0,            GET,  true,  ROLE_MEMBER, false, false, 0, "", 403, "permission_denied"),
	ROW(TT,   CAP_BILLING_READ,   0,            GET,  true,  ROLE_ADMIN,  false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_TENANT_SENSITIVE, RF_TX,      POST, true,  ROLE_MEMBER, false, false, 0, "", 403, "permission_denied"),
	ROW(TT,   CAP_USAGE_WRITE,    RF_TX,        POST, true,  ROLE_ADMIN,  false, false, 0, "", 0,   NULL),
	ROW(TT,   CAP_SUPERADMIN,     0,            GET,  true,  ROLE_OWNER,  false, false, 0, "", 403, "permission_denied:superadmin"),
	ROW(ID,   CAP_SUPERADMIN,     0,            GET,  false, ROLE_NONE,   true,  false, 0, "", 0,   NULL),
	ROW(SES,  CAP_TENANT_WRITE,   RF_HTML,      POST, true,  ROLE_ADMIN,  false, false, 0, "", 0,   NULL),
	ROW(SES,  CAP_TENANT_WRITE,   RF_HTML,      POST, true,  ROLE_VIEWER, false, false, 0, "", 403, "permission_denied"),

	/* Membership: a non-member gets 403 whether or not the tenant exists; a superadmin 404 or in. */
	ROW(ID,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, 0, "", 403, "permission_denied:not a member"),
	ROW(ID,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, 0, "no-tenant", 403, "permission_denied:not a member"),
	ROW(TT,   CAP_BILLING_READ,   0,            GET,  true,  ROLE_NONE,   false, false, 0, "", 403, "permission_denied:not a member"),
	ROW(ID,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   true,  false, 0, "no-tenant", 404, "tenant_not_found"),
	ROW(ID,   CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_NONE,   true,  false, 0, "", 0,   NULL),
	ROW(TT,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_VIEWER, false, false, 0, "unknown", 401, "unauthenticated"),
	ROW(SES,  CAP_TENANT_READ,    RF_HTML,      GET,  true,  ROLE_VIEWER, false, false, 0, "unknown", 401, "unauthenticated"),
	/* A principal route with no tenant: the user must exist, nothing more. */
	ROW(ID,   CAP_PRINCIPAL,      RF_TENANT_OPT, GET, false, ROLE_NONE,   false, false, 0, "", 0,   NULL),
	ROW(ID,   CAP_PRINCIPAL,      RF_TENANT_OPT, GET, false, ROLE_NONE,   false, false, 0, "unknown", 401, "unauthenticated"),

	/* Suspended: read-only billing for members; a superadmin is not held. */
	ROW(TT,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_OWNER,  false, true,  0, "", 403, "tenant_suspended"),
	ROW(TT,   CAP_BILLING_READ,   RF_SUSPENDED_OK, GET, true, ROLE_ADMIN, false, true,  0, "", 0,   NULL),
	ROW(TT,   CAP_BILLING_READ,   RF_SUSPENDED_OK, GET, true, ROLE_MEMBER, false, true, 0, "", 403, "permission_denied"),
	ROW(ID,   CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_NONE,   true,  true,  0, "", 0,   NULL),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, true,  R, "", 403, "tenant_suspended"),
	/* Not named, not present: a suspended tenant elsewhere does not matter. */
	ROW(ID,   CAP_PRINCIPAL,      RF_TENANT_OPT, GET, false, ROLE_NONE,   false, true,  0, "", 0,   NULL),

	/* Operator routes: the path alone is no context below superadmin. */
	ROW(ID,   CAP_BILLING_READ,   RF_EXPLICIT_CTX, GET, true, ROLE_ADMIN, false, false, 0, "", 403, "permission_denied"),
	ROW(ID,   CAP_BILLING_READ,   RF_EXPLICIT_CTX, GET, true, ROLE_ADMIN, false, false, 0, "x-tenant", 0, NULL),
	ROW(TT,   CAP_BILLING_READ,   RF_EXPLICIT_CTX, GET, true, ROLE_ADMIN, false, false, 0, "", 0,   NULL),
	ROW(ID,   CAP_BILLING_READ,   RF_EXPLICIT_CTX, GET, true, ROLE_NONE,  true,  false, 0, "", 0,   NULL),

	/* API keys: scopes by method, never roles; the routes keys never reach. */
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "", 0,   NULL),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, W | U, "", 403, "permission_denied:scopes"),
	ROW(KEY,  CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_NONE,   false, false, W, "", 0,   NULL),
	ROW(KEY,  CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_NONE,   false, false, R, "", 403, "permission_denied"),
	ROW(KEY,  CAP_USAGE_WRITE,    RF_TX,        POST, true,  ROLE_NONE,   false, false, U, "", 0,   NULL),
	ROW(KEY,  CAP_USAGE_WRITE,    RF_TX,        POST, true,  ROLE_NONE,   false, false, R | W, "", 403, "permission_denied"),
	ROW(KEY,  CAP_BILLING_READ,   0,            GET,  true,  ROLE_NONE,   false, false, R, "", 0,   NULL),
	ROW(KEY,  CAP_MEMBERS_MANAGE, RF_TX,        POST, true,  ROLE_NONE,   false, false, R | W | U, "", 403, "permission_denied"),
	ROW(KEY,  CAP_KEYS_MANAGE,    RF_TX,        POST, true,  ROLE_NONE,   false, false, R | W | U, "", 403, "permission_denied"),
	ROW(KEY,  CAP_TENANT_SENSITIVE, RF_TX,      POST, true,  ROLE_NONE,   false, false, R | W | U, "", 403, "permission_denied"),
	ROW(KEY,  CAP_SUPERADMIN,     0,            GET,  false, ROLE_NONE,   false, false, R, "", 403, "permission_denied"),
	ROW(KEY,  CAP_PRINCIPAL,      0,            GET,  false, ROLE_NONE,   false, false, R, "", 403, "permission_denied"),
	ROW(KEY,  CAP_PRINCIPAL,      RF_TENANT_OPT, GET, false, ROLE_NONE,   false, false, R, "", 0,   NULL),
	ROW(KEY,  CAP_TENANT_WRITE,   RF_TENANT_BODY, POST, true, ROLE_NONE,  false, false, W, "", 403, "permission_denied"),
	/* ... and a key's own state, in this order. */
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "unknown", 401, "unauthenticated"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "revoked", 401, "unauthenticated:revoked"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "expired", 401, "unauthenticated:expired"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "no-tenant", 401, "unauthenticated"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "other", 403, "tenant_mismatch"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "no-api", 403, "feature_not_available"),
	/* The IP allow-list: every credential acting in the tenant; not before membership is known. */
	ROW(TT,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_OWNER,  false, false, 0, "addr", 403, "ip_not_allowed"),
	ROW(ID,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_VIEWER, false, false, 0, "addr", 403, "ip_not_allowed"),
	ROW(SES,  CAP_TENANT_READ,    RF_HTML,      GET,  true,  ROLE_ADMIN,  false, false, 0, "addr", 403, "ip_not_allowed"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, R, "addr", 403, "ip_not_allowed"),
	ROW(ID,   CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_NONE,   true,  false, 0, "addr", 403, "ip_not_allowed"),
	ROW(ID,   CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, 0, "addr", 403, "permission_denied:not a member"),
	ROW(TT,   CAP_BILLING_READ,   RF_SUSPENDED_OK, GET, true, ROLE_ADMIN, false, true,  0, "addr", 403, "ip_not_allowed"),
	/* Not acting in a tenant: the list is not asked. */
	ROW(ID,   CAP_PRINCIPAL,      RF_TENANT_OPT, GET, false, ROLE_NONE,   false, false, 0, "addr", 0,   NULL),
	/* A revoked key is 401 before its scopes are looked at. */
	ROW(KEY,  CAP_TENANT_WRITE,   RF_TX,        POST, true,  ROLE_NONE,   false, false, R, "revoked", 401, "unauthenticated:revoked"),
	ROW(KEY,  CAP_TENANT_READ,    0,            GET,  true,  ROLE_NONE,   false, false, W, "expired", 401, "unauthenticated:expired"),
};

static struct auth_facts
facts_of(const struct row *t)
{
	struct auth_facts f = {
		.cred = t->cred, .cap = t->cap, .flags = t->flags, .method = t->method,
		.tenant_named = t->named, .known = true, .superadmin = t->superadmin,
		.tenant_found = true, .role = t->role, .suspended = t->suspended,
		.scopes = t->scopes, .api_access = true,
	};

	if (strcmp(t->what, "unknown") == 0)
		f.known = false;
	else if (strcmp(t->what, "no-tenant") == 0)
		f.tenant_found = false;
	else if (strcmp(t->what, "revoked") == 0)
		f.revoked = true;
	else if (strcmp(t->what, "expired") == 0)
		f.expired = true;
	else if (strcmp(t->what, "other") == 0)
		f.other_tenant = true;
	else if (strcmp(t->what, "no-api") == 0)
		f.api_access = false;
	else if (strcmp(t->what, "x-tenant") == 0)
		f.x_tenant = true;
	else if (strcmp(t->what, "addr") == 0)
		f.addr_refused = true;
	return f;
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *t = &table[i];
		struct auth_facts f = facts_of(t);
		struct auth_verdict v = auth_decide(&f);

		const char *words = t->code != NULL ? strchr(t->code, ':') : NULL;
		size_t clen = t->code == NULL ? 0 : words != NULL ? (size_t)(words - t->code) : strlen(t->code);

		if (v.status != t->status || (t->code != NULL && (v.code == NULL || strlen(v.code) != clen ||
		    strncmp(v.code, t->code, clen) != 0)) ||
		    (words != NULL && (v.message == NULL || strstr(v.message, words + 1) == NULL))) {
			fail_msg("table row at line %d: got %d %s (%s), want %d %s", t->line, v.status,
			    v.code ? v.code : "-", v.message ? v.message : "-", t->status, t->code ? t->code : "-");
		}
		/* An error always says what it is, in words. */
		if (v.status != 0)
			assert_true(v.code != NULL && v.message != NULL && v.message[0] != '\0');
	}
}

/*
 * The roles table of SPEC §2, written here on its own (not from auth.c):
 * the least role each tenant capability needs.
 */
static enum role
spec_min_role(enum cap c)
{
	switch (c) {
	case CAP_TENANT_READ:      return ROLE_VIEWER;
	case CAP_TENANT_SENSITIVE:
	case CAP_TENANT_WRITE:
	case CAP_MEMBERS_MANAGE:
	case CAP_KEYS_MANAGE:
	case CAP_BILLING_READ:
	case CAP_USAGE_WRITE:      return ROLE_ADMIN;
	default:                   return ROLE_NONE;
	}
}

/*
 * Every capability x role x credential kind of a user in an active tenant
 * it names: allowed exactly when SPEC's table says so, and a superadmin
 * (member or not) is allowed everywhere.
 */
static void
test_roles_sweep(void **state)
{
	static const enum cred users[] = { CRED_IDENTITY, CRED_TENANT, CRED_SESSION };

	(void)state;
	for (int c = CAP_TENANT_READ; c < CAP__COUNT; c++) {
		for (int role = ROLE_NONE; role <= ROLE_OWNER; role++) {
			for (size_t k = 0; k < 3; k++) {
				for (int sa = 0; sa <= 1; sa++) {
					struct auth_facts f = {
						.cred = users[k], .cap = (enum cap)c, .method = HTTP_GET,
						.flags = users[k] == CRED_SESSION ? RF_HTML : 0,
						.tenant_named = true, .known = true, .tenant_found = true,
						.role = (enum role)role, .superadmin = sa,
					};
					struct auth_verdict v = auth_decide(&f);
					bool want = sa || (role != ROLE_NONE && role >= (int)spec_min_role((enum cap)c));

					if ((v.status == 0) != want)
						fail_msg("cap %s, role %d, cred %d, superadmin %d: got %d", auth_cap_name((enum cap)c),
						    role, (int)users[k], sa, v.status);
					/* A refused member is 403; a refused non-member too (never 404). */
					if (!want)
						assert_int_equal(v.status, 403);
				}
			}
		}
	}
}

/*
 * Every route of the route table, with every kind of credential and the
 * most powerful context that kind can have: no API key reaches a route
 * that is not a tenant read, write, billing or usage route (or /me); no
 * credential but a session reaches a page; a suspended tenant's routes
 * refuse everyone below superadmin unless RF_SUSPENDED_OK.
 */
static void
test_every_route(void **state)
{
	(void)state;
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *rt = &routes[i];
		bool tenanted = spec_min_role(rt->cap) != ROLE_NONE;

		for (int sus = 0; sus <= 1; sus++) {
			struct auth_facts key = {
				.cred = CRED_API_KEY, .cap = rt->cap, .flags = rt->flags, .method = rt->method,
				.tenant_named = true, .known = true, .tenant_found = true,
				.scopes = SCOPE_READ | SCOPE_WRITE | SCOPE_USAGE, .api_access = true, .suspended = sus,
			};
			struct auth_facts owner = {
				.cred = (rt->flags & RF_HTML) ? CRED_SESSION : CRED_TENANT, .cap = rt->cap,
				.flags = rt->flags, .method = rt->method, .tenant_named = true, .known = true,
				.tenant_found = true, .role = ROLE_OWNER, .suspended = sus,
			};
			struct auth_verdict kv = auth_decide(&key), ov = auth_decide(&owner);
			bool key_may = (rt->cap == CAP_TENANT_READ || rt->cap == CAP_BILLING_READ ||
			    rt->cap == CAP_TENANT_WRITE || rt->cap == CAP_USAGE_WRITE ||
			    (rt->cap == CAP_PRINCIPAL && (rt->flags & RF_TENANT_OPT))) &&
			    !(rt->flags & (RF_TENANT_BODY | RF_IDENTITY | RF_HTML));

			if (rt->cap == CAP_PUBLIC)
				continue;
			if (kv.status == 0 && !key_may)
				fail_msg("%s %s: an API key gets in", http_method_name(rt->method), rt->pattern);
			if (kv.status == 0 && sus && tenanted && !(rt->flags & RF_SUSPENDED_OK))
				fail_msg("%s %s: a key of a suspended tenant gets in", http_method_name(rt->method), rt->pattern);
			if (ov.status == 0 && sus && tenanted && !(rt->flags & RF_SUSPENDED_OK))
				fail_msg("%s %s: an owner of a suspended tenant gets in", http_method_name(rt->method), rt->pattern);
			/* An owner in an active tenant reaches every tenant route (not the operator's). */
			if (!sus && tenanted && !(rt->flags & (RF_IDENTITY | RF_EXPLICIT_CTX)) && ov.status != 0)
				fail_msg("%s %s: the owner is refused (%d)", http_method_name(rt->method), rt->pattern, ov.status);
			if (rt->cap == CAP_SUPERADMIN && ov.status == 0)
				fail_msg("%s %s: an owner reaches an operator route", http_method_name(rt->method), rt->pattern);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_roles_sweep),
		cmocka_unit_test(test_every_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
