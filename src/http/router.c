/* router.c: the matcher that maps a request to one route of the table. */
#include "http/router.h"
#include "core/util.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

enum seg_kind { SEG_LITERAL, SEG_UUID, SEG_TENANT, SEG_SLUG, SEG_TOKEN };

static enum seg_kind
seg_kind(const char *seg, size_t len)
{
	if (len < 2 || seg[0] != '{' || seg[len - 1] != '}')
		return SEG_LITERAL;
	if (len == 6 && memcmp(seg, "{uuid}", 6) == 0)
		return SEG_UUID;
	if (len == 8 && memcmp(seg, "{tenant}", 8) == 0)
		return SEG_TENANT;
	if (len == 6 && memcmp(seg, "{slug}", 6) == 0)
		return SEG_SLUG;
	return SEG_TOKEN;
}

static bool
valid_token(const char *s, size_t n)
{
	if (n < 16 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

static bool
valid_param(enum seg_kind k, const char *s, size_t n)
{
	char u[UUID_LEN + 1];

	switch (k) {
	case SEG_UUID:
	case SEG_TENANT:
		if (n != UUID_LEN)
			return false;
		memcpy(u, s, n);
		u[n] = '\0';
		return core_uuid_valid(u);
	case SEG_SLUG:
		return core_slug_valid(s, n);
	case SEG_TOKEN:
		return valid_token(s, n);
	default:
		return false;
	}
}

/*
 * Compare path to pattern segment by segment. Returns 0 for no match, 1 when
 * the shape matched but a typed parameter did not validate, and 2 + the
 * number of literal segments for a full match (so a literal beats a
 * parameter wherever the table lists it).
 */
static int
match(const char *pat, const char *path, struct arena *a, const char *params[ROUTE_PARAMS_MAX])
{
	int np = 0, literals = 0;
	bool bad = false;

	while (*pat == '/' && *path == '/') {
		const char *ps = ++pat, *s = ++path;
		size_t pl = strcspn(ps, "/"), sl = strcspn(s, "/");
		enum seg_kind k = seg_kind(ps, pl);

		if (k == SEG_LITERAL) {
			if (pl != sl || memcmp(ps, s, pl) != 0)
				return 0;
			literals++;
		} else {
			if (sl == 0 || np == ROUTE_PARAMS_MAX)
				return 0;
			if (!valid_param(k, s, sl))
				bad = true;
			else if (params != NULL) {
				char *v = arena_strndup(a, s, sl);

				/* UUIDs are compared as text later: one canonical case. */
				if (v != NULL && (k == SEG_UUID || k == SEG_TENANT))
					core_uuid_lower(v, v);
				params[np] = v;
			}
			np++;
		}
		pat = ps + pl;
		path = s + sl;
	}
	if (*pat != '\0' || *path != '\0')
		return 0;
	return bad ? 1 : 2 + literals;
}

enum route_match
http_route_find(const struct route *table, size_t n, enum http_method m, const char *path,
    struct arena *a, const struct route **out, const char *params[ROUTE_PARAMS_MAX],
    unsigned *allow)
{
	enum http_method want = (m == HTTP_HEAD) ? HTTP_GET : m;
	const char *pattern = NULL;
	bool bad_param = false;
	int best = 0;

	*allow = 0;
	*out = NULL;
	/*
	 * The best full match is the pattern with the most literal segments
	 * (a literal beats a parameter wherever the table lists it); every
	 * route with that same pattern contributes its method to Allow.
	 */
	for (size_t i = 0; i < n; i++) {
		int s = match(table[i].pattern, path, NULL, NULL);

		if (s == 1)
			bad_param = true;
		if (s > best)
			best = s;
	}
	if (best < 2)
		return bad_param ? ROUTE_BAD_PARAM : ROUTE_NOT_FOUND;
	/* Two different patterns of equal rank: the first listed wins. */
	for (size_t i = 0; i < n && pattern == NULL; i++)
		if (match(table[i].pattern, path, NULL, NULL) == best)
			pattern = table[i].pattern;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i].pattern, pattern) != 0)
			continue;
		*allow |= table[i].method;
		if (table[i].method == HTTP_GET)
			*allow |= HTTP_HEAD;
		if (table[i].method == want && *out == NULL)
			*out = &table[i];
	}
	if (*out == NULL)
		return ROUTE_BAD_METHOD;
	for (int i = 0; i < ROUTE_PARAMS_MAX; i++)
		params[i] = NULL;
	match((*out)->pattern, path, a, params);
	return ROUTE_FOUND;
}

int
http_route_tenant_param(const struct route *rt, bool *is_slug)
{
	const char *p = rt->pattern;
	int np = 0;

	while (*p == '/') {
		const char *s = ++p;
		size_t l = strcspn(s, "/");
		enum seg_kind k = seg_kind(s, l);

		if (k == SEG_TENANT || k == SEG_SLUG) {
			*is_slug = (k == SEG_SLUG);
			return np;
		}
		if (k != SEG_LITERAL)
			np++;
		p = s + l;
	}
	return -1;
}
