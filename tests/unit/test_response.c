/* test_response.c: unit tests for src/http/response: the error body, required headers, header injection, replacement. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/request.h"
#include "http/response.h"

/*
 * A request built by hand: an arena, the two output buffers and a request
 * id, as the worker would set them. http_send is never called (it needs a
 * FastCGI stream); the tests read r->hdr and r->out directly.
 */

#define REQ_ID "req-0123456789abcdef"

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
	f->r.request_id = REQ_ID;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	buf_release(&f->hdr);
	buf_release(&f->out);
	arena_free(f->r.a);
	free(f);
	return 0;
}

/* The body, strictly parsed as one JSON value with nothing after it. The caller puts it. */
static struct json_object *
body_json(const struct req *r)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	assert_non_null(tok);
	assert_non_null(r->out->p);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, r->out->p, (int)r->out->len);
	assert_non_null(o);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	assert_int_equal(json_tokener_get_parse_end(tok), r->out->len);
	json_tokener_free(tok);
	return o;
}

static const char *
str_member(struct json_object *o, const char *k)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

/* Times name appears as a header line ("Name: ...\r\n") in hdr. */
static int
header_count(const struct req *r, const char *name)
{
	const char *p = r->hdr->p;
	size_t nl = strlen(name);
	int n = 0;

	if (p == NULL)
		return 0;
	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			n++;
		p = eol + 2;
	}
	return n;
}

/*
 * Check the SPEC §3 error body exactly: {"error":{code,message,request_id}}
 * and details when want_details. Returns the error object's details or NULL;
 * the caller puts root.
 */
static struct json_object *
check_error_body(const struct req *r, const char *code, bool want_details,
    struct json_object **root)
{
	struct json_object *err, *x;

	*root = body_json(r);
	assert_true(json_object_is_type(*root, json_type_object));
	assert_int_equal(json_object_object_length(*root), 1);
	assert_true(json_object_object_get_ex(*root, "error", &err));
	assert_true(json_object_is_type(err, json_type_object));
	assert_int_equal(json_object_object_length(err), want_details ? 4 : 3);
	assert_non_null(str_member(err, "code"));
	assert_string_equal(str_member(err, "code"), code);
	assert_non_null(str_member(err, "message"));
	assert_true(strlen(str_member(err, "message")) > 0);
	assert_non_null(str_member(err, "request_id"));
	assert_string_equal(str_member(err, "request_id"), REQ_ID);
	assert_string_equal(r->ctype, "application/json");
	assert_true(r->responded);
	if (!want_details)
		return NULL;
	assert_true(json_object_object_get_ex(err, "details", &x));
	return x;
}

/* ========================================================================
 * The error body
 * ===================================================================== */

static void
error_body_exact(void **state)
{
	struct fixture *f = *state;
	struct json_object *root;

	assert_int_equal(http_error(&f->r, 403, "permission_denied", "you may not"), 403);
	assert_int_equal(f->r.status, 403);
	check_error_body(&f->r, "permission_denied", false, &root);
	json_object_put(root);
	/* 403 needs no extra header. */
	assert_int_equal(f->hdr.len, 0);
}

/* A message with quotes, slashes and non-ASCII survives as JSON text. */
static void
error_message_escaped(void **state)
{
	struct fixture *f = *state;
	struct json_object *root, *err;
	const char *msg = "the \"slug\" a/b is taken \xE2\x80\x94 try <another>\n";

	http_error(&f->r, 409, "conflict", msg);
	check_error_body(&f->r, "conflict", false, &root);
	assert_true(json_object_object_get_ex(root, "error", &err));
	assert_string_equal(str_member(err, "message"), msg);
	json_object_put(root);
}

static void
error_details(void **state)
{
	struct fixture *f = *state;
	struct json_object *root, *details, *d, *e;

	details = json_object_new_array();
	d = json_object_new_object();
	json_object_object_add(d, "field", json_object_new_string("branding.primary_color"));
	json_object_object_add(d, "problem", json_object_new_string("must be #RRGGBB"));
	json_object_array_add(details, d);
	assert_int_equal(http_error_details(&f->r, 422, "invalid_settings", "bad settings", details),
	    422);
	assert_int_equal(f->r.status, 422);
	e = check_error_body(&f->r, "invalid_settings", true, &root);
	assert_true(json_object_is_type(e, json_type_array));
	assert_int_equal(json_object_array_length(e), 1);
	d = json_object_array_get_idx(e, 0);
	assert_string_equal(str_member(d, "field"), "branding.primary_color");
	assert_string_equal(str_member(d, "problem"), "must be #RRGGBB");
	json_object_put(root);
}

