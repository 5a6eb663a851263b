/* test_request.c: unit tests for src/http/request (pure parsers) and the helpers of src/core/util they rely on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/util.h"
#include "http/request.h"

/*
 * Every parser is checked against a table of {input, expected outcome}. A
 * table test reports every row that differs, then fails once, so one run
 * shows the whole picture.
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
parse_name(enum http_parse p)
{
	switch (p) {
	case PARSE_OK:           return "OK";
	case PARSE_TOO_LONG:     return "TOO_LONG";
	case PARSE_TOO_MANY:     return "TOO_MANY";
	case PARSE_BAD_ENCODING: return "BAD_ENCODING";
	case PARSE_NOMEM:        return "NOMEM";
	case PARSE_REPEATED:     return "REPEATED";
	}
	return "?";
}

/* ========================================================================
 * Key/value parsers: query strings and cookies
 * ===================================================================== */

#define KV_MAX 4

struct kv_case {
	const char     *in;
	enum http_parse want;
	size_t          n;            /* pairs expected when want == PARSE_OK */
	struct kv       kv[KV_MAX];
};

typedef enum http_parse (*kv_parser)(struct arena *, const char *, struct kv **, size_t *);

/* Run one table through a parser; returns the number of rows that differ. */
static int
kv_table(struct arena *a, kv_parser parse, const char *what,
    const struct kv_case *c, size_t ncase)
{
	int fails = 0;

	for (size_t i = 0; i < ncase; i++) {
		struct kv *v = NULL;
		size_t n = 99;
		enum http_parse got = parse(a, c[i].in, &v, &n);
		bool bad = got != c[i].want;

		if (!bad && got == PARSE_OK) {
			bad = n != c[i].n;
			for (size_t k = 0; !bad && k < n; k++)
				bad = strcmp(v[k].key, c[i].kv[k].key) != 0 ||
				    strcmp(v[k].val, c[i].kv[k].val) != 0;
		}
		if (bad) {
			print_error("%s row %zu \"%s\": want %s/%zu pairs, got %s/%zu pairs\n",
			    what, i, c[i].in ? c[i].in : "(null)", parse_name(c[i].want), c[i].n,
			    parse_name(got), got == PARSE_OK ? n : 0);
			for (size_t k = 0; got == PARSE_OK && k < n; k++)
				print_error("    [%zu] \"%s\" = \"%s\"\n", k, v[k].key, v[k].val);
			fails++;
		}
		arena_reset(a);
	}
	return fails;
}

#define OK0            PARSE_OK, 0, { { NULL, NULL } }
#define OK1(k, v)      PARSE_OK, 1, { { k, v } }
#define OK2(a, b, c, d) PARSE_OK, 2, { { a, b }, { c, d } }
#define BAD            PARSE_BAD_ENCODING, 0, { { NULL, NULL } }

static const struct kv_case query_cases[] = {
	{ "",                 OK0 },
	{ NULL,               OK0 },
	{ "a",                OK1("a", "") },
	{ "a=",               OK1("a", "") },
	{ "a=1",              OK1("a", "1") },
	{ "a=1&a=2",          OK2("a", "1", "a", "2") },
	{ "a=2&a=1",          OK2("a", "2", "a", "1") },
	{ "a=1&b=2",          OK2("a", "1", "b", "2") },
	{ "&&",               OK0 },
	{ "&",                OK0 },
	{ "a=1&&b=2",         OK2("a", "1", "b", "2") },
	{ "&a=1&",            OK1("a", "1") },
	{ "a=b=c",            OK1("a", "b=c") },
	{ "q=a%20b+c",        OK1("q", "a b c") },
	{ "q=1%2B1",          OK1("q", "1+1") },
	{ "q=1+1",            OK1("q", "1 1") },
	{ "%41%62=%63",       OK1("Ab", "c") },
	{ "q=%2f%2F",         OK1("q", "//") },
	{ "q=%26&r=%3D",      OK2("q", "&", "r", "=") },
	{ "q=%C3%A9",         OK1("q", "\xC3\xA9") },
	{ "q=\xC3\xA9",       OK1("q", "\xC3\xA9") },
	{ "q=%F0%9F%98%80",   OK1("q", "\xF0\x9F\x98\x80") },
	{ "q=%zz",            BAD },
	{ "q=%4",             BAD },
	{ "q=%",              BAD },
	{ "q=%4G",            BAD },
	{ "%zz=1",            BAD },
	{ "q=%00",            BAD },
	{ "q=a%00b",          BAD },
	{ "%00=1",            BAD },
	{ "q=%C3%28",         BAD },
	{ "q=%C3",            BAD },
	{ "q=%C0%AF",         BAD },
	{ "q=%E0%80%AF",      BAD },
	{ "q=%ED%A0%80",      BAD },
	{ "q=%ED%BF%BF",      BAD },
	{ "q=%F4%90%80%80",   BAD },
	{ "q=%FF",            BAD },
	{ "q=\xFF",           BAD },
	{ "q=%80",            BAD },
};

