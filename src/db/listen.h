/* listen.h: the worker's second PostgreSQL connection, which only LISTENs for cache invalidations. */
#ifndef TENANTRY_LISTEN_H
#define TENANTRY_LISTEN_H

#include <stdbool.h>

/* The channel every cache-relevant change notifies (sql/005_cache.sql). */
#define LISTEN_CHANNEL "tenantry_cache"
/* Its application_name, so operators (and tests) can find the listeners. */
#define LISTEN_APPNAME "tenantry.fcgi listen"

struct db_listen;

/*
 * conninfo is borrowed and must outlive the listener; it must reach
 * PostgreSQL directly (LISTEN does not survive PgBouncer's transaction
 * mode). Nothing is connected until the first poll.
 */
struct db_listen *db_listen_new(const char *conninfo);
void              db_listen_free(struct db_listen *l);

/*
 * Never blocks. Connects (asynchronously, retrying every second while
 * PostgreSQL is away), sends LISTEN, and hands every notification that has
 * arrived to fn(arg, payload). Returns true while LISTEN is in effect on a
 * live connection that keeps up (its ping, if one is out, is younger than
 * 50 ms): only then may a cache be used. *changed is set when the
 * connection came up or was lost since the last poll: either way
 * notifications may have been missed, and the caller must drop everything
 * it cached.
 */
bool db_listen_poll(struct db_listen *l, double now_ms, bool *changed,
    void (*fn)(void *arg, const char *payload), void *arg);

/* The connection's socket, or -1 (for the idle wait). */
int  db_listen_socket(const struct db_listen *l);

/*
 * Every half second a live listener sends NOTIFY to a channel of its own;
 * notifications arrive in commit order, so when that one comes back, every
 * change committed before it was sent has arrived too. This is the
 * monotonic send time of the last ping that came back (0: none since the
 * connection came up). A ping not back within 2 s drops the connection.
 */
double db_listen_validated(const struct db_listen *l);

#endif
