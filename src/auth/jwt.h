/* jwt.h: HS256 token issue (libjwt 1.10) and verification (OpenSSL HMAC, every check ours). */
#ifndef TENANTRY_JWT_H
#define TENANTRY_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/util.h"

#define JWT_MAX_LEN    4096
#define JWT_SKEW       30      /* seconds of clock skew we tolerate */
#define JWT_AUD_IDENTITY "tenantry:identity"
#define JWT_AUD_TENANT   "tenantry:tenant"

enum jwt_kind {
	JWT_IDENTITY,   /* who you are */
	JWT_TENANT,     /* who you are, acting in one tenant */
};

enum jwt_result {
	JWT_OK = 0,
	JWT_MALFORMED,       /* not three base64url parts, not JSON, too long */
	JWT_BAD_SIGNATURE,   /* signature does not verify with our key */
	JWT_BAD_ALG,         /* anything but HS256, "none" included */
	JWT_EXPIRED,
	JWT_NOT_YET_VALID,   /* iat or nbf more than JWT_SKEW in the future */
	JWT_BAD_ISSUER,
	JWT_BAD_AUDIENCE,    /* neither kind, or not the kind required */
	JWT_BAD_CLAIMS,      /* missing or mistyped sub/exp/iat/tenant_id */
	JWT_NOMEM,
};

struct jwt_claims {
	enum jwt_kind kind;
	char          sub[UUID_LEN + 1];
	char          tenant_id[UUID_LEN + 1];   /* "" for identity tokens */
	long long     iat;
	long long     exp;
};

struct jwt_key {
	const unsigned char *key;
	size_t               len;
	const char          *issuer;
};

/*
 * Issue a token: sub is a user id, tenant_id only for JWT_TENANT. Returns a
 * malloc'd string the caller frees, or NULL.
 */
char *auth_jwt_issue(const struct jwt_key *k, enum jwt_kind kind, const char *sub,
    const char *tenant_id, time_t now, int ttl);

/*
 * Verify a token completely: HS256 pinned, signature, then iss, aud,
 * integer exp and iat, sub and (tenant tokens) tenant_id as UUIDs, and the
 * time window with JWT_SKEW. A tenant_id claim in an identity token is
 * ignored. On JWT_OK, *out holds the claims.
 */
enum jwt_result auth_jwt_verify(const struct jwt_key *k, const char *token, time_t now,
    struct jwt_claims *out);

const char *auth_jwt_result_name(enum jwt_result r);

#endif
