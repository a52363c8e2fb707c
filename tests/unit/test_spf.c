/*
 * test_spf: lib/spf without DNS: record syntax (RFC 7208 4.6, 5, 6, 12),
 * macro expansion (7, with the examples of 7.4) and the result words.
 * check_host() against DNS is tests/spf-conformance.bats.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "spf.h"
#include "t.h"

static struct spf_record rec;

/* Parse s; 0 or -1. */
static int
parse(const char *s)
{
	char err[200];

	return spf_parse_record(s, strlen(s), &rec, err, sizeof(err));
}

static const char *good[] = {
	"v=spf1",
	"v=spf1 ",
	"V=SPF1 -ALL",
	"v=spf1  +all  ",
	"v=spf1 ?all ~all -all +all all",
	"v=spf1 include:example.com include:_spf.%{d2}",
	"v=spf1 a a:example.com a/24 a//64 a/24//64 a:example.com/0//0",
	"v=spf1 a:example.com/32//128",
	"v=spf1 mx mx:example.com mx/30 mx//126 mx:example.com/24//64",
	"v=spf1 ptr ptr:example.com",
	"v=spf1 ip4:192.0.2.1 ip4:192.0.2.0/24 ip4:0.0.0.0/0",
	"v=spf1 ip6:2001:db8::1 ip6:2001:db8::/32 ip6:::/0 ip6:::ffff:1.2.3.4",
	"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}",
	"v=spf1 exists:%{i}.example.com.",
	"v=spf1 redirect=_spf.example.com",
	"v=spf1 -all exp=explain.%{d}",
	"v=spf1 foo=bar foo-bar.baz_x=%{c}%{r}%{t} empty=",
	"v=spf1 a:%{d}",
	"v=spf1 a:foo.%%.%_.%-.example.com",
	"v=spf1 a:1-2.example.com a:x.1-com",
	NULL
};

static const char *bad[] = {
	"v=spf10",
	"spf1 -all",
	"v=spf1 -all foo",
	"v=spf1 all:x",
	"v=spf1 -all=",
	"v=spf1 !all",
	"v=spf1 include",
	"v=spf1 include:",
	"v=spf1 include:com",
	"v=spf1 include:example.123",
	"v=spf1 include:example.-com",
	"v=spf1 a:",
	"v=spf1 a:example.com:8080",
	"v=spf1 a/33",
	"v=spf1 a//129",
	"v=spf1 a/024",
	"v=spf1 a/",
	"v=spf1 a:example.com/24/64",
	"v=spf1 mx:",
	"v=spf1 mx/33",
	"v=spf1 ptr:",
	"v=spf1 ptrx",
	"v=spf1 ip4",
	"v=spf1 ip4:",
	"v=spf1 ip4:1.2.3",
	"v=spf1 ip4:1.2.3.4/33",
	"v=spf1 ip4:1.2.3.4/",
	"v=spf1 ip4:01.2.3.4",
	"v=spf1 ip4:::1",
	"v=spf1 ip6:1.2.3.4",
	"v=spf1 ip6:::1/129",
	"v=spf1 ip6",
	"v=spf1 exists",
	"v=spf1 exists:",
	"v=spf1 redirect=",
	"v=spf1 redirect=a.example redirect=b.example",
	"v=spf1 exp=a.example exp=b.example",
	"v=spf1 exp=",
	"v=spf1 a:%{x}.example.com",
	"v=spf1 a:%{c}.example.com",
	"v=spf1 a:%{r}.example.com",
	"v=spf1 a:%{t}.example.com",
	"v=spf1 a:%{d0}.example.com",
	"v=spf1 a:%{d.example.com",
	"v=spf1 a:%d.example.com",
	"v=spf1 a:100%.example.com",
	"v=spf1 foo=%",
	"v=spf1 foo=%abc",
	"v=spf1 1foo=bar",
	"v=spf1 unknown:example.com",
	"v=spf1 a:example.com\rptr",
	"v=spf1 ip4:192.0.2.5\n",
	"v=spf1 \x96" "all",
	NULL
};

