/* validate.h: JSON body fields declared as a table, checked at the edge into typed values. */
#ifndef TENANTRY_VALIDATE_H
#define TENANTRY_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "http/request.h"

enum field_type {
	FT_STRING,   /* min..max characters, no control characters */
	FT_SECRET,   /* min..max bytes, any UTF-8 (passwords) */
	FT_EMAIL,    /* lower-cased into the value */
	FT_UUID,     /* lower-cased into the value */
	FT_BOOL,
	FT_INT,      /* a JSON integer in min..max ("60" is not 60) */
	FT_OBJECT,
	FT_ARRAY,    /* min..max elements; the handler checks them */
};

struct field {
	const char     *name;
	enum field_type type;
	bool            required;
	long long       min;
	long long       max;
};

struct fval {
	bool                set;
	const char         *s;     /* strings: arena copy */
	size_t              len;
	long long           i;
	bool                b;
	struct json_object *o;     /* FT_OBJECT, FT_ARRAY: borrowed from r->json */
};

/*
 * Check r->json against the table: every field of the right JSON type and
 * range, required ones present, no field the table does not name. Fills
 * v[i] for f[i]. Returns 0, or writes a 400 invalid_request with one
 * {"field","problem"} detail per bad field and returns 400.
 */
int http_fields(struct req *r, const struct field *f, size_t n, struct fval *v);

/* Code points of valid UTF-8 s[0..n). */
size_t http_utf8_chars(const char *s, size_t n);
/* C0, DEL or C1 control characters in s[0..n)? */
bool   http_has_control(const char *s, size_t n);

/*
 * True if s[0..len) is one RFC 8259 JSON text, valid UTF-8, nesting <= 32,
 * no string holding U+0000 or a lone surrogate.
 */
bool http_json_strict(const char *s, size_t len);

/*
 * Parse a request body as one JSON value (http_json_strict first, then
 * json-c). NULL on any error. The caller owns the result.
 */
struct json_object *http_json_parse(const char *s, size_t len);

/*
 * The same; on NULL, *why names a refusal beyond syntax (a member name
 * twice in one object, U+0000 or a lone surrogate in a string), or is NULL.
 */
struct json_object *http_json_parse_why(const char *s, size_t len, const char **why);

#endif
