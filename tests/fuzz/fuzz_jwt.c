/* fuzz_jwt.c: libFuzzer target for auth_jwt_verify (and auth_jwt_issue), past the signature. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A random token almost never gets past the HMAC, so most inputs are
 * signed here with the same fixed key the verifier is given. Byte 0 picks
 * the mode (low two bits, so the seeds can use the digits '0'..'3'):
 *
 *   '0' token      the rest is a token, verified as it comes.
 *   '1' v payload  the rest is the payload JSON; v picks the header and key:
 *                  v&7 in 0..3 HS256 with our key, 4 HS384, 5 HS512,
 *                  6 {"alg":"none"} with an HS256 signature, 7 a wrong key.
 *                  Only the first can ever be JWT_OK.
 *   '2' bytes      auth_jwt_issue a token from the bytes (kind, ttl, sub,
 *                  tenant_id), check it round-trips, then apply up to eight
 *                  edits (delete, insert, replace a character): an edited
 *                  token must never verify.
 *   '3' hdr\npay   both header and payload JSON from the input, HS256 with
 *                  our key: JWT_OK only if the header says "alg":"HS256".
 *
 * Whenever a token verifies, the claims are checked against the payload as
 * json-c reads it and against the rules of jwt.h (issuer, audience, integer
 * times inside the window, lower-case UUIDs).
 */

#define FUZZ_NOW ((time_t)1767225600)   /* 2026-01-01T00:00:00Z: runs are repeatable */

static const char fuzz_key[] = "tenantry-fuzz-key/not-a-secret/0123456789abcdefg";
static_assert(sizeof(fuzz_key) - 1 == 48, "the fuzz key is 48 bytes");
static const struct jwt_key key = {
	(const unsigned char *)fuzz_key, sizeof(fuzz_key) - 1, "tenantry",
};

/* An invariant broke: say which, then abort so libFuzzer keeps the input. */
static _Noreturn void
fail(const char *why)
{
	fprintf(stderr, "fuzz_jwt: %s\n", why);
	abort();
}

/* ---- Building tokens ------------------------------------------------------ */

/* base64url without padding of p[0..n) at out (4 * ceil(n / 3) + 1 bytes); returns the length. */
static size_t
b64url(const unsigned char *p, size_t n, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

/*
 * "b64(hdr).b64(pay).b64(HMAC(md, k, first two parts))" in a malloc'd
 * string the caller frees; NULL when out of memory.
 */
static char *
sign(const EVP_MD *md, const unsigned char *k, size_t klen, const char *hdr, size_t hlen,
    const char *pay, size_t plen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	size_t o, cap = 4 * (hlen + plen + sizeof(mac)) / 3 + 16;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	o = b64url((const unsigned char *)hdr, hlen, t);
	t[o++] = '.';
	o += b64url((const unsigned char *)pay, plen, t + o);
	if (HMAC(md, k, (int)klen, (unsigned char *)t, o, mac, &maclen) == NULL) {
		free(t);
		return NULL;
	}
	t[o++] = '.';
	b64url(mac, maclen, t + o);
	return t;
}

/* ---- Checking a verified token ------------------------------------------ */

static bool
lower_uuid(const char *s)
{
	if (!core_uuid_valid(s))
		return false;
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'F')
			return false;
	return true;
}

static const char *
str_claim(struct json_object *o, const char *k)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

