#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "t.h"

/* Entries added one by one: NULL err means it must be accepted. */
static const struct {
	const char *text;
	const char *err;
} adds[] = {
	{ "192.0.2.0/24", NULL },
	{ "198.51.100.7", NULL },
	{ "10.0.0.0/8", NULL },
	{ "2001:db8::/32", NULL },
	{ "2001:db8:ffff::1/128", NULL },
	{ "::ffff:203.0.113.0/120", NULL },	/* is 203.0.113.0/24 */
	{ "fe80::/10", NULL },
	{ "192.0.2.0/24", NULL },		/* a duplicate, kept once */
	{ "192.0.2.1/24", "192.0.2.1/24: host bits set beyond /24 "
	    "(the network is 192.0.2.0/24)" },
	{ "2001:db8::1/32", "2001:db8::1/32: host bits set beyond /32 "
	    "(the network is 2001:db8::/32)" },
	{ "10.1.0.0/8", "10.1.0.0/8: host bits set beyond /8 "
	    "(the network is 10.0.0.0/8)" },
	{ "192.0.2.0/33", "192.0.2.0/33: bad prefix length (0 to 32)" },
	{ "2001:db8::/129", "2001:db8::/129: bad prefix length (0 to 128)" },
	{ "192.0.2.0/024", "192.0.2.0/024: bad prefix length (0 to 32)" },
	{ "192.0.2.0/", "192.0.2.0/: bad prefix length (0 to 32)" },
	{ "192.0.2.0/+24", "192.0.2.0/+24: bad prefix length (0 to 32)" },
	{ "192.0.2.0/24 ", "192.0.2.0/24 : bad prefix length (0 to 32)" },
	{ "192.0.2.0/2x", "192.0.2.0/2x: bad prefix length (0 to 32)" },
	{ "192.0.2.0/24/24", "192.0.2.0/24/24: bad prefix length (0 to 32)" },
	{ "192.0.2.256", "192.0.2.256: not an IPv4 or IPv6 address" },
	{ "192.0.2.01", "192.0.2.01: not an IPv4 or IPv6 address" },
	{ "192.0.2", "192.0.2: not an IPv4 or IPv6 address" },
	{ " 192.0.2.1", " 192.0.2.1: not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0", "fe80::1%eth0: not an IPv4 or IPv6 address" },
	{ "example.org", "example.org: not an IPv4 or IPv6 address" },
	{ "", ": not an IPv4 or IPv6 address" },
	{ "/8", "/8: not an IPv4 or IPv6 address" },
};

/* Addresses looked up after the adds above. */
static const struct {
	const char *addr;
	int want;
} matches[] = {
	{ "192.0.2.0", 1 },
	{ "192.0.2.255", 1 },
	{ "192.0.3.0", 0 },
	{ "198.51.100.7", 1 },
	{ "198.51.100.8", 0 },
	{ "10.255.255.255", 1 },
	{ "11.0.0.0", 0 },
	{ "203.0.113.9", 1 },
	{ "::ffff:192.0.2.9", 1 },		/* mapped matches IPv4 */
	{ "::ffff:198.51.100.7", 1 },
	{ "::ffff:198.51.100.8", 0 },
	{ "::192.0.2.9", 0 },			/* not mapped */
	{ "2001:db8::1", 1 },
	{ "2001:db8:ffff:ffff::", 1 },
	{ "2001:db9::", 0 },
	{ "fe80::1", 1 },
	{ "febf:ffff::1", 1 },
	{ "fec0::1", 0 },
	{ "::1", 0 },
	{ "0.0.0.0", 0 },
};

static int
match(const struct cidr_list *l, const char *text)
{
	struct sockaddr_storage ss;

	if (cidr_parse_addr(text, &ss) == -1)
		return -1;
	return cidr_match(l, (struct sockaddr *)&ss);
}

