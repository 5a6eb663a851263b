/* common.c: helpers shared by the JSON handlers. */
#include "api/api.h"
#include "http/response.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "http/request.h"

int
api_db_fail(struct req *r, enum db_status st)
{
	switch (st) {
	case DB_UNAVAILABLE: return http_error_default(r, 503);
	case DB_CONFLICT:    return http_error_default(r, 409);
	case DB_REFUSED:     return http_error(r, 400, "invalid_request", "the request was refused by a data rule");
	default:             return http_error_default(r, 500);
	}
}

int
api_send_pg_json(struct req *r, int status, const PGresult *res)
{
	const char *j = db_val(res, 0, 0);

	if (j == NULL)
		return http_error_default(r, 404);
	return http_json_raw(r, status, j, strlen(j));
}

void
api_audit(const struct req *r, const char **p)
{
	if (r->who.cred == CRED_API_KEY) {
		p[0] = "api_key";
		p[1] = r->who.key_id;
		p[2] = r->who.key_name;
		p[3] = r->request_id;
		p[4] = r->client;
		return;
	}
	p[0] = "user";
	p[1] = r->who.user_id;
	p[2] = r->who.email;
	p[3] = r->request_id;
	p[4] = r->client;
}

const char *
api_query(const struct req *r, const char *key)
{
	const char *v = http_kv_get(r->qv, r->nqv, key);

	return (v != NULL && *v != '\0') ? v : NULL;
}

/*
 * A list cursor "<page>.<µs>.<uuid>" (stmt.c's NEXT_CURSOR): the page it
 * leads to, the last row's timestamp in microseconds and its id. Opaque to
 * clients; anything else is refused.
 */
static bool
cursor_parse(struct req *r, const char *c, struct page *pg)
{
	const char *d1 = strchr(c, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	char num[24];
	int64_t page, us;
	char *id;

	if (d1 == NULL || d2 == NULL || d1 - c >= (ptrdiff_t)sizeof(num) ||
	    d2 - d1 - 1 >= (ptrdiff_t)sizeof(num) || !core_uuid_valid(d2 + 1))
		return false;
	memcpy(num, c, (size_t)(d1 - c));
	num[d1 - c] = '\0';
	if (!core_parse_i64(num, 2, 1000000, &page))
		return false;
	memcpy(num, d1 + 1, (size_t)(d2 - d1 - 1));
	num[d2 - d1 - 1] = '\0';
	/* 1970 to 9999: what a timestamptz of ours can hold. */
	if (!core_parse_i64(num, 0, INT64_C(253402300799999999), &us))
		return false;
	if ((id = arena_strdup(r->a, d2 + 1)) == NULL)
		return false;
	core_uuid_lower(id, id);
	pg->page = (int)page;
	pg->cursor_ts = arena_printf(r->a, "%lld", (long long)us);
	pg->cursor_id = id;
	return pg->cursor_ts != NULL;
}

int
api_page(struct req *r, struct page *pg)
{
	const char *p = api_query(r, "page"), *l = api_query(r, "limit"), *c = api_query(r, "cursor");
	int64_t pv = 1, lv = 50;

	if ((p != NULL && !core_parse_i64(p, 1, 1000000, &pv)) ||
	    (l != NULL && !core_parse_i64(l, 1, 100, &lv)))
		return http_error(r, 400, "invalid_request",
		    "page must be an integer >= 1 and limit an integer from 1 to 100");
	pg->page = (int)pv;
	pg->limit = (int)lv;
	pg->cursor_ts = pg->cursor_id = NULL;
	if (c != NULL) {
		if (p != NULL)
			return http_error(r, 400, "invalid_request", "give either page or cursor, not both");
		if (strlen(c) > 80 || !cursor_parse(r, c, pg))
			return http_error(r, 400, "invalid_request", "cursor is not valid");
		pv = 1;   /* the cursor says where the page starts: no offset */
	}
	pg->page_s = arena_printf(r->a, "%d", pg->page);
	pg->limit_s = arena_printf(r->a, "%d", pg->limit);
	pg->offset_s = arena_printf(r->a, "%lld", (long long)(pv - 1) * lv);
	return 0;
}

struct json_object *
api_detail_obj(const char *field, const char *problem)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "field", json_object_new_string(field));
	json_object_object_add(d, "problem", json_object_new_string(problem));
	return d;
}

struct json_object *
api_detail(const char *field, const char *problem)
{
	struct json_object *a = json_object_new_array();

	json_object_array_add(a, api_detail_obj(field, problem));
	return a;
}
