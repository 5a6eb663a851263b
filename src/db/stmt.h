/* stmt.h: the catalog of every SQL statement the programs run (prepared per connection). */
#ifndef TENANTRY_STMT_H
#define TENANTRY_STMT_H

enum stmt {
	ST_PING,
	/* Authorisation context (must run first in a request's transaction). */
	ST_CTX_USER,
	ST_CTX_TENANT_ID,
	ST_CTX_TENANT_SLUG,
	ST_CTX_KEY_HASH,
	ST_CTX_KEY,
	ST_CTX_KEY_TENANT,
	ST_KEY_TOUCH,
	/* Rate limits. */
	ST_RATE_INIT,
	ST_RATE_TAKE,
	ST_RATE_CATALOG,
	ST_RATE_RULE,
	ST_RATE_FLUSH_SCOPE,
	ST_RATE_FLUSH,
	ST_LOGIN_GATE,
	ST_LOGIN_FAILED,
	ST_LOGIN_OK,
	/* Users. */
	ST_USER_LOGIN,
	ST_USER_SET_HASH,
	ST_USER_CREATE,
	ST_USER_ID_BY_EMAIL,
	ST_ME,
	ST_ME_KEY,
	/* Operator context (tenantryctl): transaction-local settings. */
	ST_AS_OPERATOR,
	ST_SET_TENANT,
	/* Tenants and membership (tenantryctl). */
	ST_TENANT_CREATE,
	ST_TENANT_ID_BY_SLUG,
	ST_MEMBER_UPSERT,
	ST_SEED_USAGE,
	/* Tenants (API). */
	ST_TENANT_CURRENT,
	ST_TENANT_LIST,
	ST_TENANT_GET,
	ST_TENANT_CREATE_API,
	ST_TENANT_PATCH,
	ST_TENANT_AFTER_PATCH,
	ST_TENANT_STATS,
	/* Members and invitations. */
	ST_MEMBER_LIST,
	ST_TENANT_LOCK,
	ST_MEMBER_STATE,
	ST_MEMBER_SET_ROLE,
	ST_MEMBER_REMOVE,
	ST_MEMBER_BY_EMAIL,
	ST_INVITE_REVOKE_PENDING,
	ST_INVITE_CREATE,
	ST_INVITE_LIST,
	ST_INVITE_REVOKE,
	ST_INVITE_SET_HASH,
	ST_INVITE_LOOKUP,
	ST_INVITE_CLAIM,
	ST_USER_CREATE_ID,
	ST_MEMBER_JOIN,
	/* Settings. */
	ST_SETTINGS_GET,
	ST_SETTINGS_LOCK,
	ST_SETTINGS_UPDATE,
	/* Usage metering and billing. */
	ST_USAGE_METERS,
	ST_USAGE_INGEST,
	ST_USAGE_OUTBOX,
	ST_OUTBOX_WAKE,
	ST_USAGE_DAILY,
	ST_TENANT_LIMITS,
	ST_BILLING_TENANT,
	ST_INVITE_SEATS,
	/* Notification delivery (tenantryctl notify). */
	ST_OUTBOX_CLAIM,
	ST_OUTBOX_CONTEXT,
	ST_OUTBOX_MARK,
	/* API keys. */
	ST_KEY_LIST,
	ST_KEY_CREATE,
	ST_KEY_ROTATE,
	ST_KEY_REVOKE,
	ST_KEY_FEATURE,
	/* Activity. */
	ST_ACTIVITY,
	/* Audit log. */
	ST_AUDIT,
	/* Dashboard sessions and pages. */
	ST_CTX_SESSION,
	ST_SESSION_CREATE,
	ST_SESSION_TOUCH,
	ST_SESSION_DELETE,
	ST_WEB_NAV,
	ST_WEB_KEY,
	ST_WEB_MEMBER,
	ST_WEB_INVITE_CTX,
	ST_WEB_INVITE,
	ST_WEB_RECENT,
	ST_WEB_TENANT_SLUG,
	ST_METER_CATALOG,
	ST_USAGE_FACTS,
	/* A dashboard session's deadlines, for the worker's cache. */
	ST_SESSION_FACTS,
	/* The caller's own sessions (the account page, /me/sessions). */
	ST_ME_SESSIONS,
	ST_ME_SESSION_END,
	ST_ME_SESSIONS_END_OTHERS,
	/* The app role's own timeouts (tenantryctl migrate; sql/008_timeouts.sql). */
	ST_ROLE_TIMEOUTS_SET,
	/* Maintained counts against count(*) (tenantryctl verify-counts). */
	ST_VERIFY_COUNTS,
	ST__COUNT
};

struct stmt_def {
	const char *name;
	const char *sql;
	int         nparams;
};

extern const struct stmt_def stmts[ST__COUNT];

#endif
