/* test_password.c: unit tests for src/auth/password: Argon2id PHC strings, verify, rehash policy, the dummy hash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "auth/password.h"

/*
 * Each hash costs ~40 ms (much more under valgrind), so one hash of the
 * reference password is made once for the group and shared.
 */

#define PW     "correct horse battery staple"
#define PREFIX "$argon2id$v=19$m=19456,t=2,p=1$"

static char ours[AUTH_HASH_MAX];

static int
group_setup(void **state)
{
	(void)state;
	return auth_password_hash(PW, strlen(PW), ours) ? 0 : -1;
}

/* A PHC string made directly with libargon2, with parameters of our choosing. */
static void
craft(argon2_type type, uint32_t t, uint32_t m, uint32_t p, const char *pw, char out[AUTH_HASH_MAX])
{
	static const unsigned char salt[16] = "0123456789abcdef";
	int rc;

	if (type == Argon2_id)
		rc = argon2id_hash_encoded(t, m, p, pw, strlen(pw), salt, sizeof(salt), 32, out,
		    AUTH_HASH_MAX);
	else
		rc = argon2i_hash_encoded(t, m, p, pw, strlen(pw), salt, sizeof(salt), 32, out,
		    AUTH_HASH_MAX);
	assert_int_equal(rc, ARGON2_OK);
}

static void
hash_is_phc_argon2id(void **state)
{
	(void)state;
	assert_memory_equal(ours, PREFIX, strlen(PREFIX));
	assert_true(strlen(ours) < AUTH_HASH_MAX);
	/* salt and hash follow, separated by one more '$'. */
	assert_non_null(strchr(ours + strlen(PREFIX), '$'));
	assert_null(strchr(strchr(ours + strlen(PREFIX), '$') + 1, '$'));
}

static const struct {
	const char *what;
	const char *pw;
	size_t      len;
	bool        ok;
} verify_cases[] = {
	{ "right",          PW,                              sizeof(PW) - 1, true },
	{ "wrong",          "correct horse battery stapler", 29,             false },
	{ "one char off",   "correct horse battery staplf",  28,             false },
	{ "case",           "Correct horse battery staple",  28,             false },
	{ "prefix",         PW,                              sizeof(PW) - 2, false },
	{ "empty",          "",                              0,              false },
	{ "trailing NUL",   PW "\0",                         sizeof(PW),     false },
};

