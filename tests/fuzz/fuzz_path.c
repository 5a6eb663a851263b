/* fuzz_path.c: libFuzzer target for http_path_decode, checked against a reference decoder. */
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
 * The raw path is handed over as (pointer, length) straight from libFuzzer's
 * buffer, which has no terminator: a read past len is an ASan report. The
 * oracle decodes the same bytes naively ('+' stays '+' in a path) and the
 * two must agree on the status and on every output byte.
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

/* The status the reference expects; on PARSE_OK, d holds *dlen decoded bytes. */
static enum http_parse
ref_decode(const uint8_t *s, size_t n, char *d, size_t *dlen)
{
	size_t j = 0;

	if (n > HTTP_PATH_MAX)
		return PARSE_TOO_LONG;
	if (n == 0 || s[0] != '/')
		return PARSE_BAD_ENCODING;
	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3 || (hi = ref_hex(s[i + 1])) < 0 || (lo = ref_hex(s[i + 2])) < 0)
				return PARSE_BAD_ENCODING;
			c = (unsigned)(hi * 16 + lo);
			i += 2;
		}
		if (c == 0)
			return PARSE_BAD_ENCODING;
		d[j++] = (char)c;
	}
	*dlen = j;
	return ref_utf8((const unsigned char *)d, j) ? PARSE_OK : PARSE_BAD_ENCODING;
}

/* An invariant broke: say which, then abort so libFuzzer keeps the input. */
static _Noreturn void
fail(const char *why)
{
	fprintf(stderr, "fuzz_path: %s\n", why);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	const char *out = NULL;
	enum http_parse e, want;
	size_t dlen = 0;
	char *d;

	if (a == NULL && (a = arena_new(4096)) == NULL)
		return 0;
	if ((d = malloc(size + 1)) == NULL)
		return 0;

	e = http_path_decode(a, (const char *)data, size, &out);
	want = ref_decode(data, size, d, &dlen);
	if (e != PARSE_NOMEM && e != want)
		fail("status differs from the reference");
	if (e == PARSE_OK) {
		size_t ol;

		if (out == NULL)
			fail("PARSE_OK without a path");
		ol = strlen(out);
		if (ol != dlen || memcmp(out, d, dlen) != 0)
			fail("decoded path differs from the reference (or holds a NUL)");
		if (out[0] != '/')
			fail("decoded path does not start with '/'");
		if (ol > size)
			fail("decoding made the path longer");
		if (!ref_utf8((const unsigned char *)out, ol))
			fail("decoded path is not valid UTF-8");
	} else if (e != PARSE_NOMEM && out != NULL) {
		fail("a refused path was returned");
	}

	free(d);
	arena_reset(a);
	return 0;
}
