/* me.c: GET /api/v1/me, the caller and its workspaces. */
#include "api/api.h"
#include "auth/authz.h"

int
api_me_prefetch(struct req *r, struct db_batch *b)
{
	return db_add(b, r->who.cred == CRED_API_KEY ? ST_ME_KEY : ST_ME, 0) < 0 ? 500 : 0;
}

/*
 * 200 {kind: "user", user, tenants, tenant} for a user, {kind: "api_key",
 * api_key: {id, name, prefix, scopes, created_at, expires_at}, tenant} for
 * an API key; 401/403/503 come from authorisation.
 */
int
api_me(struct req *r, struct db_batch *pre)
{
	return api_send_pg_json(r, 200, auth_pre(pre, 0));
}
