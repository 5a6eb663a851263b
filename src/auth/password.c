/* password.c: Argon2id password hashing in PHC string form. */
#include "auth/password.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>

#define SALT_LEN 16
#define HASH_LEN 32

bool
auth_password_hash(const char *pw, size_t len, char out[AUTH_HASH_MAX])
{
	unsigned char salt[SALT_LEN];
	int rc;

	if (len > AUTH_PASSWORD_MAX || !core_random(salt, sizeof(salt)))
		return false;
	rc = argon2id_hash_encoded(AUTH_ARGON2_T, AUTH_ARGON2_M, AUTH_ARGON2_P, pw, len,
	    salt, sizeof(salt), HASH_LEN, out, AUTH_HASH_MAX);
	return rc == ARGON2_OK;
}

bool
auth_password_verify(const char *phc, const char *pw, size_t len)
{
	if (phc == NULL || len > AUTH_PASSWORD_MAX || strncmp(phc, "$argon2id$", 10) != 0)
		return false;
	/* argon2_verify recomputes and compares in constant time. */
	return argon2id_verify(phc, pw, len) == ARGON2_OK;
}

bool
auth_password_needs_rehash(const char *phc)
{
	char want[64];

	snprintf(want, sizeof(want), "$argon2id$v=%d$m=%d,t=%d,p=%d$", ARGON2_VERSION_NUMBER,
	    AUTH_ARGON2_M, AUTH_ARGON2_T, AUTH_ARGON2_P);
	return phc == NULL || strncmp(phc, want, strlen(want)) != 0;
}

/*
 * The Argon2id hash of a random 32-character password that was thrown away:
 * nobody can log in with it, and verifying against it costs one Argon2 run
 * with our parameters (test_password checks they match). A constant rather
 * than a hash made at start-up, so no worker holds Argon2's 19 MiB before
 * its first login.
 */
const char *
auth_password_dummy(void)
{
	return "$argon2id$v=19$m=19456,t=2,p=1$pcDCeSbrlOYbU0x8OG/N7w$"
	    "oGWmhH3AP+HtvcEQ//4vhHX/xLQe019IzPy5e7m1Zs4";
}
