/* test_apikey.c: unit tests for src/auth/apikey (format, checksum, base62, hashing), scopes and the rate window. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/auth.h"
#include "auth/authz.h"
#include "core/util.h"

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* zlib's crc32 of known strings (the IEEE polynomial). */
static void
crc32_vectors(void **state)
{
	(void)state;
	assert_int_equal(auth_crc32("", 0), 0);
	assert_int_equal(auth_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(auth_crc32("The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
	assert_int_equal(auth_crc32("a", 1), 0xe8b7be43u);
}

static const struct { uint32_t v; const char *s; } b62cases[] = {
	{ 0, "000000" }, { 1, "000001" }, { 61, "00000z" }, { 62, "000010" },
	{ 3843, "0000zz" }, { 3844, "000100" }, { UINT32_MAX, "4gfFC3" },
};

static void
base62_table(void **state)
{
	char out[7];
	uint32_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(b62cases) / sizeof(b62cases[0]); i++) {
		auth_base62_6(b62cases[i].v, out);
		assert_string_equal(out, b62cases[i].s);
		assert_true(auth_base62_6_parse(b62cases[i].s, &v));
		assert_int_equal(v, b62cases[i].v);
	}
	/* 2^32 and above are not a checksum any key carries. */
	assert_false(auth_base62_6_parse("4gfFC4", &v));
	assert_false(auth_base62_6_parse("zzzzzz", &v));
	assert_false(auth_base62_6_parse("00000-", &v));
	assert_false(auth_base62_6_parse("00 000", &v));
}

static void
new_keys_are_valid_and_distinct(void **state)
{
	char a[APIKEY_LEN + 1], b[APIKEY_LEN + 1];

	(void)state;
	for (int i = 0; i < 200; i++) {
		assert_true(auth_apikey_new(a));
		assert_true(auth_apikey_new(b));
		assert_int_equal(strlen(a), 42);
		assert_memory_equal(a, "tnt_", 4);
		for (int j = 4; j < 42; j++)
			assert_non_null(strchr(b62, a[j]));
		assert_true(auth_apikey_valid(a));
		assert_string_not_equal(a, b);
	}
}

/* Every one-character change anywhere after the prefix, to every other base62 character, is caught. */
static void
checksum_catches_every_single_change(void **state)
{
	char key[APIKEY_LEN + 1], m[APIKEY_LEN + 1];
	long tried = 0;

	(void)state;
	for (int round = 0; round < 5; round++) {
		assert_true(auth_apikey_new(key));
		for (int pos = 0; pos < APIKEY_LEN; pos++) {
			for (const char *c = b62; *c; c++) {
				if (*c == key[pos])
					continue;
				memcpy(m, key, sizeof(m));
				m[pos] = *c;
				tried++;
				if (auth_apikey_valid(m))
					fail_msg("changing position %d of %s to '%c' was not detected", pos, key, *c);
			}
		}
	}
	print_message("%ld one-character changes, all refused\n", tried);
	/* Swapping two different adjacent characters is caught too. */
	assert_true(auth_apikey_new(key));
	for (int pos = 4; pos < APIKEY_LEN - 1; pos++) {
		if (key[pos] == key[pos + 1])
			continue;
		memcpy(m, key, sizeof(m));
		m[pos] = key[pos + 1];
		m[pos + 1] = key[pos];
		assert_false(auth_apikey_valid(m));
	}
}

static void
malformed_keys(void **state)
{
	char key[APIKEY_LEN + 1], m[APIKEY_LEN + 8];

	(void)state;
	assert_true(auth_apikey_new(key));
	assert_false(auth_apikey_valid(NULL));
	assert_false(auth_apikey_valid(""));
	assert_false(auth_apikey_valid("tnt_"));
	snprintf(m, sizeof(m), "%.41s", key);               /* one short */
	assert_false(auth_apikey_valid(m));
	snprintf(m, sizeof(m), "%sA", key);                 /* one long */
	assert_false(auth_apikey_valid(m));
	snprintf(m, sizeof(m), "TNT_%s", key + 4);          /* prefix case */
	assert_false(auth_apikey_valid(m));
	snprintf(m, sizeof(m), "tnk_%s", key + 4);
	assert_false(auth_apikey_valid(m));
	memcpy(m, key, sizeof(key));
	m[10] = '-';                                        /* not base62 */
	assert_false(auth_apikey_valid(m));
}

static void
hash_and_display(void **state)
{
	char h[65], h2[65], d[APIKEY_DISPLAY_LEN + 1];
	const char *k = "tnt_0123456789ABCDEFGHIJKLMNOPQRSTUV000000";

	(void)state;
	/* sha256("abc") */
	assert_true(core_sha256_hex("abc", h));
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(core_sha256_hex(k, h));
	assert_true(core_sha256_hex(k, h2));
	assert_string_equal(h, h2);
	assert_int_equal(strlen(h), 64);
	auth_apikey_display(k, d);
	assert_string_equal(d, "tnt_01234567");
}

static void
constant_time_compare(void **state)
{
	(void)state;
	assert_true(core_ct_equal("abcdef", "abcdef", 6));
	assert_false(core_ct_equal("abcdef", "abcdeg", 6));
	assert_false(core_ct_equal("xbcdef", "abcdef", 6));
	assert_true(core_ct_equal("", "", 0));
	/* Only n bytes are compared. */
	assert_true(core_ct_equal("abcX", "abcY", 3));
}

static const struct { const char *s; unsigned want; } scopes[] = {
	{ "read", SCOPE_READ }, { "write", SCOPE_WRITE }, { "usage:write", SCOPE_USAGE },
	{ "read write", SCOPE_READ | SCOPE_WRITE },
	{ "read write usage:write", SCOPE_READ | SCOPE_WRITE | SCOPE_USAGE },
	{ "usage:write read", SCOPE_READ | SCOPE_USAGE },
	{ "", 0 }, { "admin", 0 }, { "read admin", 0 }, { "Read", 0 }, { "usage", 0 },
	{ "usage:writes", 0 }, { "rea", 0 },
};

static void
scope_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
		if (auth_scopes_parse(scopes[i].s) != scopes[i].want)
			fail_msg("\"%s\": %#x, want %#x", scopes[i].s, auth_scopes_parse(scopes[i].s), scopes[i].want);
	assert_int_equal(auth_scopes_parse(NULL), 0);
}

/* now, limit, window seconds, hits -> remaining, reset. */
static const struct { long long now, limit, secs, hits, remaining, reset; } windows[] = {
	{ 1200, 100, 60, 0, 100, 60 },        /* first second of a window: a full window left */
	{ 1259, 100, 60, 1, 99, 1 },          /* last second: 1, never 0 */
	{ 1260, 100, 60, 100, 0, 60 },        /* the next window starts */
	{ 1230, 100, 60, 100, 0, 30 },
	{ 1230, 100, 60, 150, 0, 30 },        /* never negative */
	{ 3599, 10, 3600, 3, 7, 1 },          /* hourly settings updates */
	{ 3600, 10, 3600, 0, 10, 3600 },
	{ 0, 5, 60, 0, 5, 60 },
	{ -1, 5, 60, 0, 5, 1 },               /* before 1970: still floor */
	{ 1000, 5, 0, 0, 5, 1 },              /* a zero window is treated as one second */
};

static void
rate_window_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		struct rate_window w = auth_rate_window(windows[i].now, windows[i].limit, windows[i].secs,
		    windows[i].hits);

		if (w.limit != windows[i].limit || w.remaining != windows[i].remaining || w.reset != windows[i].reset)
			fail_msg("now %lld limit %lld secs %lld hits %lld: remaining %lld reset %lld, want %lld %lld",
			    windows[i].now, windows[i].limit, windows[i].secs, windows[i].hits, w.remaining, w.reset,
			    windows[i].remaining, windows[i].reset);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_vectors),
		cmocka_unit_test(base62_table),
		cmocka_unit_test(new_keys_are_valid_and_distinct),
		cmocka_unit_test(checksum_catches_every_single_change),
		cmocka_unit_test(malformed_keys),
		cmocka_unit_test(hash_and_display),
		cmocka_unit_test(constant_time_compare),
		cmocka_unit_test(scope_table),
		cmocka_unit_test(rate_window_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
