/* test_validate.c: unit tests for src/http/validate: field tables, email shape (core_email_normalize, which FT_EMAIL uses), strict JSON body parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/util.h"
#include "http/request.h"
#include "http/response.h"
#include "http/validate.h"

/*
 * One field table with every field type; each row of the case table is a
 * body and the exact set of fields its 400 must name (none: accepted),
 * plus, for accepted bodies, the value one field must have been given.
 */

struct fixture {
	struct req r;
	struct buf hdr;
	struct buf out;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->r.a = arena_new(4096)) == NULL) {
		free(f);
		return -1;
	}
	buf_init(&f->hdr);
	buf_init(&f->out);
	f->r.hdr = &f->hdr;
	f->r.out = &f->out;
	f->r.request_id = "req-validate";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	json_object_put(f->r.json);
	buf_release(&f->hdr);
	buf_release(&f->out);
	arena_free(f->r.a);
	free(f);
	return 0;
}

/* Forget the last request's body, response and arena. */
static void
fixture_reset(struct fixture *f)
{
	json_object_put(f->r.json);
	f->r.json = NULL;
	buf_clear(&f->hdr, 0);
	buf_clear(&f->out, 0);
	f->r.status = 0;
	f->r.responded = false;
	arena_reset(f->r.a);
}

/* ========================================================================
 * http_fields
 * ===================================================================== */

enum { F_NAME, F_PASSWORD, F_EMAIL, F_ID, F_ADMIN, F_COUNT, F_SETTINGS, F__N };

static const struct field fields[F__N] = {
	[F_NAME]     = { "name",     FT_STRING, true,  1, 5 },
	[F_PASSWORD] = { "password", FT_SECRET, false, 8, 16 },
	[F_EMAIL]    = { "email",    FT_EMAIL,  false, 0, 0 },
	[F_ID]       = { "id",       FT_UUID,   false, 0, 0 },
	[F_ADMIN]    = { "admin",    FT_BOOL,   false, 0, 0 },
	[F_COUNT]    = { "count",    FT_INT,    false, -5, 60 },
	[F_SETTINGS] = { "settings", FT_OBJECT, false, 0, 0 },
};

#define BAD_MAX 4

struct vcase {
	const char *body;
	const char *bad[BAD_MAX];  /* fields the 400 names; none: accepted */
	int         check;         /* accepted: field whose value is checked, or -1 */
	const char *s;             /* ... its string */
	long long   i;             /* ... or integer / bool */
};

#define OK            { NULL }, -1, NULL, 0
#define OK_S(f, v)    { NULL }, f, v, 0
#define OK_I(f, v)    { NULL }, f, NULL, v
#define BAD(...)      { __VA_ARGS__ }, -1, NULL, 0

#define UUID_L "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21"
#define UUID_U "0B5E9A1C-3F4D-4E8A-9C2B-7D6E5F4A3B21"