/* The claims of a JWT_OK token obey jwt.h, and match pay when json-c can read it. */
static void
check_claims(const struct jwt_claims *c, const char *pay, size_t plen)
{
	struct json_object *o, *x;
	const char *s;

	if (c->kind != JWT_IDENTITY && c->kind != JWT_TENANT)
		fail("verified kind is neither identity nor tenant");
	if (!lower_uuid(c->sub))
		fail("verified sub is not a lower-case UUID");
	if (c->kind == JWT_TENANT ? !lower_uuid(c->tenant_id) : c->tenant_id[0] != '\0')
		fail("verified tenant_id does not fit the kind");
	if ((long long)FUZZ_NOW - JWT_SKEW > c->exp)
		fail("an expired token verified");
	if (c->iat > (long long)FUZZ_NOW + JWT_SKEW)
		fail("a token issued in the future verified");
	if (pay == NULL)
		return;

	/* libjwt read the payload with jansson; json-c must see the same claims. */
	if ((o = json_tokener_parse(pay)) == NULL)
		return;
	if (strlen(pay) != plen || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return;
	}
	if ((s = str_claim(o, "iss")) == NULL || strcmp(s, "tenantry") != 0)
		fail("verified with an issuer other than \"tenantry\"");
	if ((s = str_claim(o, "aud")) == NULL ||
	    strcmp(s, c->kind == JWT_TENANT ? JWT_AUD_TENANT : JWT_AUD_IDENTITY) != 0)
		fail("verified kind does not match aud");
	if ((s = str_claim(o, "sub")) == NULL || strcasecmp(s, c->sub) != 0)
		fail("verified sub does not match the payload");
	if (c->kind == JWT_TENANT &&
	    ((s = str_claim(o, "tenant_id")) == NULL || strcasecmp(s, c->tenant_id) != 0))
		fail("verified tenant_id does not match the payload");
	if (!json_object_object_get_ex(o, "exp", &x) || !json_object_is_type(x, json_type_int) ||
	    json_object_get_int64(x) != c->exp)
		fail("verified exp is not the payload's integer exp");
	if (!json_object_object_get_ex(o, "iat", &x) || !json_object_is_type(x, json_type_int) ||
	    json_object_get_int64(x) != c->iat)
		fail("verified iat is not the payload's integer iat");
	if (json_object_object_get_ex(o, "nbf", &x) && (!json_object_is_type(x, json_type_int) ||
	    json_object_get_int64(x) > (long long)FUZZ_NOW + JWT_SKEW))
		fail("verified with a bad or future nbf");
	json_object_put(o);
}

static enum jwt_result
verify(const char *token, struct jwt_claims *c)
{
	enum jwt_result r;

	memset(c, 0xA5, sizeof(*c));
	r = auth_jwt_verify(&key, token, FUZZ_NOW, c);
	if ((unsigned)r > JWT_NOMEM)
		fail("result outside enum jwt_result");
	if (auth_jwt_result_name(r) == NULL)
		fail("result without a name");
	return r;
}

/* ---- The modes ---------------------------------------------------------- */

static void
mode_token(const uint8_t *data, size_t size)
{
	struct jwt_claims c;
	char *t = malloc(size + 1);

	if (t == NULL)
		return;
	memcpy(t, data, size);
	t[size] = '\0';
	if (verify(t, &c) == JWT_OK)
		check_claims(&c, NULL, 0);
	free(t);
}

static void
mode_payload(const uint8_t *data, size_t size)
{
	static const char *const hdrs[8] = {
		"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
		"{\"alg\":\"HS256\"}", "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
		"{\"alg\":\"HS384\",\"typ\":\"JWT\"}", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	};
	unsigned char wrong[sizeof(fuzz_key) - 1];
	const EVP_MD *md = EVP_sha256();
	const unsigned char *k = key.key;
	struct jwt_claims c;
	unsigned v;
	char *pay, *t;

	if (size < 1)
		return;
	v = data[0] & 7;
	data++, size--;
	if (v == 4)
		md = EVP_sha384();
	else if (v == 5)
		md = EVP_sha512();
	else if (v == 7) {
		memcpy(wrong, key.key, sizeof(wrong));
		wrong[sizeof(wrong) - 1] ^= 1;
		k = wrong;
	}
	if ((pay = malloc(size + 1)) == NULL)
		return;
	memcpy(pay, data, size);
	pay[size] = '\0';
	if ((t = sign(md, k, key.len, hdrs[v], strlen(hdrs[v]), pay, size)) != NULL) {
		if (verify(t, &c) == JWT_OK) {
			if (v >= 4)
				fail("verified a token that is not HS256 under our key");
			check_claims(&c, pay, size);
		}
		free(t);
	}
	free(pay);
}

static void
mode_header(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	struct jwt_claims c;
	char *buf, *t;

	/* One copy, NUL at the split, so each half is a string of its own. */
	if ((buf = malloc(size + 2)) == NULL)
		return;
	memcpy(buf, data, size);
	buf[hlen] = '\0';
	buf[size + (nl ? 0 : 1)] = '\0';
	t = sign(EVP_sha256(), key.key, key.len, buf, hlen, buf + hlen + 1,
	    nl ? size - hlen - 1 : 0);
	if (t != NULL && verify(t, &c) == JWT_OK) {
		struct json_object *h = json_tokener_parse(buf), *alg;

		if (h != NULL && strlen(buf) == hlen && json_object_is_type(h, json_type_object) &&
		    (!json_object_object_get_ex(h, "alg", &alg) ||
		    !json_object_is_type(alg, json_type_string) ||
		    strcmp(json_object_get_string(alg), "HS256") != 0))
			fail("verified a token whose header is not HS256");
		json_object_put(h);
		check_claims(&c, buf + hlen + 1, nl ? size - hlen - 1 : 0);
	}
	free(t);
	free(buf);
}