static void
verify_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
		if (auth_password_verify(ours, verify_cases[i].pw, verify_cases[i].len) !=
		    verify_cases[i].ok) {
			print_error("verify row %zu (%s): want %d\n", i, verify_cases[i].what,
			    verify_cases[i].ok);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* Two hashes of one password differ (random salt), and both verify. */
static void
salted(void **state)
{
	char again[AUTH_HASH_MAX];

	(void)state;
	assert_true(auth_password_hash(PW, strlen(PW), again));
	assert_string_not_equal(again, ours);
	assert_memory_equal(again, PREFIX, strlen(PREFIX));
	assert_true(auth_password_verify(again, PW, strlen(PW)));
}

/* The length is the password's, bytes after a NUL included. */
static void
binary_password(void **state)
{
	char h[AUTH_HASH_MAX];

	(void)state;
	assert_true(auth_password_hash("ab\0cd", 5, h));
	assert_true(auth_password_verify(h, "ab\0cd", 5));
	assert_false(auth_password_verify(h, "ab", 2));
	assert_false(auth_password_verify(h, "ab\0ce", 5));
}

/* AUTH_PASSWORD_MAX bytes hash and verify; one more is refused by both. */
static void
password_max(void **state)
{
	char *pw = malloc(AUTH_PASSWORD_MAX + 2);
	char h[AUTH_HASH_MAX];

	(void)state;
	assert_non_null(pw);
	memset(pw, 'p', AUTH_PASSWORD_MAX + 1);
	pw[AUTH_PASSWORD_MAX + 1] = '\0';
	assert_true(auth_password_hash(pw, AUTH_PASSWORD_MAX, h));
	assert_true(auth_password_verify(h, pw, AUTH_PASSWORD_MAX));
	assert_false(auth_password_verify(h, pw, AUTH_PASSWORD_MAX + 1));
	assert_false(auth_password_hash(pw, AUTH_PASSWORD_MAX + 1, h));
	free(pw);
}

/* Nothing but a well-formed argon2id PHC string of the right password verifies. */
static void
verify_refuses_garbage(void **state)
{
	char argon2i[AUTH_HASH_MAX], truncated[AUTH_HASH_MAX];
	static const char *const junk[] = {
		"",
		"garbage",
		"$argon2id$",
		"$argon2id$v=19$m=19456,t=2,p=1$",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$",
		"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		"$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g.",
		PW,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		if (auth_password_verify(junk[i], PW, strlen(PW))) {
			print_error("junk %zu \"%s\" verified\n", i, junk[i]);
			fail();
		}
	}
	assert_false(auth_password_verify(NULL, PW, strlen(PW)));
	/* argon2i of the right password: the wrong algorithm. */
	craft(Argon2_i, 2, 1024, 1, PW, argon2i);
	assert_false(auth_password_verify(argon2i, PW, strlen(PW)));
	/* Ours, cut short. */
	strcpy(truncated, ours);
	truncated[strlen(truncated) - 4] = '\0';
	assert_false(auth_password_verify(truncated, PW, strlen(PW)));
}

static const struct {
	const char *what;
	const char *phc;
	bool        rehash;
} rehash_cases[] = {
	{ "bcrypt",           "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", true },
	{ "bcrypt 2a",        "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", true },
	{ "argon2i ours",     "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", true },
	{ "old version",      "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", true },
	{ "m larger",         "$argon2id$v=19$m=194560,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", true },
	{ "t larger",         "$argon2id$v=19$m=19456,t=20,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", true },
	{ "p larger",         "$argon2id$v=19$m=19456,t=2,p=10$c2FsdHNhbHQ$aGFzaGhhc2g", true },
	{ "empty",            "", true },
	{ "NULL",             NULL, true },
};

static void
needs_rehash_table(void **state)
{
	char other[AUTH_HASH_MAX];
	int fails = 0;

	(void)state;
	assert_false(auth_password_needs_rehash(ours));
	/* Weaker parameters, made by libargon2 itself. */
	craft(Argon2_id, 3, 4096, 1, PW, other);
	assert_memory_equal(other, "$argon2id$v=19$m=4096,t=3,p=1$", 30);
	assert_true(auth_password_needs_rehash(other));
	/* ... and still verifiable, so the upgrade can happen at the next login. */
	assert_true(auth_password_verify(other, PW, strlen(PW)));
	assert_false(auth_password_verify(other, "wrong password", 14));
	for (size_t i = 0; i < sizeof(rehash_cases) / sizeof(rehash_cases[0]); i++) {
		if (auth_password_needs_rehash(rehash_cases[i].phc) != rehash_cases[i].rehash) {
			print_error("rehash row %zu (%s): want %d\n", i, rehash_cases[i].what,
			    rehash_cases[i].rehash);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* The dummy: a constant hash of our kind (same parameters), matching no guessable password. */
static void
dummy_stable(void **state)
{
	const char *d1 = auth_password_dummy(), *d2;
	char copy[AUTH_HASH_MAX];

	(void)state;
	assert_non_null(d1);
	assert_memory_equal(d1, PREFIX, strlen(PREFIX));
	assert_false(auth_password_needs_rehash(d1));
	strcpy(copy, d1);
	assert_non_null(d2 = auth_password_dummy());
	assert_string_equal(d2, copy);
	assert_false(auth_password_verify(d1, "", 0));
	assert_false(auth_password_verify(d1, PW, strlen(PW)));
	assert_string_not_equal(d1, ours);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_is_phc_argon2id),
		cmocka_unit_test(verify_table),
		cmocka_unit_test(salted),
		cmocka_unit_test(binary_password),
		cmocka_unit_test(password_max),
		cmocka_unit_test(verify_refuses_garbage),
		cmocka_unit_test(needs_rehash_table),
		cmocka_unit_test(dummy_stable),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
