/* tenants.c: tenant routes: the current tenant. */
#include "api/api.h"
#include "auth/authz.h"

void
api_tenant_current_prefetch(struct req *r, struct db_batch *b)
{
	db_add(b, ST_TENANT_CURRENT, 0);
}

/*
 * GET /api/v1/tenants/current: 200 {id, name, slug, subscription_tier,
 * created_at, user_role, member_count}; 400 tenant_context_required, 401,
 * 403, 503 from authorisation.
 */
int
api_tenant_current(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}
