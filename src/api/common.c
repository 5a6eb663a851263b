/* common.c: helpers shared by the JSON handlers. */
#include "api/api.h"
#include "http/response.h"

#include <string.h>

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