/* Input byte i, or 0 past the end: short inputs still make a token. */
static unsigned
byte_at(const uint8_t *data, size_t size, size_t i)
{
	return i < size ? data[i] : 0;
}

/* Format 16 bytes as a UUID, upper-case if asked. */
static void
uuid_from(const uint8_t *data, size_t size, size_t at, bool upper, char out[UUID_LEN + 1])
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		unsigned b = byte_at(data, size, at + i);

		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b >> 4];
		out[o++] = hex[b & 15];
	}
	out[o] = '\0';
}

static void
mode_issue(const uint8_t *data, size_t size)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned flags = byte_at(data, size, 0);
	enum jwt_kind kind = (flags & 1) ? JWT_TENANT : JWT_IDENTITY;
	int ttl = (int8_t)byte_at(data, size, 1) * 16;
	char sub[64], tid[UUID_LEN + 1];
	struct jwt_claims c;
	enum jwt_result want, got;
	size_t len, at = 34;
	char *t, *m;

	uuid_from(data, size, 2, flags & 2, sub);
	uuid_from(data, size, 18, flags & 4, tid);
	if (flags & 8) {
		/* A sub that is probably not a UUID: the next bytes up to a NUL. */
		size_t n = 0;

		while (n < sizeof(sub) - 1 && at < size && data[at] != '\0')
			sub[n++] = (char)data[at++];
		sub[n] = '\0';
		at++;
	}
	if ((t = auth_jwt_issue(&key, kind, sub, tid, FUZZ_NOW, ttl)) == NULL)
		return;   /* libjwt refuses a sub that is not UTF-8 */

	want = (long long)FUZZ_NOW > (long long)FUZZ_NOW + ttl + JWT_SKEW ? JWT_EXPIRED :
	    core_uuid_valid(sub) ? JWT_OK : JWT_BAD_CLAIMS;
	if ((got = verify(t, &c)) != want)
		fail("an issued token does not verify as expected");
	if (got == JWT_OK) {
		char lsub[UUID_LEN + 1], ltid[UUID_LEN + 1];

		core_uuid_lower(sub, lsub);
		core_uuid_lower(tid, ltid);
		if (c.kind != kind || strcmp(c.sub, lsub) != 0 || c.iat != FUZZ_NOW ||
		    c.exp != FUZZ_NOW + ttl ||
		    strcmp(c.tenant_id, kind == JWT_TENANT ? ltid : "") != 0)
			fail("an issued token round-trips to other claims");
		check_claims(&c, NULL, 0);
	}

	/* Edits: three bytes each, a 16-bit position and an operation. */
	len = strlen(t);
	if ((m = malloc(len + 9)) == NULL) {
		free(t);
		return;
	}
	memcpy(m, t, len + 1);
	for (int e = 0; e < 8 && at + 3 <= size; e++, at += 3) {
		size_t pos = ((size_t)data[at] | (size_t)data[at + 1] << 8) % (len + 1);
		unsigned op = data[at + 2];

		if (op < 0x40 && len > 0) {
			pos %= len;
			memmove(m + pos, m + pos + 1, len - pos);
			len--;
		} else if (op < 0x80) {
			memmove(m + pos + 1, m + pos, len - pos + 1);
			m[pos] = abc[op & 63];
			len++;
		} else if (len > 0) {
			pos %= len;
			m[pos] = (op & 0x40) ? abc[op & 63] : (char)(op & 0x7f);
		}
	}
	if (strcmp(m, t) != 0 && verify(m, &c) == JWT_OK)
		fail("an edited token verified");
	free(m);
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		mode_token(data + 1, size - 1);
		break;
	case 1:
		mode_payload(data + 1, size - 1);
		break;
	case 2:
		mode_issue(data + 1, size - 1);
		break;
	default:
		mode_header(data + 1, size - 1);
		break;
	}
	return 0;
}
