/* notify.c: tenantryctl notify: deliver usage-threshold notifications from the outbox by email and signed webhook. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "net/mail.h"
#include "net/webhook.h"
#include "ctl/ctl.h"
#include "ctl/notify.h"

/*
 * The ingesting transaction writes one outbox row per threshold, meter and
 * period (a unique key). This loop claims due rows with a lease (so two
 * notifiers never work on one row at once), sends each channel that has
 * not gone out yet, and records each success at once: a channel that
 * succeeded is never sent again, one that failed is retried with backoff,
 * forever, and a row is done when every channel it needs has gone out.
 * Delivery is at least once: a crash between sending and recording sends
 * that channel again (receivers dedupe on X-Tenantry-Delivery).
 */

#define CLAIM_BATCH   50
#define FOLLOW_WAIT_S 30

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Columns of ST_OUTBOX_CLAIM. */
enum { O_ID, O_TENANT, O_METER, O_THRESHOLD, O_PERIOD, O_USED, O_LIMIT, O_ATTEMPTS,
       O_EMAIL_DONE, O_WEBHOOK_DONE, O_CREATED };
/* Columns of ST_OUTBOX_CONTEXT. */
enum { X_NAME, X_SLUG, X_EMAIL_ON, X_WEBHOOK, X_RECIPIENTS, X_UNIT };

struct notice {
	const char *id, *tenant, *meter, *period, *created;
	const char *name, *slug, *webhook, *recipients, *unit;
	int         threshold, attempts;
	long long   used, limit;
	bool        email_on, email_done, webhook_done;
};

