/* auth.h: the types of identity and authority: roles, credentials, capabilities. */
#ifndef TENANTRY_AUTH_H
#define TENANTRY_AUTH_H

#include <stdbool.h>

#include "core/util.h"

/* Tenant roles, ordered: a higher role can do all a lower one can. */
enum role {
	ROLE_NONE = 0,
	ROLE_VIEWER,
	ROLE_MEMBER,
	ROLE_ADMIN,
	ROLE_OWNER,
};

/* How the caller proved who it is. */
enum cred {
	CRED_NONE = 0,
	CRED_IDENTITY,   /* JWT, aud tenantry:identity */
	CRED_TENANT,     /* JWT, aud tenantry:tenant, carries tenant_id */
	CRED_API_KEY,    /* Bearer tnt_...: one tenant, scopes, no user */
	CRED_SESSION,    /* dashboard: the __Host-tenantry cookie (RF_HTML routes only) */
};

/* API key scopes (SPEC §2). */
enum scope {
	SCOPE_READ  = 1 << 0,   /* GETs */
	SCOPE_WRITE = 1 << 1,   /* tenant writes but members and keys */
	SCOPE_USAGE = 1 << 2,   /* usage:write: usage ingestion only */
};

/*
 * What a route requires. Declared once per route in the route table and
 * checked only by auth_authorize(); a handler never checks a role itself.
 */
enum cap {
	CAP_PUBLIC = 0,        /* anyone; credentials are not even read */
	CAP_PRINCIPAL,         /* any authenticated principal */
	CAP_SUPERADMIN,        /* system-wide operator */
	CAP_TENANT_READ,       /* viewer and up, in the tenant context */
	CAP_TENANT_SENSITIVE,  /* admin and up: security.*, webhooks, integrations */
	CAP_TENANT_WRITE,      /* admin and up: name and settings */
	CAP_MEMBERS_MANAGE,    /* admin and up (owner rules in the handler's data checks) */
	CAP_KEYS_MANAGE,       /* admin and up */
	CAP_BILLING_READ,      /* admin and up, and the activity log */
	CAP_USAGE_WRITE,       /* admin and up: report usage events */
	CAP__COUNT
};

/* The authenticated caller; filled by auth_authorize(). */
struct principal {
	enum cred cred;
	char      user_id[UUID_LEN + 1];
	char      claim_tenant[UUID_LEN + 1]; /* tenant token only */
	/* From the database on this request, never from the token: */
	bool        superadmin;
	const char *email;
	const char *name;
	/* API keys: the key row (id, name) and its scopes, from the database. */
	char        key_hash[65];
	const char *key_id;
	const char *key_name;
	unsigned    scopes;
	/* Dashboard sessions: SHA-256 (hex) of the cookie, and its CSRF token (database). */
	char        session_hash[65];
	const char *csrf;
};

/* The tenant a request acts on, with the caller's role there. */
struct tenant_ctx {
	bool        present;
	char        id[UUID_LEN + 1];
	const char *slug;
	const char *name;
	const char *tier;
	const char *status;
	enum role   role;     /* ROLE_NONE for a superadmin who is not a member */
};

/* "read write usage:write" (space-separated, from the database) -> enum scope bits; 0 if unknown. */
unsigned    auth_scopes_parse(const char *s);

const char *auth_role_name(enum role r);
/* ROLE_NONE for an unknown name. */
enum role   auth_role_parse(const char *s);
const char *auth_cap_name(enum cap c);
/* The least tenant role a capability needs, or ROLE_NONE if none. */
enum role   auth_cap_min_role(enum cap c);

#endif
