#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "proxy.h"

static const unsigned char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define V1_FIELDS	6	/* PROXY PROTO SRC DST SPORT DPORT */
#define V4_TEXT_MAX	15	/* 255.255.255.255 */
#define V6_TEXT_MAX	45	/* ffff:...:ffff:255.255.255.255 */

static enum proxy_status __attribute__((format(printf, 3, 4)))
bad(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errsz, fmt, ap);	/* cut is fine */
		va_end(ap);
	}
	return PROXY_BAD;
}

/* A port in decimal: 1 to 5 digits, no leading zero, at most 65535.
 * Returns 0 and sets *port, or -1. */
static int
v1_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Could s (len bytes, the start of a field) still become a port? */
static int
v1_port_prefix(const char *s, size_t len)
{
	uint16_t port;

	if (len == 0)
		return 1;
	return v1_port(s, len, &port) == 0;
}

/* An address of family af into ss, port 0.  Returns 0, or -1. */
static int
v1_addr(int af, const char *s, size_t len, struct sockaddr_storage *ss)
{
	char text[V6_TEXT_MAX + 1];

	if (len == 0 || len > (af == AF_INET ? V4_TEXT_MAX : V6_TEXT_MAX))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	/* the one address parser (cidr), then the family the line named */
	if (cidr_parse_addr(text, ss) == -1 || ss->ss_family != af)
		return -1;
	return 0;
}

/* Could s still become an address of family af?  Only the characters and
 * the length are checked; inet_pton decides once the field is whole. */
static int
v1_addr_prefix(int af, const char *s, size_t len)
{
	size_t i;

	if (len > (af == AF_INET ? V4_TEXT_MAX : V6_TEXT_MAX))
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= '0' && c <= '9') || c == '.')
			continue;
		if (af == AF_INET6 && (c == ':' || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			continue;
		return 0;
	}
	return 1;
}

