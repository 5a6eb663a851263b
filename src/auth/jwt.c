/* jwt.c: HS256 token issue and verification (libjwt 1.10 for the signature, we check the rest). */
#include "auth/jwt.h"

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

/* Cheap shape check before any crypto: three non-empty base64url parts. */
static bool
jwt_shape_ok(const char *t, size_t len)
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
			dots++;
			seg = 0;
		} else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') {
			seg++;
		} else {
			return false;
		}
	}
	return dots == 2 && seg > 0;
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
	long long nbf;
	enum jwt_result res;

	if (token == NULL || !jwt_shape_ok(token, strlen(token)))
		return JWT_MALFORMED;
	/*
	 * libjwt verifies with whatever alg the header names; passing our key
	 * makes it refuse "none". We then pin HS256 ourselves: a token signed
	 * with HS384/HS512 (or anything else) is refused even if it verified.
	 */
	if (jwt_decode(&jwt, token, k->key, (int)k->len) != 0)
		return JWT_BAD_SIGNATURE;
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
	if ((long long)now > out->exp + JWT_SKEW) {
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
