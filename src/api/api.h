/* api.h: the JSON API handlers the route table points at. */
#ifndef TENANTRY_API_H
#define TENANTRY_API_H

#include "db/db.h"
#include "http/request.h"

/* Operations (ops.c). */
int  api_health(struct req *r, struct db_batch *pre);
int  api_ready(struct req *r, struct db_batch *pre);

/* Authentication (auth.c). */
int  api_login(struct req *r, struct db_batch *pre);
int  api_tenant_token(struct req *r, struct db_batch *pre);

/* The caller (me.c). */
void api_me_prefetch(struct req *r, struct db_batch *b);
int  api_me(struct req *r, struct db_batch *pre);

/* Tenants (tenants.c). */
void api_tenant_current_prefetch(struct req *r, struct db_batch *b);
int  api_tenant_current(struct req *r, struct db_batch *pre);

/* Users (users.c). */
int  api_user_create(struct req *r, struct db_batch *pre);

/* Shared helpers (common.c). */
/* Map a failed db status to its response. */
int  api_db_fail(struct req *r, enum db_status st);
/* Send column 0 of row 0 (JSON built by PostgreSQL) with status. */
int  api_send_pg_json(struct req *r, int status, const PGresult *res);

#endif
