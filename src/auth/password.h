/* password.h: Argon2id password hashing in PHC string form. */
#ifndef TENANTRY_PASSWORD_H
#define TENANTRY_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_MAX      192
#define AUTH_PASSWORD_MIN  8
#define AUTH_PASSWORD_MAX  1024

/* OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane (~40 ms here). */
#define AUTH_ARGON2_M 19456
#define AUTH_ARGON2_T 2
#define AUTH_ARGON2_P 1

/* Hash pw into out as "$argon2id$v=19$m=...,t=...,p=...$salt$hash". */
bool auth_password_hash(const char *pw, size_t len, char out[AUTH_HASH_MAX]);
/* Constant-time verify against a PHC string; false on any mismatch or error. */
bool auth_password_verify(const char *phc, const char *pw, size_t len);
/* True if phc was made with other parameters (or another algorithm): rehash it. */
bool auth_password_needs_rehash(const char *phc);
/*
 * A hash of an unknown random password with our parameters: verifying
 * against it makes a login for an unknown email cost the same as a wrong
 * password.
 */
const char *auth_password_dummy(void);

#endif
