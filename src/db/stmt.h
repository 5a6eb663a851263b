/* stmt.h: the catalog of every SQL statement the programs run (prepared per connection). */
#ifndef TENANTRY_STMT_H
#define TENANTRY_STMT_H

enum stmt {
	ST_PING,
	/* Authorisation context (must run first in a request's transaction). */
	ST_CTX_USER,
	ST_CTX_TENANT_ID,
	ST_CTX_TENANT_SLUG,
	/* Users. */
	ST_USER_LOGIN,
	ST_USER_SET_HASH,
	ST_USER_CREATE,
	ST_USER_ID_BY_EMAIL,
	ST_ME,
	/* Operator context (tenantryctl): transaction-local settings. */
	ST_AS_OPERATOR,
	ST_AS_TENANT,
	/* Tenants and membership (tenantryctl). */
	ST_TENANT_CREATE,
	ST_TENANT_ID_BY_SLUG,
	ST_MEMBER_UPSERT,
	ST_SEED_USAGE,
	ST_SEED_AUDIT,
	/* Tenants (API). */
	ST_TENANT_CURRENT,
	/* Audit log. */
	ST_AUDIT,
	ST__COUNT
};

struct stmt_def {
	const char *name;
	const char *sql;
	int         nparams;
};

extern const struct stmt_def stmts[ST__COUNT];

#endif
