/* util.c: small pure helpers: UUIDs, email addresses, hex, randomness, UTF-8, time. */
#include "core/util.h"
#include "core/arena.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

bool
core_uuid_valid(const char *s)
{
	if (s == NULL)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[UUID_LEN] == '\0';
}

void
core_uuid_lower(const char *s, char out[UUID_LEN + 1])
{
	for (int i = 0; i < UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[UUID_LEN] = '\0';
}

bool
core_random(void *p, size_t n)
{
	return n <= (size_t)INT32_MAX && RAND_bytes(p, (int)n) == 1;
}

bool
core_random_base62(char *out, size_t n)
{
	static const char alpha[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char r[64];
	size_t i = 0;

	/* Rejection sampling: bytes >= 248 would bias toward the first digits. */
	while (i < n) {
		if (!core_random(r, sizeof(r)))
			return false;
		for (size_t j = 0; j < sizeof(r) && i < n; j++)
			if (r[j] < 248)
				out[i++] = alpha[r[j] % 62];
	}
	out[n] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return true;
}

void
core_hex(const void *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[u[i] >> 4];
		out[2 * i + 1] = hex[u[i] & 15];
	}
	out[2 * n] = '\0';
}

bool
core_sha256_hex(const char *s, char out[65])
{
	/* Fetched once: EVP_sha256() makes EVP_Digest look the algorithm up at every call. */
	static EVP_MD *sha256;
	unsigned char md[32];
	unsigned int n = 0;

	if (sha256 == NULL && (sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return false;
	if (EVP_Digest(s, strlen(s), md, &n, sha256, NULL) != 1 || n != 32)
		return false;
	core_hex(md, 32, out);
	return true;
}

bool
core_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool
core_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = u[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2; cp = c & 0x1F; min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3; cp = c & 0x0F; min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (u[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

double
core_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * The year is written with snprintf, not strftime's %Y, which writes year 1
 * as "1" (fuzz_rfc3339: 0001-01-01T00:00:00Z did not come back): four
 * digits for every year core_rfc3339_parse reads.
 */
void
core_rfc3339(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	/* Each field reduced to its width, so the 20 characters are a bound the compiler can see. */
	snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

bool
core_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	/* 19 digits and a sign at most; strtoll's ERANGE catches the rest. */
	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return false;
	if (s[*s == '-'] == '\0')
		return false;
	for (const char *p = (*s == '-') ? s + 1 : s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
core_slug_valid(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

void
core_slugify(const char *name, char out[64])
{
	size_t j = 0;
	bool dash = false;

	for (const char *p = name; *p && j < 60; p++) {
		if (isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80)) {
			if (dash && j > 0)
				out[j++] = '-';
			out[j++] = (char)tolower((unsigned char)*p);
			dash = false;
		} else {
			dash = true;
		}
	}
	while (j < 3)
		out[j++] = 'w';   /* a name of symbols only still gets a slug */
	out[j] = '\0';
}

const char *
core_email_normalize(struct arena *a, const char *s)
{
	size_t n = strlen(s), at = 0, ats = 0;
	char *e;

	if (n < 3 || n > 254)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' ||
		    c == '"' || c == '\\')
			return NULL;
		if (c == '@') {
			at = i;
			ats++;
		}
	}
	if (ats != 1 || at == 0 || at > 64 || at + 1 >= n || s[at + 1] == '.' ||
	    s[n - 1] == '.' || strchr(s + at + 1, '.') == NULL)
		return NULL;
	if ((e = arena_strndup(a, s, n)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		e[i] = (char)tolower((unsigned char)e[i]);
	return e;
}

bool
core_uuid_new(char out[UUID_LEN + 1])
{
	unsigned char u[16];

	if (!core_random(u, sizeof(u)))
		return false;
	u[6] = (u[6] & 0x0F) | 0x40;   /* version 4 */
	u[8] = (u[8] & 0x3F) | 0x80;   /* RFC 4122 variant */
	snprintf(out, UUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
	    u[13], u[14], u[15]);
	return true;
}

bool
core_hmac_sha256(const void *key, size_t keylen, const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[32])
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end() };
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	size_t n = 0;
	bool ok;

	/* A NULL key would mean "the key set before"; an empty key is "". */
	ok = ctx != NULL && EVP_MAC_init(ctx, keylen ? key : "", keylen, params) &&
	    EVP_MAC_update(ctx, a, alen) && EVP_MAC_update(ctx, b, blen) &&
	    EVP_MAC_final(ctx, out, &n, 32) && n == 32;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}