/* Header-safe copy: CR, LF and other controls become spaces. */
static const char *
header_safe(struct arena *a, const char *s)
{
	char *c = arena_strdup(a, s ? s : "");

	for (char *p = c; p != NULL && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

/* The notification email to the owners and admins; true if sendmail took it. */
static bool
send_email(struct ctl *c, const struct notice *n)
{
	struct buf m;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	bool ok;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_init(&m);
	buf_printf(&m, "To: %s\r\nFrom: tenantry <no-reply@tenantry.invalid>\r\n"
	    "Subject: [tenantry] %s: %s at %d%% of its limit\r\nDate: %s\r\n"
	    "Message-ID: <notification-%s@tenantry.invalid>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
	    header_safe(c->a, n->recipients), header_safe(c->a, n->slug), n->meter, n->threshold,
	    date, n->id);
	buf_printf(&m, "The workspace \"%s\" has reached %d%% of its %s limit in the period "
	    "starting %s: %lld of %lld %s used.\r\n\r\n", n->name, n->threshold, n->meter, n->period,
	    n->used, n->limit, n->unit ? n->unit : n->meter);
	if (n->threshold >= 100)
		buf_printf(&m, "Usage above the limit is accepted up to the plan's grace; after that "
		    "new usage is refused until the period ends or the plan changes.\r\n");
	else
		buf_printf(&m, "Nothing is refused yet. Consider a larger plan before the limit "
		    "is reached.\r\n");
	ok = !m.oom && net_mail_send(c->cfg.sendmail, m.p, m.len, 10000, "notify");
	buf_release(&m);
	return ok;
}

/* The webhook body (JSON) of a notification, in the arena. */
static const char *
webhook_body(struct ctl *c, const struct notice *n)
{
	struct json_object *o = json_object_new_object(), *t = json_object_new_object();
	const char *s;

	json_object_object_add(o, "id", json_object_new_string(n->id));
	json_object_object_add(o, "type", json_object_new_string("usage.threshold_reached"));
	json_object_object_add(o, "created_at", json_object_new_string(n->created));
	json_object_object_add(t, "id", json_object_new_string(n->tenant));
	json_object_object_add(t, "slug", json_object_new_string(n->slug));
	json_object_object_add(t, "name", json_object_new_string(n->name));
	json_object_object_add(o, "tenant", t);
	json_object_object_add(o, "meter", json_object_new_string(n->meter));
	json_object_object_add(o, "unit", json_object_new_string(n->unit ? n->unit : ""));
	json_object_object_add(o, "threshold", json_object_new_int(n->threshold));
	json_object_object_add(o, "period_start", json_object_new_string(n->period));
	json_object_object_add(o, "used", json_object_new_int64(n->used));
	json_object_object_add(o, "limit", json_object_new_int64(n->limit));
	s = arena_strdup(c->a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* POST the notification to the tenant's webhook; true on a 2xx. err gets the reason. */
static bool
send_webhook(struct ctl *c, const struct notice *n, const struct webhook_opts *wo,
    char *err, size_t errlen)
{
	const char *body = webhook_body(c, n);
	char key[64], sig[72];
	const char *hdr[4];
	int status;

	if (body == NULL || !net_webhook_key(c->cfg.jwt_secret, c->cfg.jwt_secret_len, n->tenant, key) ||
	    !net_webhook_sign((const unsigned char *)key, strlen(key), body, strlen(body), sig)) {
		snprintf(err, errlen, "could not sign the webhook");
		return false;
	}
	hdr[0] = arena_printf(c->a, "X-Tenantry-Signature: %s", sig);
	hdr[1] = "X-Tenantry-Event: usage.threshold_reached";
	hdr[2] = arena_printf(c->a, "X-Tenantry-Delivery: %s", n->id);
	hdr[3] = NULL;
	status = net_webhook_post(wo, n->webhook, hdr, body, strlen(body), err, errlen);
	if (status >= 200 && status < 300)
		return true;
	if (status > 0)
		snprintf(err, errlen, "the webhook answered %d", status);
	return false;
}

/* One claimed row: read its tenant's recipients, send what is missing, record it. */
static bool
deliver(struct ctl *c, const PGresult *claim, int row, const struct webhook_opts *wo)
{
	struct db_batch b = { .begin = true, .commit = true }, mark = { .begin = true, .commit = true };
	struct notice n = {
		.id = db_val(claim, row, O_ID), .tenant = db_val(claim, row, O_TENANT),
		.meter = db_val(claim, row, O_METER), .period = db_val(claim, row, O_PERIOD),
		.created = db_val(claim, row, O_CREATED),
		.threshold = (int)db_i64(claim, row, O_THRESHOLD),
		.attempts = (int)db_i64(claim, row, O_ATTEMPTS),
		.used = db_i64(claim, row, O_USED), .limit = db_i64(claim, row, O_LIMIT),
		.email_done = db_bool(claim, row, O_EMAIL_DONE),
		.webhook_done = db_bool(claim, row, O_WEBHOOK_DONE),
	};
	const PGresult *x;
	bool need_email, need_webhook, email_ok = false, webhook_ok = false, done;
	char err[256] = "", werr[256] = "";
	const char *delay;

	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_SET_TENANT, 1, n.tenant);
	db_add(&b, ST_OUTBOX_CONTEXT, 1, n.meter);
	if (ctl_exec(c, &b) != DB_OK)
		return false;
	x = b.q[2].res;
	if (db_rows(x) != 1)
		return false;
	n.name = db_val(x, 0, X_NAME);
	n.slug = db_val(x, 0, X_SLUG);
	n.email_on = db_bool(x, 0, X_EMAIL_ON);
	n.webhook = db_val(x, 0, X_WEBHOOK);
	n.recipients = db_val(x, 0, X_RECIPIENTS);
	n.unit = db_val(x, 0, X_UNIT);

	/* Email needs a sendmail command, the tenant's consent and someone to tell. */
	need_email = !n.email_done && n.email_on && n.recipients != NULL && c->cfg.sendmail != NULL;
	need_webhook = !n.webhook_done && n.webhook != NULL && *n.webhook != '\0';
	if (need_email && !(email_ok = send_email(c, &n)))
		snprintf(err, sizeof(err), "email: sendmail failed");
	if (need_webhook && !(webhook_ok = send_webhook(c, &n, wo, werr, sizeof(werr))))
		snprintf(err + strlen(err), sizeof(err) - strlen(err), "%swebhook: %s",
		    err[0] ? "; " : "", werr);
	done = (!need_email || email_ok) && (!need_webhook || webhook_ok);
	delay = arena_printf(c->a, "%d", done ? 0 : net_backoff_seconds(n.attempts));
	db_add(&mark, ST_AS_OPERATOR, 0);
	db_add(&mark, ST_OUTBOX_MARK, 6, n.id, email_ok ? "true" : "false", webhook_ok ? "true" : "false",
	    done ? "true" : "false", err[0] ? err : NULL, delay);
	if (ctl_exec(c, &mark) != DB_OK)
		return false;
	log_info("notify", "notification %s (%s %s %d%%): email %s, webhook %s%s%s", n.id, n.slug,
	    n.meter, n.threshold, email_ok ? "sent" : need_email ? "failed" : "not needed",
	    webhook_ok ? "sent" : need_webhook ? "failed" : "not needed",
	    done ? "" : "; retry in ", done ? "" : delay);
	return true;
}

/* Claim and deliver until nothing is due. Returns the number handled, -1 on a database error. */
static int
notify_pass(struct ctl *c, const struct webhook_opts *wo)
{
	char lim[16];
	int handled = 0;

	snprintf(lim, sizeof(lim), "%d", CLAIM_BATCH);
	while (!stop_requested) {
		struct db_batch b = { .begin = true, .commit = true };
		const PGresult *claim;

		db_add(&b, ST_AS_OPERATOR, 0);
		db_add(&b, ST_OUTBOX_CLAIM, 1, lim);
		if (ctl_exec(c, &b) != DB_OK)
			return -1;
		claim = b.q[1].res;
		if (db_rows(claim) == 0)
			break;
		for (int i = 0; i < db_rows(claim); i++)
			if (deliver(c, claim, i, wo))
				handled++;
		arena_reset(c->a);
	}
	return handled;
}

/*
 * Wait for a NOTIFY on tenantry_outbox (an ingestion crossed a threshold)
 * or the timeout, whichever comes first. false if the listener broke.
 */
static bool
wait_wakeup(PGconn *l, int timeout_s)
{
	struct pollfd p = { .fd = PQsocket(l), .events = POLLIN };
	PGnotify *nf;

	if (p.fd < 0)
		return false;
	if (poll(&p, 1, timeout_s * 1000) < 0)
		return errno == EINTR;
	if (!PQconsumeInput(l))
		return false;
	while ((nf = PQnotifies(l)) != NULL)
		PQfreemem(nf);
	return true;
}

static PGconn *
listen_open(const char *url)
{
	PGconn *l = PQconnectdb(url);
	PGresult *r;

	if (PQstatus(l) != CONNECTION_OK) {
		PQfinish(l);
		return NULL;
	}
	r = PQexec(l, "LISTEN tenantry_outbox");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		PQfinish(l);
		return NULL;
	}
	PQclear(r);
	return l;
}

int
cmd_notify(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "follow", no_argument, NULL, 'f' },
	    { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *priv = getenv("TENANTRY_WEBHOOK_ALLOW_PRIVATE");
	struct webhook_opts wo = {
		.ca_file = getenv("TENANTRY_WEBHOOK_CA_FILE"),
		.allow_private = priv != NULL && strcmp(priv, "1") == 0,
		.timeout_ms = 10000,
	};
	struct sigaction sa;
	bool follow = false;
	PGconn *l = NULL;
	int o, n;

	while ((o = getopt_long(argc, argv, "fh", lo, NULL)) != -1) {
		if (o == 'f') {
			follow = true;
		} else {
			printf("usage: tenantryctl notify [--follow]\n"
			    "Deliver due usage notifications (80/90/100%% of a limit) to each tenant's\n"
			    "owners and admins by email (TENANTRY_SENDMAIL) and to its\n"
			    "notifications.webhook_url by a POST signed with X-Tenantry-Signature.\n"
			    "Failed deliveries are retried with backoff (30 s doubling, at most 6 h).\n"
			    "Without --follow: one pass, then exit. With --follow: keep running, woken by\n"
			    "LISTEN tenantry_outbox and every %d s for retries; SIGTERM ends it.\n"
			    "TENANTRY_WEBHOOK_CA_FILE adds a trusted CA; TENANTRY_WEBHOOK_ALLOW_PRIVATE=1\n"
			    "allows webhook addresses on private networks (refused by default).\n",
			    FOLLOW_WAIT_S);
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!follow) {
		if ((n = notify_pass(c, &wo)) < 0)
			return EX_FAIL;
		printf("notify: %d notification%s handled\n", n, n == 1 ? "" : "s");
		return EX_DONE;
	}
	log_info("notify", "following the outbox");
	while (!stop_requested) {
		/* Listen before the pass, so a wake-up during it is not lost. */
		if (l == NULL && (l = listen_open(c->cfg.database_url)) == NULL)
			log_warn("notify", "cannot LISTEN (database down?); trying again in 2 s");
		if (notify_pass(c, &wo) < 0)
			log_warn("notify", "database unavailable; trying again");
		if (stop_requested)
			break;
		if (l == NULL) {
			sleep(2);   /* SIGTERM cuts it short */
		} else if (!wait_wakeup(l, FOLLOW_WAIT_S)) {
			PQfinish(l);
			l = NULL;
		}
	}
	if (l != NULL)
		PQfinish(l);
	log_info("notify", "stopped");
	return EX_DONE;
}