static void
error_no_details_when_null(void **state)
{
	struct fixture *f = *state;
	struct json_object *root;

	http_error_details(&f->r, 400, "invalid_request", "bad", NULL);
	check_error_body(&f->r, "invalid_request", false, &root);
	json_object_put(root);
}

static void
error_401_www_authenticate(void **state)
{
	struct fixture *f = *state;
	struct json_object *root;

	assert_int_equal(http_error(&f->r, 401, "unauthenticated", "no"), 401);
	check_error_body(&f->r, "unauthenticated", false, &root);
	json_object_put(root);
	assert_int_equal(header_count(&f->r, "WWW-Authenticate"), 1);
	assert_non_null(strstr(f->hdr.p, "WWW-Authenticate: Bearer"));
	assert_int_equal(header_count(&f->r, "Retry-After"), 0);
}

static void
error_503_retry_after(void **state)
{
	struct fixture *f = *state;
	struct json_object *root;
	const char *v;

	assert_int_equal(http_error(&f->r, 503, "unavailable", "down"), 503);
	check_error_body(&f->r, "unavailable", false, &root);
	json_object_put(root);
	assert_int_equal(header_count(&f->r, "Retry-After"), 1);
	assert_int_equal(header_count(&f->r, "WWW-Authenticate"), 0);
	/* A delay in seconds: digits only. */
	assert_non_null(v = strstr(f->hdr.p, "Retry-After: "));
	v += strlen("Retry-After: ");
	assert_true(v[0] >= '0' && v[0] <= '9');
	assert_int_equal(strspn(v, "0123456789"), strcspn(v, "\r"));
}

/* http_error_default: the SPEC §3 code for each status. */
static const struct {
	int         status;
	int         want_status;
	const char *code;
	const char *header;   /* one header the status requires, or NULL */
} default_cases[] = {
	{ 400, 400, "invalid_request",        NULL },
	{ 401, 401, "unauthenticated",        "WWW-Authenticate" },
	{ 403, 403, "permission_denied",      NULL },
	{ 404, 404, "not_found",              NULL },
	{ 405, 405, "method_not_allowed",     NULL },
	{ 409, 409, "conflict",               NULL },
	{ 412, 412, "concurrent_update",      NULL },
	{ 413, 413, "payload_too_large",      NULL },
	{ 415, 415, "unsupported_media_type", NULL },
	{ 422, 422, "invalid_settings",       NULL },
	{ 429, 429, "rate_limited",           NULL },
	{ 503, 503, "unavailable",            "Retry-After" },
	{ 500, 500, "internal",               NULL },
};

static void
error_default_table(void **state)
{
	struct fixture *f = *state;
	int fails = 0;

	for (size_t i = 0; i < sizeof(default_cases) / sizeof(default_cases[0]); i++) {
		struct json_object *root, *err = NULL;
		const char *code;
		int got;

		buf_clear(&f->hdr, 0);
		buf_clear(&f->out, 0);
		got = http_error_default(&f->r, default_cases[i].status);
		root = body_json(&f->r);
		code = json_object_object_get_ex(root, "error", &err) ? str_member(err, "code") : NULL;
		if (got != default_cases[i].want_status || f->r.status != default_cases[i].want_status ||
		    code == NULL || strcmp(code, default_cases[i].code) != 0 ||
		    str_member(err, "request_id") == NULL || str_member(err, "message") == NULL ||
		    (default_cases[i].header != NULL &&
		    header_count(&f->r, default_cases[i].header) != 1)) {
			print_error("default row %zu (%d): want %d %s, got %d %s\n", i,
			    default_cases[i].status, default_cases[i].want_status,
			    default_cases[i].code, got, code ? code : "(none)");
			fails++;
		}
		json_object_put(root);
	}
	assert_int_equal(fails, 0);
}

/* ========================================================================
 * Headers
 * ===================================================================== */

static void
header_appended(void **state)
{
	struct fixture *f = *state;

	http_header(&f->r, "X-One", "1");
	http_header(&f->r, "ETag", "\"7\"");
	assert_string_equal(f->hdr.p, "X-One: 1\r\nETag: \"7\"\r\n");
}

