/*
 * test_dmarc: lib/dmarc.  The pure parts (policy records, the From
 * field, the words), then the DNS Tree Walk, policy discovery and
 * alignment against a real NSD on loopback started through
 * tests/dns-server (run from the top of the tree, as tests/check does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <jansson.h>

#include "dmarc.h"
#include "dns.h"
#include "msg.h"
#include "t.h"

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

struct rcase {
	const char *txt;
	int ret;
	enum dmarc_policy p, sp, np;
	enum dmarc_mode adkim, aspf;
	enum dmarc_psd psd;
	int t, pct;
	const char *rua;
	int nerrors;
};

#define U DMARC_POLICY_UNSET
#define N DMARC_POLICY_NONE
#define Q DMARC_POLICY_QUARANTINE
#define R DMARC_POLICY_REJECT
#define I DMARC_POLICY_INVALID
#define RX DMARC_MODE_RELAXED
#define ST DMARC_MODE_STRICT

static const struct rcase rcases[] = {
	{ "v=DMARC1; p=reject", 0, R, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 0 },
	{ "v=DMARC1;p=none", 0, N, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 0 },
	{ "v=DMARC1", 0, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 0 },
	{ "v=DMARC1;", 0, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 0 },
	{ "v = DMARC1 ; p = quarantine ; ", 0, Q, U, U, RX, RX, DMARC_PSD_U,
	    0, -1, "", 0 },
	{ "V=DMARC1; P=Reject; SP=None", 0, R, N, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 0 },
	{ "v=DMARC1; p=none; sp=quarantine; np=reject; adkim=s; aspf=s; "
	    "psd=n; t=y", 0, N, Q, R, ST, ST, DMARC_PSD_N, 1, -1, "", 0 },
	{ "v=DMARC1; p=reject; psd=y", 0, R, U, U, RX, RX, DMARC_PSD_Y, 0,
	    -1, "", 0 },
	{ "v=DMARC1; p=reject; psd=u; t=n", 0, R, U, U, RX, RX, DMARC_PSD_U,
	    0, -1, "", 0 },
	/* RFC 7489 records: pct=0 is testing (t=y), any other pct is not;
	 * an explicit t= wins; rf= and ri= accepted and unused */
	{ "v=DMARC1; p=reject; pct=0", 0, R, U, U, RX, RX, DMARC_PSD_U, 1, 0,
	    "", 0 },
	{ "v=DMARC1; p=reject; pct=50", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    50, "", 0 },
	{ "v=DMARC1; p=reject; pct=100; rf=afrf; ri=86400; fo=1", 0, R, U, U,
	    RX, RX, DMARC_PSD_U, 0, 100, "", 0 },
	{ "v=DMARC1; p=reject; pct=0; t=n", 0, R, U, U, RX, RX, DMARC_PSD_U,
	    0, 0, "", 0 },
	{ "v=DMARC1; p=reject; pct=101", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 1 },
	{ "v=DMARC1; p=reject; pct=-1", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 1 },
	{ "v=DMARC1; p=reject; pct=5x", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 1 },
	/* rua: valid URIs kept, the obsolete !size cut off, bad ones out */
	{ "v=DMARC1; p=none; rua=mailto:a@example.com, mailto:b@example.net!10m",
	    0, N, U, U, RX, RX, DMARC_PSD_U, 0, -1,
	    "mailto:a@example.com,mailto:b@example.net", 0 },
	{ "v=DMARC1; p=none; rua=mailto:a@example.com,bogus,https://r.example/x",
	    0, N, U, U, RX, RX, DMARC_PSD_U, 0, -1,
	    "mailto:a@example.com,https://r.example/x", 1 },
	{ "v=DMARC1; p=none; rua=mailto:a%2Cb@example.com", 0, N, U, U, RX,
	    RX, DMARC_PSD_U, 0, -1, "mailto:a%2Cb@example.com", 0 },
	{ "v=DMARC1; p=none; rua=mailto:a%zzb@example.com", 0, N, U, U, RX,
	    RX, DMARC_PSD_U, 0, -1, "", 1 },
	{ "v=DMARC1; p=none; rua=mailto:x@example.com!", 0, N, U, U, RX,
	    RX, DMARC_PSD_U, 0, -1, "", 1 },
	/* syntax errors: the tag takes its default, the record counts */
	{ "v=DMARC1; p=none; reject", 0, N, U, U, RX, RX, DMARC_PSD_U, 0, -1,
	    "", 1 },
	{ "v=DMARC1; p=bogus", 0, I, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
	{ "v=DMARC1; p=reject; sp=maybe; np=", 0, R, I, U, RX, RX,
	    DMARC_PSD_U, 0, -1, "", 2 },
	{ "v=DMARC1; p=reject; adkim=x; aspf=strict; psd=maybe; t=yes", 0, R,
	    U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 4 },
	{ "v=DMARC1; p=reject; p=none", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 1 },
	{ "v=DMARC1; p=reject; v=DMARC1", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 1 },
	{ "v=DMARC1; p=reject; 9x=1", 0, R, U, U, RX, RX, DMARC_PSD_U, 0, -1,
	    "", 1 },
	{ "v=DMARC1; p=reject; fo=0:1", 0, R, U, U, RX, RX, DMARC_PSD_U, 0,
	    -1, "", 1 },
	{ "v=DMARC1; p=re\x01ject", 0, U, U, U, RX, RX, DMARC_PSD_U, 0, -1,
	    "", 1 },
	/* unknown tags are ignored, even long ones (an empty value is
	 * still a syntax error) */
	{ "v=DMARC1; p=quarantine; foo=bar; extension=1; zz=;", 0, Q, U, U,
	    RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
	/* not DMARC records */
	{ "v=spf1 -all", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
	{ "v=DMARC2; p=reject", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
	{ "v=dmarc1; p=reject", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
	{ "v=DMARC10; p=reject", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "",
	    1 },
	{ "p=reject; v=DMARC1", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
	{ " v=DMARC1; p=reject", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "",
	    1 },
	{ "", -1, U, U, U, RX, RX, DMARC_PSD_U, 0, -1, "", 1 },
};

static void
test_records(void)
{
	struct dmarc_record rec;
	char name[160];
	size_t i;
	int bad;

	for (i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];
		int r = dmarc_parse_record(c->txt, strlen(c->txt), &rec);

		snprintf(name, sizeof(name), "record \"%s\"", c->txt);
		bad = r != c->ret;
		if (r == 0)
			bad = bad || rec.p != c->p || rec.sp != c->sp ||
			    rec.np != c->np || rec.adkim != c->adkim ||
			    rec.aspf != c->aspf || rec.psd != c->psd ||
			    rec.t != c->t || rec.pct != c->pct ||
			    strcmp(rec.rua, c->rua) != 0;
		bad = bad || rec.nerrors != c->nerrors;
		ok(!bad, name);
		if (bad)
			printf("#   ret %d p %d sp %d np %d adkim %d aspf %d "
			    "psd %d t %d pct %d rua \"%s\" nerrors %d: %s\n",
			    r, rec.p, rec.sp, rec.np, rec.adkim, rec.aspf,
			    rec.psd, rec.t, rec.pct, rec.rua, rec.nerrors,
			    rec.errors);
	}

	/* a record with a NUL byte in a value, and one over the limit */
	ok(dmarc_parse_record("v=DMARC1; p=re\0ject", 19, &rec) == 0 &&
	    rec.p == U && rec.nerrors == 1, "NUL byte in a value: an error");
	{
		static char big[LIMIT_DMARC_RECORD + 2];

		memset(big, ' ', sizeof(big));
		memcpy(big, "v=DMARC1; p=reject;", 19);
		is_int(dmarc_parse_record(big, sizeof(big), &rec), -1,
		    "record over LIMIT_DMARC_RECORD: not taken");
		is_int(dmarc_parse_record(big, LIMIT_DMARC_RECORD, &rec), 0,
		    "record of LIMIT_DMARC_RECORD bytes: taken");
	}
	/* errors are escaped and bounded */
	dmarc_parse_record("v=DMARC1; p=\x7f\x7f", 14, &rec);
	ok(strchr(rec.errors, '\x7f') == NULL, "errors escaped");
	{
		char many[2048];
		size_t o = 0;
		int k;

		o += (size_t)snprintf(many, sizeof(many), "v=DMARC1");
		for (k = 0; k < 100; k++)
			o += (size_t)snprintf(many + o, sizeof(many) - o,
			    "; p=bad%d", k);
		dmarc_parse_record(many, o, &rec);
		is_int(rec.nerrors, 100, "100 errors counted");
		ok(strlen(rec.errors) < sizeof(rec.errors),
		    "errors text bounded");
	}
}

/* ------------------------------------------------------------------ */
/* The From field                                                      */
/* ------------------------------------------------------------------ */

struct fcase {
	const char *value;
	enum dmarc_from st;
	size_t n;
	const char *d0, *d1;
};

static const struct fcase fcases[] = {
	{ "user@example.com", DMARC_FROM_OK, 1, "example.com", NULL },
	{ "User <user@Example.COM>", DMARC_FROM_OK, 1, "example.com", NULL },
	{ "\"Test, User\" <test@example.com>", DMARC_FROM_OK, 1,
	    "example.com", NULL },
	{ "\"a@b.example\" <test@example.com>", DMARC_FROM_OK, 1,
	    "example.com", NULL },
	{ "\"quoted@local\"@example.com", DMARC_FROM_OK, 1, "example.com",
	    NULL },
	{ "user@example.com (Comment, with <brackets> and @)", DMARC_FROM_OK,
	    1, "example.com", NULL },
	{ "(c (nested) x@y.example) user@example.com", DMARC_FROM_OK, 1,
	    "example.com", NULL },
	{ "user(c)@(c)example.com", DMARC_FROM_OK, 1, "example.com", NULL },
	{ "=?utf-8?q?Jos=C3=A9_x@evil.example?= <jose@example.com>",
	    DMARC_FROM_OK, 1, "example.com", NULL },
	{ "=?UTF-8?B?dXNlckBldmlsLmV4YW1wbGU=?= <u@example.com>",
	    DMARC_FROM_OK, 1, "example.com", NULL },
	{ "user@example.com.", DMARC_FROM_OK, 1, "example.com", NULL },
	{ "User\r\n <user@example.com>", DMARC_FROM_OK, 1, "example.com",
	    NULL },
	{ "<@route.example,@other.example:user@example.com>", DMARC_FROM_OK,
	    1, "example.com", NULL },
	{ "a@example.com, b@example.com", DMARC_FROM_OK, 1, "example.com",
	    NULL },
	{ "a@example.org, Bee <b@example.com>", DMARC_FROM_DOMAINS, 2,
	    "example.org", "example.com" },
	{ "Team: a@example.com, b@example.net;", DMARC_FROM_DOMAINS, 2,
	    "example.com", "example.net" },
	{ "Team: a@example.com;", DMARC_FROM_OK, 1, "example.com", NULL },
	{ "undisclosed-recipients:;", DMARC_FROM_NONE, 0, NULL, NULL },
	{ "Team: a@example.com;, c@example.org", DMARC_FROM_DOMAINS, 2,
	    "example.com", "example.org" },
	{ "Test User", DMARC_FROM_NONE, 0, NULL, NULL },
	{ "", DMARC_FROM_NONE, 0, NULL, NULL },
	{ "<>", DMARC_FROM_NONE, 0, NULL, NULL },
	{ "user@[192.0.2.1]", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "user@", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "@example.com", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "user@exa..mple.com", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "user@exa mple.com", DMARC_FROM_OK, 1, "example.com", NULL },
	{ "User <user@example.com", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "User user@example.com>", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "<a@example.com> trailing", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "\"unterminated <a@example.com>", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "(unterminated a@example.com", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "a@example.com;", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "A: B: a@example.com;;", DMARC_FROM_BAD, 0, NULL, NULL },
	{ "<<a@example.com>>", DMARC_FROM_BAD, 0, NULL, NULL },
	/* U-labels (RFC 6532) into the A-labels the DNS names */
	{ "u@b\xc3\xbc" "cher.example", DMARC_FROM_OK, 1,
	    "xn--bcher-kva.example", NULL },
	{ "U <u@B\xc3\x9c" "CHER.Example>", DMARC_FROM_OK, 1,
	    "xn--bcher-kva.example", NULL },
	{ "u@xn--bcher-kva.example, v@b\xc3\xbc" "cher.example",
	    DMARC_FROM_OK, 1, "xn--bcher-kva.example", NULL },
	{ "u@\xff\xfe.example", DMARC_FROM_BAD, 0, NULL, NULL },
	/* UTS #46 maps a zero-width space to nothing: the policy asked
	 * for is that of the domain the reader sees */
	{ "u@a\xe2\x80\x8b" "b.example", DMARC_FROM_OK, 1, "ab.example",
	    NULL },
};

static void
test_from(void)
{
	char dom[LIMIT_DMARC_FROM][DMARC_DOMAIN_MAX], name[200];
	size_t i, n;
	enum dmarc_from st;
	int bad;

	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];

		st = dmarc_from_parse(c->value, strlen(c->value), dom,
		    LIMIT_DMARC_FROM, &n);
		snprintf(name, sizeof(name), "From: %s", c->value);
		for (char *q = name; *q != '\0'; q++)
			if (*q == '\r' || *q == '\n')
				*q = ' ';
		bad = st != c->st;
		if (st != DMARC_FROM_BAD)
			bad = bad || n != c->n ||
			    (c->d0 != NULL && strcmp(dom[0], c->d0) != 0) ||
			    (c->d1 != NULL && strcmp(dom[1], c->d1) != 0);
		ok(!bad, name);
		if (bad)
			printf("#   got %s n=%zu %s %s\n", dmarc_from_str(st),
			    n, n > 0 ? dom[0] : "", n > 1 ? dom[1] : "");
	}

	/* more domains than room: DOMAINS, max stored */
	st = dmarc_from_parse("a@a.example, b@b.example, c@c.example", 38,
	    dom, 2, &n);
	ok(st == DMARC_FROM_DOMAINS && n == 2, "three domains, room for 2");

	/* deep comments are bounded */
	{
		char deep[200];

		memset(deep, '(', 100);
		memcpy(deep + 100, "a@example.com", 14);
		st = dmarc_from_parse(deep, strlen(deep), dom,
		    LIMIT_DMARC_FROM, &n);
		is_int(st, DMARC_FROM_BAD, "100 nested comments: bad");
	}
	/* an over-long address */
	{
		char *big = malloc(3010);

		memset(big, 'a', 2990);
		memcpy(big + 2990, "@x.example", 11);
		st = dmarc_from_parse(big, strlen(big), dom,
		    LIMIT_DMARC_FROM, &n);
		is_int(st, DMARC_FROM_BAD, "address over the bound: bad");
		free(big);
	}
}

static void
msg_case(const char *text, enum dmarc_from want, size_t wantn,
    const char *d0, const char *name)
{
	char dom[LIMIT_DMARC_FROM][DMARC_DOMAIN_MAX], err[128];
	struct msg m;
	size_t n;
	enum dmarc_from st;

	if (msg_parse(&m, text, strlen(text), err, sizeof(err)) == -1) {
		ok(0, name);
		printf("#   %s\n", err);
		return;
	}
	st = dmarc_from_msg(&m, dom, LIMIT_DMARC_FROM, &n);
	ok(st == want && n == wantn && (d0 == NULL || strcmp(dom[0], d0) == 0),
	    name);
	if (st != want || n != wantn)
		printf("#   got %s n=%zu\n", dmarc_from_str(st), n);
	msg_free(&m);
}

static void
test_from_msg(void)
{
	msg_case("From: a@example.com\r\nTo: b@example.org\r\n\r\nbody\r\n",
	    DMARC_FROM_OK, 1, "example.com", "message: one From");
	msg_case("from: Folded\r\n <a@example.com>\r\n\r\n",
	    DMARC_FROM_OK, 1, "example.com", "message: folded from");
	msg_case("To: b@example.org\r\n\r\nbody\r\n", DMARC_FROM_NONE, 0,
	    NULL, "message: no From");
	msg_case("From: a@example.com\r\nFrom: a@example.com\r\n\r\n",
	    DMARC_FROM_FIELDS, 1, "example.com",
	    "message: two From fields, same domain: FIELDS");
	msg_case("From: a@example.com\r\nFrom: b@example.net\r\n\r\n",
	    DMARC_FROM_FIELDS, 2, "example.com",
	    "message: two From fields: FIELDS, both domains");
	msg_case("From: a@example.com, b@example.net\r\n\r\n",
	    DMARC_FROM_DOMAINS, 2, "example.com", "message: two domains");
	msg_case("From: <a@[192.0.2.1]>\r\n\r\n", DMARC_FROM_BAD, 0, NULL,
	    "message: domain literal: bad");
}

/* ------------------------------------------------------------------ */
/* Words and the strictest of several                                  */
/* ------------------------------------------------------------------ */

static void
test_words(void)
{
	struct dmarc_response rs[4];

	is_str(dmarc_result_str(DMARC_NONE), "none", "result none");
	is_str(dmarc_result_str(DMARC_PASS), "pass", "result pass");
	is_str(dmarc_result_str(DMARC_FAIL), "fail", "result fail");
	is_str(dmarc_result_str(DMARC_TEMPERROR), "temperror", "temperror");
	is_str(dmarc_result_str(DMARC_PERMERROR), "permerror", "permerror");
	is_str(dmarc_policy_str(DMARC_POLICY_QUARANTINE), "quarantine",
	    "policy quarantine");
	is_str(dmarc_policy_str(DMARC_POLICY_UNSET), "", "policy unset");
	is_str(dmarc_source_str(DMARC_SOURCE_NP), "np", "source np");
	is_str(dmarc_align_str(DMARC_ALIGN_TEMPERROR), "temperror",
	    "align temperror");
	is_str(dmarc_from_str(DMARC_FROM_FIELDS), "fields", "from fields");

	memset(rs, 0, sizeof(rs));
	rs[0].result = DMARC_PASS;
	rs[1].result = DMARC_FAIL;
	rs[1].disposition = DMARC_POLICY_QUARANTINE;
	rs[2].result = DMARC_FAIL;
	rs[2].disposition = DMARC_POLICY_REJECT;
	rs[3].result = DMARC_TEMPERROR;
	is_int(dmarc_strictest(rs, 4), 2, "strictest: fail with reject");
	is_int(dmarc_strictest(rs, 1), 0, "strictest of one");
	is_int(dmarc_strictest(rs, 0), 0, "strictest of none");
	rs[1].result = rs[2].result = DMARC_NONE;
	is_int(dmarc_strictest(rs, 4), 3, "strictest: temperror over pass");
}

/* ------------------------------------------------------------------ */
/* DNS                                                                 */
/* ------------------------------------------------------------------ */

static char dir[64];

/*
 * example.: no record at _dmarc.example.
 *   own        policy at the Author Domain
 *   org        an Organizational Domain with p, sp, np; below it mid (a
 *              record between: not the policy), dept (psd=n), live
 *              (exists), twosub (two records)
 *   solo.nopol only an intermediate record
 *   bank       a PSD (psd=y) with giant below it (own record), shop
 *              (exists, no record)
 *   long       a record 8 labels deep that the walk skips
 */
static const char zone_example[] =
    "$ORIGIN example.\n"
    "$TTL 300\n"
    "@\tSOA ns hostmaster 1 3600 600 86400 300\n"
    "@\tNS ns\n"
    "ns\tA 127.0.0.1\n"
    "own\tA 192.0.2.1\n"
    "_dmarc.own\tTXT \"v=DMARC1; p=reject; rua=mailto:agg@own.example\"\n"
    "_dmarc.split\tTXT \"v=DMARC1; \" \"p=quarantine\"\n"
    "_dmarc.org\tTXT \"v=DMARC1; p=none; sp=quarantine; np=reject; "
	"rua=mailto:agg@org.example\"\n"
    "org\tA 192.0.2.1\n"
    "live.org\tA 192.0.2.1\n"
    "a.mid.org\tA 192.0.2.1\n"
    "_dmarc.mid.org\tTXT \"v=DMARC1; p=reject\"\n"
    "_dmarc.dept.org\tTXT \"v=DMARC1; p=reject; psd=n\"\n"
    "x.dept.org\tA 192.0.2.1\n"
    "_dmarc.twosub.org\tTXT \"v=DMARC1; p=none\"\n"
    "_dmarc.twosub.org\tTXT \"v=DMARC1; p=reject\"\n"
    "x.solo.nopol\tA 192.0.2.1\n"
    "_dmarc.solo.nopol\tTXT \"v=DMARC1; p=quarantine\"\n"
    "_dmarc.bank\tTXT \"v=DMARC1; p=reject; sp=quarantine; np=reject; "
	"psd=y\"\n"
    "_dmarc.giant.bank\tTXT \"v=DMARC1; p=none\"\n"
    "shop.bank\tA 192.0.2.1\n"
    "_dmarc.long\tTXT \"v=DMARC1; p=quarantine\"\n"
    "_dmarc.e.f.g.h.i.j.long\tTXT \"v=DMARC1; p=reject; psd=n\"\n"
    "_dmarc.txt\tTXT \"v=spf1 -all\"\n"
    "_dmarc.txt\tTXT \"hello\"\n"
    "_dmarc.txt\tTXT \"v=DMARC1; p=reject\"\n"
    "_dmarc.notdmarc\tTXT \"v=DMARC2; p=reject\"\n"
    "_dmarc.notdmarc\tTXT \"v=spf1 -all\"\n"
    "_dmarc.two\tTXT \"v=DMARC1; p=none\"\n"
    "_dmarc.two\tTXT \"v=DMARC1; p=reject\"\n"
    "_dmarc.strict\tTXT \"v=DMARC1; p=reject; adkim=s; aspf=s\"\n"
    "_dmarc.testing\tTXT \"v=DMARC1; p=reject; t=y\"\n"
    "_dmarc.pct0\tTXT \"v=DMARC1; p=quarantine; pct=0\"\n"
    "_dmarc.pct50\tTXT \"v=DMARC1; p=reject; pct=50\"\n"
    "_dmarc.old\tTXT \"v=DMARC1; p=reject; pct=100; rf=afrf; ri=86400; "
	"fo=1; rua=mailto:a@old.example!10m\"\n"
    "_dmarc.nop\tTXT \"v=DMARC1; sp=reject\"\n"
    "_dmarc.noprua\tTXT \"v=DMARC1; p=bogus; rua=mailto:a@noprua.example\"\n"
    "_dmarc.badsp\tTXT \"v=DMARC1; p=reject; sp=bogus\"\n";

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

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s, port = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(s);
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
		    "%s/example.zone", dir, *port, dir);
		if ((p = popen(cmd, "r")) == NULL)
			return -1;
		if (fgets(line, sizeof(line), p) != NULL)
			pid = strtol(line, NULL, 10);
		if (pclose(p) != 0)
			pid = -1;
	}
	return pid;
}

