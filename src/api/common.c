/* common.c: helpers shared by the JSON handlers. */
#include "api/api.h"
#include "http/response.h"

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

int
api_page(struct req *r, struct page *pg)
{
	const char *p = api_query(r, "page"), *l = api_query(r, "limit");
	int64_t pv = 1, lv = 50;

	if ((p != NULL && !core_parse_i64(p, 1, 1000000, &pv)) ||
	    (l != NULL && !core_parse_i64(l, 1, 100, &lv)))
		return http_error(r, 400, "invalid_request",
		    "page must be an integer >= 1 and limit an integer from 1 to 100");
	pg->page = (int)pv;
	pg->limit = (int)lv;
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
