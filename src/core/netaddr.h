/* netaddr.h: IP addresses and CIDR lists: the IP allow-list and the trusted proxies. */
#ifndef TENANTRY_NETADDR_H
#define TENANTRY_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

/* An IPv4 address is kept as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so one rule fits both. */
struct netaddr {
	unsigned char b[16];
};

/* A literal IPv4 or IPv6 address (no port, no brackets, no zone); false if it is not one. */
bool core_addr_parse(const char *s, struct netaddr *out);
/* Parse "addr" or "addr/bits" (bits 0..32 for IPv4, 0..128 for IPv6, no leading zeros). */
bool core_cidr_parse(const char *s, struct netaddr *net, int *bits);
/* Is a inside net/bits? (bits counted in the address's own family) */
bool core_cidr_contains(const struct netaddr *net, int bits, const struct netaddr *a);
/*
 * Is a inside any CIDR of list, a string of CIDRs separated by spaces or
 * commas? An entry that does not parse matches nothing. An empty list
 * matches nothing (the caller decides what an empty list means).
 */
bool core_cidr_list_contains(const char *list, const struct netaddr *a);
/* Does the list hold no entry at all? (NULL, "", blanks) */
bool core_cidr_list_empty(const char *list);
/* Is every entry a CIDR? If not, the first that is not goes to bad (cap bytes, truncated). */
bool core_cidr_list_valid(const char *list, char *bad, size_t cap);

/*
 * The client's address as the application sees it: remote (the peer of the
 * web server, REMOTE_ADDR), unless remote is one of the trusted proxies
 * (a CIDR list; NULL or empty: none), in which case X-Forwarded-For (xff)
 * is read from the right, skipping trusted proxies, and the first address
 * that is not one is the client (a malformed entry stops the walk and the
 * last trusted hop is the client). Writes its text form into out (at least
 * 46 bytes); false only if remote itself is not an address.
 */
bool core_client_addr(const char *remote, const char *xff, const char *trusted, char *out,
    size_t cap);

#endif
