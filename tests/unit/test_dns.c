/*
 * test_dns: lib/dns against a real NSD on loopback, started through
 * tests/dns-server (run from the top of the tree, as tests/check does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "t.h"

static const char zone_example[] =
    "$ORIGIN example.test.\n"
    "$TTL 300\n"
    "@\tSOA ns hostmaster 1 3600 600 86400 300\n"
    "@\tNS ns\n"
    "ns\tA 127.0.0.1\n"
    "@\tMX 10 mx1\n"
    "@\tMX 20 mx2.example.test.\n"
    "mx1\tA 192.0.2.10\n"
    "www\tA 192.0.2.1\n"
    "www\tA 192.0.2.2\n"
    "www\tAAAA 2001:db8::1\n"
    "spf\tTXT \"v=spf1 ip4:192.0.2.0/24 \" \"include:_spf.example.test\" "
    "\" -all\"\n"
    "multi\tTXT \"one\"\n"
    "multi\tTXT \"two\" \"2\"\n"
    "multi\tTXT \"three\"\n"
    "bin\tTXT \"a\\000b\"\n"
    "alias\tCNAME alias2\n"
    "alias2\tCNAME www\n"
    "dangling\tCNAME nowhere\n"
    "textonly\tTXT \"x\"\n"
    "nullmx\tMX 0 .\n"
    "odd\tPTR we\\.ird\\032name.example.test.\n"
    "mail\tA 192.0.2.25\n"
    "mail2\tA 192.0.2.27\n"
    "other\tA 192.0.2.99\n"
    "mail6\tAAAA 2001:db8::25\n";

static const char zone_rev4[] =
    "$ORIGIN 2.0.192.in-addr.arpa.\n"
    "$TTL 300\n"
    "@\tSOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300\n"
    "@\tNS ns.example.test.\n"
    "25\tPTR mail.example.test.\n"
    "26\tPTR other.example.test.\n"
    "27\tPTR other.example.test.\n"
    "27\tPTR mail2.example.test.\n"
    "28\tPTR nxname.example.test.\n"
    "30\tTXT \"no ptr here\"\n";

static const char zone_rev6[] =
    "$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.\n"
    "$TTL 300\n"
    "@\tSOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300\n"
    "@\tNS ns.example.test.\n"
    "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\tPTR "
    "mail6.example.test.\n";

static char dir[64];

/* A name of 253 bytes, the most there is (RFC 1035 3.1). */
static const char *
long_name(void)
{
	static char name[254];

	memset(name, 'x', 240);
	name[63] = name[127] = name[191] = '.';
	memcpy(name + 240, ".example.test", 14);
	return name;
}

/* What a callback saw, copied out of the answer. */
struct res {
	int called;
	enum dns_status status;
	int nrr, truncated;
	char canon[DNS_NAME_MAX];
	char why[64];
	char rrs[4096];		/* records as text, sorted, "|" between */
	size_t len0;		/* first record's data length */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
record_cb(void *arg, const struct dns_answer *ans)
{
	struct res *r = arg;
	char buf[DNS_MAX_RECORDS][300], *v[DNS_MAX_RECORDS];
	size_t i, j, o;
	int k;

	r->called++;
	r->status = ans->status;
	r->nrr = ans->nrr;
	r->truncated = ans->truncated;
	snprintf(r->canon, sizeof(r->canon), "%s", ans->canonname);
	snprintf(r->why, sizeof(r->why), "%s", ans->why ? ans->why : "");
	r->rrs[0] = '\0';
	for (k = 0; k < ans->nrr; k++) {
		const struct dns_rr *rr = &ans->rr[k];

		v[k] = buf[k];
		switch (rr->type) {
		case DNS_T_A:
			inet_ntop(AF_INET, &rr->a, buf[k], sizeof(buf[k]));
			break;
		case DNS_T_AAAA:
			inet_ntop(AF_INET6, &rr->aaaa, buf[k], sizeof(buf[k]));
			break;
		case DNS_T_MX:
			snprintf(buf[k], sizeof(buf[k]), "%d %s", rr->pref,
			    rr->name);
			break;
		case DNS_T_TXT:
			for (i = 0, o = 0; i < rr->len && o + 5 < 300; i++)
				if (rr->data[i] >= ' ' && rr->data[i] < 0x7f)
					buf[k][o++] = (char)rr->data[i];
				else
					o += (size_t)snprintf(buf[k] + o,
					    300 - o, "\\x%02x", rr->data[i]);
			buf[k][o] = '\0';
			break;
		default:
			snprintf(buf[k], sizeof(buf[k]), "%s", rr->name);
		}
	}
	if (ans->nrr > 0)
		r->len0 = ans->rr[0].len;
	qsort(v, (size_t)ans->nrr, sizeof(v[0]), cmp_str);
	for (k = 0, o = 0; k < ans->nrr; k++) {
		j = (size_t)snprintf(r->rrs + o, sizeof(r->rrs) - o, "%s%s",
		    k ? "|" : "", v[k]);
		if (j >= sizeof(r->rrs) - o)
			break;
		o += j;
	}
}

static struct res
ask(struct dns *d, const char *name, int type)
{
	struct res r;

	memset(&r, 0, sizeof(r));
	if (dns_query_sync(d, name, type, record_cb, &r) == -1)
		printf("# dns_query_sync %s: %s\n", name, strerror(errno));
	return r;
}

struct pres {
	int called;
	enum dns_status status;
	char name[DNS_NAME_MAX];
};

static void
ptr_cb(void *arg, enum dns_status st, const char *name)
{
	struct pres *p = arg;

	p->called++;
	p->status = st;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "(null)");
}