static void
query_table(void **state)
{
	assert_int_equal(kv_table(*state, http_query_parse, "query", query_cases,
	    sizeof(query_cases) / sizeof(query_cases[0])), 0);
}

static const struct kv_case cookie_cases[] = {
	{ "",                       OK0 },
	{ NULL,                     OK0 },
	{ "a=1",                    OK1("a", "1") },
	{ "a=1; b=2",               OK2("a", "1", "b", "2") },
	{ "a=1;b=2",                OK2("a", "1", "b", "2") },
	{ "  a=1;   b=2  ",         OK2("a", "1", "b", "2") },
	{ "a=1 ; b=2",              OK2("a", "1", "b", "2") },
	{ "a=\"x y\"",              OK1("a", "x y") },
	{ "a=\"\"",                 OK1("a", "") },
	{ "a=\"x",                  OK1("a", "\"x") },
	{ "a=",                     OK1("a", "") },
	{ "a",                      OK0 },
	{ "a; b=2",                 OK1("b", "2") },
	{ "a=1; a=2",               OK2("a", "1", "a", "2") },
	{ "a=%20",                  OK1("a", "%20") },
	{ "a=b+c",                  OK1("a", "b+c") },
	{ "a=b=c",                  OK1("a", "b=c") },
	{ ";;",                     OK0 },
	{ "; ;  ;",                 OK0 },
	{ "__Host-tenantry=abc",    OK1("__Host-tenantry", "abc") },
	{ "a=\xC3\xA9",             OK1("a", "\xC3\xA9") },
	{ "a=\xFF",                 BAD },
	{ "\xC3\x28=1",             BAD },
};

static void
cookie_table(void **state)
{
	assert_int_equal(kv_table(*state, http_cookie_parse, "cookie", cookie_cases,
	    sizeof(cookie_cases) / sizeof(cookie_cases[0])), 0);
}

/* "a=" followed by fill 'x' bytes: a string of exactly len bytes. */
static char *
filled(const char *prefix, size_t len)
{
	char *s = malloc(len + 1);
	size_t pl = strlen(prefix);

	assert_non_null(s);
	assert_true(len >= pl);
	memcpy(s, prefix, pl);
	memset(s + pl, 'x', len - pl);
	s[len] = '\0';
	return s;
}

/* max bytes parse; max + 1 is PARSE_TOO_LONG. */
static void
kv_length_limit(struct arena *a, kv_parser parse, size_t max)
{
	struct kv *v;
	size_t n;
	char *s = filled("a=", max);

	assert_int_equal(parse(a, s, &v, &n), PARSE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(v[0].val), max - 2);
	free(s);
	s = filled("a=", max + 1);
	assert_int_equal(parse(a, s, &v, &n), PARSE_TOO_LONG);
	free(s);
}

static void
query_too_long(void **state)
{
	kv_length_limit(*state, http_query_parse, HTTP_QUERY_MAX);
}

static void
cookie_too_long(void **state)
{
	kv_length_limit(*state, http_cookie_parse, HTTP_COOKIE_MAX);
}

