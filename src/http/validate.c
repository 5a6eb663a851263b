/* validate.c: JSON body fields declared as a table, checked at the edge into typed values. */
#include "http/validate.h"
#include "core/util.h"
#include "http/response.h"

#include <ctype.h>
#include <string.h>

/* ---- Strict JSON syntax (RFC 8259) -------------------------------------
 *
 * json-c 0.16 accepts more than JSON even with JSON_TOKENER_STRICT (single
 * quotes, NaN and Infinity, raw control characters in strings), and does
 * not reject every invalid UTF-8 sequence. A body must be JSON, so it is
 * checked here first, bounded in depth, and only then handed to json-c.
 */

#define JSON_DEPTH_MAX 32

struct jscan {
	const char *p;
	const char *end;
	size_t      members;   /* object members seen, duplicates included */
	const char *why;       /* the first reason the text is refused, beyond syntax */
};

static int
hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static void
js_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool
js_lit(struct jscan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool
js_digits(struct jscan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

static bool
js_number(struct jscan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!js_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!js_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!js_digits(s))
			return false;
	}
	return true;
}

static bool
js_string(struct jscan *s)
{
	s->p++;   /* the opening quote */
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (s->p == s->end)
			return false;
		c = (unsigned char)*s->p++;
		if (c == 'u') {
			int u;

			for (int i = 0; i < 4; i++)
				if (s->p + i >= s->end || !isxdigit((unsigned char)s->p[i]))
					return false;
			u = hex4(s->p);
			s->p += 4;
			/*
			 * PostgreSQL's jsonb cannot hold U+0000, and no text is a lone
			 * surrogate: refused here, so no string loses or changes a
			 * character on its way in.
			 */
			if (u == 0) {
				s->why = "a string holds U+0000 (\\u0000)";
				return false;
			}
			if (u >= 0xDC00 && u <= 0xDFFF) {
				s->why = "a string holds a lone surrogate";
				return false;
			}
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
				    !isxdigit((unsigned char)s->p[2]) || !isxdigit((unsigned char)s->p[3]) ||
				    !isxdigit((unsigned char)s->p[4]) || !isxdigit((unsigned char)s->p[5]) ||
				    (u = hex4(s->p + 2)) < 0xDC00 || u > 0xDFFF) {
					s->why = "a string holds a lone surrogate";
					return false;
				}
				s->p += 6;
			}
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return false;
		}
	}
	return false;
}

static bool
js_value(struct jscan *s, int depth)
{
	js_ws(s);
	if (s->p == s->end)
		return false;
	switch (*s->p) {
	case '{':
	case '[': {
		char close = *s->p == '{' ? '}' : ']';
		bool obj = close == '}';

		if (depth == JSON_DEPTH_MAX)
			return false;
		s->p++;
		js_ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return true;
		}
		for (;;) {
			if (obj) {
				js_ws(s);
				if (s->p == s->end || *s->p != '"' || !js_string(s))
					return false;
				js_ws(s);
				if (s->p == s->end || *s->p++ != ':')
					return false;
				s->members++;
			}
			if (!js_value(s, depth + 1))
				return false;
			js_ws(s);
			if (s->p == s->end)
				return false;
			if (*s->p == close) {
				s->p++;
				return true;
			}
			if (*s->p++ != ',')
				return false;
		}
	}
	case '"':
		return js_string(s);
	case 't':
		return js_lit(s, "true");
	case 'f':
		return js_lit(s, "false");
	case 'n':
		return js_lit(s, "null");
	default:
		return js_number(s);
	}
}

static bool
json_scan(const char *s, size_t len, struct jscan *sc)
{
	*sc = (struct jscan){ s, s + len, 0, NULL };
	if (!core_utf8_valid(s, len) || !js_value(sc, 0))
		return false;
	js_ws(sc);
	return sc->p == sc->end;
}

bool
http_json_strict(const char *s, size_t len)
{
	struct jscan sc;

	return json_scan(s, len, &sc);
}

/* Members of every object in o, nested ones included, as json-c kept them. */
static size_t
json_members(struct json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + json_members(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += json_members(json_object_array_get_idx(o, i));
	}
	return n;
}

