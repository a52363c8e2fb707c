#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"
#include "t.h"

/* A byte string and its length, NULs included. */
#define B(s)	s, sizeof(s) - 1

#define SIG	"\r\n\r\n\0\r\nQUIT\n"
#define V4ADDR	"\xc0\x00\x02\x01" "\xc6\x33\x64\x02" \
		"\xdc\x04" "\x00\x19"
#define V6ADDR	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" \
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" \
		"\x10\x92" "\x00\x19"
#define V1_6MAX	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

struct row {
	const char *name;
	const char *in;
	size_t n;
	enum proxy_status want;
	size_t used;
	const char *src;	/* "ADDR PORT", or "" for local */
	const char *dst;
	const char *err;	/* the start of the error */
};

static const struct row rows[] = {
	/* version 1 */
	{ "v1 TCP4", B("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n"
	    "EHLO x\r\n"), PROXY_OK, 44,
	    "192.0.2.1 56324", "198.51.100.2 25", NULL },
	{ "v1 TCP6", B("PROXY TCP6 2001:db8::1 2001:db8::2 4242 25\r\n"),
	    PROXY_OK, 44, "2001:db8::1 4242", "2001:db8::2 25", NULL },
	{ "v1 TCP6 longest", B("PROXY TCP6 " V1_6MAX " " V1_6MAX
	    " 65535 65535\r\n"), PROXY_OK, 104,
	    V1_6MAX " 65535", V1_6MAX " 65535", NULL },
	{ "v1 TCP4 port 0", B("PROXY TCP4 0.0.0.0 255.255.255.255 0 1\r\n"),
	    PROXY_OK, 40, "0.0.0.0 0", "255.255.255.255 1", NULL },
	{ "v1 UNKNOWN", B("PROXY UNKNOWN\r\nEHLO"), PROXY_OK, 15, "", "",
	    NULL },
	{ "v1 UNKNOWN longest", B("PROXY UNKNOWN " V1_6MAX " " V1_6MAX
	    " 65535 65535\r\n"), PROXY_OK, 107, "", "", NULL },
	{ "v1 UNKNOWN, junk ignored", B("PROXY UNKNOWN what ever\r\n"),
	    PROXY_OK, 25, "", "", NULL },
	{ "v1 empty", B(""), PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v1 P", B("P"), PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v1 PROXY SP", B("PROXY "), PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v1 in the protocol", B("PROXY TC"), PROXY_MORE, 0, NULL, NULL,
	    NULL },
	{ "v1 in an address", B("PROXY TCP4 192.0.2."), PROXY_MORE, 0,
	    NULL, NULL, NULL },
	{ "v1 all but LF", B("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r"),
	    PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v1 UNKNOWN without CRLF yet", B("PROXY UNKNOWN 1.2"),
	    PROXY_MORE, 0, NULL, NULL, NULL },
	{ "SMTP instead", B("EHLO example.org\r\n"), PROXY_BAD, 0, NULL,
	    NULL, "not a PROXY protocol header" },
	{ "HTTP instead", B("GET / HTTP/1.0\r\n"), PROXY_BAD, 0, NULL, NULL,
	    "not a PROXY protocol header" },
	{ "one wrong byte is enough", B("PROXZ"), PROXY_BAD, 0, NULL, NULL,
	    "not a PROXY protocol header" },
	{ "lower case", B("proxy tcp4"), PROXY_BAD, 0, NULL, NULL,
	    "not a PROXY protocol header" },
	{ "v1 no space", B("PROXYTCP4"), PROXY_BAD, 0, NULL, NULL,
	    "not a PROXY protocol header" },
	{ "v1 bad protocol early", B("PROXY TCP5"), PROXY_BAD, 0, NULL,
	    NULL, "PROXY v1: bad protocol" },
	{ "v1 bad protocol", B("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad protocol" },
	{ "v1 UNKNOWNX", B("PROXY UNKNOWNX\r\n"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v1: bad protocol" },
	{ "v1 nothing after PROXY", B("PROXY\r\n"), PROXY_BAD, 0, NULL, NULL,
	    "not a PROXY protocol header" },
	{ "v1 bare LF", B("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: LF without CR" },
	{ "v1 CR without LF", B("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: CR without LF" },
	{ "v1 108 bytes", B("PROXY UNKNOWN " V1_6MAX " " V1_6MAX
	    " 65535 655351\r\n"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v1: line longer than 107 bytes" },
	{ "v1 no CRLF in 107 bytes", B("PROXY UNKNOWN " V1_6MAX " " V1_6MAX
	    " 65535 65535xxxx"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v1: no CRLF in 107 bytes" },
	{ "v1 port 65536", B("PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source port" },
	{ "v1 port leading zero", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 025\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad destination port" },
	{ "v1 port leading zero early", B("PROXY TCP4 1.2.3.4 1.2.3.4 01"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source port" },
	{ "v1 port sign", B("PROXY TCP4 1.2.3.4 1.2.3.4 +1 25\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source port" },
	{ "v1 port negative", B("PROXY TCP4 1.2.3.4 1.2.3.4 -1 25\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source port" },
	{ "v1 port hex", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 2a\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad destination port" },
	{ "v1 port too many digits", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 000025"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad destination port" },
	{ "v1 trailing space", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 25 \r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: too many fields" },
	{ "v1 extra field", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 25 26\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: too many fields" },
	{ "v1 missing port", B("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: missing destination port" },
	{ "v1 double space", B("PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: empty source address" },
	{ "v1 octet over 255", B("PROXY TCP4 192.0.2.256 1.2.3.4 1 2\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source address" },
	{ "v1 octet leading zero", B("PROXY TCP4 1.2.3.4 192.0.2.01 1 2\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad destination address" },
	{ "v1 three octets", B("PROXY TCP4 192.0.2 1.2.3.4 1 2\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source address" },
	{ "v1 TCP4 with IPv6", B("PROXY TCP4 2001:db8::1"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v1: bad source address" },
	{ "v1 TCP6 with IPv4", B("PROXY TCP6 192.0.2.1 ::1 1 2\r\n"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v1: bad source address" },
	{ "v1 TCP6 zone", B("PROXY TCP6 fe80::1%eth0"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v1: bad source address" },
	{ "v1 NUL in a field", B("PROXY TCP4 1.2.3.4\0"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v1: bad source address" },

	/* version 2 */
	{ "v2 PROXY IPv4", B(SIG "\x21\x11\x00\x0c" V4ADDR "EHLO"), PROXY_OK,
	    28, "192.0.2.1 56324", "198.51.100.2 25", NULL },
	{ "v2 PROXY IPv6", B(SIG "\x21\x21\x00\x24" V6ADDR), PROXY_OK, 52,
	    "2001:db8::1 4242", "2001:db8::2 25", NULL },
	{ "v2 LOCAL", B(SIG "\x20\x00\x00\x00" "EHLO"), PROXY_OK, 16, "", "",
	    NULL },
	{ "v2 LOCAL with addresses ignored", B(SIG "\x20\x11\x00\x0c" V4ADDR),
	    PROXY_OK, 28, "", "", NULL },
	{ "v2 LOCAL over UNIX ignored", B(SIG "\x20\x31\x00\x00"), PROXY_OK,
	    16, "", "", NULL },
	{ "v2 TLVs skipped", B(SIG "\x21\x11\x00\x18" V4ADDR
	    "\x01\x00\x02" "h2" "\x04\x00\x00" "\x05\x00\x01" "u"), PROXY_OK,
	    40, "192.0.2.1 56324", "198.51.100.2 25", NULL },
	{ "v2 signature begun", B("\r\n\r\n\0"), PROXY_MORE, 0, NULL, NULL,
	    NULL },
	{ "v2 signature only", B(SIG), PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v2 no length yet", B(SIG "\x21\x11\x00"), PROXY_MORE, 0, NULL,
	    NULL, NULL },
	{ "v2 addresses cut", B(SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x01"),
	    PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v2 TLV not all here", B(SIG "\x21\x11\x00\x11" V4ADDR "\x01\x00"),
	    PROXY_MORE, 0, NULL, NULL, NULL },
	{ "v2 bad signature", B("\r\n\r\nX"), PROXY_BAD, 0, NULL, NULL,
	    "not a PROXY protocol header" },
	{ "v2 version 1", B(SIG "\x11"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v2: version 1" },
	{ "v2 version 3", B(SIG "\x31\x11\x00\x0c" V4ADDR), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v2: version 3" },
	{ "v2 command 2", B(SIG "\x22"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v2: unknown command 2" },
	{ "v2 PROXY UNSPEC", B(SIG "\x21\x00\x00\x00"), PROXY_BAD, 0, NULL,
	    NULL, "PROXY v2: family 0x00 not supported (TCP only)" },
	{ "v2 PROXY UDP", B(SIG "\x21\x12"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v2: family 0x12 not supported (TCP only)" },
	{ "v2 PROXY UNIX", B(SIG "\x21\x31"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v2: family 0x31 not supported (TCP only)" },
	{ "v2 LOCAL bad family", B(SIG "\x20\x41\x00\x00"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v2: bad family 0x41" },
	{ "v2 LOCAL bad protocol", B(SIG "\x20\x13\x00\x00"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v2: bad family 0x13" },
	{ "v2 oversized length", B(SIG "\x21\x11\x04\x01"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v2: length 1025 over 1024" },
	{ "v2 largest length", B(SIG "\x20\x00\xff\xff"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v2: length 65535 over 1024" },
	{ "v2 IPv4 block short", B(SIG "\x21\x11\x00\x08"), PROXY_BAD, 0,
	    NULL, NULL, "PROXY v2: address block of 8 bytes, not 12" },
	{ "v2 IPv6 block short", B(SIG "\x21\x21\x00\x0c" V4ADDR), PROXY_BAD,
	    0, NULL, NULL, "PROXY v2: address block of 12 bytes, not 36" },
	{ "v2 TLV overruns", B(SIG "\x21\x11\x00\x10" V4ADDR "\x01\x00\x05"
	    "h"), PROXY_BAD, 0, NULL, NULL,
	    "PROXY v2: TLV at byte 28 overruns the header" },
	{ "v2 TLV truncated", B(SIG "\x21\x11\x00\x0e" V4ADDR "\x01\x00"),
	    PROXY_BAD, 0, NULL, NULL, "PROXY v2: truncated TLV at byte 28" },
};

/* "ADDR PORT" of ss, or "" for AF_UNSPEC. */
static const char *
show(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s %u", a, ntohs(s->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "%s %u", a, ntohs(s->sin6_port));
	} else if (ss->ss_family == AF_UNSPEC)
		snprintf(buf, size, "%s", "");
	else
		snprintf(buf, size, "family %d", ss->ss_family);
	return buf;
}

int
main(void)
{
	struct proxy_info info;
	char err[128], name[160], sb[80];
	unsigned char big[PROXY_MAX + 1];
	size_t i, k, used;
	enum proxy_status st;
	int allmore;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		st = proxy_parse(r->in, r->n, &used, &info, err, sizeof(err));
		snprintf(name, sizeof(name), "%s: status", r->name);
		is_int(st, r->want, name);
		snprintf(name, sizeof(name), "%s: used", r->name);
		is_int(used, r->used, name);
		if (r->want == PROXY_OK) {
			snprintf(name, sizeof(name), "%s: source", r->name);
			is_str(show(&info.src, sb, sizeof(sb)), r->src, name);
			snprintf(name, sizeof(name), "%s: destination",
			    r->name);
			is_str(show(&info.dst, sb, sizeof(sb)), r->dst, name);
			snprintf(name, sizeof(name), "%s: local", r->name);
			is_int(info.local, r->src[0] == '\0', name);
			snprintf(name, sizeof(name), "%s: version", r->name);
			is_int(info.version, r->in[0] == 'P' ? 1 : 2, name);
			/* every shorter piece of a good header is a
			 * beginning, never an error */
			allmore = 1;
			for (k = 0; k < r->used; k++)
				if (proxy_parse(r->in, k, &used, &info, err,
				    sizeof(err)) != PROXY_MORE) {
					allmore = 0;
					printf("#   at %zu: %s\n", k, err);
				}
			snprintf(name, sizeof(name), "%s: each prefix is MORE",
			    r->name);
			ok(allmore, name);
		}
		if (r->err != NULL) {
			snprintf(name, sizeof(name), "%s: error", r->name);
			is_str(err, r->err, name);
		}
	}

	/* v2 at its largest: the addresses and one NOOP TLV filling it */
	memset(big, 'x', sizeof(big));
	memcpy(big, B(SIG "\x21\x11\x04\x00" V4ADDR "\x04\x03\xf1"));
	is_int(proxy_parse(big, PROXY_MAX, &used, &info, err, sizeof(err)),
	    PROXY_OK, "v2 of LIMIT_PROXY_V2 bytes is fine");
	is_int(used, PROXY_MAX, "all PROXY_MAX bytes used");
	is_int(proxy_parse(big, PROXY_MAX - 1, &used, &info, err,
	    sizeof(err)), PROXY_MORE, "one byte short is MORE");

	/* errors are cut to the buffer, and a zero-size buffer is fine */
	memset(err, '#', sizeof(err));
	is_int(proxy_parse("EHLO", 4, &used, &info, err, 8), PROXY_BAD,
	    "bad with a small err buffer");
	is_str(err, "not a P", "error cut to fit");
	is_int(proxy_parse("EHLO", 4, &used, &info, NULL, 0), PROXY_BAD,
	    "bad with no err buffer");

	return t_done();
}
