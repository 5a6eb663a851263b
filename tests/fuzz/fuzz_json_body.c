/* fuzz_json_body.c: libFuzzer target for http_json_parse and http_fields over every field type. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/util.h"
#include "http/request.h"
#include "http/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The body is handed to http_json_strict and http_json_parse straight from
 * libFuzzer's buffer, which has no terminator. The two must agree (json-c
 * may not accept what the RFC 8259 scanner refuses, nor refuse an object
 * or array it accepts); what parses must be at most 32 deep, hold only
 * valid UTF-8, and parse again after serialisation. An object then goes through http_fields
 * against the table below, which has every field type, a required field,
 * and ranges with both ends reachable; every value it accepts must obey
 * its type, and a 400 must come with an error body listing the problems.
 */
static const struct field fields[] = {
	{ "name",     FT_STRING, true,  1, 8 },
	{ "title",    FT_STRING, false, 0, 100 },
	{ "password", FT_SECRET, false, 8, 64 },
	{ "email",    FT_EMAIL,  false, 0, 0 },
	{ "id",       FT_UUID,   false, 0, 0 },
	{ "active",   FT_BOOL,   false, 0, 0 },
	{ "count",    FT_INT,    false, -5, 1000 },
	{ "big",      FT_INT,    false, INT64_MIN, INT64_MAX },
	{ "settings", FT_OBJECT, false, 0, 0 },
	{ "scopes",   FT_ARRAY,  false, 1, 3 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* An invariant broke: say which, then abort so libFuzzer keeps the input. */
static _Noreturn void
fail(const char *why)
{
	fprintf(stderr, "fuzz_json_body: %s\n", why);
	abort();
}

/* Strict UTF-8, written apart from core_utf8_valid and json-c's check. */
static bool
ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, cp;
		unsigned long min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1, min = 0x80, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2, min = 0x800, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		if (n - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

/* Nesting of arrays and objects in o (a scalar is 0), checking every string and key is UTF-8. */
static int
walk(struct json_object *o)
{
	int d = 0;

	switch (json_object_get_type(o)) {
	case json_type_string:
		if (!ref_utf8((const unsigned char *)json_object_get_string(o),
		    (size_t)json_object_get_string_len(o)))
			fail("a parsed string is not valid UTF-8");
		return 0;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			int x = walk(json_object_array_get_idx(o, i));

			d = x > d ? x : d;
		}
		return d + 1;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			int x;

			if (!ref_utf8((const unsigned char *)k, strlen(k)))
				fail("a parsed key is not valid UTF-8");
			x = walk(v);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	default:
		return 0;
	}
}

static size_t
chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* A value http_fields accepted must be what its type promises. */
static void
check_value(const struct field *f, const struct fval *v, struct json_object *in)
{
	struct json_object *x = NULL;

	if (!json_object_object_get_ex(in, f->name, &x) || x == NULL)
		fail("a field is set that the body does not have");
	switch (f->type) {
	case FT_STRING:
	case FT_SECRET:
	case FT_EMAIL:
	case FT_UUID:
		if (v->s == NULL || strlen(v->s) != v->len || !ref_utf8((const unsigned char *)v->s, v->len))
			fail("a string value is NULL, holds a NUL, has the wrong len or bad UTF-8");
		break;
	default:
		break;
	}
	switch (f->type) {
	case FT_STRING:
		if ((long long)chars(v->s, v->len) < f->min || (long long)chars(v->s, v->len) > f->max)
			fail("FT_STRING outside min..max characters");
		for (size_t i = 0; i < v->len; i++) {
			unsigned char c = (unsigned char)v->s[i];

			if (c < 0x20 || c == 0x7f ||
			    (c == 0xC2 && i + 1 < v->len && (unsigned char)v->s[i + 1] < 0xA0))
				fail("FT_STRING holds a control character");
		}
		if (strcmp(v->s, json_object_get_string(x)) != 0)
			fail("FT_STRING differs from the body");
		break;
	case FT_SECRET:
		if ((long long)v->len < f->min || (long long)v->len > f->max)
			fail("FT_SECRET outside min..max bytes");
		if (strcmp(v->s, json_object_get_string(x)) != 0)
			fail("FT_SECRET differs from the body");
		break;
	case FT_EMAIL: {
		const char *at = strchr(v->s, '@');

		if (at == NULL || at == v->s || strchr(at + 1, '@') != NULL ||
		    strchr(at + 1, '.') == NULL || v->len > 254)
			fail("FT_EMAIL is not one local@domain.part");
		for (size_t i = 0; i < v->len; i++)
			if ((v->s[i] >= 'A' && v->s[i] <= 'Z') || (unsigned char)v->s[i] <= 0x20)
				fail("FT_EMAIL holds upper case, space or control characters");
		if (strcasecmp(v->s, json_object_get_string(x)) != 0)
			fail("FT_EMAIL differs from the body beyond case");
		break;
	}
	case FT_UUID:
		if (!core_uuid_valid(v->s) || strcasecmp(v->s, json_object_get_string(x)) != 0)
			fail("FT_UUID is not the body's UUID");
		for (size_t i = 0; i < v->len; i++)
			if (v->s[i] >= 'A' && v->s[i] <= 'F')
				fail("FT_UUID is not lower-cased");
		break;
	case FT_BOOL:
		if (!json_object_is_type(x, json_type_boolean) || v->b != json_object_get_boolean(x))
			fail("FT_BOOL is not the body's boolean");
		break;
	case FT_INT:
		if (!json_object_is_type(x, json_type_int) || v->i != json_object_get_int64(x) ||
		    v->i < f->min || v->i > f->max)
			fail("FT_INT is not the body's integer in min..max");
		break;
	case FT_OBJECT:
		if (v->o != x || !json_object_is_type(v->o, json_type_object))
			fail("FT_OBJECT is not the body's object");
		break;
	case FT_ARRAY:
		if (v->o != x || !json_object_is_type(v->o, json_type_array) ||
		    (long long)json_object_array_length(v->o) < f->min ||
		    (long long)json_object_array_length(v->o) > f->max)
			fail("FT_ARRAY is not the body's array of min..max elements");
		break;
	}
}

static void
put_json(void *o)
{
	json_object_put(o);
}

static void
check_fields(struct arena *a, struct json_object *obj)
{
	struct buf hdr, out;
	struct req r;
	struct fval v[NFIELDS];
	int rc;

	memset(&r, 0, sizeof(r));
	buf_init(&hdr);
	buf_init(&out);
	r.a = a;
	r.hdr = &hdr;
	r.out = &out;
	r.request_id = "fuzz";
	r.json = obj;

	rc = http_fields(&r, fields, NFIELDS, v);
	for (size_t i = 0; i < NFIELDS; i++)
		if (v[i].set)
			check_value(&fields[i], &v[i], obj);
	if (rc == 0) {
		if (r.responded || out.len != 0)
			fail("http_fields answered although every field is valid");
		for (size_t i = 0; i < NFIELDS; i++)
			if (fields[i].required && !v[i].set)
				fail("a required field is missing but http_fields returned 0");
	} else {
		struct json_object *body, *err, *details;

		if (rc != 400 || r.status != 400 || !r.responded || out.p == NULL)
			fail("a refused body did not get a 400 error response");
		if ((body = json_tokener_parse(out.p)) == NULL)
			fail("the 400 body is not JSON");
		if (!json_object_object_get_ex(body, "error", &err) ||
		    !json_object_object_get_ex(err, "details", &details) ||
		    !json_object_is_type(details, json_type_array) ||
		    json_object_array_length(details) == 0)
			fail("the 400 body has no error.details");
		json_object_put(body);
	}
	/* Every string in the body through the email normaliser as well. */
	json_object_object_foreach(obj, k, x) {
		const char *e;

		(void)k;
		if (!json_object_is_type(x, json_type_string))
			continue;
		if ((e = core_email_normalize(a, json_object_get_string(x))) != NULL &&
		    (strcasecmp(e, json_object_get_string(x)) != 0 || strchr(e, '@') == NULL))
			fail("core_email_normalize changed more than case");
	}
	buf_release(&hdr);
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct json_object *o, *again;
	const char *text, *why = NULL;
	size_t tlen, i;
	bool strict;

	if (a == NULL && (a = arena_new(4096)) == NULL)
		return 0;
	strict = http_json_strict((const char *)data, size);
	if ((o = http_json_parse_why((const char *)data, size, &why)) == NULL) {
		/*
		 * A bare scalar is left out: json-c wants more input after "3".
		 * Beyond RFC 8259, a member named twice in one object is refused
		 * (issue 16), with its reason in why.
		 */
		for (i = 0; i < size && strchr(" \t\r\n", data[i]) != NULL && data[i] != '\0'; i++)
			;
		if (strict && why == NULL && i < size && (data[i] == '{' || data[i] == '['))
			fail("http_json_parse refused an object or array http_json_strict accepts, giving no reason");
		return 0;
	}
	if (!strict)
		fail("http_json_parse accepted a body http_json_strict refuses");
	/* The pipeline hands r->json to the arena; do the same. */
	if (arena_defer(a, put_json, o) != 0)
		return 0;

	if (walk(o) > 32)
		fail("parsed deeper than the 32 levels http_json_parse allows");
	/*
	 * A bare scalar is left out: "3 " parses but "3" does not (json-c
	 * waits for the number to end), and a body must be an object anyway.
	 */
	if (json_object_is_type(o, json_type_object) || json_object_is_type(o, json_type_array)) {
		text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &tlen);
		if (text == NULL || (again = http_json_parse(text, tlen)) == NULL)
			fail("a parsed body does not parse again after serialisation");
		json_object_put(again);
	}

	if (json_object_is_type(o, json_type_object))
		check_fields(a, o);
	arena_reset(a);
	return 0;
}