static const struct vcase vcases[] = {
	{ "{\"name\":\"abc\"}",                               OK_S(F_NAME, "abc") },
	/* Required, present, not null, a string. */
	{ "{}",                                               BAD("name") },
	{ "{\"name\":null}",                                  BAD("name") },
	{ "{\"name\":1}",                                     BAD("name") },
	{ "{\"name\":true}",                                  BAD("name") },
	{ "{\"name\":[\"a\"]}",                               BAD("name") },
	{ "{\"name\":{}}",                                    BAD("name") },
	/* FT_STRING length in characters, both ends. */
	{ "{\"name\":\"\"}",                                  BAD("name") },
	{ "{\"name\":\"a\"}",                                 OK_S(F_NAME, "a") },
	{ "{\"name\":\"abcde\"}",                             OK_S(F_NAME, "abcde") },
	{ "{\"name\":\"abcdef\"}",                            BAD("name") },
	{ "{\"name\":\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"}",
	                                 OK_S(F_NAME, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9") },
	{ "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}",
	                                 OK_S(F_NAME, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9") },
	{ "{\"name\":\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"}", BAD("name") },
	{ "{\"name\":\"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\"}",
	                      OK_S(F_NAME, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"
	                                   "\xF0\x9F\x98\x80\xF0\x9F\x98\x80") },
	{ "{\"name\":\"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\"}",
	                                                      BAD("name") },
	/* FT_STRING: no control characters, no NUL. */
	{ "{\"name\":\"a\\u0001\"}",                          BAD("name") },
	{ "{\"name\":\"a\\tb\"}",                             BAD("name") },
	{ "{\"name\":\"a\\nb\"}",                             BAD("name") },
	{ "{\"name\":\"a\\u007f\"}",                          BAD("name") },
	{ "{\"name\":\"a\\u0085\"}",                          BAD("name") },
	{ "{\"name\":\"a\\u009f\"}",                          BAD("name") },
	{ "{\"name\":\"a\\u00a0b\"}",                         OK_S(F_NAME, "a\xC2\xA0" "b") },
	/* FT_SECRET: bytes, any character but NUL. */
	{ "{\"name\":\"a\",\"password\":\"1234567\"}",        BAD("password") },
	{ "{\"name\":\"a\",\"password\":\"12345678\"}",       OK_S(F_PASSWORD, "12345678") },
	{ "{\"name\":\"a\",\"password\":\"1234567890123456\"}", OK_S(F_PASSWORD, "1234567890123456") },
	{ "{\"name\":\"a\",\"password\":\"12345678901234567\"}", BAD("password") },
	{ "{\"name\":\"a\",\"password\":\"\\u0001\\t\\n\\u007f pass\"}",
	                                                      OK_S(F_PASSWORD, "\x01\t\n\x7f pass") },
	{ "{\"name\":\"a\",\"password\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}",
	                                 OK_S(F_PASSWORD, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9") },
	{ "{\"name\":\"a\",\"password\":12345678}",           BAD("password") },
	{ "{\"name\":\"a\",\"password\":null}",               OK },
	/* FT_EMAIL: shape, lower-cased. */
	{ "{\"name\":\"a\",\"email\":\"Alice@Example.COM\"}", OK_S(F_EMAIL, "alice@example.com") },
	{ "{\"name\":\"a\",\"email\":\"a@b.co\"}",            OK_S(F_EMAIL, "a@b.co") },
	{ "{\"name\":\"a\",\"email\":\"a@b\"}",               BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"@x.y\"}",              BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"a b@x.y\"}",           BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"a@b@x.y\"}",           BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"a@@x.y\"}",            BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"a@x.y.\"}",            BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"a@.x.y\"}",            BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"a@x.y\\n\"}",          BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"<a@x.y>\"}",           BAD("email") },
	{ "{\"name\":\"a\",\"email\":\"\"}",                  BAD("email") },
	{ "{\"name\":\"a\",\"email\":1}",                     BAD("email") },
	/* FT_UUID: canonical, lower-cased. */
	{ "{\"name\":\"a\",\"id\":\"" UUID_U "\"}",           OK_S(F_ID, UUID_L) },
	{ "{\"name\":\"a\",\"id\":\"" UUID_L "\"}",           OK_S(F_ID, UUID_L) },
	{ "{\"name\":\"a\",\"id\":\"nope\"}",                 BAD("id") },
	{ "{\"name\":\"a\",\"id\":\"" UUID_L "0\"}",          BAD("id") },
	{ "{\"name\":\"a\",\"id\":\"0b5e9a1c3f4d4e8a9c2b7d6e5f4a3b21\"}", BAD("id") },
	{ "{\"name\":\"a\",\"id\":42}",                       BAD("id") },
	/* FT_BOOL: true or false, nothing coerced. */
	{ "{\"name\":\"a\",\"admin\":true}",                  OK_I(F_ADMIN, 1) },
	{ "{\"name\":\"a\",\"admin\":false}",                 OK_I(F_ADMIN, 0) },
	{ "{\"name\":\"a\",\"admin\":\"true\"}",              BAD("admin") },
	{ "{\"name\":\"a\",\"admin\":1}",                     BAD("admin") },
	{ "{\"name\":\"a\",\"admin\":0}",                     BAD("admin") },
	/* FT_INT: a JSON integer, min..max inclusive. */
	{ "{\"name\":\"a\",\"count\":60}",                    OK_I(F_COUNT, 60) },
	{ "{\"name\":\"a\",\"count\":-5}",                    OK_I(F_COUNT, -5) },
	{ "{\"name\":\"a\",\"count\":0}",                     OK_I(F_COUNT, 0) },
	{ "{\"name\":\"a\",\"count\":61}",                    BAD("count") },
	{ "{\"name\":\"a\",\"count\":-6}",                    BAD("count") },
	{ "{\"name\":\"a\",\"count\":\"60\"}",                BAD("count") },
	{ "{\"name\":\"a\",\"count\":60.0}",                  BAD("count") },
	{ "{\"name\":\"a\",\"count\":6e1}",                   BAD("count") },
	{ "{\"name\":\"a\",\"count\":true}",                  BAD("count") },
	{ "{\"name\":\"a\",\"count\":9223372036854775807}",   BAD("count") },
	{ "{\"name\":\"a\",\"count\":-9223372036854775808}",  BAD("count") },
	{ "{\"name\":\"a\",\"count\":18446744073709551615}",  BAD("count") },
	{ "{\"name\":\"a\",\"count\":99999999999999999999999}", BAD("count") },
	/* FT_OBJECT. */
	{ "{\"name\":\"a\",\"settings\":{\"x\":{\"y\":1}}}",  OK },
	{ "{\"name\":\"a\",\"settings\":[]}",                 BAD("settings") },
	{ "{\"name\":\"a\",\"settings\":\"{}\"}",             BAD("settings") },
	/* Fields the table does not name. */
	{ "{\"name\":\"a\",\"extra\":1}",                     BAD("extra") },
	{ "{\"name\":\"a\",\"Name\":\"b\"}",                  BAD("Name") },
	{ "{\"name\":\"a\",\"is_superadmin\":true}",          BAD("is_superadmin") },
	/* Several problems at once: one entry each. */
	{ "{\"name\":1,\"count\":\"60\",\"zzz\":true}",       BAD("name", "count", "zzz") },
	{ "{\"admin\":\"yes\",\"id\":\"x\",\"email\":\"y\"}", BAD("name", "admin", "id", "email") },
};

/* The 400 body's details as a set of field names; checks each entry's shape. */
static bool
details_match(const struct req *r, const char *const *want, size_t row)
{
	struct json_object *root = json_tokener_parse(r->out->p), *err, *details;
	size_t nwant = 0, n;
	bool ok = true;

	while (nwant < BAD_MAX && want[nwant] != NULL)
		nwant++;
	if (root == NULL || !json_object_object_get_ex(root, "error", &err) ||
	    !json_object_object_get_ex(err, "details", &details) ||
	    !json_object_is_type(details, json_type_array)) {
		print_error("row %zu: no details array in %s\n", row, r->out->p);
		json_object_put(root);
		return false;
	}
	n = json_object_array_length(details);
	if (n != nwant) {
		print_error("row %zu: %zu details, want %zu: %s\n", row, n, nwant, r->out->p);
		ok = false;
	}
	for (size_t k = 0; ok && k < nwant; k++) {
		bool seen = false;

		for (size_t j = 0; j < n; j++) {
			struct json_object *d = json_object_array_get_idx(details, j), *fld, *prob;

			if (!json_object_object_get_ex(d, "field", &fld) ||
			    !json_object_object_get_ex(d, "problem", &prob) ||
			    !json_object_is_type(fld, json_type_string) ||
			    !json_object_is_type(prob, json_type_string) ||
			    json_object_get_string_len(prob) == 0) {
				print_error("row %zu: detail %zu malformed\n", row, j);
				ok = false;
				break;
			}
			if (strcmp(json_object_get_string(fld), want[k]) == 0)
				seen = true;
		}
		if (ok && !seen) {
			print_error("row %zu: no detail names \"%s\": %s\n", row, want[k], r->out->p);
			ok = false;
		}
	}
	json_object_put(root);
	return ok;
}

static bool
value_match(const struct fval *v, const struct vcase *c, size_t row)
{
	const struct fval *x = &v[c->check];

	if (!x->set) {
		print_error("row %zu: field %s not set\n", row, fields[c->check].name);
		return false;
	}
	switch (fields[c->check].type) {
	case FT_BOOL:
		if (x->b != (c->i != 0)) {
			print_error("row %zu: bool %d\n", row, x->b);
			return false;
		}
		return true;
	case FT_INT:
		if (x->i != c->i) {
			print_error("row %zu: int %lld\n", row, x->i);
			return false;
		}
		return true;
	default:
		if (x->s == NULL || strcmp(x->s, c->s) != 0 || x->len != strlen(c->s)) {
			print_error("row %zu: string \"%s\" (%zu), want \"%s\"\n", row,
			    x->s ? x->s : "(null)", x->len, c->s);
			return false;
		}
		return true;
	}
}

static void
fields_table(void **state)
{
	struct fixture *f = *state;
	int fails = 0;

	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		struct fval v[F__N];
		bool want_ok = c->bad[0] == NULL, ok;
		int got;

		fixture_reset(f);
		f->r.json = http_json_parse(c->body, strlen(c->body));
		if (f->r.json == NULL) {
			print_error("row %zu: body does not parse: %s\n", i, c->body);
			fails++;
			continue;
		}
		got = http_fields(&f->r, fields, F__N, v);
		if (want_ok) {
			ok = got == 0 && !f->r.responded;
			if (!ok)
				print_error("row %zu %s: want accepted, got %d %s\n", i, c->body, got,
				    f->out.p ? f->out.p : "");
			if (ok && c->check >= 0)
				ok = value_match(v, c, i);
		} else {
			ok = got == 400 && f->r.status == 400;
			if (!ok)
				print_error("row %zu %s: want 400, got %d\n", i, c->body, got);
			else
				ok = details_match(&f->r, c->bad, i);
		}
		if (!ok)
			fails++;
	}
	assert_int_equal(fails, 0);
}

/* Absent optional fields stay unset; the 400 is the SPEC §3 error body. */
static void
fields_set_flags_and_error_shape(void **state)
{
	struct fixture *f = *state;
	struct fval v[F__N];
	struct json_object *root, *err, *x;
	static const char body[] = "{\"name\":\"abc\",\"admin\":false}";

	assert_non_null(f->r.json = http_json_parse(body, strlen(body)));
	assert_int_equal(http_fields(&f->r, fields, F_ADMIN + 1, v), 0);
	assert_true(v[F_NAME].set);
	assert_int_equal(v[F_NAME].len, 3);
	assert_false(v[F_PASSWORD].set);
	assert_false(v[F_EMAIL].set);
	assert_false(v[F_ID].set);
	assert_true(v[F_ADMIN].set);
	assert_false(v[F_ADMIN].b);
	/* The string is a copy: it outlives the JSON object. */
	assert_ptr_not_equal(v[F_NAME].s, json_object_get_string(
	    json_object_object_get(f->r.json, "name")));

	fixture_reset(f);
	assert_non_null(f->r.json = http_json_parse("{\"count\":\"60\"}", 14));
	assert_int_equal(http_fields(&f->r, fields, F__N, v), 400);
	assert_string_equal(f->r.ctype, "application/json");
	assert_non_null(root = json_tokener_parse(f->out.p));
	assert_true(json_object_object_get_ex(root, "error", &err));
	assert_true(json_object_object_get_ex(err, "code", &x));
	assert_string_equal(json_object_get_string(x), "invalid_request");
	assert_true(json_object_object_get_ex(err, "request_id", &x));
	assert_string_equal(json_object_get_string(x), "req-validate");
	json_object_put(root);
}

/* ========================================================================
 * core_email_normalize (src/core/util.c), the check behind FT_EMAIL
 * ===================================================================== */

static const struct {
	const char *in;
	const char *out;   /* NULL: refused */
} email_cases[] = {
	{ "alice@example.com",        "alice@example.com" },
	{ "Alice.Smith+tag@Example.COM", "alice.smith+tag@example.com" },
	{ "a@b.c",                    "a@b.c" },
	{ "a@b",                      NULL },
	{ "@x.y",                     NULL },
	{ "a@",                       NULL },
	{ "a b@x.y",                  NULL },
	{ "a@b@x.y",                  NULL },
	{ "a@x.y.",                   NULL },
	{ "a@.x.y",                   NULL },
	{ "a\t@x.y",                  NULL },
	{ "\"a\"@x.y",                NULL },
	{ "a,b@x.y",                  NULL },
	{ "",                         NULL },
	{ "ab",                       NULL },
};

static void
email_table(void **state)
{
	struct fixture *f = *state;
	int fails = 0;

	for (size_t i = 0; i < sizeof(email_cases) / sizeof(email_cases[0]); i++) {
		const char *got = core_email_normalize(f->r.a, email_cases[i].in);

		if ((got == NULL) != (email_cases[i].out == NULL) ||
		    (got != NULL && strcmp(got, email_cases[i].out) != 0)) {
			print_error("email row %zu \"%s\": want %s got %s\n", i, email_cases[i].in,
			    email_cases[i].out ? email_cases[i].out : "(refused)",
			    got ? got : "(refused)");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* Local part up to 64 octets (RFC 5321), the whole address up to 254. */
static void
email_lengths(void **state)
{
	struct fixture *f = *state;
	char s[300];

	memset(s, 'a', 64);
	strcpy(s + 64, "@x.y");
	assert_non_null(core_email_normalize(f->r.a, s));
	memset(s, 'a', 65);
	strcpy(s + 65, "@x.y");
	assert_null(core_email_normalize(f->r.a, s));
	/* 254 characters in all, then 255. */
	strcpy(s, "a@");
	memset(s + 2, 'b', 248);
	strcpy(s + 250, ".com");
	assert_int_equal(strlen(s), 254);
	assert_non_null(core_email_normalize(f->r.a, s));
	strcpy(s, "a@");
	memset(s + 2, 'b', 249);
	strcpy(s + 251, ".com");
	assert_null(core_email_normalize(f->r.a, s));
}

/* ========================================================================
 * http_json_parse
 * ===================================================================== */

/* "[" * depth + "1" + "]" * depth inside {"a": ...}: total nesting depth + 1. */
static char *
nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 16);
	size_t len = 0;

	if (s == NULL)
		fail_msg("out of memory");
	memcpy(s, "{\"a\":", 5);
	len = 5;
	for (int i = 0; i < depth; i++)
		s[len++] = '[';
	s[len++] = '1';
	for (int i = 0; i < depth; i++)
		s[len++] = ']';
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

static const struct {
	const char *what;
	const char *s;
	size_t      len;    /* 0: strlen */
	bool        ok;
} parse_cases[] = {
	{ "object",             "{\"a\":1}",                   0, true },
	{ "empty object",       "{}",                          0, true },
	{ "nested",             "{\"a\":{\"b\":[1,2,{\"c\":null}]}}", 0, true },
	{ "UTF-8 string",       "{\"a\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}", 0, true },
	{ "escaped pair",       "{\"a\":\"\\ud83d\\ude00\"}",  0, true },
	/* RFC 8259: insignificant whitespace around the value is allowed. */
	{ "leading space",      " {\"a\":1}",                  0, true },
	{ "trailing newline",   "{\"a\":1}\n",                 0, true },
	{ "trailing CRLF",      "{\"a\":1}\r\n",               0, true },
	{ "empty",              "",                            0, false },
	{ "blank",              "   ",                         0, false },
	{ "trailing garbage",   "{\"a\":1} x",                 0, false },
	{ "two objects",        "{\"a\":1}{\"b\":2}",          0, false },
	{ "extra brace",        "{\"a\":1}}",                  0, false },
	{ "NUL then garbage",   "{\"a\":1}\0xyz",             11, false },
	{ "truncated",          "{\"a\":1",                    0, false },
	{ "trailing comma",     "{\"a\":1,}",                  0, false },
	{ "single quotes",      "{'a':1}",                     0, false },
	{ "unquoted key",       "{a:1}",                       0, false },
	{ "comment",            "{\"a\":1 /* c */}",           0, false },
	{ "NaN",                "{\"a\":NaN}",                 0, false },
	{ "Infinity",           "{\"a\":Infinity}",            0, false },
	{ "hex",                "{\"a\":0x10}",                0, false },
	{ "leading zero",       "{\"a\":01}",                  0, false },
	{ "True",               "{\"a\":True}",                0, false },
	{ "raw newline",        "{\"a\":\"x\ny\"}",            0, false },
	{ "raw tab",            "{\"a\":\"x\ty\"}",            0, false },
	{ "bad escape",         "{\"a\":\"\\x41\"}",           0, false },
	{ "invalid UTF-8",      "{\"a\":\"\xFF\"}",            0, false },
	{ "bad continuation",   "{\"a\":\"\xC3\x28\"}",        0, false },
	{ "truncated UTF-8",    "{\"a\":\"\xE2\x82\"}",        0, false },
	{ "overlong",           "{\"a\":\"\xC0\xAF\"}",        0, false },
	{ "surrogate bytes",    "{\"a\":\"\xED\xA0\x80\"}",    0, false },
	{ "above U+10FFFF",     "{\"a\":\"\xF4\x90\x80\x80\"}", 0, false },
	{ "invalid UTF-8 key",  "{\"\xFF\":1}",                0, false },
	/* U+0000 and lone surrogates (issue 16): no string loses or changes a character. */
	{ "escaped NUL",        "{\"a\":\"x\\u0000\"}",          0, false },
	{ "escaped NUL in key", "{\"\\u0000\":1}",              0, false },
	{ "NUL in an array",    "{\"a\":[\"read\\u0000\"]}",     0, false },
	{ "U+0001 is a char",   "{\"a\":\"x\\u0001\"}",          0, true },
	{ "lone high",          "{\"a\":\"\\ud83d\"}",           0, false },
	{ "lone high, then x",  "{\"a\":\"\\ud83dx\"}",          0, false },
	{ "high then high",     "{\"a\":\"\\ud83d\\ud83d\"}",    0, false },
	{ "lone low",           "{\"a\":\"\\ude00\"}",           0, false },
	{ "low then high",      "{\"a\":\"\\ude00\\ud83d\"}",    0, false },
	/* Duplicate member names (RFC 8259 leaves it open; we refuse, like RFC 7515 for JOSE). */
	{ "duplicate",          "{\"a\":1,\"a\":2}",             0, false },
	{ "duplicate, escaped", "{\"a\":1,\"\\u0061\":2}",        0, false },
	{ "duplicate nested",   "{\"x\":[{\"b\":1,\"c\":2,\"b\":3}]}", 0, false },
	{ "duplicate objects",  "{\"a\":{\"b\":1},\"a\":{\"c\":2}}", 0, false },
	{ "JWT header twice",   "{\"alg\":\"none\",\"alg\":\"HS256\"}", 0, false },
	{ "same name, two objects", "{\"a\":{\"k\":1},\"b\":{\"k\":2}}", 0, true },
	{ "colon in a string",  "{\"a\":\"x:y\",\"b\":\"\\\":\"}",    0, true },
};

static void
json_parse_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		size_t len = parse_cases[i].len ? parse_cases[i].len : strlen(parse_cases[i].s);
		struct json_object *o = http_json_parse(parse_cases[i].s, len);

		if ((o != NULL) != parse_cases[i].ok) {
			print_error("parse row %zu (%s): want %s\n", i, parse_cases[i].what,
			    parse_cases[i].ok ? "parsed" : "refused");
			fails++;
		}
		json_object_put(o);
	}
	assert_int_equal(fails, 0);
}

/* Depth at most 32: an object holding 31 nested arrays is 32 deep; one more is refused. */
static void
json_parse_depth(void **state)
{
	char *s;
	struct json_object *o;

	(void)state;
	s = nested(1000);
	assert_null(http_json_parse(s, strlen(s)));
	free(s);
	s = nested(32);
	assert_null(http_json_parse(s, strlen(s)));
	free(s);
	s = nested(30);
	o = http_json_parse(s, strlen(s));
	free(s);
	assert_non_null(o);
	json_object_put(o);
	s = nested(31);
	o = http_json_parse(s, strlen(s));
	free(s);
	if (o == NULL)
		print_error("a body 32 levels deep is refused\n");
	assert_non_null(o);
	json_object_put(o);
}

/* Whatever \u escapes a body holds, what comes out is valid UTF-8 (lone surrogates included). */
static void
json_parse_escapes_give_utf8(void **state)
{
	static const char *const bodies[] = {
		"{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\udfff\"}",
		"{\"a\":\"x\\ud800y\"}",
		"{\"a\":\"\\ude00\\ud83d\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct json_object *o = http_json_parse(bodies[i], strlen(bodies[i])), *x;

		if (o == NULL)
			continue;   /* refusing them is fine too */
		assert_true(json_object_object_get_ex(o, "a", &x));
		if (!core_utf8_valid(json_object_get_string(x), (size_t)json_object_get_string_len(x))) {
			print_error("body %zu gives invalid UTF-8\n", i);
			json_object_put(o);
			fail();
		}
		json_object_put(o);
	}
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(fields_table),
		T(fields_set_flags_and_error_shape),
		T(email_table),
		T(email_lengths),
		cmocka_unit_test(json_parse_table),
		cmocka_unit_test(json_parse_depth),
		cmocka_unit_test(json_parse_escapes_give_utf8),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
