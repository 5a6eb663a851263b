/* util.h: small pure helpers: UUIDs, email addresses, hex, randomness, UTF-8, time. */
#ifndef TENANTRY_UTIL_H
#define TENANTRY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define UUID_LEN 36

struct arena;

/* Canonical 8-4-4-4-12 hex form, either case. */
bool core_uuid_valid(const char *s);
/* Lower-case a valid UUID into out[UUID_LEN + 1]. */
void core_uuid_lower(const char *s, char out[UUID_LEN + 1]);

/* A random (version 4) UUID. */
bool core_uuid_new(char out[UUID_LEN + 1]);

/* Shape check and lower-casing of an email address into the arena; NULL if bad. */
const char *core_email_normalize(struct arena *a, const char *s);

/* Workspace slugs: lower-case letters, digits and '-' inside, 1..63. */
bool core_slug_valid(const char *s, size_t n);
/* Derive a slug from a name (ASCII letters and digits, '-' between runs). */
void core_slugify(const char *name, char out[64]);

/* Cryptographically strong random bytes (OpenSSL); false on failure. */
bool core_random(void *p, size_t n);
/* Random id of n base62 characters into out[n + 1]; false on failure. */
bool core_random_base62(char *out, size_t n);

void core_hex(const void *p, size_t n, char *out /* 2n + 1 */);
/* Lower-case hex SHA-256 of the string s into out[65] (how tokens and keys are stored); false if OpenSSL fails. */
bool core_sha256_hex(const char *s, char out[65]);
/* out = HMAC-SHA256(key, a || b); keylen 0 is the empty key. */
bool core_hmac_sha256(const void *key, size_t keylen, const void *a, size_t alen,
    const void *b, size_t blen, unsigned char out[32]);
/* Constant-time equality of two equal-length byte strings. */
bool core_ct_equal(const void *a, const void *b, size_t n);

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool core_utf8_valid(const char *s, size_t n);

/* Monotonic milliseconds, for durations. */
double core_mono_ms(void);
/* RFC 3339 UTC with seconds, e.g. 2026-11-22T10:00:00Z, into out[21] (years 0001..9999). */
void core_rfc3339(time_t t, char out[21]);

/* Parse a decimal int64 in [min, max]; the whole string must be digits. */
bool core_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
