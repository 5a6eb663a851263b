/* api.h: the JSON API handlers the route table points at. */
#ifndef TENANTRY_API_H
#define TENANTRY_API_H

#include <stdbool.h>

#include "core/util.h"
#include "db/db.h"
#include "http/request.h"

/* Operations (ops.c). */
int  api_health(struct req *r, struct db_batch *pre);
int  api_ready(struct req *r, struct db_batch *pre);

/* Authentication (auth.c). */
int  api_login(struct req *r, struct db_batch *pre);
/* A sign-in's checks (lockout, password); 0 with the user id, or the error written. */
int  api_login_check(struct req *r, const char *email, const char *password, size_t pwlen,
    const char **uid);
int  api_tenant_token(struct req *r, struct db_batch *pre);

/* The caller (me.c). */
int  api_me_prefetch(struct req *r, struct db_batch *b);
int  api_me(struct req *r, struct db_batch *pre);
int  api_me_sessions_prefetch(struct req *r, struct db_batch *b);
int  api_me_sessions(struct req *r, struct db_batch *pre);
int  api_me_session_end(struct req *r, struct db_batch *pre);
/* The same for session id (a valid UUID), for the account page: 204, 404 or the error sent. */
int  api_me_session_end_one(struct req *r, const char *id);
int  api_me_sessions_end_others(struct req *r, struct db_batch *pre);

/* Tenants (tenants.c). */
int  api_tenant_current_prefetch(struct req *r, struct db_batch *b);
int  api_tenant_current(struct req *r, struct db_batch *pre);
int  api_tenant_list_prefetch(struct req *r, struct db_batch *b);
int  api_tenant_list(struct req *r, struct db_batch *pre);
int  api_tenant_create(struct req *r, struct db_batch *pre);
int  api_tenant_get_prefetch(struct req *r, struct db_batch *b);
int  api_tenant_get(struct req *r, struct db_batch *pre);
int  api_tenant_patch(struct req *r, struct db_batch *pre);
int  api_tenant_stats_prefetch(struct req *r, struct db_batch *b);
int  api_tenant_stats(struct req *r, struct db_batch *pre);

/* Members and invitations (members.c). */
int  api_member_list_prefetch(struct req *r, struct db_batch *b);
int  api_member_list(struct req *r, struct db_batch *pre);
int  api_member_invite(struct req *r, struct db_batch *pre);
int  api_member_lock_prefetch(struct req *r, struct db_batch *b);
int  api_member_role(struct req *r, struct db_batch *pre);
int  api_member_remove(struct req *r, struct db_batch *pre);
int  api_invite_list_prefetch(struct req *r, struct db_batch *b);
int  api_invite_list(struct req *r, struct db_batch *pre);
int  api_invite_revoke(struct req *r, struct db_batch *pre);
int  api_invite_accept(struct req *r, struct db_batch *pre);

/* Settings (settings.c). */
int  api_settings_get_prefetch(struct req *r, struct db_batch *b);
int  api_settings_get(struct req *r, struct db_batch *pre);
int  api_settings_put_prefetch(struct req *r, struct db_batch *b);
int  api_settings_put(struct req *r, struct db_batch *pre);
int  api_webhook_secret(struct req *r, struct db_batch *pre);

/* Activity (activity.c). */
int  api_activity_prefetch(struct req *r, struct db_batch *b);
int  api_activity(struct req *r, struct db_batch *pre);

/* API keys (keys.c). */
int  api_key_list_prefetch(struct req *r, struct db_batch *b);
int  api_key_list(struct req *r, struct db_batch *pre);
int  api_key_feature_prefetch(struct req *r, struct db_batch *b);
int  api_key_create(struct req *r, struct db_batch *pre);
int  api_key_rotate(struct req *r, struct db_batch *pre);
int  api_key_revoke(struct req *r, struct db_batch *pre);

/* Usage and limits (usage.c). */
int  api_usage_prefetch(struct req *r, struct db_batch *b);
int  api_usage_current(struct req *r, struct db_batch *pre);
int  api_usage_ingest(struct req *r, struct db_batch *pre);
int  api_quotas(struct req *r, struct db_batch *pre);
int  api_limits_prefetch(struct req *r, struct db_batch *b);
int  api_limits(struct req *r, struct db_batch *pre);
/* {meter: {used, limit, percentage, period, unit}} from ST_USAGE_METERS rows; NULL on OOM. */
struct json_object *api_usage_quotas_now(struct req *r, const PGresult *res);

/* Billing (billing.c). */
int  api_billing_usage_prefetch(struct req *r, struct db_batch *b);
int  api_billing_usage(struct req *r, struct db_batch *pre);
/* The body of the usage (or, with quotas, the quota) answer, not sent: 0 with *out the caller's, or the error written. */
int  api_billing_build(struct req *r, struct db_batch *pre, bool quotas, struct json_object **out);
int  api_billing_quota(struct req *r, struct db_batch *pre);
int  api_billing_tenant_prefetch(struct req *r, struct db_batch *b);
int  api_billing_tenant(struct req *r, struct db_batch *pre);

/* Users (users.c). */
int  api_user_create(struct req *r, struct db_batch *pre);

/* Shared helpers (common.c). */
#define AUDIT_NPARAMS 5
/* The five audit parameters of a mutation by r's principal into p[0..4]. */
void api_audit(const struct req *r, const char **p);
/*
 * page (>= 1, default 1), limit (1..100, default 50) and cursor (a list's
 * next_cursor: keyset paging, then the offset is 0 and page is the one the
 * cursor names; page and cursor together are 400) from the query string;
 * 0, or 400 written. The offset, the cursor's timestamp (µs, text) and id
 * (NULL without a cursor) and the text forms go to the arena.
 */
struct page {
	int         page, limit;
	const char *page_s, *limit_s, *offset_s;
	const char *cursor_ts, *cursor_id;
};
int  api_page(struct req *r, struct page *pg);
/* A details array with one {"field","problem"} entry; or just the entry. */
struct json_object *api_detail(const char *field, const char *problem);
struct json_object *api_detail_obj(const char *field, const char *problem);
/* A query parameter; NULL when absent or empty. */
const char *api_query(const struct req *r, const char *key);
/* Map a failed db status to its response. */
int  api_db_fail(struct req *r, enum db_status st);
/* Send column 0 of row 0 (JSON built by PostgreSQL) with status. */
int  api_send_pg_json(struct req *r, int status, const PGresult *res);

#endif
