/* ops.c: /health (the process answers) and /ready (the database answers). */
#include "api/api.h"
#include "http/response.h"
#include "http/worker.h"

/* 200 "ok": no database, so a load balancer can tell a live worker from a dead one. */
int
api_health(struct req *r, struct db_batch *pre)
{
	return http_text(r, 200, "text/plain", "ok\n", 3);
}

/* 200 "ready" when PostgreSQL answers SELECT 1, else 503 "unavailable". */
int
api_ready(struct req *r, struct db_batch *pre)
{
	if (db_ping(r->w->db, r->a, r->request_id))
		return http_text(r, 200, "text/plain", "ready\n", 6);
	http_header(r, "Retry-After", "5");
	return http_text(r, 503, "text/plain", "unavailable\n", 12);
}