/* npairs "kN=N" pairs joined by sep, plus empty segments that must not count. */
static char *
pairs(size_t npairs, const char *sep)
{
	size_t cap = npairs * 32 + 16, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "%s", sep);
	for (size_t i = 0; i < npairs; i++)
		len += (size_t)snprintf(s + len, cap - len, "%sk%zu=%zu", i ? sep : "", i, i);
	snprintf(s + len, cap - len, "%s%s", sep, sep);
	return s;
}

static void
kv_pairs_limit(struct arena *a, kv_parser parse, const char *sep)
{
	struct kv *v;
	size_t n;
	char *s = pairs(HTTP_PAIRS_MAX, sep);

	assert_int_equal(parse(a, s, &v, &n), PARSE_OK);
	assert_int_equal(n, HTTP_PAIRS_MAX);
	assert_string_equal(v[0].key, "k0");
	assert_string_equal(v[HTTP_PAIRS_MAX - 1].val, "63");
	free(s);
	s = pairs(HTTP_PAIRS_MAX + 1, sep);
	assert_int_equal(parse(a, s, &v, &n), PARSE_TOO_MANY);
	free(s);
}

static void
query_too_many(void **state)
{
	kv_pairs_limit(*state, http_query_parse, "&");
}

static void
cookie_too_many(void **state)
{
	kv_pairs_limit(*state, http_cookie_parse, "; ");
}

static void
kv_get(void **state)
{
	struct kv *v;
	size_t n;

	assert_int_equal(http_query_parse(*state, "a=1&b=2&a=3", &v, &n), PARSE_OK);
	assert_string_equal(http_kv_get(v, n, "a"), "1");
	assert_string_equal(http_kv_get(v, n, "b"), "2");
	assert_null(http_kv_get(v, n, "c"));
	assert_null(http_kv_get(v, n, "A"));
	assert_null(http_kv_get(NULL, 0, "a"));
}

/* ========================================================================
 * Paths
 * ===================================================================== */

struct path_case {
	const char     *raw;
	size_t          len;     /* 0: strlen(raw) */
	enum http_parse want;
	const char     *out;
};

static const struct path_case path_cases[] = {
	{ "/",                0, PARSE_OK,           "/" },
	{ "/health",          0, PARSE_OK,           "/health" },
	{ "/a%2Fb",           0, PARSE_OK,           "/a/b" },
	{ "/a%2fb",           0, PARSE_OK,           "/a/b" },
	{ "/a+b",             0, PARSE_OK,           "/a+b" },
	{ "/a%20b",           0, PARSE_OK,           "/a b" },
	{ "/%7Euser",         0, PARSE_OK,           "/~user" },
	{ "/caf%C3%A9",       0, PARSE_OK,           "/caf\xC3\xA9" },
	{ "/abc?x=1",         4, PARSE_OK,           "/abc" },
	{ "",                 0, PARSE_BAD_ENCODING, NULL },
	{ "a/b",              0, PARSE_BAD_ENCODING, NULL },
	{ "%2Fa",             0, PARSE_BAD_ENCODING, NULL },
	{ "health",           0, PARSE_BAD_ENCODING, NULL },
	{ "/a%00b",           0, PARSE_BAD_ENCODING, NULL },
	{ "/%00",             0, PARSE_BAD_ENCODING, NULL },
	{ "/%zz",             0, PARSE_BAD_ENCODING, NULL },
	{ "/%4",              0, PARSE_BAD_ENCODING, NULL },
	{ "/%C3%28",          0, PARSE_BAD_ENCODING, NULL },
	{ "/%C0%AF",          0, PARSE_BAD_ENCODING, NULL },
	{ "/%ED%A0%80",       0, PARSE_BAD_ENCODING, NULL },
	{ "/\xFF",            0, PARSE_BAD_ENCODING, NULL },
};