static void
test_parse(void)
{
	char big[LIMIT_SPF_RECORD + 32], name[120];
	size_t n;
	int i;

	for (i = 0; good[i] != NULL; i++) {
		snprintf(name, sizeof(name), "valid: %s", good[i]);
		is_int(parse(good[i]), 0, name);
	}
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(name, sizeof(name), "syntax error: %s", bad[i]);
		is_int(parse(bad[i]), -1, name);
	}
	ok(spf_parse_record("v=spf1 a\0 -all", 14, &rec, NULL, 0) == -1,
	    "a NUL in a record is an error");

	/* the terms as parsed */
	is_int(parse("v=spf1 -a:example.com/24//64 ~mx ?ip4:192.0.2.0/25 "
	    "ip6:2001:db8::/48 include:x.example ptr exists:%{i}.e.example "
	    "all redirect=r.example exp=e.example foo=bar"), 0, "full record");
	is_int(rec.nterms, 11, "11 terms");
	is_int(rec.term[0].kind, SPF_K_A, "a");
	is_int(rec.term[0].qualifier, '-', "- qualifier");
	is_int(rec.term[0].cidr4, 24, "a: ip4 cidr");
	is_int(rec.term[0].cidr6, 64, "a: ip6 cidr");
	ok(rec.term[0].arglen == 11 &&
	    memcmp(rec.text + rec.term[0].arg, "example.com", 11) == 0,
	    "a: domain-spec without the cidr");
	is_int(rec.term[1].kind, SPF_K_MX, "mx");
	is_int(rec.term[1].qualifier, '~', "~ qualifier");
	is_int(rec.term[1].cidr4, 32, "mx: default ip4 cidr 32");
	is_int(rec.term[1].cidr6, 128, "mx: default ip6 cidr 128");
	is_int(rec.term[1].arglen, 0, "mx: no domain-spec");
	is_int(rec.term[2].kind, SPF_K_IP4, "ip4");
	is_int(rec.term[2].qualifier, '?', "? qualifier");
	is_int(rec.term[2].cidr4, 25, "ip4 cidr");
	ok(memcmp(rec.term[2].addr, "\xc0\x00\x02\x00", 4) == 0,
	    "ip4 address");
	is_int(rec.term[3].kind, SPF_K_IP6, "ip6");
	is_int(rec.term[3].qualifier, '+', "+ by default");
	is_int(rec.term[3].cidr6, 48, "ip6 cidr");
	ok(memcmp(rec.term[3].addr, "\x20\x01\x0d\xb8", 4) == 0,
	    "ip6 address");
	is_int(rec.term[4].kind, SPF_K_INCLUDE, "include");
	is_int(rec.term[5].kind, SPF_K_PTR, "ptr");
	is_int(rec.term[6].kind, SPF_K_EXISTS, "exists");
	is_int(rec.term[7].kind, SPF_K_ALL, "all");
	is_int(rec.term[8].kind, SPF_K_REDIRECT, "redirect");
	is_int(rec.redirect, 8, "redirect index");
	is_int(rec.term[9].kind, SPF_K_EXP, "exp");
	is_int(rec.exp, 9, "exp index");
	is_int(rec.term[10].kind, SPF_K_UNKNOWN, "unknown modifier");
	is_int(rec.term[10].len, 7, "last term");
	ok(rec.term[10].len == 7 &&
	    memcmp(rec.text + rec.term[10].off, "foo=bar", 7) == 0,
	    "a term as written");

	/* bounds */
	memcpy(big, "v=spf1", 6);
	for (n = 6; n + 3 <= LIMIT_SPF_RECORD; n += 3)
		memcpy(big + n, " a ", 3);
	big[n] = '\0';
	is_int(parse(big), -1, "more than LIMIT_SPF_TERMS terms");
	memset(big + 6, ' ', sizeof(big) - 7);
	big[LIMIT_SPF_RECORD] = '\0';
	is_int(parse(big), 0, "LIMIT_SPF_RECORD bytes");
	big[LIMIT_SPF_RECORD] = ' ';
	big[LIMIT_SPF_RECORD + 1] = '\0';
	is_int(parse(big), -1, "one more byte");

	ok(spf_is_record("v=spf1", 6), "v=spf1 is a record");
	ok(spf_is_record("V=Spf1 -all", 11), "any case");
	ok(!spf_is_record("v=spf10", 7), "v=spf10 is not");
	ok(!spf_is_record("v=spf", 5), "v=spf is not");
	ok(!spf_is_record(" v=spf1", 7), "leading space: not");
}

static struct sockaddr_in sin4;
static struct sockaddr_in6 sin6;

/* Expand spec in mode m with env; the result, or "ERROR". */
static const char *
expand(const char *spec, enum spf_expand_mode m,
    const struct spf_macro_env *env)
{
	static char out[SPF_EXPLANATION_MAX];
	char err[200];

	if (spf_expand(spec, strlen(spec), m, env, out,
	    m == SPF_EXPAND_DOMAIN ? SPF_DOMAIN_MAX : sizeof(out), err,
	    sizeof(err)) == -1)
		return "ERROR";
	return out;
}

