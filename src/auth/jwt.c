/* jwt.c: HS256 token issue (libjwt 1.10) and verification (OpenSSL's HMAC, our own checks). */
#include "auth/jwt.h"
#include "http/validate.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

char *
auth_jwt_issue(const struct jwt_key *k, enum jwt_kind kind, const char *sub,
    const char *tenant_id, time_t now, int ttl)
{
	jwt_t *jwt = NULL;
	char *s = NULL;

	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, k->key, (int)k->len) != 0 ||
	    jwt_add_grant(jwt, "iss", k->issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", kind == JWT_TENANT ? JWT_AUD_TENANT : JWT_AUD_IDENTITY) != 0 ||
	    jwt_add_grant(jwt, "sub", sub) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)now + ttl) != 0)
		goto out;
	if (kind == JWT_TENANT && (tenant_id == NULL || jwt_add_grant(jwt, "tenant_id", tenant_id) != 0))
		goto out;
	s = jwt_encode_str(jwt);
out:
	jwt_free(jwt);
	return s;
}

/*
 * Cheap shape check before any crypto: three base64url parts, the first two
 * non-empty (an empty signature is left for the alg check to name).
 */
static bool
jwt_shape_ok(const char *t, size_t len, size_t *hlen)
{
	int dots = 0;
	size_t seg = 0;

	if (len < 16 || len > JWT_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = t[i];

		if (c == '.') {
			if (seg == 0)
				return false;
			if (dots++ == 0)
				*hlen = i;
			seg = 0;
		} else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') {
			seg++;
		} else {
			return false;
		}
	}
	return dots == 2;
}

static int
b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* Decode unpadded base64url s[0..n) into out (cap bytes); -1 if invalid. */
static long
b64url_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_val(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	return (long)o;
}