/* What a check is expected to give. */
struct want {
	enum dmarc_result result;
	const char *policy_domain;
	enum dmarc_source source;
	enum dmarc_policy policy, disposition;
	int testing;
	const char *org;	/* NULL: not checked */
};

static void
check(struct dns *d, const char *from, const char *spf_domain,
    const char *spf_result, const char *dkim_d, const char *dkim_result,
    const struct want *w, const char *name)
{
	struct dmarc_request rq;
	struct dmarc_response rs;
	struct dmarc_dkim dk;
	int bad;

	memset(&rq, 0, sizeof(rq));
	rq.from_domain = from;
	rq.spf_domain = spf_domain;
	rq.spf_result = spf_result;
	if (dkim_d != NULL) {
		dk.d = dkim_d;
		dk.result = dkim_result;
		rq.dkim = &dk;
		rq.ndkim = 1;
	}
	if (dmarc_check(d, &rq, &rs) == -1) {
		ok(0, name);
		printf("#   dmarc_check: %s\n", strerror(errno));
		return;
	}
	bad = rs.result != w->result ||
	    strcmp(rs.policy_domain, w->policy_domain) != 0 ||
	    rs.source != w->source || rs.policy != w->policy ||
	    rs.disposition != w->disposition || rs.testing != w->testing ||
	    (w->org != NULL && strcmp(rs.org_domain, w->org) != 0);
	ok(!bad, name);
	if (bad)
		printf("#   got %s policy_domain=%s source=%s policy=%s "
		    "disposition=%s testing=%d org=%s spf=%s dkim=%s: %s\n",
		    dmarc_result_str(rs.result), rs.policy_domain,
		    dmarc_source_str(rs.source), dmarc_policy_str(rs.policy),
		    dmarc_policy_str(rs.disposition), rs.testing,
		    rs.org_domain, dmarc_align_str(rs.spf),
		    dmarc_align_str(rs.dkim), rs.reason);
}

