/* members.c: the owner rules for changing who belongs to a tenant, as one pure function. */
#include "auth/members.h"

static struct member_verdict
verdict(int status, const char *code, const char *message)
{
	return (struct member_verdict){ status, code, message };
}

struct member_verdict
auth_member_change(const struct member_change *c)
{
	bool owner_power = c->superadmin || c->actor == ROLE_OWNER;

	if (!c->invite && c->from == ROLE_NONE)
		return verdict(404, "user_not_found", "that user is not a member of this tenant");
	if ((c->from == ROLE_OWNER || c->to == ROLE_OWNER) && !owner_power)
		return verdict(403, "permission_denied",
		    "only an owner can grant, change or remove the owner role");
	if (c->self && !c->superadmin && c->to > c->from && !c->invite)
		return verdict(403, "permission_denied", "you cannot raise your own role");
	if (!c->invite && c->from == ROLE_OWNER && c->to != ROLE_OWNER && c->owners <= 1)
		return verdict(409, "conflict",
		    "the last owner can be neither removed nor demoted; make someone else owner first");
	return verdict(0, NULL, NULL);
}
