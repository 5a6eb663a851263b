/* fuzz_cookie.c: libFuzzer target for http_cookie_parse, with invariants on every pair. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Cookie values are not decoded, so every pair is a slice of the header,
 * and the pairs come in header order: the oracle walks the header once and
 * finds each "key=" at the start of a segment (after ';', spaces, or at the
 * start), its value right after the '=' (inside quotes, if the header has
 * them) followed only by spaces up to ';' or the end. No key or value may
 * span a ';', keys carry no '=', and both are valid UTF-8 (checked here
 * independently of core_utf8_valid).
 */

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

/* An invariant broke: say which, then abort so libFuzzer keeps the input. */
static _Noreturn void
fail(const char *why)
{
	fprintf(stderr, "fuzz_cookie: %s\n", why);
	abort();
}

/* The first "key=" at or after cur that starts a segment of s; NULL if none. */
static const char *
find_assignment(const char *s, const char *cur, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = cur; (p = strstr(p, key)) != NULL; p++)
		if (p[kl] == '=' && (p == s || p[-1] == ';' || p[-1] == ' '))
			return p;
	return NULL;
}

/* Only spaces up to ';' or the end? */
static bool
tail_ok(const char *t)
{
	while (*t == ' ')
		t++;
	return *t == ';' || *t == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct kv *v = (struct kv *)1;
	size_t n = 12345, len, eqs = 0;
	const char *cur;
	enum http_parse e;
	char *s;

	if (a == NULL && (a = arena_new(4096)) == NULL)
		return 0;
	/* An exact-size copy, so ASan sees any read past the terminator. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	for (size_t i = 0; i < len; i++)
		eqs += s[i] == '=';

	e = http_cookie_parse(a, s, &v, &n);
	cur = s;
	switch (e) {
	case PARSE_OK:
		if (len > HTTP_COOKIE_MAX)
			fail("an over-long header was accepted");
		if (n > HTTP_PAIRS_MAX || n > eqs)
			fail("more pairs than the header can hold");
		if (n > 0 && v == NULL)
			fail("pairs counted but not returned");
		break;
	case PARSE_TOO_LONG:
		if (len <= HTTP_COOKIE_MAX)
			fail("TOO_LONG for a header within the limit");
		break;
	case PARSE_TOO_MANY:
		if (eqs < HTTP_PAIRS_MAX)
			fail("TOO_MANY with fewer than HTTP_PAIRS_MAX '='");
		break;
	case PARSE_BAD_ENCODING:
		if (ref_utf8((const unsigned char *)s, len))
			fail("BAD_ENCODING for a header that is valid UTF-8");
		break;
	case PARSE_NOMEM:
		break;
	default:
		fail("status outside enum http_parse");
	}
	if (e != PARSE_OK && (v != NULL || n != 0))
		fail("a refused header left pairs behind");

	for (size_t i = 0, kl, vl; e == PARSE_OK && i < n; i++) {
		const char *k = v[i].key, *val = v[i].val, *at, *vs;

		if (k == NULL || val == NULL)
			fail("NULL key or value");
		kl = strlen(k);
		vl = strlen(val);
		if (!ref_utf8((const unsigned char *)k, strlen(k)) ||
		    !ref_utf8((const unsigned char *)val, strlen(val)))
			fail("pair is not valid UTF-8");
		if (strchr(k, ';') != NULL || strchr(val, ';') != NULL)
			fail("a pair spans a ';'");
		if (strchr(k, '=') != NULL)
			fail("a key holds '='");
		if (k[0] == ' ')
			fail("a key kept its leading space");
		if ((at = find_assignment(s, cur, k)) == NULL)
			fail("key= does not start a segment after the previous pair");
		vs = at + kl + 1;
		if (!(strncmp(vs, val, vl) == 0 && tail_ok(vs + vl)) &&
		    !(vs[0] == '"' && strncmp(vs + 1, val, vl) == 0 && vs[vl + 1] == '"' &&
		    tail_ok(vs + vl + 2)))
			fail("value is not the text after key=");
		cur = at + strcspn(at, ";");
	}
	if (e == PARSE_OK && n > 0 && http_kv_get(v, n, v[0].key) != v[0].val)
		fail("http_kv_get does not return the first value");

	free(s);
	arena_reset(a);
	return 0;
}
