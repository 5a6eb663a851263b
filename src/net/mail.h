/* mail.h: hand an RFC 5322 message to the configured sendmail command. */
#ifndef TENANTRY_MAIL_H
#define TENANTRY_MAIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Run cmd (TENANTRY_SENDMAIL, through /bin/sh) with msg on its standard
 * input and wait for it, at most timeout_ms; a command still running then
 * is killed. The child starts with default signal handling and an empty
 * signal mask. True if it exited 0. Logs the failure (never the message).
 */
bool net_mail_send(const char *cmd, const char *msg, size_t len, int timeout_ms,
    const char *request_id);

#endif
