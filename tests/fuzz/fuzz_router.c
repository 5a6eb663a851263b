/* fuzz_router.c: libFuzzer target for http_route_find, checked against a reference matcher. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "http/request.h"
#include "http/router.h"
#include "app/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 picks the method (low 3 bits, in the order of methods[])
 * and, with bit 3 set, sends the rest through http_path_decode first as the
 * pipeline does; the rest is the path. So "0/health" is GET /health raw and
 * "M/api/v1/%75sers" is DELETE on a decoded path.
 *
 * Every input is matched against two tables: the real one from routes.c,
 * and the one below, which has every kind of typed parameter, literals
 * listed both before and after the parameters they shadow, two patterns of
 * equal rank, four parameters in one pattern and an empty segment, so the
 * parameter code is fuzzed before the real table uses it. Neither table's
 * handlers are ever called.
 */
static const enum http_method methods[8] = {
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER,
};

#define R(m, p) { .method = (m), .pattern = (p), .cap = CAP_PUBLIC }
static const struct route shapes[] = {
	R(HTTP_GET, "/"),
	R(HTTP_GET, "/tenants/current"),
	R(HTTP_GET, "/tenants/{tenant}"),
	R(HTTP_DELETE, "/tenants/{tenant}"),
	R(HTTP_GET, "/tenants/{tenant}/users/{uuid}"),
	R(HTTP_PUT, "/tenants/{tenant}/users/{uuid}"),
	R(HTTP_GET, "/w/new"),
	R(HTTP_GET, "/w/{slug}"),
	R(HTTP_POST, "/w/{slug}/keys"),
	R(HTTP_PATCH, "/w/{slug}/keys/{uuid}"),
	R(HTTP_GET, "/invites/{token}"),
	R(HTTP_POST, "/invites/{token}/accept"),
	R(HTTP_OPTIONS, "/x//y"),
	R(HTTP_POST, "/a/{uuid}/b/{tenant}/c/{slug}/d/{token}"),
	R(HTTP_GET, "/too/{uuid}/{uuid}/{uuid}/{uuid}/{uuid}"),
	R(HTTP_GET, "/k/{key}"),
	R(HTTP_GET, "/p/{slug}"),          /* listed before the literal it loses to */
	R(HTTP_POST, "/p/new"),
	R(HTTP_GET, "/t/{slug}/y"),        /* equal rank with the next: first listed wins */
	R(HTTP_PUT, "/t/z/{slug}"),
};
#undef R

/* An invariant broke: say which, then abort so libFuzzer keeps the input. */
static _Noreturn void
fail(const char *why, const char *path)
{
	fprintf(stderr, "fuzz_router: %s (path \"%s\")\n", why, path);
	abort();
}

/* ---- The reference matcher: segments split apart, rules from router.h --- */

enum ref_kind { K_LIT, K_UUID, K_TENANT, K_SLUG, K_TOKEN };

static enum ref_kind
ref_kind(const char *s, size_t n)
{
	if (n < 2 || s[0] != '{' || s[n - 1] != '}')
		return K_LIT;
	if (n == 6 && strncmp(s, "{uuid}", n) == 0)
		return K_UUID;
	if (n == 8 && strncmp(s, "{tenant}", n) == 0)
		return K_TENANT;
	if (n == 6 && strncmp(s, "{slug}", n) == 0)
		return K_SLUG;
	return K_TOKEN;
}

static bool
ref_hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
ref_uuid(const char *s, size_t n, bool lower_only)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!ref_hexdigit(s[i]) || (lower_only && s[i] >= 'A' && s[i] <= 'F')) {
			return false;
		}
	}
	return true;
}

