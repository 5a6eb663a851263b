/* routes.c: every endpoint, who may call it, and what body it takes — the one route table. */
#include "http/router.h"
#include "api/api.h"

/*
 * Read this table to know the whole API. cap is checked by auth_authorize()
 * and nowhere else. Literal routes come before parameter routes that could
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

	/* Tenants. */
	{ HTTP_GET,  "/api/v1/tenants/current", CAP_TENANT_READ, 0,
	    api_tenant_current_prefetch, api_tenant_current },

	/* Users. */
	{ HTTP_POST, "/api/v1/users", CAP_SUPERADMIN, RF_JSON | RF_TX, NULL, api_user_create },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
