/* routes.c: every endpoint, who may call it, and what body it takes — the one route table. */
#include "app/routes.h"
#include "api/api.h"
#include "web/web.h"

/*
 * Read this table to know the whole API. cap is checked by auth_authorize()
 * and nowhere else. RF_CACHE marks the reads a worker may answer from its
 * cache: their answer depends only on the tenant's facts, the caller's role
 * and kind, the plans and the day (RF_CACHE_USAGE: and the tenant's usage);
 * on a page (RF_HTML) the session is cached too, and the page's handler keeps
 * its data (auth_cache_store_page). Literal routes come before parameter routes that could
 * shadow them (/tenants/current before /tenants/{tenant}).
 */
const struct route routes[] = {
	/* Operations: plain text, no authentication. */
	{ HTTP_GET,  "/health", CAP_PUBLIC, 0, NULL, api_health },
	{ HTTP_GET,  "/ready",  CAP_PUBLIC, 0, NULL, api_ready },

	/* Authentication. */
	{ HTTP_POST, "/api/v1/auth/login", CAP_PUBLIC, RF_JSON, NULL, api_login },
	{ HTTP_POST, "/api/v1/auth/tenant-token", CAP_TENANT_READ,
	    RF_JSON | RF_TENANT_BODY | RF_IDENTITY, NULL, api_tenant_token },

	/* The caller. */
	{ HTTP_GET,  "/api/v1/me", CAP_PRINCIPAL, RF_TENANT_OPT, api_me_prefetch, api_me },
	{ HTTP_GET,  "/api/v1/me/sessions", CAP_PRINCIPAL, 0, api_me_sessions_prefetch, api_me_sessions },
	{ HTTP_DELETE, "/api/v1/me/sessions", CAP_PRINCIPAL, RF_TX, NULL, api_me_sessions_end_others },
	{ HTTP_DELETE, "/api/v1/me/sessions/{uuid}", CAP_PRINCIPAL, RF_TX, NULL, api_me_session_end },

	/* Tenants. */
	{ HTTP_GET,  "/api/v1/tenants", CAP_PRINCIPAL, 0, api_tenant_list_prefetch, api_tenant_list },
	{ HTTP_POST, "/api/v1/tenants", CAP_SUPERADMIN, RF_JSON | RF_TX, NULL, api_tenant_create },
	{ HTTP_GET,  "/api/v1/tenants/{tenant}", CAP_TENANT_READ, RF_CACHE,
	    api_tenant_get_prefetch, api_tenant_get },
	{ HTTP_PATCH, "/api/v1/tenants/{tenant}", CAP_TENANT_WRITE, RF_JSON | RF_TX, NULL,
	    api_tenant_patch },
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/stats", CAP_TENANT_READ, 0,
	    api_tenant_stats_prefetch, api_tenant_stats },
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/quotas", CAP_TENANT_READ, RF_CACHE | RF_CACHE_USAGE,
	    api_usage_prefetch, api_quotas },
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/webhook-secret", CAP_TENANT_SENSITIVE, 0,
	    NULL, api_webhook_secret },

	/* The current tenant (context from a tenant token or X-Tenant-ID). */
	{ HTTP_GET,  "/api/v1/tenants/current", CAP_TENANT_READ, RF_CACHE,
	    api_tenant_current_prefetch, api_tenant_current },
	{ HTTP_GET,  "/api/v1/tenants/current/settings", CAP_TENANT_READ, RF_RATE_SETTINGS,
	    api_settings_get_prefetch, api_settings_get },
	{ HTTP_PUT,  "/api/v1/tenants/current/settings", CAP_TENANT_WRITE,
	    RF_JSON | RF_TX | RF_RATE_SETTINGS, api_settings_put_prefetch, api_settings_put },
	{ HTTP_GET,  "/api/v1/tenants/current/usage", CAP_TENANT_READ, RF_CACHE | RF_CACHE_USAGE,
	    api_usage_prefetch, api_usage_current },
	{ HTTP_GET,  "/api/v1/tenants/current/limits", CAP_TENANT_READ, RF_CACHE,
	    api_limits_prefetch, api_limits },

	/* Usage ingestion: the tenant from a tenant token or X-Tenant-ID. */
	{ HTTP_POST, "/api/v1/usage/events", CAP_USAGE_WRITE, RF_JSON | RF_TX | RF_RATE_USAGE,
	    api_usage_prefetch, api_usage_ingest },

	/*
	 * Billing: the path names the tenant but is no context by itself
	 * (RF_EXPLICIT_CTX); readable while the tenant is suspended.
	 */
	{ HTTP_GET,  "/admin/billing/me/usage", CAP_BILLING_READ,
	    RF_SUSPENDED_OK | RF_CACHE | RF_CACHE_USAGE, api_billing_usage_prefetch, api_billing_usage },
	{ HTTP_GET,  "/admin/billing/tenants/{tenant}", CAP_BILLING_READ,
	    RF_EXPLICIT_CTX | RF_SUSPENDED_OK | RF_CACHE, api_billing_tenant_prefetch, api_billing_tenant },
	{ HTTP_GET,  "/admin/billing/tenants/{tenant}/usage", CAP_BILLING_READ,
	    RF_EXPLICIT_CTX | RF_SUSPENDED_OK | RF_CACHE | RF_CACHE_USAGE, api_billing_usage_prefetch,
	    api_billing_usage },
	{ HTTP_GET,  "/admin/billing/tenants/{tenant}/quota", CAP_BILLING_READ,
	    RF_EXPLICIT_CTX | RF_SUSPENDED_OK | RF_CACHE | RF_CACHE_USAGE, api_billing_usage_prefetch,
	    api_billing_quota },

	/* Members and invitations. */
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/users", CAP_TENANT_READ, 0,
	    api_member_list_prefetch, api_member_list },
	{ HTTP_POST, "/api/v1/tenants/{tenant}/users/invite", CAP_MEMBERS_MANAGE, RF_JSON | RF_TX,
	    NULL, api_member_invite },
	{ HTTP_PATCH, "/api/v1/tenants/{tenant}/users/{uuid}/role", CAP_MEMBERS_MANAGE,
	    RF_JSON | RF_TX, api_member_lock_prefetch, api_member_role },
	{ HTTP_DELETE, "/api/v1/tenants/{tenant}/users/{uuid}", CAP_MEMBERS_MANAGE, RF_TX,
	    api_member_lock_prefetch, api_member_remove },
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/invitations", CAP_MEMBERS_MANAGE, 0,
	    api_invite_list_prefetch, api_invite_list },
	{ HTTP_DELETE, "/api/v1/tenants/{tenant}/invitations/{uuid}", CAP_MEMBERS_MANAGE, RF_TX,
	    NULL, api_invite_revoke },
	{ HTTP_POST, "/api/v1/invitations/accept", CAP_PUBLIC,
	    RF_JSON | RF_TX | RF_OPT_AUTH | RF_IDENTITY, NULL, api_invite_accept },

	/* API keys (never managed with an API key: see key_route_ok in authz.c). */
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/api-keys", CAP_KEYS_MANAGE, 0,
	    api_key_list_prefetch, api_key_list },
	{ HTTP_POST, "/api/v1/tenants/{tenant}/api-keys", CAP_KEYS_MANAGE, RF_JSON | RF_TX,
	    api_key_feature_prefetch, api_key_create },
	{ HTTP_POST, "/api/v1/tenants/{tenant}/api-keys/{uuid}/rotate", CAP_KEYS_MANAGE, RF_JSON | RF_TX,
	    api_key_feature_prefetch, api_key_rotate },
	{ HTTP_DELETE, "/api/v1/tenants/{tenant}/api-keys/{uuid}", CAP_KEYS_MANAGE, RF_TX,
	    NULL, api_key_revoke },

	/* Activity (the audit log). */
	{ HTTP_GET,  "/api/v1/tenants/{tenant}/activity", CAP_BILLING_READ, 0,
	    api_activity_prefetch, api_activity },

	/* Users. */
	{ HTTP_POST, "/api/v1/users", CAP_SUPERADMIN, RF_JSON | RF_TX, NULL, api_user_create },

	/*
	 * The dashboard (HTML; the session cookie is the credential, every POST
	 * carries a CSRF token). Each form posts to its page's own path.
	 */
	{ HTTP_GET,  "/", CAP_PUBLIC, RF_HTML, NULL, web_root },
	{ HTTP_GET,  "/login", CAP_PUBLIC, RF_HTML, NULL, web_login_form },
	{ HTTP_POST, "/login", CAP_PUBLIC, RF_HTML, NULL, web_login },
	{ HTTP_POST, "/logout", CAP_PRINCIPAL, RF_HTML, NULL, web_logout },
	{ HTTP_GET,  "/dashboard", CAP_PRINCIPAL, RF_HTML, NULL, web_dashboard },
	{ HTTP_GET,  "/account", CAP_PRINCIPAL, RF_HTML, api_me_sessions_prefetch, web_account },
	{ HTTP_POST, "/account", CAP_PRINCIPAL, RF_HTML | RF_TX, NULL, web_account_post },
	{ HTTP_GET,  "/admin/tenants", CAP_SUPERADMIN, RF_HTML, api_tenant_list_prefetch, web_admin_tenants },
	{ HTTP_GET,  "/invite/{token}", CAP_PUBLIC, RF_HTML | RF_OPT_AUTH | RF_SECRET_PATH,
	    web_invite_prefetch, web_invite_form },
	{ HTTP_POST, "/invite/{token}", CAP_PUBLIC, RF_HTML | RF_OPT_AUTH | RF_TX | RF_SECRET_PATH,
	    web_invite_prefetch, web_invite_accept },
	{ HTTP_GET,  "/w/{slug}", CAP_TENANT_READ, RF_HTML, web_overview_prefetch, web_overview },
	{ HTTP_GET,  "/w/{slug}/settings", CAP_TENANT_READ, RF_HTML | RF_RATE_SETTINGS,
	    api_settings_get_prefetch, web_settings },
	{ HTTP_POST, "/w/{slug}/settings", CAP_TENANT_WRITE, RF_HTML | RF_TX | RF_RATE_SETTINGS,
	    api_settings_put_prefetch, web_settings_save },
	{ HTTP_GET,  "/w/{slug}/billing", CAP_BILLING_READ,
	    RF_HTML | RF_SUSPENDED_OK | RF_CACHE | RF_CACHE_USAGE, api_billing_usage_prefetch, web_billing },
	{ HTTP_GET,  "/w/{slug}/api-keys", CAP_KEYS_MANAGE, RF_HTML, api_key_list_prefetch, web_keys },
	{ HTTP_POST, "/w/{slug}/api-keys", CAP_KEYS_MANAGE, RF_HTML | RF_TX,
	    api_key_feature_prefetch, web_key_create },
	{ HTTP_GET,  "/w/{slug}/api-keys/{uuid}/revoke", CAP_KEYS_MANAGE, RF_HTML,
	    web_key_prefetch, web_key_revoke_form },
	{ HTTP_POST, "/w/{slug}/api-keys/{uuid}/revoke", CAP_KEYS_MANAGE, RF_HTML | RF_TX,
	    NULL, web_key_revoke },
	{ HTTP_GET,  "/w/{slug}/members", CAP_TENANT_READ, RF_HTML, web_members_prefetch, web_members },
	{ HTTP_POST, "/w/{slug}/members", CAP_MEMBERS_MANAGE, RF_HTML | RF_TX,
	    web_members_post_prefetch, web_members_post },
	{ HTTP_GET,  "/w/{slug}/members/{uuid}/remove", CAP_MEMBERS_MANAGE, RF_HTML,
	    web_member_prefetch, web_member_remove_form },
	{ HTTP_POST, "/w/{slug}/members/{uuid}/remove", CAP_MEMBERS_MANAGE, RF_HTML | RF_TX,
	    api_member_lock_prefetch, web_member_remove },
	{ HTTP_GET,  "/w/{slug}/activity", CAP_BILLING_READ, RF_HTML, api_activity_prefetch, web_activity },
	{ HTTP_GET,  "/w/{slug}/activity.csv", CAP_BILLING_READ, RF_HTML,
	    web_activity_csv_prefetch, api_activity },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
