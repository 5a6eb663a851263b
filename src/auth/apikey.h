/* apikey.h: API keys: the tnt_ format with its CRC32 checksum, hashing, display prefix. */
#ifndef TENANTRY_APIKEY_H
#define TENANTRY_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A key is "tnt_" + 32 base62 characters from OpenSSL's RNG (190 bits) + 6
 * base62 characters: the CRC32 (IEEE) of the first 36, most significant
 * digit first. The checksum lets a scanner recognise a leaked key and lets
 * the worker refuse a mistyped or made-up one without asking the database.
 * Only the SHA-256 of a key is stored (core_sha256_hex).
 */
#define APIKEY_PREFIX      "tnt_"
#define APIKEY_RANDOM_LEN  32
#define APIKEY_CHECK_LEN   6
#define APIKEY_LEN         (4 + APIKEY_RANDOM_LEN + APIKEY_CHECK_LEN)   /* 42 */
#define APIKEY_DISPLAY_LEN 12   /* "tnt_" and the first 8 random characters */

/* CRC32 (IEEE 802.3, as zlib's crc32) of p[0..n). */
uint32_t auth_crc32(const void *p, size_t n);
/* v as exactly 6 base62 digits (0-9A-Za-z), most significant first, into out[7]. */
void     auth_base62_6(uint32_t v, char out[7]);
/* The value of 6 base62 digits; false for another character or a value over 2^32 - 1. */
bool     auth_base62_6_parse(const char *s, uint32_t *v);

/* A new key into out[APIKEY_LEN + 1]; false if the RNG failed. */
bool auth_apikey_new(char out[APIKEY_LEN + 1]);
/* Does s look like a key and carry the right checksum? No database needed. */
bool auth_apikey_valid(const char *s);
/* The display prefix ("tnt_" + 8 characters) into out[APIKEY_DISPLAY_LEN + 1]. */
void auth_apikey_display(const char *key, char out[APIKEY_DISPLAY_LEN + 1]);

#endif