/* dmarc_json of a check, compact, compared with want. */
static void
json_is(struct dns *d, const char *from, const char *spf_domain,
    const char *dkim_d, const char *want, const char *name)
{
	struct dmarc_request rq;
	struct dmarc_response rs;
	struct dmarc_dkim dk;
	json_t *j;
	char *got;

	memset(&rq, 0, sizeof(rq));
	rq.from_domain = from;
	rq.spf_domain = spf_domain;
	rq.spf_result = "pass";
	if (dkim_d != NULL) {
		dk.d = dkim_d;
		dk.result = "pass";
		rq.dkim = &dk;
		rq.ndkim = 1;
	}
	if (dmarc_check(d, &rq, &rs) == -1 || (j = dmarc_json(&rs)) == NULL) {
		ok(0, name);
		return;
	}
	got = json_dumps(j, JSON_COMPACT);
	is_str(got, want, name);
	free(got);
	json_decref(j);
}

static void
test_json(struct dns *d)
{
	json_is(d, "own.example", NULL, "own.example",
	    "{\"result\":\"pass\",\"domain\":\"own.example\","
	    "\"policy_domain\":\"own.example\",\"org_domain\":null,"
	    "\"policy\":\"reject\",\"disposition\":\"none\","
	    "\"source\":\"p\",\"testing\":false,\"spf_aligned\":false,"
	    "\"dkim_aligned\":true,\"dkim_domain\":\"own.example\","
	    "\"reason\":\"aligned DKIM pass d=own.example\","
	    "\"published\":{\"adkim\":\"r\",\"aspf\":\"r\","
	    "\"p\":\"reject\",\"sp\":\"reject\",\"np\":\"reject\","
	    "\"psd\":\"u\",\"t\":\"n\",\"fo\":\"0\","
	    "\"rua\":[\"mailto:agg@own.example\"]}}",
	    "json: pass at the Author Domain");
	json_is(d, "ghost.org.example", "mail.org.example", NULL,
	    "{\"result\":\"pass\",\"domain\":\"ghost.org.example\","
	    "\"policy_domain\":\"org.example\","
	    "\"org_domain\":\"org.example\","
	    "\"policy\":\"reject\",\"disposition\":\"none\","
	    "\"source\":\"np\",\"testing\":false,\"spf_aligned\":true,"
	    "\"dkim_aligned\":false,\"dkim_domain\":null,"
	    "\"reason\":\"aligned SPF pass\","
	    "\"published\":{\"adkim\":\"r\",\"aspf\":\"r\","
	    "\"p\":\"none\",\"sp\":\"quarantine\",\"np\":\"reject\","
	    "\"psd\":\"u\",\"t\":\"n\",\"fo\":\"0\","
	    "\"rua\":[\"mailto:agg@org.example\"]}}",
	    "json: relaxed SPF pass under the org domain, np");
	json_is(d, "old.example", "elsewhere.example", "elsewhere.example",
	    "{\"result\":\"fail\",\"domain\":\"old.example\","
	    "\"policy_domain\":\"old.example\","
	    "\"org_domain\":\"old.example\","
	    "\"policy\":\"reject\",\"disposition\":\"reject\","
	    "\"source\":\"p\",\"testing\":false,\"spf_aligned\":false,"
	    "\"dkim_aligned\":false,\"dkim_domain\":null,"
	    "\"reason\":\"no aligned pass; p=reject from _dmarc.old.example\","
	    "\"published\":{\"adkim\":\"r\",\"aspf\":\"r\","
	    "\"p\":\"reject\",\"sp\":\"reject\",\"np\":\"reject\","
	    "\"psd\":\"u\",\"t\":\"n\",\"pct\":100,\"fo\":\"1\","
	    "\"rua\":[\"mailto:a@old.example\"]}}",
	    "json: RFC 7489 record, fail, pct given");
	json_is(d, "pct0.example", NULL, NULL,
	    "{\"result\":\"fail\",\"domain\":\"pct0.example\","
	    "\"policy_domain\":\"pct0.example\",\"org_domain\":null,"
	    "\"policy\":\"quarantine\",\"disposition\":\"none\","
	    "\"source\":\"p\",\"testing\":true,\"spf_aligned\":false,"
	    "\"dkim_aligned\":false,\"dkim_domain\":null,"
	    "\"reason\":\"no aligned pass; p=quarantine t=y from "
	    "_dmarc.pct0.example\","
	    "\"published\":{\"adkim\":\"r\",\"aspf\":\"r\","
	    "\"p\":\"quarantine\",\"sp\":\"quarantine\","
	    "\"np\":\"quarantine\",\"psd\":\"u\",\"t\":\"y\","
	    "\"pct\":0,\"fo\":\"0\",\"rua\":[]}}",
	    "json: pct=0 is testing");
	json_is(d, "noprua.example", NULL, NULL,
	    "{\"result\":\"fail\",\"domain\":\"noprua.example\","
	    "\"policy_domain\":\"noprua.example\",\"org_domain\":null,"
	    "\"policy\":\"none\",\"disposition\":\"none\","
	    "\"source\":\"p\",\"testing\":false,\"spf_aligned\":false,"
	    "\"dkim_aligned\":false,\"dkim_domain\":null,"
	    "\"reason\":\"no aligned pass; p=none from "
	    "_dmarc.noprua.example\","
	    "\"published\":{\"adkim\":\"r\",\"aspf\":\"r\","
	    "\"p\":\"none\",\"sp\":\"none\",\"np\":\"none\","
	    "\"psd\":\"u\",\"t\":\"n\",\"fo\":\"0\","
	    "\"rua\":[\"mailto:a@noprua.example\"]}}",
	    "json: bad p= with rua= counts as p=none");
	json_is(d, "nothing.example", NULL, NULL,
	    "{\"result\":\"none\",\"domain\":\"nothing.example\","
	    "\"policy_domain\":null,\"org_domain\":null,"
	    "\"policy\":null,\"disposition\":\"none\","
	    "\"source\":null,\"testing\":false,\"spf_aligned\":false,"
	    "\"dkim_aligned\":false,\"dkim_domain\":null,"
	    "\"reason\":\"no policy record\",\"published\":null}",
	    "json: no record");
	json_is(d, "b\xc3\xbc" "cher.example", NULL, NULL,
	    "{\"result\":\"permerror\",\"domain\":null,"
	    "\"policy_domain\":null,\"org_domain\":null,"
	    "\"policy\":null,\"disposition\":\"none\","
	    "\"source\":null,\"testing\":false,\"spf_aligned\":false,"
	    "\"dkim_aligned\":false,\"dkim_domain\":null,"
	    "\"reason\":\"no Author Domain: b\\\\xc3\\\\xbccher.example\","
	    "\"published\":null}",
	    "json: U-labels: permerror, reason escaped");
}