static bool
ref_param(enum ref_kind k, const char *s, size_t n)
{
	switch (k) {
	case K_UUID:
	case K_TENANT:
		return ref_uuid(s, n, false);
	case K_SLUG:
		if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
			return false;
		for (size_t i = 0; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
				return false;
		return true;
	case K_TOKEN:
		if (n < 16 || n > 128)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
				return false;
		return true;
	default:
		return false;
	}
}

/*
 * 0: no match, 1: the shape matches but a typed parameter is invalid,
 * 2 + the number of literal segments: a full match (its rank).
 */
static int
ref_match(const char *pat, const char *path)
{
	int np = 0, literals = 0;
	bool bad = false;

	if (path[0] != '/')
		return 0;
	for (;;) {
		const char *ps = pat + 1, *s = path + 1;
		size_t pl = strcspn(ps, "/"), sl = strcspn(s, "/");
		enum ref_kind k = ref_kind(ps, pl);

		if (k == K_LIT) {
			if (pl != sl || strncmp(ps, s, pl) != 0)
				return 0;
			literals++;
		} else {
			if (sl == 0 || np == ROUTE_PARAMS_MAX)
				return 0;
			if (!ref_param(k, s, sl))
				bad = true;
			np++;
		}
		pat = ps + pl;
		path = s + sl;
		if (*pat == '\0' || *path == '\0')
			return (*pat != '\0' || *path != '\0') ? 0 : bad ? 1 : 2 + literals;
	}
}

/* ---- One table, one request ------------------------------------------- */

static void
check_table(const struct route *table, size_t n, enum http_method m, const char *path,
    struct arena *a)
{
	enum http_method want = (m == HTTP_HEAD) ? HTTP_GET : m;
	const struct route *out = (const struct route *)1, *ref_out = NULL, *shape = NULL;
	int best = 0;
	const char *params[ROUTE_PARAMS_MAX] = { "x", "x", "x", "x" };
	unsigned allow = 0xdead, ref_allow = 0;
	bool ref_bad_param = false;
	enum route_match got, ref;

	got = http_route_find(table, n, m, path, a, &out, params, &allow);

	/*
	 * What router.h promises, computed the slow way: the full match with
	 * the most literal segments wins (the first listed among equals), and
	 * every route of that same pattern adds its method to Allow.
	 */
	for (size_t i = 0; i < n; i++) {
		int r = ref_match(table[i].pattern, path);

		if (r == 1)
			ref_bad_param = true;
		if (r >= 2 && r > best) {
			best = r;
			shape = &table[i];
		}
	}
	for (size_t i = 0; shape != NULL && i < n; i++) {
		if (strcmp(shape->pattern, table[i].pattern) != 0)
			continue;
		ref_allow |= table[i].method | (table[i].method == HTTP_GET ? HTTP_HEAD : 0);
		if (table[i].method == want && ref_out == NULL)
			ref_out = &table[i];
	}
	ref = ref_out ? ROUTE_FOUND : shape ? ROUTE_BAD_METHOD :
	    ref_bad_param ? ROUTE_BAD_PARAM : ROUTE_NOT_FOUND;
	if (got != ref)
		fail("result differs from the reference matcher", path);
	if (out != ref_out)
		fail("route differs from the reference matcher", path);
	if (allow != ref_allow)
		fail("allow differs from the reference matcher", path);

	if (got == ROUTE_BAD_METHOD && (allow == 0 || (allow & (unsigned)m) != 0))
		fail("405 with an empty allow, or one naming the method", path);
	if (got != ROUTE_FOUND)
		return;

	/* A found route: its parameters, in order, rebuild the path. */
	{
		const char *p = out->pattern;
		size_t plen = strlen(path), rl = 0;
		char *rebuilt = malloc(plen + 1);
		int np = 0, tp;
		bool is_slug = false;

		if (rebuilt == NULL)
			return;
		if (out->method != want)
			fail("found a route of another method", path);
		while (*p == '/') {
			const char *s = ++p;
			size_t l = strcspn(s, "/");
			enum ref_kind k = ref_kind(s, l);
			const char *add = s;
			size_t al = l;

			if (k != K_LIT) {
				if (params[np] == NULL)
					fail("a parameter of the found route is NULL", path);
				al = strlen(params[np]);
				add = params[np];
				if (al == 0 || strchr(add, '/') != NULL || !ref_param(k, add, al))
					fail("a parameter is empty, holds '/' or is invalid", path);
				if ((k == K_UUID || k == K_TENANT) && !ref_uuid(add, al, true))
					fail("a UUID parameter is not lower-case", path);
				np++;
			}
			if (rl + 1 + al > plen)
				fail("parameters are longer than the path", path);
			rebuilt[rl++] = '/';
			memcpy(rebuilt + rl, add, al);
			rl += al;
			p = s + l;
		}
		rebuilt[rl] = '\0';
		if (strcasecmp(rebuilt, path) != 0)
			fail("pattern and parameters do not rebuild the path", path);
		for (int i = np; i < ROUTE_PARAMS_MAX; i++)
			if (params[i] != NULL)
				fail("a parameter slot past the pattern's is not NULL", path);
		if ((tp = http_route_tenant_param(out, &is_slug)) >= np ||
		    (tp >= 0 && params[tp] == NULL))
			fail("tenant parameter index out of range", path);
		if (tp >= 0 && strstr(out->pattern, is_slug ? "{slug}" : "{tenant}") == NULL)
			fail("tenant parameter of the wrong kind", path);
		free(rebuilt);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	enum http_method m;
	const char *path;
	char *s;

	if (size < 1)
		return 0;
	if (a == NULL && (a = arena_new(4096)) == NULL)
		return 0;
	m = methods[data[0] & 7];
	/* An exact-size copy, so ASan sees any read past the terminator. */
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	path = s;
	if ((data[0] & 8) && http_path_decode(a, s, strlen(s), &path) != PARSE_OK)
		goto out;

	check_table(routes, nroutes, m, path, a);
	check_table(shapes, sizeof(shapes) / sizeof(shapes[0]), m, path, a);
out:
	free(s);
	arena_reset(a);
	return 0;
}
