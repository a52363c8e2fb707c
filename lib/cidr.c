#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "xalloc.h"

#define FAM4	4
#define FAM6	6
#define LEN4	32
#define LEN6	128

/* A network: family (0 marks an empty slot), prefix length, and the
 * address with every bit beyond the prefix cleared; IPv4 in addr[0..3]. */
struct net {
	uint8_t fam;
	uint8_t len;
	uint8_t addr[16];
};

struct cidr_list {
	struct net *slot;	/* open addressing, linear probing */
	size_t cap;		/* a power of two, or 0 */
	size_t count;
	size_t nlen4[LEN4 + 1];	/* networks of each prefix length */
	size_t nlen6[LEN6 + 1];
};

static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);	/* cut is fine */
	va_end(ap);
}

static uint64_t
hash(const struct net *n)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, then mixed */
	size_t i, alen = (n->fam == FAM4 ? 4 : 16);

	h = (h ^ n->fam) * 0x100000001b3ULL;
	h = (h ^ n->len) * 0x100000001b3ULL;
	for (i = 0; i < alen; i++)
		h = (h ^ n->addr[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static int
same(const struct net *a, const struct net *b)
{
	return a->fam == b->fam && a->len == b->len &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Clear the bits of addr beyond len (bits counted from the first byte). */
static void
mask(uint8_t *addr, size_t alen, unsigned int len)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		if (len >= 8)
			len -= 8;
		else {
			addr[i] &= (uint8_t)(0xff00 >> len);
			len = 0;
		}
	}
}

static int
lookup(const struct cidr_list *l, const struct net *n)
{
	size_t i;

	if (l->cap == 0)
		return 0;
	for (i = hash(n) & (l->cap - 1); l->slot[i].fam != 0;
	    i = (i + 1) & (l->cap - 1))
		if (same(&l->slot[i], n))
			return 1;
	return 0;
}

static void
place(struct net *slot, size_t cap, const struct net *n)
{
	size_t i;

	for (i = hash(n) & (cap - 1); slot[i].fam != 0; i = (i + 1) & (cap - 1))
		;
	slot[i] = *n;
}

static void
insert(struct cidr_list *l, const struct net *n)
{
	struct net *slot;
	size_t i, cap;

	if (lookup(l, n))
		return;
	/* keep the load at most one half */
	if ((l->count + 1) * 2 > l->cap) {
		cap = l->cap ? l->cap * 2 : 16;
		slot = xcalloc(cap, sizeof(*slot));
		for (i = 0; i < l->cap; i++)
			if (l->slot[i].fam != 0)
				place(slot, cap, &l->slot[i]);
		free(l->slot);
		l->slot = slot;
		l->cap = cap;
	}
	place(l->slot, l->cap, n);
	l->count++;
	if (n->fam == FAM4)
		l->nlen4[n->len]++;
	else
		l->nlen6[n->len]++;
}

struct cidr_list *
cidr_new(void)
{
	return xcalloc(1, sizeof(struct cidr_list));
}

void
cidr_free(struct cidr_list *l)
{
	if (l == NULL)
		return;
	free(l->slot);
	free(l);
}

size_t
cidr_count(const struct cidr_list *l)
{
	return l == NULL ? 0 : l->count;
}

/* The address in the n bytes at s into ss.  Returns 0, or -1. */
static int
parse_addr(const char *s, size_t n, struct sockaddr_storage *ss)
{
	char text[CIDR_TEXT_MAX];

	if (n == 0 || n >= sizeof(text) || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (memchr(text, ':', n) == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		return inet_pton(AF_INET, text, &sin->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		return inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1 ?
		    0 : -1;
	}
}

int
cidr_parse_addr(const char *text, struct sockaddr_storage *ss)
{
	if (parse_addr(text, strlen(text), ss) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* The key of sa: IPv4, IPv4-mapped IPv6 as IPv4, or IPv6; len the
 * longest.  Returns 0, or -1 for another family. */
static int
key_of(const struct sockaddr *sa, struct net *n)
{
	memset(n, 0, sizeof(*n));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		n->fam = FAM4;
		n->len = LEN4;
		memcpy(n->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			n->fam = FAM4;
			n->len = LEN4;
			memcpy(n->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			n->fam = FAM6;
			n->len = LEN6;
			memcpy(n->addr, &sin6->sin6_addr, 16);
		}
	} else
		return -1;
	return 0;
}

/* "ADDR[/LEN]" in the n bytes at s into *net.  Returns 0, or -1 with the
 * reason in err. */
static int
parse_net(const char *s, size_t n, struct net *net, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	const char *slash;
	unsigned int len, max;
	size_t alen, i, plen;
	int mapped6 = 0;
	char text[CIDR_TEXT_MAX];
	uint8_t orig[16];

	slash = memchr(s, '/', n);
	alen = (slash != NULL ? (size_t)(slash - s) : n);
	if (parse_addr(s, alen, &ss) == -1) {
		say(err, errsz, "%.*s: not an IPv4 or IPv6 address",
		    (int)(n > 200 ? 200 : n), s);
		return -1;
	}
	memset(net, 0, sizeof(*net));
	if (ss.ss_family == AF_INET) {
		net->fam = FAM4;
		max = LEN4;
		memcpy(net->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		net->fam = FAM6;
		max = LEN6;
		memcpy(net->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		mapped6 = IN6_IS_ADDR_V4MAPPED(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr);
	}
	len = max;
	if (slash != NULL) {
		/* 1 to 3 digits, no leading zero, at most max */
		plen = n - alen - 1;
		len = 0;
		if (plen == 0 || plen > 3 || (slash[1] == '0' && plen > 1))
			len = max + 1;
		for (i = 0; i < plen && len <= max; i++) {
			char c = slash[1 + i];

			if (c < '0' || c > '9')
				len = max + 1;
			else
				len = len * 10 + (unsigned int)(c - '0');
		}
		if (len > max) {
			say(err, errsz, "%.*s: bad prefix length (0 to %u)",
			    (int)(n > 200 ? 200 : n), s, max);
			return -1;
		}
	}
	net->len = (uint8_t)len;
	memcpy(orig, net->addr, sizeof(orig));
	mask(net->addr, net->fam == FAM4 ? 4 : 16, len);
	if (memcmp(orig, net->addr, sizeof(orig)) != 0) {
		if (inet_ntop(net->fam == FAM4 ? AF_INET : AF_INET6, net->addr,
		    text, sizeof(text)) == NULL)
			text[0] = '\0';
		say(err, errsz, "%.*s: host bits set beyond /%u "
		    "(the network is %s/%u)", (int)(n > 200 ? 200 : n), s,
		    len, text, len);
		return -1;
	}
	if (mapped6 && len >= 96) {
		/* ::ffff:a.b.c.d/96+L is the IPv4 network a.b.c.d/L */
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->fam = FAM4;
		net->len = (uint8_t)(len - 96);
	}
	return 0;
}

static int
add_n(struct cidr_list *l, const char *s, size_t n, char *err, size_t errsz)
{
	struct net net;

	if (parse_net(s, n, &net, err, errsz) == -1)
		return -1;
	insert(l, &net);
	return 0;
}

int
cidr_add(struct cidr_list *l, const char *text, char *err, size_t errsz)
{
	return add_n(l, text, strlen(text), err, errsz);
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

int
cidr_add_list(struct cidr_list *l, const char *list, char *err,
    size_t errsz)
{
	const char *p = list, *e, *end;
	size_t nth;

	for (e = p; blank(*e); e++)
		;
	if (*e == '\0')
		return 0;
	for (nth = 1; ; nth++) {
		while (blank(*p))
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (e = end; e > p && blank(e[-1]); e--)
			;
		if (e == p) {
			say(err, errsz, "entry %zu is empty", nth);
			return -1;
		}
		if (add_n(l, p, (size_t)(e - p), err, errsz) == -1)
			return -1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

int
cidr_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	struct net key, n;
	const size_t *nlen;
	size_t alen;
	int len;

	if (l == NULL || l->count == 0 || key_of(sa, &key) == -1)
		return 0;
	nlen = (key.fam == FAM4 ? l->nlen4 : l->nlen6);
	alen = (key.fam == FAM4 ? 4 : 16);
	for (len = key.len; len >= 0; len--) {
		if (nlen[len] == 0)
			continue;
		n = key;
		n.len = (uint8_t)len;
		mask(n.addr, alen, (unsigned int)len);
		if (lookup(l, &n))
			return 1;
	}
	return 0;
}

int
cidr_addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	struct net key;
	char text[CIDR_TEXT_MAX];

	if (size > 0)
		buf[0] = '\0';
	if (key_of(sa, &key) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (inet_ntop(key.fam == FAM4 ? AF_INET : AF_INET6, key.addr, text,
	    sizeof(text)) == NULL)
		return -1;
	if (strlen(text) >= size) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, text, strlen(text) + 1);
	return 0;
}
