/* request.c: request parsing: query strings, cookies, paths, FastCGI params, body. */
#include "http/request.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode s[0..n) into a new arena string. plus: '+' means space (forms).
 * Refuses malformed escapes, NUL bytes and invalid UTF-8, so no handler ever
 * sees a string it cannot safely print or bind as a query parameter.
 */
static enum http_parse
decode(struct arena *a, const char *s, size_t n, bool plus, const char **out)
{
	char *d = arena_alloc(a, n + 1);
	size_t j = 0;

	if (d == NULL)
		return PARSE_NOMEM;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return PARSE_BAD_ENCODING;
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == 0)
			return PARSE_BAD_ENCODING;
		d[j++] = (char)c;
	}
	d[j] = '\0';
	if (!core_utf8_valid(d, j))
		return PARSE_BAD_ENCODING;
	*out = d;
	return PARSE_OK;
}

static enum http_parse
pairs_parse(struct arena *a, const char *s, size_t max, char sep, bool url,
    struct kv **out, size_t *n)
{
	struct kv *v;
	size_t len, count = 0;
	const char *p, *end;

	*out = NULL;
	*n = 0;
	if (s == NULL || *s == '\0')
		return PARSE_OK;
	if ((len = strlen(s)) > max)
		return PARSE_TOO_LONG;
	if ((v = arena_alloc(a, HTTP_PAIRS_MAX * sizeof(*v))) == NULL)
		return PARSE_NOMEM;
	for (p = s, end = s + len; p < end; p = p + strcspn(p, (char[]){ sep, 0 }) + 1) {
		size_t seg = strcspn(p, (char[]){ sep, 0 });
		const char *eq, *segend = p + seg;
		enum http_parse e;

		if (!url)
			while (p < segend && *p == ' ')
				p++, seg--;
		if (seg == 0)
			continue;
		if (count == HTTP_PAIRS_MAX)
			return PARSE_TOO_MANY;
		eq = memchr(p, '=', seg);
		if (url) {
			if ((e = decode(a, p, eq ? (size_t)(eq - p) : seg, true, &v[count].key)) != PARSE_OK)
				return e;
			if (eq == NULL)
				v[count].val = "";
			else if ((e = decode(a, eq + 1, (size_t)(segend - eq - 1), true,
			    &v[count].val)) != PARSE_OK)
				return e;
		} else {
			const char *vs;
			size_t vl;

			if (eq == NULL)
				continue;  /* a cookie without '=' is not a cookie */
			vs = eq + 1;
			vl = (size_t)(segend - vs);
			while (vl > 0 && vs[vl - 1] == ' ')
				vl--;
			/* RFC 6265 allows a quoted value. */
			if (vl >= 2 && vs[0] == '"' && vs[vl - 1] == '"')
				vs++, vl -= 2;
			v[count].key = arena_strndup(a, p, (size_t)(eq - p));
			v[count].val = arena_strndup(a, vs, vl);
			if (v[count].key == NULL || v[count].val == NULL)
				return PARSE_NOMEM;
			if (!core_utf8_valid(v[count].val, vl) ||
			    !core_utf8_valid(v[count].key, (size_t)(eq - p)))
				return PARSE_BAD_ENCODING;
		}
		count++;
	}
	*out = v;
	*n = count;
	return PARSE_OK;
}

enum http_parse
http_query_parse(struct arena *a, const char *s, struct kv **out, size_t *n)
{
	return pairs_parse(a, s, HTTP_QUERY_MAX, '&', true, out, n);
}

enum http_parse
http_cookie_parse(struct arena *a, const char *s, struct kv **out, size_t *n)
{
	return pairs_parse(a, s, HTTP_COOKIE_MAX, ';', false, out, n);
}

enum http_parse
http_path_decode(struct arena *a, const char *raw, size_t len, const char **out)
{
	if (len > HTTP_PATH_MAX)
		return PARSE_TOO_LONG;
	if (len == 0 || raw[0] != '/')
		return PARSE_BAD_ENCODING;
	return decode(a, raw, len, false, out);
}

const char *
http_kv_get(const struct kv *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return v[i].val;
	return NULL;
}

bool
http_media_is_json(const char *ct)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (ct == NULL || strncasecmp(ct, json, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static const struct {
	enum http_method m;
	const char      *name;
} methods[] = {
	{ HTTP_GET, "GET" }, { HTTP_HEAD, "HEAD" }, { HTTP_POST, "POST" },
	{ HTTP_PUT, "PUT" }, { HTTP_PATCH, "PATCH" }, { HTTP_DELETE, "DELETE" },
	{ HTTP_OPTIONS, "OPTIONS" },
};

enum http_method
http_method_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(s, methods[i].name) == 0)
			return methods[i].m;
	return HTTP_OTHER;
}

const char *
http_method_name(enum http_method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "OTHER";
}

/*
 * A header that names who the caller is or which tenant it means must come
 * once: with two, a proxy and the worker could each believe a different one.
 */
