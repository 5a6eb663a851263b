/* jwt.c: HS256 token issue and verification (libjwt 1.10 for the signature, we check the rest). */
#include "auth/jwt.h"
#include "http/validate.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>

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

/*
 * The header must be a JSON object whose "alg" is exactly "HS256" (RFC 7515:
 * case-sensitive; libjwt itself would accept "hs256", and would verify
 * "none" or an RSA alg by the header's word). Checked before libjwt sees
 * the token, so the pin does not depend on libjwt's behaviour.
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

/* Is the payload part base64url of a JSON object? (Only asked on failure.) */
static bool
jwt_payload_ok(const char *t, size_t hlen)
{
	const char *p = t + hlen + 1, *dot = strchr(p, '.');
	char *buf;
	long n;
	struct json_object *o = NULL;
	bool ok = false;

	if (dot == NULL || (buf = malloc((size_t)(dot - p))) == NULL)
		return false;
	n = b64url_decode(p, (size_t)(dot - p), buf, (size_t)(dot - p));
	if (n > 0 && (o = http_json_parse(buf, (size_t)n)) != NULL)
		ok = json_object_is_type(o, json_type_object);
	json_object_put(o);
	free(buf);
	return ok;
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
	jwt_t *jwt = NULL;
	char *grants = NULL;
	struct json_object *claims = NULL;
	const char *aud, *iss, *sub, *tid;
	size_t hlen = 0;
	long long nbf;
	enum jwt_result res;

	if (token == NULL || !jwt_shape_ok(token, strlen(token), &hlen))
		return JWT_MALFORMED;
	if ((res = jwt_header_check(token, hlen)) != JWT_OK)
		return res;
	if (token[strlen(token) - 1] == '.')
		return JWT_BAD_SIGNATURE;   /* HS256 with no signature */
	/*
	 * The header said HS256; libjwt checks the signature with our key and
	 * parses the payload. A payload that is not a JSON object fails here
	 * too, so tell the two apart by decoding it ourselves only then.
	 */
	if (jwt_decode(&jwt, token, k->key, (int)k->len) != 0)
		return jwt_payload_ok(token, hlen) ? JWT_BAD_SIGNATURE : JWT_MALFORMED;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		res = JWT_BAD_ALG;
		goto out;
	}
	if ((grants = jwt_get_grants_json(jwt, NULL)) == NULL ||
	    (claims = json_tokener_parse(grants)) == NULL ||
	    !json_object_is_type(claims, json_type_object)) {
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
	free(grants);
	jwt_free(jwt);
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
