/* context.h: the facts one authorisation decision rests on, as read from PostgreSQL, and their cached form. */
#ifndef TENANTRY_CONTEXT_H
#define TENANTRY_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "core/arena.h"

/*
 * A user's facts (the user, the tenant the request names, their role
 * there) or an API key's (the key, its scopes and dates, its tenant).
 * Filled from the ctx_* statements' rows, or unpacked from the worker's
 * cache; auth_authorize decides on it the same way whichever it came from.
 * Strings live in the request's arena.
 */
struct auth_ctx {
	bool        key;             /* an API key's context, else a user's */
	bool        user_found, superadmin;
	bool        tenant_found;
	bool        member;          /* a role in the tenant */
	char        user_id[UUID_LEN + 1];
	char        tenant_id[UUID_LEN + 1];
	enum role   role;
	unsigned    scopes;
	bool        api_access;      /* the key's tenant may use keys (tier feature and setting) */
	bool        expired, revoked;          /* as the database said at the read */
	double      expires_at, revoked_at;    /* epoch seconds, 0: never (checked at each use) */
	const char *email, *name;
	const char *slug, *tenant_name, *tier, *status;
	const char *key_id, *key_name;
	const char *ip_allow;        /* the tenant's IP allow-list: CIDRs separated by spaces; "" or NULL: none */
};

/* The longest key auth_ctx_key writes, NUL included. */
#define AUTH_CTX_KEY_MAX 160

/*
 * The cache key of the context a credential gets when the request names
 * tenant id tid, or slug, or neither: "K" and the key's hash for an API key
 * (its tenant is its own; what the request names is checked against it
 * afterwards), else "U", the user id, and the tenant named. Exact bytes:
 * another principal or another tenant is another key. Returns its length,
 * 0 if it does not fit.
 */
size_t auth_ctx_key(char out[AUTH_CTX_KEY_MAX], const struct principal *who, const char *tid,
    const char *slug);

/* The context as one blob (in the arena), and back (strings into the arena). */
void *auth_ctx_pack(struct arena *a, const struct auth_ctx *c, size_t *len);
bool  auth_ctx_unpack(struct arena *a, const void *blob, size_t len, struct auth_ctx *out);

#endif