static void
path_table(void **state)
{
	struct arena *a = *state;
	int fails = 0;

	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		const char *out = NULL;
		size_t len = c->len ? c->len : strlen(c->raw);
		enum http_parse got = http_path_decode(a, c->raw, len, &out);

		if (got != c->want || (got == PARSE_OK && strcmp(out, c->out) != 0)) {
			print_error("path row %zu \"%s\": want %s \"%s\", got %s \"%s\"\n", i, c->raw,
			    parse_name(c->want), c->out ? c->out : "", parse_name(got),
			    got == PARSE_OK && out ? out : "");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* An embedded NUL byte in the raw path (not an escape) is refused too. */
static void
path_raw_nul(void **state)
{
	const char *out;

	assert_int_equal(http_path_decode(*state, "/a\0b", 4, &out), PARSE_BAD_ENCODING);
}

static void
path_too_long(void **state)
{
	const char *out = NULL;
	char *s = filled("/", HTTP_PATH_MAX);

	assert_int_equal(http_path_decode(*state, s, HTTP_PATH_MAX, &out), PARSE_OK);
	assert_int_equal(strlen(out), HTTP_PATH_MAX);
	free(s);
	s = filled("/", HTTP_PATH_MAX + 1);
	assert_int_equal(http_path_decode(*state, s, HTTP_PATH_MAX + 1, &out), PARSE_TOO_LONG);
	free(s);
}

/* ========================================================================
 * Media types and methods
 * ===================================================================== */

static const struct {
	const char *ct;
	bool        json;
} media_cases[] = {
	{ "application/json",                    true },
	{ "application/json; charset=utf-8",     true },
	{ "application/json;charset=UTF-8",      true },
	{ "application/json ; charset=utf-8",    true },
	{ "APPLICATION/JSON",                    true },
	{ "Application/Json; Charset=utf-8",     true },
	{ "application/jsonx",                   false },
	{ "application/json-patch+json",         false },
	{ "application/json5",                   false },
	{ "application/jso",                     false },
	{ "application/x-www-form-urlencoded",   false },
	{ "text/json",                           false },
	{ "text/plain",                          false },
	{ "",                                    false },
	{ NULL,                                  false },
};

static void
media_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(media_cases) / sizeof(media_cases[0]); i++) {
		if (http_media_is_json(media_cases[i].ct) != media_cases[i].json) {
			print_error("media row %zu \"%s\": want %d\n", i,
			    media_cases[i].ct ? media_cases[i].ct : "(null)", media_cases[i].json);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

static const struct {
	const char      *name;
	enum http_method m;
} method_cases[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
	{ "PUT", HTTP_PUT }, { "PATCH", HTTP_PATCH }, { "DELETE", HTTP_DELETE },
	{ "OPTIONS", HTTP_OPTIONS },
	/* Methods are case-sensitive (RFC 9110 §9.1). */
	{ "get", HTTP_OTHER }, { "Get", HTTP_OTHER }, { "TRACE", HTTP_OTHER },
	{ "CONNECT", HTTP_OTHER }, { "", HTTP_OTHER }, { "GET ", HTTP_OTHER },
	{ "GETX", HTTP_OTHER }, { NULL, HTTP_OTHER },
};

static void
method_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(method_cases) / sizeof(method_cases[0]); i++) {
		enum http_method got = http_method_parse(method_cases[i].name);

		if (got != method_cases[i].m) {
			print_error("method row %zu \"%s\": want %d got %d\n", i,
			    method_cases[i].name ? method_cases[i].name : "(null)",
			    method_cases[i].m, got);
			fails++;
		}
		/* Every known method's name round-trips. */
		if (method_cases[i].m != HTTP_OTHER &&
		    strcmp(http_method_name(method_cases[i].m), method_cases[i].name) != 0) {
			print_error("method row %zu: name is \"%s\"\n", i,
			    http_method_name(method_cases[i].m));
			fails++;
		}
	}
	assert_string_equal(http_method_name(HTTP_OTHER), "OTHER");
	assert_int_equal(fails, 0);
}

/* ========================================================================
 * core/util helpers the parsers rely on
 * ===================================================================== */

static const struct {
	const char *s;
	bool        ok;
} uuid_cases[] = {
	{ "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21", true },
	{ "0B5E9A1C-3F4D-4E8A-9C2B-7D6E5F4A3B21", true },
	{ "0b5E9a1C-3f4D-4e8A-9c2B-7d6E5f4A3b21", true },
	{ "00000000-0000-0000-0000-000000000000", true },
	{ "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b2",  false },  /* 35 */
	{ "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b211", false }, /* 37 */
	{ "0b5e9a1c3f4d4e8a9c2b7d6e5f4a3b21",     false },  /* no dashes */
	{ "0b5e9a1c-3f4d4-e8a-9c2b-7d6e5f4a3b21", false },  /* dash moved */
	{ "0b5e9a1c_3f4d_4e8a_9c2b_7d6e5f4a3b21", false },
	{ "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b2g", false },
	{ "{0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b2}", false },
	{ " 0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21", false },
	{ "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21 ", false },
	{ "0b5e9a1c-3f4d-4e8a-9c2b-",             false },
	{ "",                                     false },
	{ NULL,                                   false },
};

static void
uuid_table(void **state)
{
	int fails = 0;
	char low[UUID_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(uuid_cases) / sizeof(uuid_cases[0]); i++) {
		if (core_uuid_valid(uuid_cases[i].s) != uuid_cases[i].ok) {
			print_error("uuid row %zu \"%s\": want %d\n", i,
			    uuid_cases[i].s ? uuid_cases[i].s : "(null)", uuid_cases[i].ok);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
	core_uuid_lower("0B5E9A1C-3F4D-4E8A-9C2B-7D6E5F4A3B21", low);
	assert_string_equal(low, "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21");
}

static const struct {
	const char *s;
	size_t      n;
	bool        ok;
} utf8_cases[] = {
	{ "",                     0, true },
	{ "plain ascii",         11, true },
	{ "a\0b",                 3, true },    /* U+0000 is valid UTF-8 */
	{ "\xC3\xA9",             2, true },    /* é */
	{ "\xE2\x82\xAC",         3, true },    /* € */
	{ "\xF0\x9F\x98\x80",     4, true },    /* U+1F600 */
	{ "\xC2\x80",             2, true },    /* U+0080, smallest 2-byte */
	{ "\xE0\xA0\x80",         3, true },    /* U+0800, smallest 3-byte */
	{ "\xF0\x90\x80\x80",     4, true },    /* U+10000, smallest 4-byte */
	{ "\xED\x9F\xBF",         3, true },    /* U+D7FF, just below surrogates */
	{ "\xEE\x80\x80",         3, true },    /* U+E000, just above */
	{ "\xF4\x8F\xBF\xBF",     4, true },    /* U+10FFFF, the last code point */
	{ "\xF4\x90\x80\x80",     4, false },   /* U+110000 */
	{ "\xC0\xAF",             2, false },   /* overlong '/' */
	{ "\xC1\xBF",             2, false },   /* overlong */
	{ "\xE0\x80\xAF",         3, false },   /* overlong */
	{ "\xE0\x9F\xBF",         3, false },   /* overlong U+07FF */
	{ "\xF0\x80\x80\xAF",     4, false },   /* overlong */
	{ "\xF0\x8F\xBF\xBF",     4, false },   /* overlong U+FFFF */
	{ "\xED\xA0\x80",         3, false },   /* U+D800 */
	{ "\xED\xBF\xBF",         3, false },   /* U+DFFF */
	{ "\x80",                 1, false },   /* lone continuation */
	{ "\xBF",                 1, false },
	{ "\xC3",                 1, false },   /* truncated */
	{ "\xC3\xA9",             1, false },   /* truncated by n */
	{ "\xE2\x82",             2, false },
	{ "\xF0\x9F\x98",         3, false },
	{ "\xC3\x28",             2, false },   /* bad continuation */
	{ "\xE2\x28\xA1",         3, false },
	{ "\xF8\x88\x80\x80\x80", 5, false },   /* 5-byte form */
	{ "\xFE",                 1, false },
	{ "\xFF",                 1, false },
	{ "ok\xC3\xA9ok\xFF",     7, false },   /* bad byte at the end */
};

static void
utf8_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		if (core_utf8_valid(utf8_cases[i].s, utf8_cases[i].n) != utf8_cases[i].ok) {
			print_error("utf8 row %zu: want %d\n", i, utf8_cases[i].ok);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

static const struct {
	const char *s;
	int64_t     min, max;
	bool        ok;
	int64_t     v;
} i64_cases[] = {
	{ "0",                    INT64_MIN, INT64_MAX, true, 0 },
	{ "42",                   INT64_MIN, INT64_MAX, true, 42 },
	{ "-42",                  INT64_MIN, INT64_MAX, true, -42 },
	{ "-0",                   INT64_MIN, INT64_MAX, true, 0 },
	{ "007",                  INT64_MIN, INT64_MAX, true, 7 },
	{ "9223372036854775807",  INT64_MIN, INT64_MAX, true, INT64_MAX },
	{ "-9223372036854775807", INT64_MIN, INT64_MAX, true, -INT64_MAX },
	{ "-9223372036854775808", INT64_MIN, INT64_MAX, true, INT64_MIN },
	{ "9223372036854775808",  INT64_MIN, INT64_MAX, false, 0 },  /* overflow */
	{ "-9223372036854775809", INT64_MIN, INT64_MAX, false, 0 },
	{ "99999999999999999999", INT64_MIN, INT64_MAX, false, 0 },
	{ "+42",                  INT64_MIN, INT64_MAX, false, 0 },
	{ "",                     INT64_MIN, INT64_MAX, false, 0 },
	{ NULL,                   INT64_MIN, INT64_MAX, false, 0 },
	{ "-",                    INT64_MIN, INT64_MAX, false, 0 },
	{ "--1",                  INT64_MIN, INT64_MAX, false, 0 },
	{ "1-",                   INT64_MIN, INT64_MAX, false, 0 },
	{ "12a",                  INT64_MIN, INT64_MAX, false, 0 },
	{ "0x10",                 INT64_MIN, INT64_MAX, false, 0 },
	{ " 12",                  INT64_MIN, INT64_MAX, false, 0 },
	{ "12 ",                  INT64_MIN, INT64_MAX, false, 0 },
	{ "1.0",                  INT64_MIN, INT64_MAX, false, 0 },
	{ "1e3",                  INT64_MIN, INT64_MAX, false, 0 },
	/* Range: both ends inclusive, one past each refused. */
	{ "1",                    1, 100, true, 1 },
	{ "100",                  1, 100, true, 100 },
	{ "0",                    1, 100, false, 0 },
	{ "101",                  1, 100, false, 0 },
	{ "-1",                   0, 100, false, 0 },
};

static void
parse_i64_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(i64_cases) / sizeof(i64_cases[0]); i++) {
		int64_t v = 12345;
		bool ok = core_parse_i64(i64_cases[i].s, i64_cases[i].min, i64_cases[i].max, &v);

		if (ok != i64_cases[i].ok || (ok && v != i64_cases[i].v)) {
			print_error("i64 row %zu \"%s\": want %d/%lld, got %d/%lld\n", i,
			    i64_cases[i].s ? i64_cases[i].s : "(null)", i64_cases[i].ok,
			    (long long)i64_cases[i].v, ok, (long long)v);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(query_table, setup, teardown),
		cmocka_unit_test_setup_teardown(query_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(query_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(cookie_table, setup, teardown),
		cmocka_unit_test_setup_teardown(cookie_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(cookie_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(kv_get, setup, teardown),
		cmocka_unit_test_setup_teardown(path_table, setup, teardown),
		cmocka_unit_test_setup_teardown(path_raw_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(path_too_long, setup, teardown),
		cmocka_unit_test(media_table),
		cmocka_unit_test(method_table),
		cmocka_unit_test(uuid_table),
		cmocka_unit_test(utf8_table),
		cmocka_unit_test(parse_i64_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