static void
test_expand(void)
{
	/* RFC 7208 7.4 */
	static const char *rfc[][2] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net",
		    "example.com.trusted-domains.example.net" },
	};
	struct spf_macro_env env;
	char name[120], long_sender[400];
	size_t i;

	memset(&env, 0, sizeof(env));
	sin4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.3", &sin4.sin_addr);
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::cb01", &sin6.sin6_addr);
	env.client = (struct sockaddr *)&sin4;
	env.sender = "strong-bad@email.example.com";
	env.domain = "email.example.com";
	env.helo = "mx.example.org";
	env.receiver = "mx.example.net";
	env.now = 1700000000;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		snprintf(name, sizeof(name), "7.4: %s", rfc[i][0]);
		is_str(expand(rfc[i][0], SPF_EXPAND_DOMAIN, &env), rfc[i][1],
		    name);
	}
	env.client = (struct sockaddr *)&sin6;
	is_str(expand("%{ir}.%{v}._spf.%{d2}", SPF_EXPAND_DOMAIN, &env),
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "ip6._spf.example.com", "7.4: IPv6 %{ir}.%{v}");
	is_str(expand("%{i}", SPF_EXPAND_DOMAIN, &env),
	    "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1",
	    "IPv6 %{i}: nibbles");
	is_str(expand("%{c}", SPF_EXPAND_EXPLAIN, &env), "2001:db8::cb01",
	    "IPv6 %{c}");
	is_str(expand("%{i2r}", SPF_EXPAND_DOMAIN, &env), "0.2",
	    "IPv6 %{i2r}: reversed, then the right-hand 2");
	env.client = (struct sockaddr *)&sin4;
	is_str(expand("%{c}", SPF_EXPAND_EXPLAIN, &env), "192.0.2.3",
	    "IPv4 %{c}");

	/* transformers and delimiters */
	env.sender = "a.b-c+d,e/f_g=h@x.example";
	is_str(expand("%{l}", SPF_EXPAND_DOMAIN, &env), "a.b-c+d,e/f_g=h",
	    "%{l} as is");
	is_str(expand("%{l-+,/_=}", SPF_EXPAND_DOMAIN, &env), "a.b.c.d.e.f.g.h",
	    "every delimiter becomes a dot");
	is_str(expand("%{l2r-}", SPF_EXPAND_DOMAIN, &env), "c+d,e/f_g=h.a.b",
	    "%{l2r-}");
	is_str(expand("%{l3+=}", SPF_EXPAND_DOMAIN, &env), "a.b-c.d,e/f_g.h",
	    "%{l3+=}");
	is_str(expand("%{l99}", SPF_EXPAND_DOMAIN, &env), "a.b-c+d,e/f_g=h",
	    "more parts than there are: all");
	is_str(expand("%{o1r}", SPF_EXPAND_DOMAIN, &env), "x",
	    "%{o1r}");
	env.sender = "strong-bad@email.example.com";
	is_str(expand("%{D2R}", SPF_EXPAND_DOMAIN, &env), "example.email",
	    "upper-case letter, nothing to escape");
	env.sender = "~jack&jill=up-a_b3.c@e8.example.com";
	is_str(expand("%{L}", SPF_EXPAND_EXPLAIN, &env),
	    "~jack%26jill%3Dup-a_b3.c", "upper case: URL escapes");
	env.sender = "strong-bad@email.example.com";
	is_str(expand("%{h} %{H}", SPF_EXPAND_EXPLAIN, &env),
	    "mx.example.org mx.example.org", "%{h}");
	is_str(expand("%%%_%-", SPF_EXPAND_EXPLAIN, &env), "% %20",
	    "%% %_ %-");
	is_str(expand("a%%b%_c%-d.example", SPF_EXPAND_DOMAIN, &env),
	    "a%b c%20d.example", "%% %_ %- in a domain");
	is_str(expand("%{r} %{t} %{p}", SPF_EXPAND_EXPLAIN, &env),
	    "mx.example.net 1700000000 unknown", "%{r} %{t}, %{p} unknown");
	env.ptr = "mail.example.com";
	is_str(expand("%{p2}", SPF_EXPAND_DOMAIN, &env), "example.com",
	    "%{p2}");
	is_str(expand("%{v}", SPF_EXPAND_DOMAIN, &env), "in-addr",
	    "%{v} IPv4");
	is_str(expand("%{d}.", SPF_EXPAND_DOMAIN, &env), "email.example.com",
	    "a final dot dropped");
	is_str(expand("%{d}..", SPF_EXPAND_DOMAIN, &env), "email.example.com.",
	    "one final dot dropped (the name has an empty label)");

	/* syntax */
	is_str(expand("%{c}", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "%{c} only in explanations");
	is_str(expand("%{r}.x", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "%{r} only in explanations");
	is_str(expand("%{t}", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "%{t} only in explanations");
	is_str(expand("a b", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "a space in a domain");
	is_str(expand("a b", SPF_EXPAND_EXPLAIN, &env), "a b",
	    "a space in an explanation");
	is_str(expand("%{x}", SPF_EXPAND_EXPLAIN, &env), "ERROR",
	    "unknown letter");
	is_str(expand("%{d0}", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "zero parts");
	is_str(expand("%{d2", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "no closing brace");
	is_str(expand("%{d2r!}", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "a bad delimiter");
	is_str(expand("%", SPF_EXPAND_DOMAIN, &env), "ERROR", "lone %");
	is_str(expand("%x", SPF_EXPAND_DOMAIN, &env), "ERROR", "%x");
	is_str(expand("a\x01", SPF_EXPAND_EXPLAIN, &env), "ERROR",
	    "a control byte");

	/* 7.3: over 253 bytes, labels cut from the left (the local-part
	 * ends with a dot, which goes as a final dot) */
	memset(long_sender, 'a', 300);
	for (i = 9; i < 300; i += 10)
		long_sender[i] = '.';
	memcpy(long_sender + 300, "@x.example", 11);
	env.sender = long_sender;
	{
		const char *r = expand("%{l}", SPF_EXPAND_DOMAIN, &env);

		ok(strlen(r) <= 253 && strlen(r) > 240 && r[0] != '.' &&
		    strncmp(long_sender + 299 - strlen(r), r, strlen(r)) == 0,
		    "a long expansion cut to its right 253 bytes at a dot");
	}
	memset(long_sender, 'a', 300);
	env.sender = long_sender;
	is_str(expand("%{l}", SPF_EXPAND_DOMAIN, &env), "ERROR",
	    "300 bytes without a dot cannot be cut");
}

static void
test_result_str(void)
{
	is_str(spf_result_str(SPF_NONE), "none", "none");
	is_str(spf_result_str(SPF_NEUTRAL), "neutral", "neutral");
	is_str(spf_result_str(SPF_PASS), "pass", "pass");
	is_str(spf_result_str(SPF_FAIL), "fail", "fail");
	is_str(spf_result_str(SPF_SOFTFAIL), "softfail", "softfail");
	is_str(spf_result_str(SPF_TEMPERROR), "temperror", "temperror");
	is_str(spf_result_str(SPF_PERMERROR), "permerror", "permerror");
	is_str(spf_result_str((enum spf_result)42), "unknown",
	    "out of range");
}

static void
test_json(void)
{
	struct spf_response r;
	json_t *j;
	char *s;

	memset(&r, 0, sizeof(r));
	r.result = SPF_FAIL;
	r.identity = SPF_MAILFROM;
	snprintf(r.domain, sizeof(r.domain), "example.org");
	snprintf(r.mechanism, sizeof(r.mechanism), "-all");
	snprintf(r.explanation, sizeof(r.explanation), "go \"away\"");
	r.lookups = 3;
	r.void_lookups = 1;
	j = spf_json(&r);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"result\":\"fail\",\"domain\":\"example.org\","
	    "\"identity\":\"mailfrom\",\"mechanism\":\"-all\","
	    "\"explanation\":\"go \\\"away\\\"\",\"lookups\":3,"
	    "\"void_lookups\":1}", "fail: every key but problem, in order");
	free(s);
	json_decref(j);

	memset(&r, 0, sizeof(r));
	r.result = SPF_NONE;
	r.identity = SPF_HELO;
	j = spf_json(&r);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"result\":\"none\",\"identity\":\"helo\","
	    "\"lookups\":0,\"void_lookups\":0}",
	    "empty strings left out; helo");
	free(s);
	json_decref(j);

	r.result = SPF_PERMERROR;
	snprintf(r.domain, sizeof(r.domain), "b\xe9" "d.example");
	snprintf(r.problem, sizeof(r.problem), "b\xc3\xa9" "d.example: "
	    "more than 10 DNS lookups");
	j = spf_json(&r);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"result\":\"permerror\",\"domain\":\"b\\\\xe9d.example\","
	    "\"identity\":\"helo\",\"problem\":\"b\xc3\xa9" "d.example: more "
	    "than 10 DNS lookups\",\"lookups\":0,\"void_lookups\":0}",
	    "bad UTF-8 escaped, good UTF-8 kept");
	free(s);
	json_decref(j);
}

int
main(void)
{
	test_parse();
	test_expand();
	test_result_str();
	test_json();
	return t_done();
}
