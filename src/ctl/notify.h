/* notify.h: tenantryctl notify, the outbox delivery loop (notify.c). */
#ifndef TENANTRY_CTL_NOTIFY_H
#define TENANTRY_CTL_NOTIFY_H

struct ctl;

/* tenantryctl notify [--follow] [--batch N]. */
int cmd_notify(struct ctl *c, int argc, char **argv);

#endif