/* The header of every token we issue, as libjwt spells it. */
#define JWT_OUR_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/*
 * The header must be a JSON object whose "alg" is exactly "HS256" (RFC 7515:
 * case-sensitive; libjwt itself would accept "hs256", and would verify
 * "none" or an RSA alg by the header's word), read by the same strict
 * parser as request bodies (a member named twice is malformed). The MAC is
 * ours (jwt_mac), so the pin depends on no library's reading of alg.
 */
static enum jwt_result
jwt_header_check(const char *t, size_t hlen)
{
	char hdr[512];
	long n = b64url_decode(t, hlen, hdr, sizeof(hdr) - 1);
	struct json_object *h, *alg;
	enum jwt_result res = JWT_BAD_ALG;

	if (n <= 0)
		return JWT_MALFORMED;
	/* The header every token of ours has (libjwt's spelling): no parse needed. */
	if ((size_t)n == sizeof(JWT_OUR_HEADER) - 1 && memcmp(hdr, JWT_OUR_HEADER, (size_t)n) == 0)
		return JWT_OK;
	if ((h = http_json_parse(hdr, (size_t)n)) == NULL)
		return JWT_MALFORMED;
	if (!json_object_is_type(h, json_type_object))
		res = JWT_MALFORMED;
	else if (json_object_object_get_ex(h, "alg", &alg) &&
	    json_object_is_type(alg, json_type_string) &&
	    strcmp(json_object_get_string(alg), "HS256") == 0)
		res = JWT_OK;
	json_object_put(h);
	return res;
}

/* Decode the payload part t[from, to) into a JSON object, or NULL. */
static struct json_object *
jwt_payload(const char *t, size_t from, size_t to)
{
	char buf[JWT_MAX_LEN];
	long n = b64url_decode(t + from, to - from, buf, sizeof(buf));
	struct json_object *o;

	if (n <= 0 || (o = http_json_parse(buf, (size_t)n)) == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * HMAC-SHA256 of t[0, n) with k, as the 43 characters of unpadded
 * base64url (out holds 44 with the NUL). The MAC is set up once per key
 * and process and re-initialised per token (OpenSSL keeps the keyed
 * state), which is most of what verifying costs otherwise.
 */
static bool
jwt_mac(const struct jwt_key *k, const char *t, size_t n, char out[44])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static EVP_MAC_CTX *ctx;
	static unsigned char *ctx_key;
	static size_t ctx_len;
	unsigned char mac[32];
	size_t len = 0, o = 0;

	if (ctx == NULL || ctx_len != k->len || CRYPTO_memcmp(ctx_key, k->key, k->len) != 0) {
		EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			OSSL_PARAM_construct_end(),
		};

		EVP_MAC_CTX_free(ctx);
		OPENSSL_clear_free(ctx_key, ctx_len);
		ctx_key = NULL;
		ctx_len = 0;
		ctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
		EVP_MAC_free(alg);
		if (ctx == NULL || (ctx_key = OPENSSL_memdup(k->key, k->len ? k->len : 1)) == NULL ||
		    !EVP_MAC_init(ctx, k->key, k->len, params)) {
			EVP_MAC_CTX_free(ctx);
			OPENSSL_free(ctx_key);
			ctx = NULL;
			ctx_key = NULL;
			return false;
		}
		ctx_len = k->len;
	} else if (!EVP_MAC_init(ctx, NULL, 0, NULL)) {
		return false;
	}
	if (!EVP_MAC_update(ctx, (const unsigned char *)t, n) ||
	    !EVP_MAC_final(ctx, mac, &len, sizeof(mac)) || len != sizeof(mac))
		return false;
	for (size_t i = 0; i < 30; i += 3) {
		unsigned v = (unsigned)mac[i] << 16 | (unsigned)mac[i + 1] << 8 | mac[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	{
		unsigned v = (unsigned)mac[30] << 8 | mac[31];

		out[o++] = b64[v >> 10];
		out[o++] = b64[(v >> 4) & 63];
		out[o++] = b64[(v << 2) & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return true;
}

/* An integer claim: a JSON integer, not a string, float or bool. */
static bool
claim_int(struct json_object *o, const char *k, long long *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_int64(x);
	return true;
}

static const char *
claim_str(struct json_object *o, const char *k)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

enum jwt_result
auth_jwt_verify(const struct jwt_key *k, const char *token, time_t now, struct jwt_claims *out)
{
	struct json_object *claims = NULL;
	const char *aud, *iss, *sub, *tid, *sig;
	size_t hlen = 0, len, signed_len;
	long long nbf;
	char mac[44];
	enum jwt_result res;

	if (token == NULL || !jwt_shape_ok(token, len = strlen(token), &hlen))
		return JWT_MALFORMED;
	if ((res = jwt_header_check(token, hlen)) != JWT_OK)
		return res;
	sig = strchr(token + hlen + 1, '.') + 1;
	signed_len = (size_t)(sig - token) - 1;
	if (*sig == '\0')
		return JWT_BAD_SIGNATURE;   /* HS256 with no signature */
	/*
	 * The header said HS256. The signature must be the MAC's exact
	 * encoding (43 characters, compared in constant time). A payload that
	 * is not a JSON object is malformed whether or not the signature
	 * verifies, so a bad signature is told apart only then.
	 */
	if (!jwt_mac(k, token, signed_len, mac))
		return JWT_NOMEM;
	if (len - (size_t)(sig - token) != 43 || CRYPTO_memcmp(mac, sig, 43) != 0) {
		claims = jwt_payload(token, hlen + 1, signed_len);
		res = claims != NULL ? JWT_BAD_SIGNATURE : JWT_MALFORMED;
		goto out;
	}
	if ((claims = jwt_payload(token, hlen + 1, signed_len)) == NULL) {
		res = JWT_MALFORMED;
		goto out;
	}
	iss = claim_str(claims, "iss");
	if (iss == NULL || strcmp(iss, k->issuer) != 0) {
		res = JWT_BAD_ISSUER;
		goto out;
	}
	aud = claim_str(claims, "aud");
	if (aud != NULL && strcmp(aud, JWT_AUD_IDENTITY) == 0)
		out->kind = JWT_IDENTITY;
	else if (aud != NULL && strcmp(aud, JWT_AUD_TENANT) == 0)
		out->kind = JWT_TENANT;
	else {
		res = JWT_BAD_AUDIENCE;
		goto out;
	}
	if (!claim_int(claims, "exp", &out->exp) || !claim_int(claims, "iat", &out->iat)) {
		res = JWT_BAD_CLAIMS;
		goto out;
	}
	if (out->exp < (long long)now - JWT_SKEW) {   /* no overflow for a huge exp */
		res = JWT_EXPIRED;
		goto out;
	}
	if (out->iat > (long long)now + JWT_SKEW) {
		res = JWT_NOT_YET_VALID;
		goto out;
	}
	if (json_object_object_get_ex(claims, "nbf", NULL)) {
		if (!claim_int(claims, "nbf", &nbf)) {
			res = JWT_BAD_CLAIMS;
			goto out;
		}
		if (nbf > (long long)now + JWT_SKEW) {
			res = JWT_NOT_YET_VALID;
			goto out;
		}
	}
	sub = claim_str(claims, "sub");
	if (!core_uuid_valid(sub)) {
		res = JWT_BAD_CLAIMS;
		goto out;
	}
	core_uuid_lower(sub, out->sub);
	out->tenant_id[0] = '\0';
	if (out->kind == JWT_TENANT) {
		tid = claim_str(claims, "tenant_id");
		if (!core_uuid_valid(tid)) {
			res = JWT_BAD_CLAIMS;
			goto out;
		}
		core_uuid_lower(tid, out->tenant_id);
	}
	res = JWT_OK;
out:
	json_object_put(claims);
	return res;
}

const char *
auth_jwt_result_name(enum jwt_result r)
{
	static const char *const names[] = {
		"ok", "malformed", "bad_signature", "bad_alg", "expired", "not_yet_valid",
		"bad_issuer", "bad_audience", "bad_claims", "nomem",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}