static int
queries(struct dns *d, const char *from)
{
	struct dmarc_request rq;
	struct dmarc_response rs;

	memset(&rq, 0, sizeof(rq));
	rq.from_domain = from;
	if (dmarc_check(d, &rq, &rs) == -1)
		return -1;
	return rs.queries;
}

static void
org_is(struct dns *d, const char *domain, const char *want)
{
	char org[DMARC_DOMAIN_MAX], name[200];
	int r = dmarc_org_domain(d, domain, org, sizeof(org));

	snprintf(name, sizeof(name), "org domain of %s: %s", domain, want);
	if (r == -1)
		snprintf(org, sizeof(org), "(error %s)", strerror(errno));
	is_str(org, want, name);
}

#define P DMARC_SOURCE_P
#define SP DMARC_SOURCE_SP
#define NP DMARC_SOURCE_NP
#define SN DMARC_SOURCE_NONE

static void
test_dns(struct dns *d)
{
	static const char longname[] = "a.b.c.d.e.f.g.h.i.j.long.example";
	struct want w;

	/* policy at the Author Domain */
	w = (struct want){ DMARC_PASS, "own.example", P, R, N, 0, NULL };
	check(d, "own.example", NULL, NULL, "own.example", "pass", &w,
	    "own: aligned DKIM pass");
	w = (struct want){ DMARC_FAIL, "own.example", P, R, R, 0, NULL };
	check(d, "own.example", NULL, NULL, "own.example", "fail", &w,
	    "own: DKIM fail: fail, reject");
	check(d, "OWN.Example.", "elsewhere.example", "pass", NULL, NULL, &w,
	    "own: unaligned SPF pass: fail (case, final dot)");
	w = (struct want){ DMARC_PASS, "own.example", P, R, N, 0,
	    "own.example" };
	check(d, "own.example", "bounce.own.example", "pass", NULL, NULL, &w,
	    "own: relaxed SPF pass of a subdomain: pass");
	w = (struct want){ DMARC_FAIL, "split.example", P, Q, Q, 0, NULL };
	check(d, "split.example", NULL, NULL, NULL, NULL, &w,
	    "a record in two TXT strings");

	/* the Organizational Domain's record: sp for an existing
	 * subdomain, np for a non-existent one, p for itself */
	w = (struct want){ DMARC_FAIL, "org.example", SP, Q, Q, 0,
	    "org.example" };
	check(d, "live.org.example", NULL, NULL, NULL, NULL, &w,
	    "existing subdomain: sp");
	w = (struct want){ DMARC_FAIL, "org.example", NP, R, R, 0,
	    "org.example" };
	check(d, "ghost.org.example", NULL, NULL, NULL, NULL, &w,
	    "non-existent subdomain: np");
	w = (struct want){ DMARC_FAIL, "org.example", P, N, N, 0, NULL };
	check(d, "org.example", NULL, NULL, NULL, NULL, &w,
	    "the org domain itself: p");
	w = (struct want){ DMARC_PASS, "org.example", SP, Q, N, 0,
	    "org.example" };
	check(d, "live.org.example", NULL, NULL, "org.example", "pass", &w,
	    "existing subdomain, DKIM d= of the org domain: pass");
	check(d, "live.org.example", NULL, NULL, "mail.mid.org.example",
	    "pass", &w, "existing subdomain, DKIM d= of a sibling: pass");

	/* a record between the Author Domain and the org domain is not the
	 * policy (RFC 9989 4.10.1: Author Domain, org domain, PSD) */
	w = (struct want){ DMARC_FAIL, "org.example", SP, Q, Q, 0,
	    "org.example" };
	check(d, "a.mid.org.example", NULL, NULL, NULL, NULL, &w,
	    "intermediate record: the org domain's sp applies");
	w = (struct want){ DMARC_FAIL, "mid.org.example", P, R, R, 0, NULL };
	check(d, "mid.org.example", NULL, NULL, NULL, NULL, &w,
	    "intermediate name as Author Domain: its own p");
	w = (struct want){ DMARC_FAIL, "solo.nopol.example", P, Q, Q, 0,
	    "solo.nopol.example" };
	check(d, "x.solo.nopol.example", NULL, NULL, NULL, NULL, &w,
	    "only an intermediate record: it is the org domain, p applies");

	/* psd=n: its own Organizational Domain, and the walk stops */
	w = (struct want){ DMARC_FAIL, "dept.org.example", P, R, R, 0,
	    "dept.org.example" };
	check(d, "x.dept.org.example", NULL, NULL, "org.example", "pass", &w,
	    "psd=n: org domain below the parent's; parent's d= unaligned");
	w = (struct want){ DMARC_PASS, "dept.org.example", P, R, N, 0,
	    "dept.org.example" };
	check(d, "x.dept.org.example", NULL, NULL, "y.dept.org.example",
	    "pass", &w, "psd=n: a sibling's d= aligned");
	is_int(queries(d, "x.dept.org.example"), 2,
	    "psd=n: the walk stops there (2 queries)");

	/* psd=y: the PSD's record for names below it without their own */
	w = (struct want){ DMARC_FAIL, "bank.example", SP, Q, Q, 0,
	    "shop.bank.example" };
	check(d, "shop.bank.example", NULL, NULL, NULL, NULL, &w,
	    "psd=y: existing name below the PSD: sp");
	w = (struct want){ DMARC_FAIL, "bank.example", NP, R, R, 0,
	    "nx.bank.example" };
	check(d, "nx.bank.example", NULL, NULL, NULL, NULL, &w,
	    "psd=y: non-existent name below the PSD: np");
	w = (struct want){ DMARC_PASS, "bank.example", NP, R, N, 0,
	    "shop.bank.example" };
	check(d, "a.shop.bank.example", "shop.bank.example", "pass", NULL,
	    NULL, &w, "psd=y: org domain one label below the PSD, aligned");
	w = (struct want){ DMARC_FAIL, "bank.example", NP, R, R, 0,
	    "shop.bank.example" };
	check(d, "a.shop.bank.example", NULL, NULL, "bank.example", "pass",
	    &w, "psd=y: the PSD's own d= does not align below it");
	check(d, "a.shop.bank.example", NULL, NULL, "mega.bank.example",
	    "pass", &w, "psd=y: another org below the PSD does not align");
	w = (struct want){ DMARC_PASS, "giant.bank.example", P, N, N, 0,
	    "giant.bank.example" };
	check(d, "giant.bank.example", "mail.giant.bank.example", "pass",
	    NULL, NULL, &w, "RFC 9989 PSD example: SPF aligned");
	org_is(d, "mail.mega.bank.example", "mega.bank.example");
	org_is(d, "mail.giant.bank.example", "giant.bank.example");
	org_is(d, "bank.example", "bank.example");
	is_int(queries(d, "shop.bank.example"), 3,
	    "psd=y stops the walk: _dmarc.example never asked (2 TXT, 1 A)");

	/* no record anywhere: none */
	w = (struct want){ DMARC_NONE, "", SN, U, N, 0, NULL };
	check(d, "nothing.example", NULL, NULL, "other.example", "pass", &w,
	    "no record: none");
	org_is(d, "a.b.nothing.example", "a.b.nothing.example");
	org_is(d, "a.live.org.example", "org.example");

	/* TXT records that are not DMARC are discarded */
	w = (struct want){ DMARC_FAIL, "txt.example", P, R, R, 0, NULL };
	check(d, "txt.example", NULL, NULL, NULL, NULL, &w,
	    "one DMARC record among other TXT records");
	w = (struct want){ DMARC_NONE, "", SN, U, N, 0, NULL };
	check(d, "notdmarc.example", NULL, NULL, NULL, NULL, &w,
	    "v=DMARC2 and SPF records only: none");

	/* several DMARC records: none of them counts */
	check(d, "two.example", NULL, NULL, NULL, NULL, &w,
	    "two DMARC records: none");
	w = (struct want){ DMARC_FAIL, "org.example", SP, Q, Q, 0,
	    "org.example" };
	check(d, "twosub.org.example", NULL, NULL, NULL, NULL, &w,
	    "two records at the Author Domain: the walk goes on (sp: the "
	    "name exists, _dmarc below it does, RFC 8020)");

	/* alignment modes */
	w = (struct want){ DMARC_FAIL, "strict.example", P, R, R, 0, NULL };
	check(d, "strict.example", NULL, NULL, "mail.strict.example", "pass",
	    &w, "adkim=s: a subdomain's d= is not aligned");
	check(d, "strict.example", "mail.strict.example", "pass", NULL, NULL,
	    &w, "aspf=s: a subdomain's SPF is not aligned");
	w = (struct want){ DMARC_PASS, "strict.example", P, R, N, 0, NULL };
	check(d, "strict.example", "strict.example", "pass", NULL, NULL, &w,
	    "aspf=s: identical SPF domain aligned");
	check(d, "strict.example", NULL, NULL, "STRICT.example", "pass", &w,
	    "adkim=s: identical d= (case) aligned");
	w = (struct want){ DMARC_FAIL, "own.example", P, R, R, 0, NULL };
	check(d, "own.example", "own.example", "softfail", "own.example",
	    "neutral", &w, "aligned identifiers without pass: fail");

	/* testing: t=y and the RFC 7489 pct=0 lower the disposition */
	w = (struct want){ DMARC_FAIL, "testing.example", P, R, Q, 1, NULL };
	check(d, "testing.example", NULL, NULL, NULL, NULL, &w,
	    "t=y: reject applied as quarantine");
	w = (struct want){ DMARC_FAIL, "pct0.example", P, Q, N, 1, NULL };
	check(d, "pct0.example", NULL, NULL, NULL, NULL, &w,
	    "pct=0 (RFC 7489): testing, quarantine applied as none");
	w = (struct want){ DMARC_FAIL, "pct50.example", P, R, R, 0, NULL };
	check(d, "pct50.example", NULL, NULL, NULL, NULL, &w,
	    "pct=50 (RFC 7489): the whole policy");
	w = (struct want){ DMARC_FAIL, "old.example", P, R, R, 0, NULL };
	check(d, "old.example", NULL, NULL, NULL, NULL, &w,
	    "RFC 7489 record with pct, rf, ri, !size: works");

	/* records without a valid p= */
	w = (struct want){ DMARC_NONE, "", SN, U, N, 0, NULL };
	check(d, "nop.example", NULL, NULL, NULL, NULL, &w,
	    "no p= and no rua=: DMARC does not apply");
	w = (struct want){ DMARC_FAIL, "noprua.example", P, N, N, 0, NULL };
	check(d, "noprua.example", NULL, NULL, NULL, NULL, &w,
	    "bad p= with rua=: p=none");
	w = (struct want){ DMARC_NONE, "", SN, U, N, 0, NULL };
	check(d, "badsp.example", NULL, NULL, NULL, NULL, &w,
	    "bad sp= without rua=: DMARC does not apply");

	/* the 8-query limit: a name of 12 labels */
	w = (struct want){ DMARC_FAIL, "long.example", P, Q, Q, 0,
	    "long.example" };
	check(d, longname, NULL, NULL, NULL, NULL, &w,
	    "12 labels: the psd=n record 8 labels deep is skipped");
	is_int(queries(d, longname), LIMIT_DMARC_WALK,
	    "12 labels: 8 queries");
	org_is(d, longname, "long.example");
	w = (struct want){ DMARC_FAIL, "e.f.g.h.i.j.long.example", P, R, R, 0,
	    NULL };
	check(d, "e.f.g.h.i.j.long.example", NULL, NULL, NULL, NULL, &w,
	    "that record is used for its own name");
	/* 9 labels: the walk jumps to 7, past the 8-label record */
	org_is(d, "x.e.f.g.h.i.j.long.example", "long.example");
	org_is(d, "e.f.g.h.i.j.long.example", "e.f.g.h.i.j.long.example");
	{
		/* 127 labels: the walk still makes 8 queries */
		char huge[300];
		size_t o = 0;
		int k;

		for (k = 0; k < 115; k++)
			o += (size_t)snprintf(huge + o, sizeof(huge) - o,
			    "a.");
		snprintf(huge + o, sizeof(huge) - o, "long.example");
		ok(queries(d, huge) <= LIMIT_DMARC_WALK + 1,
		    "117 labels: at most 8 queries and one A");
		org_is(d, huge, "long.example");
	}

	/* DNS failure: the server refuses names outside its zones */
	w = (struct want){ DMARC_TEMPERROR, "", SN, U, N, 0, NULL };
	check(d, "example.org", NULL, NULL, NULL, NULL, &w,
	    "DNS failure: temperror");
	{
		char org[DMARC_DOMAIN_MAX];

		errno = 0;
		ok(dmarc_org_domain(d, "x.example.org", org, sizeof(org)) ==
		    -1 && errno == EAGAIN, "org domain, DNS failure: EAGAIN");
		errno = 0;
		ok(dmarc_org_domain(d, "b\xc3\xbc" "cher.example", org,
		    sizeof(org)) == -1 && errno == EINVAL,
		    "org domain of U-labels: EINVAL");
	}

	/* bad requests and Author Domains */
	{
		struct dmarc_request rq;
		struct dmarc_response rs;

		memset(&rq, 0, sizeof(rq));
		errno = 0;
		ok(dmarc_check(d, &rq, &rs) == -1 && errno == EINVAL,
		    "no from_domain: EINVAL");
		rq.from_domain = "own.example";
		rq.ndkim = 1;
		ok(dmarc_check(d, &rq, &rs) == -1 && errno == EINVAL,
		    "ndkim without dkim: EINVAL");
		rq.ndkim = 0;
		rq.from_domain = "[192.0.2.1]";
		ok(dmarc_check(d, &rq, &rs) == 0 &&
		    rs.result == DMARC_PERMERROR && rs.queries == 0,
		    "domain literal: permerror, no query");
		rq.from_domain = "";
		ok(dmarc_check(d, &rq, &rs) == 0 &&
		    rs.result == DMARC_PERMERROR, "empty: permerror");
	}
}

int
main(void)
{
	char cmd[256], srv[64], err[256];
	struct dns *d;
	long pid;
	int port;

	test_records();
	test_from();
	test_from_msg();
	test_words();

	snprintf(dir, sizeof(dir), "/tmp/test_dmarc.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (write_file("example.zone", zone_example) == -1) {
		perror("write zone");
		return 1;
	}
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
	test_dns(d);
	test_json(d);
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