static bool
header_repeated(char **envp, const char *name)
{
	size_t n = strlen(name);
	int seen = 0;

	for (char **e = envp; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=' && ++seen > 1)
			return true;
	return false;
}

/* The FastCGI params a request reads, each the first of its name (as FCGX_GetParam finds it). */
enum { P_METHOD, P_REQUEST_ID, P_REMOTE_ADDR, P_CONTENT_TYPE, P_AUTHORIZATION, P_X_TENANT_ID,
       P_COOKIE, P_ORIGIN, P_IF_MATCH, P_HOST, P_USER_AGENT, P_ACCEPT, P_CONTENT_LENGTH,
       P_REQUEST_URI, P_DOCUMENT_URI, P_QUERY_STRING, P_FORWARDED_FOR, P_CACHE_CONTROL, P_PRAGMA, P__COUNT };

#define PARAM(id, s) [id] = { s, sizeof(s) - 1 }
static const struct { const char *name; size_t len; } params[P__COUNT] = {
	PARAM(P_METHOD, "REQUEST_METHOD"), PARAM(P_REQUEST_ID, "REQUEST_ID"),
	PARAM(P_REMOTE_ADDR, "REMOTE_ADDR"), PARAM(P_CONTENT_TYPE, "CONTENT_TYPE"),
	PARAM(P_AUTHORIZATION, "HTTP_AUTHORIZATION"), PARAM(P_X_TENANT_ID, "HTTP_X_TENANT_ID"),
	PARAM(P_COOKIE, "HTTP_COOKIE"), PARAM(P_ORIGIN, "HTTP_ORIGIN"), PARAM(P_IF_MATCH, "HTTP_IF_MATCH"),
	PARAM(P_HOST, "HTTP_HOST"), PARAM(P_USER_AGENT, "HTTP_USER_AGENT"), PARAM(P_ACCEPT, "HTTP_ACCEPT"),
	PARAM(P_CONTENT_LENGTH, "CONTENT_LENGTH"), PARAM(P_REQUEST_URI, "REQUEST_URI"),
	PARAM(P_DOCUMENT_URI, "DOCUMENT_URI"), PARAM(P_QUERY_STRING, "QUERY_STRING"),
	PARAM(P_FORWARDED_FOR, "HTTP_X_FORWARDED_FOR"), PARAM(P_CACHE_CONTROL, "HTTP_CACHE_CONTROL"),
	PARAM(P_PRAGMA, "HTTP_PRAGMA"),
};
#undef PARAM

/*
 * Does a comma-separated header value hold this directive (case-insensitive,
 * blanks around it ignored)? "no-cache" is found in "max-age=5, No-Cache",
 * not in "no-cache-x".
 */
static bool
directive(const char *v, const char *d)
{
	size_t n = strlen(d);

	for (const char *p = v; p != NULL && *p != '\0';) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(p, d, n) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/* One pass over the environment instead of one scan of it per param. */
static void
params_read(char **envp, const char *v[P__COUNT])
{
	for (int i = 0; i < P__COUNT; i++)
		v[i] = NULL;
	for (char **e = envp; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		size_t n;

		if (eq == NULL)
			continue;
		n = (size_t)(eq - *e);
		for (int i = 0; i < P__COUNT; i++)
			if (params[i].len == n && v[i] == NULL && memcmp(*e, params[i].name, n) == 0) {
				v[i] = eq + 1;
				break;
			}
	}
}

enum http_parse
http_req_read(struct req *r, char **envp)
{
	const char *uri, *q, *cl, *v[P__COUNT];
	enum http_parse e;
	int64_t n;

	params_read(envp, v);
	r->method_name = v[P_METHOD];
	if (r->method_name == NULL)
		r->method_name = "GET";
	r->method = http_method_parse(r->method_name);
	r->request_id = v[P_REQUEST_ID];
	r->client = v[P_REMOTE_ADDR];
	r->forwarded_for = v[P_FORWARDED_FOR];
	r->no_cache = directive(v[P_CACHE_CONTROL], "no-cache") || directive(v[P_CACHE_CONTROL], "max-age=0") ||
	    directive(v[P_PRAGMA], "no-cache");
	r->content_type = v[P_CONTENT_TYPE];
	r->authorization = v[P_AUTHORIZATION];
	r->x_tenant_id = v[P_X_TENANT_ID];
	r->cookie_header = v[P_COOKIE];
	r->origin = v[P_ORIGIN];
	r->if_match = v[P_IF_MATCH];
	r->host = v[P_HOST];
	r->user_agent = v[P_USER_AGENT];
	r->accept = v[P_ACCEPT];
	if (header_repeated(envp, "HTTP_X_TENANT_ID") || header_repeated(envp, "HTTP_AUTHORIZATION"))
		return PARSE_BAD_ENCODING;
	r->content_length = 0;
	if ((cl = v[P_CONTENT_LENGTH]) != NULL && *cl != '\0') {
		if (!core_parse_i64(cl, 0, INT64_MAX / 2, &n))
			return PARSE_BAD_ENCODING;
		r->content_length = n;
	}

	/* REQUEST_URI is the raw target; we decode it ourselves. */
	uri = v[P_REQUEST_URI];
	if (uri == NULL)
		uri = v[P_DOCUMENT_URI];
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	r->path = "/";
	if ((e = http_path_decode(r->a, uri, q ? (size_t)(q - uri) : strlen(uri), &r->path)) != PARSE_OK)
		return e;
	r->query = v[P_QUERY_STRING];
	if (r->query == NULL)
		r->query = q ? q + 1 : "";
	if ((e = http_query_parse(r->a, r->query, &r->qv, &r->nqv)) != PARSE_OK)
		return e;
	/* No route reads a query parameter twice: a repeated one is refused, not taken first-wins. */
	for (size_t i = 1; i < r->nqv; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->qv[i].key, r->qv[j].key) == 0)
				return PARSE_REPEATED;
	return PARSE_OK;
}

int
http_body_read(struct req *r)
{
	FCGX_Request *f = r->fcgi;
	size_t want, got = 0;

	if (r->content_length > HTTP_BODY_MAX)
		return 413;
	want = (size_t)r->content_length;
	if ((r->body = arena_alloc(r->a, want + 1)) == NULL)
		return 500;
	while (got < want) {
		int k = FCGX_GetStr(r->body + got, (int)(want - got), f->in);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return got == want ? 0 : 400;
}
