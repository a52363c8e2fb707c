/*
 * cidr: lists of IPv4 and IPv6 networks, such as the load balancers
 * allowed to send a PROXY header or the client networks of a partner.
 *
 * An entry is "ADDR" (a single host) or "ADDR/LEN", IPv4 or IPv6, parsed
 * strictly with inet_pton(3): no leading zeros in IPv4 octets or in LEN,
 * no zone, no blanks, and no host bits set beyond the prefix
 * ("192.0.2.1/24" is an error that names 192.0.2.0/24).  An IPv6 entry
 * inside ::ffff:0:0/96 is stored as the IPv4 network it names, and an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as IPv4, so a
 * dual-stack listener matches IPv4 entries.  Other IPv6 entries (::/0
 * too) never match IPv4 addresses.
 *
 * Matching: the networks are kept in one hash set keyed by family, prefix
 * length and masked address.  A lookup masks the address once for each
 * prefix length present in the list, longest first, and probes the set:
 * its cost grows with the number of distinct lengths (at most 33 + 129),
 * not with the number of entries.  Duplicates are kept once.
 *
 * A list is built once, then only read: lookups on a list that no one
 * changes may run in several threads at once.
 */
#ifndef SLUICE_CIDR_H
#define SLUICE_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#define CIDR_TEXT_MAX	46	/* INET6_ADDRSTRLEN: address and NUL */

struct cidr_list;

/* An empty list.  Never NULL (out of memory exits 111); free with
 * cidr_free, which takes NULL too. */
struct cidr_list *cidr_new(void);
void cidr_free(struct cidr_list *);

/*
 * Add one entry, "ADDR" or "ADDR/LEN".  Returns 0, or -1 with the reason
 * in err (size errsz, cut to fit), naming the text, e.g.
 * "192.0.2.1/24: host bits set beyond /24 (the network is 192.0.2.0/24)".
 */
int cidr_add(struct cidr_list *, const char *text, char *err, size_t errsz);

/*
 * Add each entry of a comma list "a,b,c"; blanks (space, tab) around
 * entries are allowed, an empty entry is an error, a wholly blank list
 * adds nothing.  Returns 0, or -1 with the reason in err; entries before
 * the bad one stay added, so callers build a new list and drop it.
 */
int cidr_add_list(struct cidr_list *, const char *commalist, char *err,
    size_t errsz);

/*
 * 1 if the address of sa (AF_INET or AF_INET6; the port is ignored) is in
 * one of the networks, 0 if not, or if sa is of another family or the
 * list is NULL.
 */
int cidr_match(const struct cidr_list *, const struct sockaddr *sa);

/* The number of distinct networks in the list (0 for NULL). */
size_t cidr_count(const struct cidr_list *);

/*
 * One address (no "/LEN") into ss: AF_INET or AF_INET6, port 0, by the
 * same strict rules.  Returns 0, or -1 (errno EINVAL) if text is not an
 * address.  IPv4-mapped IPv6 text stays AF_INET6.
 */
int cidr_parse_addr(const char *text, struct sockaddr_storage *ss);

/*
 * The printable address of sa (no port) into buf, NUL-terminated; an
 * IPv4-mapped IPv6 address is written as IPv4.  size CIDR_TEXT_MAX is
 * always enough.  Returns 0, or -1 with errno EAFNOSUPPORT (not AF_INET
 * or AF_INET6) or ENOSPC (buf too small; buf is then "").
 */
int cidr_addr_text(const struct sockaddr *sa, char *buf, size_t size);

#endif
