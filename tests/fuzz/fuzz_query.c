/* fuzz_query.c: libFuzzer target for http_query_parse, checked against a reference decoder. */
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
 * The oracle is a second, deliberately naive implementation of what
 * request.h promises for application/x-www-form-urlencoded input: split on
 * '&', skip empty segments, key up to the first '=', '+' is a space, %XX
 * decodes, and NUL, bad escapes or invalid UTF-8 refuse the whole string.
 * Any disagreement with http_query_parse is a finding.
 */

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF), written apart from core_utf8_valid. */
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

static int
ref_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..n) into d (n + 1 bytes); false on a bad escape, NUL or bad UTF-8. */
static bool
ref_decode(const char *s, size_t n, char *d)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3 ||
			    (hi = ref_hex((unsigned char)s[i + 1])) < 0 ||
			    (lo = ref_hex((unsigned char)s[i + 2])) < 0)
				return false;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0)
			return false;
		d[j++] = (char)c;
	}
	d[j] = '\0';
	return ref_utf8((const unsigned char *)d, j);
}

/* An invariant broke: say which, then abort so libFuzzer keeps the input. */
static _Noreturn void
fail(const char *why)
{
	fprintf(stderr, "fuzz_query: %s\n", why);
	abort();
}

/*
 * Walk s the way the reference reads it and compare every pair with what
 * the parser produced. Returns the status the reference expects; on
 * PARSE_OK the pairs have been compared already.
 */
static enum http_parse
ref_check(const char *s, const struct kv *v, size_t n, enum http_parse got)
{
	size_t len = strlen(s), count = 0;
	char *k, *val;
	enum http_parse want = PARSE_OK;

	if (len == 0)
		return PARSE_OK;
	if (len > HTTP_QUERY_MAX)
		return PARSE_TOO_LONG;
	if ((k = malloc(len + 1)) == NULL || (val = malloc(len + 1)) == NULL) {
		free(k);
		return got;   /* the oracle itself ran out: no verdict */
	}
	for (const char *p = s;; p++) {
		size_t seg = strcspn(p, "&");
		const char *eq = memchr(p, '=', seg);

		if (seg > 0) {
			if (count == HTTP_PAIRS_MAX) {
				want = PARSE_TOO_MANY;
				break;
			}
			if (!ref_decode(p, eq ? (size_t)(eq - p) : seg, k) ||
			    (eq != NULL && !ref_decode(eq + 1, seg - (size_t)(eq - p) - 1, val))) {
				want = PARSE_BAD_ENCODING;
				break;
			}
			if (eq == NULL)
				val[0] = '\0';
			if (got == PARSE_OK && (count >= n || strcmp(v[count].key, k) != 0 ||
			    strcmp(v[count].val, val) != 0))
				fail("pair differs from the reference");
			count++;
		}
		p += seg;
		if (*p == '\0')
			break;
	}
	if (want == PARSE_OK && got == PARSE_OK && count != n)
		fail("pair count differs from the reference");
	free(k);
	free(val);
	return want;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct kv *v = (struct kv *)1;
	size_t n = 12345;
	enum http_parse e, want;
	char *s;

	if (a == NULL && (a = arena_new(4096)) == NULL)
		return 0;
	/* An exact-size copy, so ASan sees any read past the terminator. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	e = http_query_parse(a, s, &v, &n);
	if (e != PARSE_OK && (v != NULL || n != 0))
		fail("a refused query left pairs behind");
	if (e == PARSE_OK && n > HTTP_PAIRS_MAX)
		fail("more pairs than HTTP_PAIRS_MAX");
	for (size_t i = 0; e == PARSE_OK && i < n; i++) {
		size_t kl, vl;

		if (v[i].key == NULL || v[i].val == NULL)
			fail("NULL key or value");
		kl = strlen(v[i].key);
		vl = strlen(v[i].val);
		if (!ref_utf8((const unsigned char *)v[i].key, kl) ||
		    !ref_utf8((const unsigned char *)v[i].val, vl))
			fail("decoded pair is not valid UTF-8");
	}
	if (e == PARSE_OK && n > 0 &&
	    http_kv_get(v, n, v[0].key) != v[0].val)
		fail("http_kv_get does not return the first value");
	if (e != PARSE_NOMEM && (want = ref_check(s, v, n, e)) != e)
		fail("status differs from the reference");

	free(s);
	arena_reset(a);
	return 0;
}