static struct pres
fcrdns(struct dns *d, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct pres p;

	memset(&p, 0, sizeof(p));
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	if (dns_ptr_confirmed(d, (struct sockaddr *)&ss, ptr_cb, &p) == -1 ||
	    dns_wait(d) == -1)
		printf("# fcrdns %s: %s\n", addr, strerror(errno));
	return p;
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A loopback UDP socket nobody reads from; its port in *port. */
static int
blackhole(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A port free for UDP and TCP on 127.0.0.1 just now. */
static int
free_port(void)
{
	struct sockaddr_in sin;
	int u, t, port;

	if ((u = blackhole(&port)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (t == -1 || bind(t, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		port = -1;
	close(t);
	close(u);
	return port;
}

static long
server_start(int *port)
{
	char cmd[512], line[64];
	FILE *p;
	long pid = -1;
	int tries;

	for (tries = 0; tries < 5 && pid <= 0; tries++) {
		if ((*port = free_port()) == -1)
			continue;
		snprintf(cmd, sizeof(cmd), "tests/dns-server start %s/srv %d "
		    "%s/example.test.zone %s/rev4.zone %s/rev6.zone",
		    dir, *port, dir, dir, dir);
		if ((p = popen(cmd, "r")) == NULL)
			return -1;
		if (fgets(line, sizeof(line), p) != NULL)
			pid = strtol(line, NULL, 10);
		if (pclose(p) != 0)
			pid = -1;
	}
	return pid;
}

static void
test_new(void)
{
	static const char *const bad[] = {
		"bogus", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:",
		"192.0.2.1:53x", "[::1", "[::1]x", "::1", "[192.0.2.1]:53",
		"host.example:53", "",
	};
	char err[256];
	struct dns *d;
	size_t i;
	int fails = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if ((d = dns_new(bad[i], err, sizeof(err))) != NULL) {
			printf("# accepted %s\n", bad[i]);
			dns_free(d);
			fails++;
		} else if (strncmp(err, "bad server address: ", 20) != 0) {
			printf("# %s: %s\n", bad[i], err);
			fails++;
		}
	}
	is_int(fails, 0, "bad server addresses refused with a reason");
	d = dns_new("[::1]:5353", err, sizeof(err));
	ok(d != NULL, "[::1]:5353 accepted");
	dns_free(d);
	d = dns_new("192.0.2.1", err, sizeof(err));
	ok(d != NULL, "address without port accepted");
	dns_free(d);
	d = dns_new(NULL, err, sizeof(err));
	ok(d != NULL, "servers of /etc/resolv.conf");
	if (d == NULL)
		printf("# %s\n", err);
	dns_free(d);
	dns_free(NULL);
}

static void
test_records(struct dns *d)
{
	struct res r;
	char name[300];
	int id;

	r = ask(d, "www.example.test", DNS_T_A);
	is_int(r.called, 1, "A: called once");
	is_int(r.status, DNS_OK, "A: ok");
	is_str(r.rrs, "192.0.2.1|192.0.2.2", "A: both records");
	is_str(r.canon, "www.example.test", "A: canonname is qname");

	r = ask(d, "www.example.test.", DNS_T_AAAA);
	is_int(r.status, DNS_OK, "AAAA, final dot: ok");
	is_str(r.rrs, "2001:db8::1", "AAAA: record");

	r = ask(d, "example.test", DNS_T_MX);
	is_int(r.status, DNS_OK, "MX: ok");
	is_str(r.rrs, "10 mx1.example.test|20 mx2.example.test",
	    "MX: preference and host");

	r = ask(d, "nullmx.example.test", DNS_T_MX);
	is_str(r.rrs, "0 .", "null MX (RFC 7505): host is \".\"");

	r = ask(d, "spf.example.test", DNS_T_TXT);
	is_int(r.status, DNS_OK, "TXT: ok");
	is_int(r.nrr, 1, "TXT: one record");
	is_str(r.rrs, "v=spf1 ip4:192.0.2.0/24 include:_spf.example.test -all",
	    "TXT: strings of a record concatenated");

	r = ask(d, "multi.example.test", DNS_T_TXT);
	is_int(r.nrr, 3, "TXT: three records");
	is_str(r.rrs, "one|three|two2", "TXT: each record apart");

	r = ask(d, "bin.example.test", DNS_T_TXT);
	is_str(r.rrs, "a\\x00b", "TXT: NUL kept");
	is_int(r.len0, 3, "TXT: length counts the NUL");

	r = ask(d, "odd.example.test", DNS_T_PTR);
	is_str(r.rrs, "we\\046ird\\032name.example.test",
	    "odd bytes in names written as \\DDD");

	r = ask(d, "long.example.test", DNS_T_CNAME);
	is_str(r.rrs, long_name(), "a name of 253 bytes");
	r = ask(d, long_name(), DNS_T_A);
	is_int(r.status, DNS_NXDOMAIN, "a name of 253 bytes asked for");

	r = ask(d, "nx.example.test", DNS_T_A);
	is_int(r.status, DNS_NXDOMAIN, "NXDOMAIN");
	is_int(r.nrr, 0, "NXDOMAIN: no records");

	r = ask(d, "textonly.example.test", DNS_T_A);
	is_int(r.status, DNS_NODATA, "NODATA: name with other types only");
	r = ask(d, "www.example.test", DNS_T_MX);
	is_int(r.status, DNS_NODATA, "NODATA: no MX");

	r = ask(d, "alias.example.test", DNS_T_A);
	is_int(r.status, DNS_OK, "CNAME chain: ok");
	is_str(r.rrs, "192.0.2.1|192.0.2.2", "CNAME chain: target's records");
	is_str(r.canon, "www.example.test", "CNAME chain: canonname");
	r = ask(d, "alias.example.test", DNS_T_CNAME);
	is_str(r.rrs, "alias2.example.test", "CNAME asked for: not followed");
	r = ask(d, "dangling.example.test", DNS_T_A);
	is_int(r.status, DNS_NXDOMAIN, "CNAME to nowhere: NXDOMAIN");

	errno = 0;
	id = dns_query(d, "a..b.example.test", DNS_T_A, record_cb, &r);
	ok(id == -1 && errno == EINVAL, "empty label: EINVAL");
	memset(name, 'a', sizeof(name));
	name[64] = '.';
	name[65] = '\0';
	ok(dns_query(d, name, DNS_T_A, record_cb, &r) == -1 && errno == EINVAL,
	    "64-byte label: EINVAL");
	ok(dns_query(d, "", DNS_T_A, record_cb, &r) == -1 && errno == EINVAL,
	    "empty name: EINVAL");
	snprintf(name, sizeof(name), "x%s", long_name());
	ok(dns_query(d, name, DNS_T_A, record_cb, &r) == -1 && errno == EINVAL,
	    "254-byte name: EINVAL");
	ok(dns_query(d, "a b.example.test", DNS_T_A, record_cb, &r) == -1 &&
	    errno == EINVAL, "space in name: EINVAL");
	ok(dns_query(d, "a\\b.example.test", DNS_T_A, record_cb, &r) == -1 &&
	    errno == EINVAL, "lone backslash in name: EINVAL");
	ok(dns_query(d, "a\\256.example.test", DNS_T_A, record_cb, &r) ==
	    -1 && errno == EINVAL, "\\256 in name: EINVAL");
	memset(name, 'a', sizeof(name));
	memcpy(name + 60, "\\032", 4);
	snprintf(name + 64, sizeof(name) - 64, ".example.test");
	r = ask(d, name, DNS_T_A);
	is_int(r.status, DNS_NXDOMAIN,
	    "\\032 in a 61-byte label: asked for, NXDOMAIN");
	r = ask(d, "a\\032b.example.test", DNS_T_A);
	is_int(r.status, DNS_NXDOMAIN, "a\\032b: asked for, NXDOMAIN");
	is_int(dns_pending(d), 0, "no query left pending");
}

/* 120 A records: the answer is over UDP's size (TCP) and over
 * DNS_MAX_RECORDS. */
static void
test_big(struct dns *d)
{
	struct res r;

	r = ask(d, "big.example.test", DNS_T_A);
	is_int(r.status, DNS_OK, "big answer over TCP: ok");
	is_int(r.nrr, DNS_MAX_RECORDS, "big answer: DNS_MAX_RECORDS kept");
	is_int(r.truncated, 1, "big answer: truncated flagged");
}

static void
test_async(struct dns *d)
{
	static const char *const names[] = {
		"www.example.test", "mail.example.test", "nx.example.test",
		"mx1.example.test", "other.example.test",
	};
	struct res r[5], cancelled;
	struct pollfd pfd;
	int i, id, n = 0, done = 0, loops = 0;

	memset(r, 0, sizeof(r));
	memset(&cancelled, 0, sizeof(cancelled));
	for (i = 0; i < 5; i++)
		n += dns_query(d, names[i], DNS_T_A, record_cb, &r[i]) > 0;
	id = dns_query(d, "mail2.example.test", DNS_T_A, record_cb,
	    &cancelled);
	is_int(n, 5, "async: five queries started");
	is_int(dns_pending(d), 6, "async: six pending");
	dns_cancel(d, id);
	dns_cancel(d, id);	/* twice is harmless */
	dns_cancel(d, 12345);	/* unknown too */
	is_int(dns_pending(d), 5, "async: cancel leaves five");
	ok(dns_next_timeout(d) > 0 && dns_next_timeout(d) <= DNS_TIMEOUT,
	    "async: next timeout within the default");
	while (dns_pending(d) > 0 && loops++ < 100) {
		pfd.fd = dns_fd(d);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, dns_next_timeout(d)) == -1)
			break;
		if (dns_process(d) == -1)
			break;
	}
	for (i = 0; i < 5; i++)
		done += r[i].called == 1;
	is_int(done, 5, "async: each callback once, through poll on dns_fd");
	is_str(r[1].rrs, "192.0.2.25", "async: right answer to each");
	is_int(r[2].status, DNS_NXDOMAIN, "async: NXDOMAIN among them");
	is_int(cancelled.called, 0, "async: cancelled query not called back");
	is_int(dns_next_timeout(d), -1, "async: no deadline when idle");
	/* The answer to the cancelled query may still be on its way. */
	usleep(50000);
	is_int(dns_process(d), 0, "process when idle");
	is_int(cancelled.called, 0, "cancelled query still not called back");
}

static void
test_fcrdns(struct dns *d)
{
	struct sockaddr_un sun;
	struct pres p, q;
	struct sockaddr_in sin;
	int id;

	p = fcrdns(d, "192.0.2.25");
	is_int(p.called, 1, "FCrDNS: called once");
	is_int(p.status, DNS_OK, "FCrDNS confirmed");
	is_str(p.name, "mail.example.test", "FCrDNS confirmed: the name");
	p = fcrdns(d, "192.0.2.26");
	is_int(p.status, DNS_NODATA, "FCrDNS: PTR name's A does not match");
	is_str(p.name, "(null)", "FCrDNS unconfirmed: no name");
	p = fcrdns(d, "192.0.2.27");
	is_int(p.status, DNS_OK, "FCrDNS: second PTR name confirms");
	is_str(p.name, "mail2.example.test", "FCrDNS: the confirmed one");
	p = fcrdns(d, "192.0.2.28");
	is_int(p.status, DNS_NODATA, "FCrDNS: PTR name does not exist");
	p = fcrdns(d, "192.0.2.29");
	is_int(p.status, DNS_NXDOMAIN, "FCrDNS: no reverse name");
	p = fcrdns(d, "192.0.2.30");
	is_int(p.status, DNS_NODATA, "FCrDNS: reverse name without PTR");
	p = fcrdns(d, "2001:db8::25");
	is_int(p.status, DNS_OK, "FCrDNS IPv6 confirmed");
	is_str(p.name, "mail6.example.test", "FCrDNS IPv6: the name");
	p = fcrdns(d, "::ffff:192.0.2.25");
	is_str(p.name, "mail.example.test", "FCrDNS: v4-mapped is IPv4");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memset(&q, 0, sizeof(q));
	errno = 0;
	ok(dns_ptr_confirmed(d, (struct sockaddr *)&sun, ptr_cb, &q) == -1 &&
	    errno == EAFNOSUPPORT, "FCrDNS: AF_UNIX refused");

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.27", &sin.sin_addr);
	id = dns_ptr_confirmed(d, (struct sockaddr *)&sin, ptr_cb, &q);
	ok(id > 0, "FCrDNS: an id");
	dns_cancel(d, id);
	is_int(dns_pending(d), 0, "FCrDNS cancelled: nothing pending");
	dns_wait(d);
	usleep(50000);
	dns_process(d);
	is_int(q.called, 0, "FCrDNS cancelled: not called back");
}

/* A server that answers nothing: the deadline ends each query. */
static void
test_timeout(void)
{
	struct dns *d;
	struct res r, never;
	struct pres p;
	char err[256], srv[64];
	long long t0, el;
	int fd, port;

	if ((fd = blackhole(&port)) == -1) {
		ok(0, "blackhole socket");
		return;
	}
	snprintf(srv, sizeof(srv), "127.0.0.1:%d", port);
	d = dns_new(srv, err, sizeof(err));
	ok(d != NULL, "resolver for a silent server");
	if (d == NULL) {
		printf("# %s\n", err);
		close(fd);
		return;
	}
	dns_set_timeout(d, 300);
	t0 = ms_now();
	r = ask(d, "www.example.test", DNS_T_A);
	el = ms_now() - t0;
	is_int(r.status, DNS_TEMPFAIL, "silent server: TEMPFAIL");
	is_str(r.why, "timed out", "silent server: why");
	ok(el >= 290 && el < 1500, "silent server: ended by the deadline");
	if (el < 290 || el >= 1500)
		printf("# took %lld ms\n", el);

	t0 = ms_now();
	p = fcrdns(d, "192.0.2.25");
	is_int(p.status, DNS_TEMPFAIL, "FCrDNS, silent server: TEMPFAIL");
	ok(ms_now() - t0 < 1500, "FCrDNS, silent server: by the deadline");

	/* Freed with a query pending: no callback, nothing leaks. */
	memset(&never, 0, sizeof(never));
	ok(dns_query(d, "mail.example.test", DNS_T_A, record_cb, &never) > 0,
	    "query left pending");
	ok(dns_ptr_confirmed(d, (struct sockaddr *)&(struct sockaddr_in){
	    .sin_family = AF_INET }, ptr_cb, &p) > 0, "FCrDNS left pending");
	dns_free(d);
	is_int(never.called, 0, "freed: pending query not called back");
	close(fd);
}

int
main(void)
{
	struct dns *d;
	struct res r;
	char err[256], srv[64], cmd[256], *big;
	size_t o, n;
	long pid;
	int port, i;

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/test_dns.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	n = sizeof(zone_example) + 120 * 32 + 300;
	if ((big = malloc(n)) == NULL)
		return 1;
	o = (size_t)snprintf(big, n, "%s", zone_example);
	for (i = 1; i <= 120; i++)
		o += (size_t)snprintf(big + o, n - o, "big\tA 10.0.0.%d\n", i);
	o += (size_t)snprintf(big + o, n - o, "long\tCNAME %s.\n", long_name());
	if (write_file("example.test.zone", big) == -1 ||
	    write_file("rev4.zone", zone_rev4) == -1 ||
	    write_file("rev6.zone", zone_rev6) == -1) {
		perror("write zones");
		return 1;
	}
	free(big);

	test_new();
	test_timeout();

	pid = server_start(&port);
	ok(pid > 0, "dns-server started");
	if (pid <= 0)
		goto out;
	snprintf(srv, sizeof(srv), "127.0.0.1:%d", port);
	d = dns_new(srv, err, sizeof(err));
	ok(d != NULL, "resolver for the test server");
	if (d == NULL) {
		printf("# %s\n", err);
		goto stop;
	}
	test_records(d);
	test_big(d);
	test_async(d);
	test_fcrdns(d);
	/* Last: a name outside the served zones gets REFUSED, which
	 * libunbound turns into SERVFAIL. */
	r = ask(d, "www.example.org", DNS_T_A);
	is_int(r.status, DNS_TEMPFAIL, "REFUSED by the server: TEMPFAIL");
	dns_free(d);
stop:
	snprintf(cmd, sizeof(cmd), "tests/dns-server stop %s/srv", dir);
	is_int(system(cmd), 0, "dns-server stopped");
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# %s failed\n", cmd);
	return t_done();
}