static const struct {
	const char *name;
	const char *value;
} injections[] = {
	{ "X-A",                 "a\r\nSet-Cookie: x=1" },
	{ "X-A",                 "a\nSet-Cookie: x=1" },
	{ "X-A",                 "a\r" },
	{ "X-A",                 "\n" },
	{ "X-A\r\nSet-Cookie",   "x=1" },
	{ "X-A\n",               "1" },
	{ "X-A\r",               "1" },
	{ "Set-Cookie: x=1\r\nX", "1" },
};

/* Any CR or LF in a name or value: nothing at all is added. */
static void
header_injection_refused(void **state)
{
	struct fixture *f = *state;
	char before[64];

	http_header(&f->r, "X-Keep", "yes");
	snprintf(before, sizeof(before), "%s", f->hdr.p);
	for (size_t i = 0; i < sizeof(injections) / sizeof(injections[0]); i++) {
		http_header(&f->r, injections[i].name, injections[i].value);
		if (strcmp(f->hdr.p, before) != 0 || f->hdr.len != strlen(before)) {
			print_error("injection row %zu added: %s\n", i, f->hdr.p);
			fail();
		}
	}
	assert_string_equal(f->hdr.p, "X-Keep: yes\r\n");
}

/* ========================================================================
 * Bodies
 * ===================================================================== */

/* JSON output keeps '/' as is: no "\/" (URLs in bodies stay readable). */
static void
json_no_slash_escape(void **state)
{
	struct fixture *f = *state;
	struct json_object *o = json_object_new_object(), *back;

	json_object_object_add(o, "invite_url",
	    json_object_new_string("https://app.example.com/invite/abc"));
	assert_int_equal(http_json(&f->r, 201, o), 201);
	assert_int_equal(f->r.status, 201);
	assert_string_equal(f->r.ctype, "application/json");
	assert_null(strstr(f->out.p, "\\/"));
	assert_non_null(strstr(f->out.p, "https://app.example.com/invite/abc"));
	back = body_json(&f->r);
	assert_string_equal(str_member(back, "invite_url"), "https://app.example.com/invite/abc");
	json_object_put(back);
}

/* A second response replaces the first: status, body and content type. */
static void
replace_response(void **state)
{
	struct fixture *f = *state;
	struct json_object *o = json_object_new_object(), *root;

	json_object_object_add(o, "secret_field", json_object_new_string("should vanish"));
	http_json(&f->r, 200, o);
	assert_non_null(strstr(f->out.p, "secret_field"));
	http_error(&f->r, 500, "internal", "internal error");
	assert_int_equal(f->r.status, 500);
	assert_null(strstr(f->out.p, "secret_field"));
	check_error_body(&f->r, "internal", false, &root);
	json_object_put(root);

	/* Text, then empty: no body and no content type left. */
	http_text(&f->r, 200, "text/html", "<p>hi</p>", 9);
	assert_string_equal(f->r.ctype, "text/html");
	assert_int_equal(f->out.len, 9);
	assert_int_equal(http_empty(&f->r, 204), 204);
	assert_int_equal(f->r.status, 204);
	assert_null(f->r.ctype);
	assert_int_equal(f->out.len, 0);
}

/* Replacing a body larger than the buffer's kept capacity still leaves only the new one. */
static void
replace_large_body(void **state)
{
	struct fixture *f = *state;
	size_t big = 200 * 1024;
	char *s = malloc(big);

	assert_non_null(s);
	memset(s, 'x', big);
	http_text(&f->r, 200, "text/csv", s, big);
	assert_int_equal(f->out.len, big);
	free(s);
	http_json_raw(&f->r, 200, "{\"a\":1}", 7);
	assert_int_equal(f->out.len, 7);
	assert_string_equal(f->out.p, "{\"a\":1}");
	assert_string_equal(f->r.ctype, "application/json");
}

static void
status_texts(void **state)
{
	(void)state;
	assert_string_equal(http_status_text(200), "OK");
	assert_string_equal(http_status_text(401), "Unauthorized");
	assert_string_equal(http_status_text(404), "Not Found");
	assert_string_equal(http_status_text(405), "Method Not Allowed");
	assert_string_equal(http_status_text(412), "Precondition Failed");
	assert_string_equal(http_status_text(429), "Too Many Requests");
	assert_string_equal(http_status_text(503), "Service Unavailable");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(error_body_exact),
		T(error_message_escaped),
		T(error_details),
		T(error_no_details_when_null),
		T(error_401_www_authenticate),
		T(error_503_retry_after),
		T(error_default_table),
		T(header_appended),
		T(header_injection_refused),
		T(json_no_slash_escape),
		T(replace_response),
		T(replace_large_body),
		cmocka_unit_test(status_texts),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