int
main(void)
{
	struct cidr_list *l, *big;
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr sa;
	char err[160], name[200], buf[CIDR_TEXT_MAX];
	size_t i;
	int all, rc;

	l = cidr_new();
	for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		err[0] = '\0';
		rc = cidr_add(l, adds[i].text, err, sizeof(err));
		snprintf(name, sizeof(name), "add \"%s\"", adds[i].text);
		is_int(rc, adds[i].err == NULL ? 0 : -1, name);
		if (adds[i].err != NULL) {
			snprintf(name, sizeof(name), "add \"%s\": error",
			    adds[i].text);
			is_str(err, adds[i].err, name);
		}
	}
	is_int(cidr_count(l), 7, "seven networks, the duplicate once");
	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		snprintf(name, sizeof(name), "match %s", matches[i].addr);
		is_int(match(l, matches[i].addr), matches[i].want, name);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	is_int(cidr_match(l, &sa), 0, "AF_UNIX never matches");
	is_int(cidr_match(NULL, &sa), 0, "a NULL list matches nothing");
	cidr_free(l);

	/* /0 networks, IPv4 and IPv6 apart */
	l = cidr_new();
	is_int(cidr_add(l, "::/0", err, sizeof(err)), 0, "add ::/0");
	is_int(match(l, "2001:db8::1"), 1, "::/0 matches IPv6");
	is_int(match(l, "192.0.2.1"), 0, "::/0 does not match IPv4");
	is_int(match(l, "::ffff:192.0.2.1"), 0,
	    "::/0 does not match mapped IPv4");
	is_int(cidr_add(l, "0.0.0.0/0", err, sizeof(err)), 0, "add 0.0.0.0/0");
	is_int(match(l, "192.0.2.1"), 1, "0.0.0.0/0 matches IPv4");
	is_int(match(l, "::ffff:192.0.2.1"), 1,
	    "0.0.0.0/0 matches mapped IPv4");
	cidr_free(l);

	/* comma lists */
	l = cidr_new();
	is_int(cidr_add_list(l, "192.0.2.0/24, 2001:db8::/32 ,\t10.0.0.1",
	    err, sizeof(err)), 0, "list with blanks around commas");
	is_int(cidr_count(l), 3, "three entries");
	is_int(match(l, "10.0.0.1"), 1, "last entry matches");
	is_int(cidr_add_list(l, "", err, sizeof(err)), 0, "empty list");
	is_int(cidr_add_list(l, "  ", err, sizeof(err)), 0, "blank list");
	is_int(cidr_count(l), 3, "still three");
	is_int(cidr_add_list(l, "192.0.2.0/24,,10.0.0.2", err, sizeof(err)),
	    -1, "empty entry");
	is_str(err, "entry 2 is empty", "empty entry error");
	is_int(cidr_add_list(l, "192.0.2.0/24,", err, sizeof(err)), -1,
	    "trailing comma");
	is_str(err, "entry 2 is empty", "trailing comma error");
	is_int(cidr_add_list(l, "10.0.0.3, 192.0.2.1/24", err, sizeof(err)),
	    -1, "bad entry in a list");
	is_str(err, "192.0.2.1/24: host bits set beyond /24 "
	    "(the network is 192.0.2.0/24)", "list error names the entry");
	is_int(cidr_add_list(l, "10.0.0.3 10.0.0.4", err, sizeof(err)), -1,
	    "blank is not a separator");
	cidr_free(l);

	/* addresses */
	is_int(cidr_parse_addr("192.0.2.1", &ss), 0, "parse IPv4");
	is_int(ss.ss_family, AF_INET, "AF_INET");
	is_int(cidr_parse_addr("::ffff:192.0.2.1", &ss), 0, "parse mapped");
	is_int(ss.ss_family, AF_INET6, "mapped stays AF_INET6");
	is_int(cidr_addr_text((struct sockaddr *)&ss, buf, sizeof(buf)), 0,
	    "text of mapped");
	is_str(buf, "192.0.2.1", "mapped shown as IPv4");
	is_int(cidr_parse_addr("2001:DB8:0:0::1", &ss), 0, "parse IPv6");
	cidr_addr_text((struct sockaddr *)&ss, buf, sizeof(buf));
	is_str(buf, "2001:db8::1", "IPv6 shown canonical");
	is_int(cidr_parse_addr("192.0.2.0/24", &ss), -1,
	    "a network is not an address");
	is_int(errno, EINVAL, "EINVAL");
	is_int(cidr_parse_addr("", &ss), -1, "empty is not an address");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xc0000201);
	is_int(cidr_addr_text((struct sockaddr *)&sin, buf, 9), -1,
	    "too small a buffer");
	is_int(errno, ENOSPC, "ENOSPC");
	is_str(buf, "", "buffer left empty");
	is_int(cidr_addr_text((struct sockaddr *)&sin, buf, 10), 0,
	    "just enough");
	is_int(cidr_addr_text(&sa, buf, sizeof(buf)), -1, "AF_UNIX text");
	is_int(errno, EAFNOSUPPORT, "EAFNOSUPPORT");

	/* many entries: 65536 /32s and 4096 /48s, then look them up */
	big = cidr_new();
	all = 1;
	for (i = 0; i < 65536 && all; i++) {
		snprintf(buf, sizeof(buf), "10.%zu.%zu.1", i >> 8, i & 255);
		all = cidr_add(big, buf, err, sizeof(err)) == 0;
	}
	for (i = 0; i < 4096 && all; i++) {
		snprintf(buf, sizeof(buf), "2001:db8:%zx::/48", i);
		all = cidr_add(big, buf, err, sizeof(err)) == 0;
	}
	ok(all, "added 69632 networks");
	is_int(cidr_count(big), 69632, "all counted");
	for (i = 0; i < 65536 && all; i++) {
		snprintf(buf, sizeof(buf), "10.%zu.%zu.1", i >> 8, i & 255);
		all = match(big, buf) == 1;
		snprintf(buf, sizeof(buf), "10.%zu.%zu.2", i >> 8, i & 255);
		all = all && match(big, buf) == 0;
	}
	ok(all, "each /32 matches, its neighbour not");
	is_int(match(big, "2001:db8:fff:1::1"), 1, "a /48 matches");
	is_int(match(big, "2001:db8:1000::1"), 0, "past the /48s");
	cidr_free(big);
	cidr_free(NULL);

	return t_done();
}