struct json_object *
http_json_parse_why(const char *s, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *o;
	struct jscan sc;

	if (why != NULL)
		*why = NULL;
	if (!json_scan(s, len, &sc)) {
		if (why != NULL)
			*why = sc.why;
		return NULL;
	}
	if ((tok = json_tokener_new_ex(JSON_DEPTH_MAX + 1)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	/*
	 * json-c keeps the last of two members with one name. The text had
	 * one colon per member; the tree keeps fewer exactly when a name was
	 * repeated somewhere (the lost member's own members go with it).
	 */
	if (o != NULL && json_members(o) != sc.members) {
		json_object_put(o);
		o = NULL;
		if (why != NULL)
			*why = "a member name appears twice in one object";
	}
	return o;
}

struct json_object *
http_json_parse(const char *s, size_t len)
{
	return http_json_parse_why(s, len, NULL);
}

/* Characters (code points) of valid UTF-8. */
size_t
http_utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

bool
http_has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		/* C1 controls U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8. */
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

static void
problem(struct json_object *details, const char *field, const char *msg)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "field", json_object_new_string(field));
	json_object_object_add(d, "problem", json_object_new_string(msg));
	json_object_array_add(details, d);
}

/* Check one present value; returns NULL or the problem. */
static const char *
check(struct req *r, const struct field *f, struct json_object *x, struct fval *v)
{
	const char *s;
	size_t len;

	switch (f->type) {
	case FT_BOOL:
		if (!json_object_is_type(x, json_type_boolean))
			return "must be true or false";
		v->b = json_object_get_boolean(x);
		return NULL;
	case FT_INT:
		if (!json_object_is_type(x, json_type_int))
			return "must be an integer";
		v->i = json_object_get_int64(x);
		if (v->i < f->min || v->i > f->max)
			return "is out of range";
		return NULL;
	case FT_OBJECT:
		if (!json_object_is_type(x, json_type_object))
			return "must be an object";
		v->o = x;
		return NULL;
	case FT_ARRAY:
		if (!json_object_is_type(x, json_type_array))
			return "must be an array";
		if ((long long)json_object_array_length(x) < f->min ||
		    (long long)json_object_array_length(x) > f->max)
			return "has too few or too many elements";
		v->o = x;
		return NULL;
	default:
		break;
	}
	if (!json_object_is_type(x, json_type_string))
		return "must be a string";
	s = json_object_get_string(x);
	len = (size_t)json_object_get_string_len(x);
	if (strlen(s) != len)
		return "must not contain NUL characters";
	switch (f->type) {
	case FT_STRING: {
		size_t chars = http_utf8_chars(s, len);

		if ((long long)chars < f->min || (long long)chars > f->max)
			return "has the wrong length";
		if (http_has_control(s, len))
			return "must not contain control characters";
		v->s = arena_strndup(r->a, s, len);
		break;
	}
	case FT_SECRET:
		if ((long long)len < f->min || (long long)len > f->max)
			return "has the wrong length";
		v->s = arena_strndup(r->a, s, len);
		break;
	case FT_EMAIL:
		if ((v->s = core_email_normalize(r->a, s)) == NULL)
			return "must be an email address";
		len = strlen(v->s);
		break;
	case FT_UUID: {
		char *u;

		if (!core_uuid_valid(s))
			return "must be a UUID";
		if ((u = arena_strndup(r->a, s, len)) != NULL)
			core_uuid_lower(u, u);
		v->s = u;
		break;
	}
	default:
		return "unsupported field type";
	}
	if (v->s == NULL)
		return "could not be stored";
	v->len = len;
	return NULL;
}

int
http_fields(struct req *r, const struct field *f, size_t n, struct fval *v)
{
	struct json_object *details = json_object_new_array();

	memset(v, 0, n * sizeof(*v));
	json_object_object_foreach(r->json, key, val) {
		size_t i;

		(void)val;
		for (i = 0; i < n && strcmp(f[i].name, key) != 0; i++)
			;
		if (i == n)
			problem(details, key, "is not a known field");
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *x;
		const char *p;

		if (!json_object_object_get_ex(r->json, f[i].name, &x) ||
		    (x == NULL && !f[i].required)) {
			if (f[i].required)
				problem(details, f[i].name, "is required");
			continue;
		}
		if (x == NULL) {
			problem(details, f[i].name, "must not be null");
			continue;
		}
		if ((p = check(r, &f[i], x, &v[i])) != NULL)
			problem(details, f[i].name, p);
		else
			v[i].set = true;
	}
	if (json_object_array_length(details) == 0) {
		json_object_put(details);
		return 0;
	}
	return http_error_details(r, 400, "invalid_request", "some fields are not valid", details);
}