/* Are the len bytes at s the beginning of word? */
static int
prefix_of(const char *s, size_t len, const char *word)
{
	return len <= strlen(word) && memcmp(s, word, len) == 0;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static const char *const v1_what[V1_FIELDS] = {
	"signature", "protocol", "source address", "destination address",
	"source port", "destination port"
};

/*
 * Version 1.  The line is checked field by field as far as it goes, so a
 * wrong beginning is refused before its CRLF arrives.
 */
static enum proxy_status
v1_parse(const char *p, size_t n, size_t *used, struct proxy_info *info,
    char *err, size_t errsz)
{
	struct sockaddr_storage *ss;
	size_t end, i, start, f;
	int whole = 0, af = AF_UNSPEC;
	uint16_t port;

	/* The end of the line: CR LF within the first PROXY_V1_MAX bytes. */
	for (end = 0; end < n && end < PROXY_V1_MAX; end++) {
		if (p[end] == '\n')
			return bad(err, errsz, "PROXY v1: LF without CR");
		if (p[end] == '\r')
			break;
	}
	if (end < n && p[end] == '\r') {
		if (end + 2 > PROXY_V1_MAX)
			return bad(err, errsz,
			    "PROXY v1: line longer than %d bytes",
			    PROXY_V1_MAX);
		if (end + 1 < n && p[end + 1] != '\n')
			return bad(err, errsz, "PROXY v1: CR without LF");
		whole = 1;
	} else if (end == PROXY_V1_MAX)
		return bad(err, errsz, "PROXY v1: no CRLF in %d bytes",
		    PROXY_V1_MAX);

	/* The fields, separated by single spaces. */
	for (f = 0, start = 0; ; f++) {
		size_t len;
		int last;	/* this field ends the line seen so far */

		for (i = start; i < end && p[i] != ' '; i++)
			;
		len = i - start;
		last = (i == end);
		if (f >= V1_FIELDS)
			return bad(err, errsz, "PROXY v1: too many fields");
		if (len == 0 && (whole || !last))
			return bad(err, errsz, "PROXY v1: empty %s",
			    f < V1_FIELDS ? v1_what[f] : "field");
		if (last && !whole) {
			/* a field still arriving: can it become valid? */
			int can;

			switch (f) {
			case 0:
				can = 1;	/* checked by the caller */
				break;
			case 1:
				can = prefix_of(p + start, len, "TCP4") ||
				    prefix_of(p + start, len, "TCP6") ||
				    prefix_of(p + start, len, "UNKNOWN");
				break;
			case 2:
			case 3:
				can = af == AF_UNSPEC ||
				    v1_addr_prefix(af, p + start, len);
				break;
			default:
				can = af == AF_UNSPEC ||
				    v1_port_prefix(p + start, len);
				break;
			}
			if (!can)
				return bad(err, errsz, "PROXY v1: bad %s",
				    v1_what[f]);
			return PROXY_MORE;
		}
		switch (f) {
		case 0:
			if (len != 5 || memcmp(p, "PROXY", 5) != 0)
				return bad(err, errsz,
				    "not a PROXY protocol header");
			break;
		case 1:
			if (len == 4 && memcmp(p + start, "TCP4", 4) == 0)
				af = AF_INET;
			else if (len == 4 && memcmp(p + start, "TCP6", 4) == 0)
				af = AF_INET6;
			else if (len == 7 &&
			    memcmp(p + start, "UNKNOWN", 7) == 0) {
				/* the rest of the line is ignored */
				if (!whole)
					return PROXY_MORE;
				goto done;
			} else
				return bad(err, errsz,
				    "PROXY v1: bad protocol");
			break;
		case 2:
		case 3:
			ss = (f == 2 ? &info->src : &info->dst);
			if (v1_addr(af, p + start, len, ss) == -1)
				return bad(err, errsz, "PROXY v1: bad %s",
				    v1_what[f]);
			break;
		case 4:
		case 5:
			if (v1_port(p + start, len, &port) == -1)
				return bad(err, errsz, "PROXY v1: bad %s",
				    v1_what[f]);
			set_port(f == 4 ? &info->src : &info->dst, port);
			break;
		}
		if (last)
			break;
		start = i + 1;
	}
	if (f + 1 < V1_FIELDS)
		return bad(err, errsz, "PROXY v1: missing %s",
		    v1_what[f + 1]);
done:
	if (end + 1 >= n)
		return PROXY_MORE;	/* a good line but for its LF */
	info->version = 1;
	info->local = (af == AF_UNSPEC);
	*used = end + 2;
	return PROXY_OK;
}

/* Version 2: the fixed 16 bytes, then LIMIT_PROXY_V2 at most. */
static enum proxy_status
v2_parse(const unsigned char *p, size_t n, size_t *used,
    struct proxy_info *info, char *err, size_t errsz)
{
	unsigned int ver, cmd, fam, proto;
	size_t len, addrlen, off;

	if (n < 13)
		return PROXY_MORE;
	ver = p[12] >> 4;
	cmd = p[12] & 0x0f;
	if (ver != 2)
		return bad(err, errsz, "PROXY v2: version %u", ver);
	if (cmd > 1)
		return bad(err, errsz, "PROXY v2: unknown command %u", cmd);
	if (n < 14)
		return PROXY_MORE;
	fam = p[13] >> 4;
	proto = p[13] & 0x0f;
	if (fam > 3 || proto > 2)
		return bad(err, errsz, "PROXY v2: bad family 0x%02x", p[13]);
	if (cmd == 1 && p[13] != 0x11 && p[13] != 0x21)
		return bad(err, errsz,
		    "PROXY v2: family 0x%02x not supported (TCP only)", p[13]);
	if (n < PROXY_V2_HEAD)
		return PROXY_MORE;
	len = (size_t)p[14] << 8 | p[15];
	if (len > LIMIT_PROXY_V2)
		return bad(err, errsz, "PROXY v2: length %zu over %d", len,
		    LIMIT_PROXY_V2);
	addrlen = (p[13] == 0x11 ? 12 : 36);
	if (cmd == 1 && len < addrlen)
		return bad(err, errsz,
		    "PROXY v2: address block of %zu bytes, not %zu", len,
		    addrlen);
	if (n < PROXY_V2_HEAD + len)
		return PROXY_MORE;

	p += PROXY_V2_HEAD;
	if (cmd == 0) {
		/* LOCAL: the family and any addresses are ignored */
		info->local = 1;
	} else if (fam == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&info->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&info->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&info->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&info->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p, 16);
		memcpy(&d->sin6_addr, p + 16, 16);
		memcpy(&s->sin6_port, p + 32, 2);
		memcpy(&d->sin6_port, p + 34, 2);
	}
	if (cmd == 1) {
		/* TLVs: type, 16-bit length, value; they must tile the rest
		 * of the header exactly.  Their number is bounded by len. */
		for (off = addrlen; off < len; ) {
			size_t tl;

			if (len - off < 3)
				return bad(err, errsz,
				    "PROXY v2: truncated TLV at byte %zu",
				    PROXY_V2_HEAD + off);
			tl = (size_t)p[off + 1] << 8 | p[off + 2];
			if (tl > len - off - 3)
				return bad(err, errsz,
				    "PROXY v2: TLV at byte %zu overruns the "
				    "header", PROXY_V2_HEAD + off);
			off += 3 + tl;
		}
	}
	info->version = 2;
	*used = PROXY_V2_HEAD + len;
	return PROXY_OK;
}

enum proxy_status
proxy_parse(const void *buf, size_t n, size_t *used, struct proxy_info *info,
    char *err, size_t errsz)
{
	const unsigned char *p = buf;
	enum proxy_status st;
	size_t m;

	*used = 0;
	memset(info, 0, sizeof(*info));
	if (errsz > 0)
		err[0] = '\0';
	if (n == 0)
		return PROXY_MORE;
	if (p[0] == 'P') {
		m = n < 6 ? n : 6;
		if (memcmp(p, "PROXY ", m) != 0)
			return bad(err, errsz, "not a PROXY protocol header");
		st = v1_parse(buf, n, used, info, err, errsz);
	} else {
		m = n < sizeof(v2sig) ? n : sizeof(v2sig);
		if (memcmp(p, v2sig, m) != 0)
			return bad(err, errsz, "not a PROXY protocol header");
		st = v2_parse(p, n, used, info, err, errsz);
	}
	if (st != PROXY_OK) {
		*used = 0;
		memset(info, 0, sizeof(*info));
	}
	return st;
}
