/*
 * test_dkim: lib/dkim without DNS: the parsers, the canonicalisations,
 * field selection, the RFC 8463 Appendix A example, round trips through
 * dkim_sign and dkim_sig_check, and the mutations that must (or must not)
 * break a signature.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "msg.h"
#include "t.h"
#include "xalloc.h"

/* RFC 6376 A.1, the example message. */
#define RFC6376_MSG							\
    "From: Joe SixPack <joe@football.example.com>\n"			\
    "To: Suzie Q <suzie@shopping.example.net>\n"			\
    "Subject: Is dinner ready?\n"					\
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"			\
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"	\
    "\n"								\
    "Hi.\n"								\
    "\n"								\
    "We lost the game.  Are you hungry yet?\n"				\
    "\n"								\
    "Joe.\n"

/* RFC 8463 Appendix A: the keys, and the message signed both ways. */
static const char rfc8463_ed[] = "v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc8463_rsa[] = "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk0"
    "8a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsC"
    "R+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+"
    "l/K4w3QIDAQAB";
static const char rfc8463_msg[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n"
    " d=football.example.com; i=@football.example.com;\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n"
    " subject : date : message-id : from : subject : date;\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
    " d=football.example.com; i=@football.example.com;\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n"
    " date : message-id : from : subject : date;\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\n"
    RFC6376_MSG;

/* RFC 6376 A.2 as printed: its bh= is the relaxed body hash under
 * c=simple/simple (see conformance/rfc-text/SOURCE.md). */
static const char rfc6376_a2[] =
    "DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;\n"
    "     c=simple/simple; q=dns/txt; i=joe@football.example.com;\n"
    "     h=Received : From : To : Subject : Date : Message-ID;\n"
    "     bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    "     b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\n"
    "     4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut\n"
    "     KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV\n"
    "     4bmp/YzhwvcubU4=;\n"
    "Received: from client1.football.example.com  [192.0.2.1]\n"
    "     by submitserver.example.com with SUBMISSION;\n"
    "     Fri, 11 Jul 2003 21:01:54 -0700 (PDT)\n"
    RFC6376_MSG;

/* RFC 6376 Appendix C's public key (published under example.org). */
static const char rfc6376_c[] = "v=DKIM1; p="
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQ"
    "g1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT9"
    "47qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2Q"
    "IDAQAB";

static struct dkim_verify_opts vo;

/* The result of signature number which (counting DKIM-Signature fields
 * from the top) of text, checked with the key record rec. */
static enum dkim_res
check(const char *text, size_t len, int which, const char *rec,
    char *reason)
{
	struct dkim_result r;
	struct dkim_sig sig;
	struct dkim_key key;
	struct msg m;
	char err[100];
	size_t k;
	int seen = 0;

	strcpy(reason, "no such signature");
	if (msg_parse(&m, text, len, err, sizeof(err)) == -1)
		return DKIM_NONE;
	for (k = 0; k < m.nf; k++) {
		if (!msg_field_is(&m.f[k], "DKIM-Signature") ||
		    seen++ != which)
			continue;
		memset(&r, 0, sizeof(r));
		if (dkim_sig_parse(&sig, m.f[k].value, m.f[k].valuelen, 0,
		    err, sizeof(err)) == -1) {
			strcpy(reason, err);
			r.res = DKIM_PERMERROR;
		} else if (dkim_key_parse(&key, rec, strlen(rec), err,
		    sizeof(err)) == -1) {
			strcpy(reason, err);
			r.res = DKIM_PERMERROR;
			dkim_key_clear(&key);
		} else {
			dkim_sig_check(&m, k, &sig, &key, &vo, NULL, &r);
			strcpy(reason, r.reason);
			dkim_key_clear(&key);
		}
		msg_free(&m);
		return r.res;
	}
	msg_free(&m);
	return DKIM_NONE;
}

static void
test_tags(void)
{
	struct dkim_tag t[8];
	size_t n;
	char err[64];
	const char *s = " a = 1 ; b=x y \r\n\t;c=;; d=2";

	ok(dkim_tags_parse(s, strlen(s), t, 8, &n, err, sizeof(err)) == 0,
	    "tags: a tag list parses");
	is_int(n, 4, "tags: four tags, empty specs skipped");
	ok(t[0].name.len == 1 && t[0].name.p[0] == 'a' &&
	    t[0].value.len == 1 && t[0].value.p[0] == '1', "tags: a=1 trimmed");
	ok(t[1].value.len == 3 && memcmp(t[1].value.p, "x y", 3) == 0,
	    "tags: inner whitespace kept, outer dropped");
	ok(t[2].value.len == 0, "tags: empty value");
	ok(t[1].vstart == 11 && t[1].vend == 18,
	    "tags: the raw value span includes the whitespace");
	ok(dkim_tag_find(t, n, "d") == &t[3] &&
	    dkim_tag_find(t, n, "e") == NULL, "tags: find");
	s = "a=1; a=2";
	ok(dkim_tags_parse(s, strlen(s), t, 8, &n, err, sizeof(err)) == -1,
	    "tags: a duplicate fails");
	is_str(err, "duplicate tag a", "tags: and says which");
	s = "a=1; 9b=2";
	ok(dkim_tags_parse(s, strlen(s), t, 8, &n, err, sizeof(err)) == -1,
	    "tags: a name must start with a letter");
	s = "a";
	ok(dkim_tags_parse(s, strlen(s), t, 8, &n, err, sizeof(err)) == -1,
	    "tags: no =");
	s = "a=1\001";
	ok(dkim_tags_parse(s, strlen(s), t, 8, &n, err, sizeof(err)) == -1,
	    "tags: a control character");
	s = "a=1;b=2;c=3";
	ok(dkim_tags_parse(s, strlen(s), t, 2, &n, err, sizeof(err)) == -1,
	    "tags: more than max");
	is_str(err, "too many tags", "tags: too many");
}

static void
test_base64(void)
{
	unsigned char out[16];
	size_t n;
	char *e;

	ok(dkim_base64_decode("aGVs\r\n bG8=", 11, out, sizeof(out),
	    &n) == 0 && n == 5 && memcmp(out, "hello", 5) == 0,
	    "base64: decode across whitespace");
	ok(dkim_base64_decode("aGVsbG8", 7, out, sizeof(out), &n) == 0 &&
	    n == 5, "base64: padding optional");
	ok(dkim_base64_decode("aGVs=bG8", 8, out, sizeof(out), &n) == -1,
	    "base64: padding inside");
	ok(dkim_base64_decode("aGV!", 4, out, sizeof(out), &n) == -1,
	    "base64: a bad byte");
	ok(dkim_base64_decode("aGVsbG8=", 8, out, 4, &n) == -1,
	    "base64: too long for out");
	e = dkim_base64_encode((const unsigned char *)"hello", 5);
	is_str(e, "aGVsbG8=", "base64: encode");
	free(e);
}

static void
sig_err(const char *value, const char *want, const char *name)
{
	struct dkim_sig sig;
	char err[100] = "";

	ok(dkim_sig_parse(&sig, value, strlen(value), 0, err,
	    sizeof(err)) == -1, name);
	is_str(err, want, name);
}

static void
test_sig(void)
{
	struct dkim_sig sig;
	char err[100];
	const char *v = "v=1; a=rsa-sha256; d=Example.COM; s=sel;"
	    " c=relaxed; h=From : to:from; l=12; t=100; x=200;"
	    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"
	    " b=AuUoFEfDxTDkHlLX SZEpZj79; z=unknown";

	ok(dkim_sig_parse(&sig, v, strlen(v), 0, err, sizeof(err)) == 0,
	    "sig: parses");
	is_str(sig.d, "Example.COM", "sig: d= as written");
	is_str(sig.i, "@Example.COM", "sig: i= defaults to @d");
	ok(sig.hc == DKIM_RELAXED && sig.bc == DKIM_SIMPLE,
	    "sig: c=relaxed is relaxed/simple");
	is_int(sig.nh, 3, "sig: three names in h=");
	ok(sig.h[0].len == 4 && memcmp(sig.h[0].p, "From", 4) == 0 &&
	    sig.h[1].len == 2, "sig: names trimmed");
	ok(sig.l == 12 && sig.t == 100 && sig.x == 200, "sig: l, t, x");
	is_int(sig.bhlen, 32, "sig: bh= decoded");
	is_str(sig.bprefix, "AuUoFEfDxTDkHlLX", "sig: header.b prefix");
	is_int(sig.blen, 18, "sig: b= decoded across a space");

	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==",
	    "missing tag b", "sig: missing b=");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; b=AA==",
	    "missing tag bh", "sig: missing bh=");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=to; bh=AA==;"
	    " b=AA==", "From not signed", "sig: h= without From");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; i=joe@example.org", "i= not in d=", "sig: i= outside d=");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; i=joe@badexample.com", "i= not in d=",
	    "sig: i= a suffix but not a subdomain");
	v = "v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; i=joe@mail.EXAMPLE.com";
	ok(dkim_sig_parse(&sig, v, strlen(v), 0, err, sizeof(err)) == 0,
	    "sig: i= in a subdomain");
	sig_err("v=1; a=rsa-md5; d=example.com; s=s; h=from; bh=AA==; b=AA==",
	    "unknown algorithm", "sig: unknown a=");
	sig_err("v=2; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==", "bad v=", "sig: v=2");
	sig_err("a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==; b=AA==",
	    "missing tag v", "sig: no v=");
	sig_err("v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; s=s;"
	    " h=from; bh=AA==; b=AA==", "bad d=", "sig: d= not a domain");
	sig_err("v=1; a=rsa-sha256; d=example.com; d=example.org; s=s;"
	    " h=from; bh=AA==; b=AA==", "duplicate tag d", "sig: d= twice");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; c=fancy", "bad c=", "sig: c=fancy");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; q=http", "unsupported q=", "sig: q=http");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; l=-1", "bad l=", "sig: l=-1");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=AA==; t=10; x=9", "x= before t=", "sig: x= before t=");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA==;"
	    " b=A!==", "bad b=", "sig: b= not base64");
	sig_err("v=1; a=rsa-sha256; d=example.com; s=s; h=from::to;"
	    " bh=AA==; b=AA==", "bad h=", "sig: an empty name in h=");
	v = "a=rsa-sha256; d=example.com; s=s; i=2; h=from; bh=AA==;"
	    " b=AA==";
	ok(dkim_sig_parse(&sig, v, strlen(v), DKIM_SIG_AMS, err,
	    sizeof(err)) == 0 && sig.instance == 2,
	    "sig: an ARC-Message-Signature");
}

static void
key_err(const char *rec, const char *want, const char *name)
{
	struct dkim_key k;
	char err[100] = "";

	ok(dkim_key_parse(&k, rec, strlen(rec), err, sizeof(err)) == -1,
	    name);
	is_str(err, want, name);
	dkim_key_clear(&k);
}

static void
test_key(void)
{
	struct dkim_key k;
	char err[100];
	const char *bare = "p=MIGJAoGBALVI635dLK4cJJAH3Lx6upo3X/Lm1tQz3mezcWTA"
	    "3BUBnyIsdnRf57aD5BtNmhPrYYDlWlzw3UgnKisIxktkk5+iMQMlFtAS10JB8L3Y"
	    "adXNJY+JBcbeSi5TgJe4WFzNgW95FWDAuSTRXSWZfA/8xjflbTLDx0euFZOM7C4"
	    "T0GwLAgMBAAE=";

	ok(dkim_key_parse(&k, rfc8463_rsa, strlen(rfc8463_rsa), err,
	    sizeof(err)) == 0 && k.type == DKIM_K_RSA && k.bits == 1024 &&
	    k.hashes == 3, "key: rsa SubjectPublicKeyInfo");
	dkim_key_clear(&k);
	ok(dkim_key_parse(&k, bare, strlen(bare), err, sizeof(err)) == 0 &&
	    k.bits == 1024, "key: a bare RSAPublicKey");
	dkim_key_clear(&k);
	ok(dkim_key_parse(&k, rfc8463_ed, strlen(rfc8463_ed), err,
	    sizeof(err)) == 0 && k.type == DKIM_K_ED25519 && k.bits == 256,
	    "key: ed25519");
	dkim_key_clear(&k);
	bare = "k=ed25519; t=y:s:x; h=sha256:md5; s=*; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	ok(dkim_key_parse(&k, bare, strlen(bare), err, sizeof(err)) == 0 && k.testing && k.strict &&
	    k.hashes == 1 << DKIM_SHA256, "key: t=, h=, s=");
	dkim_key_clear(&k);
	key_err("v=DKIM1; p=", "key revoked", "key: empty p= is revoked");
	key_err("v=DKIM1; k=rsa", "missing tag p", "key: no p=");
	key_err("v=DKIM1; s=tlsrpt; p=AAAA", "key not for email",
	    "key: s=tlsrpt");
	key_err("v=DKIM1; k=ed25519-sha256; p=AAAA", "unknown key type",
	    "key: k=ed25519-sha256");
	key_err("v=DKIM1: k=rsa; p=AAAA", "bad v=", "key: v=DKIM1:");
	key_err("k=rsa; v=DKIM1; p=AAAA", "bad v=", "key: v= not first");
	key_err("k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTz",
	    "bad key", "key: truncated");
	key_err("k=ed25519; p=AAAA", "bad key", "key: short ed25519");
}

static void
test_canon(void)
{
	/* RFC 6376 3.4.5 */
	const char h[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
	const char b[] = " C \r\nD \t E\r\n\r\n\r\n";
	unsigned char dg[32];
	unsigned long long clen;
	size_t n;
	char *c, *e;

	c = dkim_canon_header(DKIM_RELAXED, h, 6, &n);
	is_str(c, "a:X\r\n", "canon: relaxed header A");
	free(c);
	c = dkim_canon_header(DKIM_RELAXED, h + 6, sizeof(h) - 7, &n);
	is_str(c, "b:Y Z\r\n", "canon: relaxed header B");
	free(c);
	c = dkim_canon_header(DKIM_SIMPLE, h + 6, sizeof(h) - 7, &n);
	is_str(c, "B : Y\t\r\n\tZ  \r\n", "canon: simple header B");
	free(c);
	c = dkim_canon_body(DKIM_RELAXED, b, sizeof(b) - 1, &n);
	is_str(c, " C\r\nD E\r\n", "canon: relaxed body");
	free(c);
	c = dkim_canon_body(DKIM_SIMPLE, b, sizeof(b) - 1, &n);
	is_str(c, " C \r\nD \t E\r\n", "canon: simple body");
	free(c);
	c = dkim_canon_body(DKIM_SIMPLE, "", 0, &n);
	is_str(c, "\r\n", "canon: empty body, simple");
	free(c);
	c = dkim_canon_body(DKIM_RELAXED, "\r\n \r\n", 5, &n);
	is_str(c, "", "canon: empty body, relaxed");
	free(c);
	c = dkim_canon_body(DKIM_RELAXED, "a  b", 4, &n);
	is_str(c, "a b\r\n", "canon: relaxed adds the last CRLF");
	free(c);

	/* RFC 6376 3.4.3, 3.4.4: the hashes of the empty body */
	dkim_body_hash(DKIM_SHA256, DKIM_SIMPLE, NULL, 0, -1, dg, &n, &clen);
	e = dkim_base64_encode(dg, n);
	is_str(e, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=",
	    "body hash: empty, simple, sha256");
	free(e);
	dkim_body_hash(DKIM_SHA256, DKIM_RELAXED, "", 0, -1, dg, &n, &clen);
	e = dkim_base64_encode(dg, n);
	is_str(e, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	    "body hash: empty, relaxed, sha256");
	free(e);
	dkim_body_hash(DKIM_SHA1, DKIM_SIMPLE, "", 0, -1, dg, &n, &clen);
	e = dkim_base64_encode(dg, n);
	is_str(e, "uoq1oCgLlTqpdDX/iUbLy7J1Wic=",
	    "body hash: empty, simple, sha1");
	free(e);
	dkim_body_hash(DKIM_SHA256, DKIM_SIMPLE, b, sizeof(b) - 1, 3, dg, &n,
	    &clen);
	is_int(clen, 12, "body hash: canonical length counts it all");
}

static void
test_select(void)
{
	static const char text[] = "From: a\r\nSubject: 1\r\nTo: b\r\n"
	    "subject: 2\r\nDKIM-Signature: x\r\n\r\n";
	struct dkim_span names[] = { { "Subject", 7 }, { "from", 4 },
	    { "SUBJECT", 7 }, { "subject", 7 }, { "dkim-signature", 14 } };
	const struct msg_field *out[5];
	struct msg m;
	char err[64];

	msg_parse(&m, text, sizeof(text) - 1, err, sizeof(err));
	dkim_select_fields(&m, names, 5, 4, out);
	ok(out[0] == &m.f[3], "select: the last Subject first");
	ok(out[1] == &m.f[0], "select: From");
	ok(out[2] == &m.f[1], "select: then the one above");
	ok(out[3] == NULL, "select: over-signed Subject: none left");
	ok(out[4] == NULL, "select: the signature itself is excluded");
	msg_free(&m);
}

static void
test_rfc(void)
{
	char reason[100];

	is_int(check(rfc8463_msg, sizeof(rfc8463_msg) - 1, 0, rfc8463_ed,
	    reason), DKIM_PASS, "RFC 8463 A.3: ed25519-sha256 passes");
	is_int(check(rfc8463_msg, sizeof(rfc8463_msg) - 1, 1, rfc8463_rsa,
	    reason), DKIM_PASS, "RFC 8463 A.3: rsa-sha256 passes");
	is_int(check(rfc8463_msg, sizeof(rfc8463_msg) - 1, 0, rfc8463_rsa,
	    reason), DKIM_PERMERROR, "RFC 8463: the wrong key type");
	is_str(reason, "key type mismatch", "RFC 8463: says so");
	is_int(check(rfc6376_a2, sizeof(rfc6376_a2) - 1, 0, rfc6376_c,
	    reason), DKIM_FAIL, "RFC 6376 A.2 as printed fails");
	is_str(reason, "body hash mismatch", "RFC 6376 A.2: its bh= is "
	    "the relaxed one");
	vo.min_bits = 2048;
	is_int(check(rfc8463_msg, sizeof(rfc8463_msg) - 1, 1, rfc8463_rsa,
	    reason), DKIM_FAIL, "min_bits 2048: a 1024-bit key fails");
	is_str(reason, "key too small", "min_bits: says so");
	vo.min_bits = LIMIT_DKIM_MIN_BITS;
}

/* A new key of type (EVP_PKEY_RSA, 2048 bits, or EVP_PKEY_ED25519). */
static struct dkim_privkey *
newkey(int type)
{
	struct dkim_privkey *k;
	EVP_PKEY *pk;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem, err[100];
	long n;

	pk = type == EVP_PKEY_RSA ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048) : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &pem);
	k = dkim_privkey_parse(pem, (size_t)n, err, sizeof(err));
	if (k == NULL)
		printf("# %s\n", err);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return k;
}

/* text signed: the new field on top.  The caller frees. */
static char *
signed_msg(const char *text, const struct dkim_privkey *k,
    const struct dkim_sign_opts *o)
{
	struct msg m;
	char err[100], *f, *out;
	size_t n;

	msg_parse(&m, text, strlen(text), err, sizeof(err));
	f = dkim_sign(&m, k, o, err, sizeof(err));
	msg_free(&m);
	if (f == NULL) {
		printf("# sign: %s\n", err);
		return xstrdup("");
	}
	n = strlen(f) + strlen(text) + 1;
	out = xmalloc(n);
	snprintf(out, n, "%s%s", f, text);
	free(f);
	return out;
}

/* Replace the first from in s by to; the caller frees. */
static char *
subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t n = strlen(s) + strlen(to) + 1;
	char *out = xmalloc(n);

	if (p == NULL) {
		snprintf(out, n, "%s", s);
		return out;
	}
	snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static void
mutate(const char *sm, const char *rec, const char *from, const char *to,
    enum dkim_res want, const char *why, const char *name)
{
	char reason[100], *m = subst(sm, from, to);

	is_int(check(m, strlen(m), 0, rec, reason), want, name);
	if (why != NULL)
		is_str(reason, why, name);
	free(m);
}

static void
test_roundtrip(int type)
{
	static const enum dkim_canon c[4][2] = {
		{ DKIM_SIMPLE, DKIM_SIMPLE }, { DKIM_SIMPLE, DKIM_RELAXED },
		{ DKIM_RELAXED, DKIM_SIMPLE }, { DKIM_RELAXED, DKIM_RELAXED }
	};
	struct dkim_privkey *k = newkey(type);
	struct dkim_sign_opts o;
	const char *tn = type == EVP_PKEY_RSA ? "rsa-2048" : "ed25519";
	char name[200], reason[100], *sm, *rec;
	int i;

	ok(k != NULL, "round trip: a key");
	if (k == NULL)
		return;
	rec = dkim_privkey_record(k);
	for (i = 0; i < 4; i++) {
		dkim_sign_opts_init(&o);
		o.domain = "football.example.com";
		o.selector = "sel";
		o.hc = c[i][0];
		o.bc = c[i][1];
		sm = signed_msg(RFC6376_MSG, k, &o);
		snprintf(name, sizeof(name), "round trip %s c=%s/%s", tn,
		    c[i][0] ? "relaxed" : "simple",
		    c[i][1] ? "relaxed" : "simple");
		is_int(check(sm, strlen(sm), 0, rec, reason), DKIM_PASS, name);
		if (strcmp(reason, "") != 0)
			printf("# %s\n", reason);

		snprintf(name, sizeof(name), "%s c=%d/%d: one body byte",
		    tn, c[i][0], c[i][1]);
		mutate(sm, rec, "lost the", "lost thE", DKIM_FAIL,
		    "body hash mismatch", name);
		snprintf(name, sizeof(name), "%s c=%d/%d: a signed value",
		    tn, c[i][0], c[i][1]);
		mutate(sm, rec, "dinner ready", "dinner Ready", DKIM_FAIL,
		    "signature mismatch", name);
		snprintf(name, sizeof(name), "%s c=%d/%d: whitespace in a "
		    "header value", tn, c[i][0], c[i][1]);
		mutate(sm, rec, "dinner ready", "dinner  ready",
		    c[i][0] == DKIM_SIMPLE ? DKIM_FAIL : DKIM_PASS, NULL, name);
		snprintf(name, sizeof(name), "%s c=%d/%d: whitespace in a "
		    "body line", tn, c[i][0], c[i][1]);
		mutate(sm, rec, "the game.", "the  game.",
		    c[i][1] == DKIM_SIMPLE ? DKIM_FAIL : DKIM_PASS, NULL, name);
		snprintf(name, sizeof(name), "%s c=%d/%d: a trailing empty "
		    "line", tn, c[i][0], c[i][1]);
		mutate(sm, rec, "Joe.\n", "Joe.\n\n", DKIM_PASS, NULL, name);
		snprintf(name, sizeof(name), "%s c=%d/%d: an unsigned header "
		    "added", tn, c[i][0], c[i][1]);
		mutate(sm, rec, "\nFrom:", "\nX-Added: 1\nFrom:", DKIM_PASS,
		    NULL, name);
		snprintf(name, sizeof(name), "%s c=%d/%d: a second From "
		    "added (over-signed)", tn, c[i][0], c[i][1]);
		mutate(sm, rec, "\nTo:", "\nFrom: evil@example.net\nTo:",
		    DKIM_FAIL, "signature mismatch", name);
		free(sm);
	}

	/* l=: what comes after the signed length does not count */
	dkim_sign_opts_init(&o);
	o.domain = "football.example.com";
	o.selector = "sel";
	o.length = 1;
	o.identity = "joe@mail.football.example.com";
	sm = signed_msg(RFC6376_MSG, k, &o);
	snprintf(name, sizeof(name), "%s: l= and i=", tn);
	is_int(check(sm, strlen(sm), 0, rec, reason), DKIM_PASS, name);
	snprintf(name, sizeof(name), "%s: l= then a body appended", tn);
	mutate(sm, rec, "Joe.\n", "Joe.\nP.S. buy now\n", DKIM_PASS, NULL,
	    name);
	snprintf(name, sizeof(name), "%s: l= larger than the body", tn);
	mutate(sm, rec, "Joe.\n", "Jo\n", DKIM_FAIL, "l= beyond body", name);
	snprintf(name, sizeof(name), "%s: t=s and i= in a subdomain", tn);
	{
		size_t n = strlen(rec) + 8;
		char *strict = xmalloc(n);

		snprintf(strict, n, "t=s; %s", rec + 9);
		is_int(check(sm, strlen(sm), 0, strict, reason),
		    DKIM_PERMERROR, name);
		is_str(reason, "i= domain not d= (t=s)", name);
		free(strict);
	}
	free(sm);

	/* refused: no From */
	{
		struct msg m;
		char err[100];
		const char nofrom[] = "To: a@example.com\n\nhi\n";

		msg_parse(&m, nofrom, sizeof(nofrom) - 1, err, sizeof(err));
		dkim_sign_opts_init(&o);
		o.domain = "example.com";
		o.selector = "s";
		ok(dkim_sign(&m, k, &o, err, sizeof(err)) == NULL,
		    "sign: a message without From is refused");
		is_str(err, "no From field", "sign: says so");
		o.headers = "to:subject";
		msg_free(&m);
		msg_parse(&m, RFC6376_MSG, sizeof(RFC6376_MSG) - 1, err,
		    sizeof(err));
		ok(dkim_sign(&m, k, &o, err, sizeof(err)) == NULL,
		    "sign: an h= without From is refused");
		msg_free(&m);
	}
	free(rec);
	dkim_privkey_free(k);
}

/* rsa-sha1 made with the primitives: verified, but policy unless
 * allowed. */
static void
test_sha1(void)
{
	struct dkim_privkey *k = newkey(EVP_PKEY_RSA);
	struct msg m;
	const struct msg_field *sel[2];
	struct dkim_span names[] = { { "from", 4 }, { "subject", 7 } };
	unsigned char dg[32], sig[DKIM_SIG_MAX];
	unsigned long long clen;
	size_t n, slen;
	char f[2048], err[100], reason[100], *bh, *b, *text, *rec;

	msg_parse(&m, RFC6376_MSG, sizeof(RFC6376_MSG) - 1, err, sizeof(err));
	dkim_body_hash(DKIM_SHA1, DKIM_SIMPLE, m.body, m.bodylen, -1, dg, &n,
	    &clen);
	bh = dkim_base64_encode(dg, n);
	snprintf(f, sizeof(f), "DKIM-Signature: v=1; a=rsa-sha1; "
	    "d=example.com; s=s; h=from:subject; bh=%s; b=", bh);
	dkim_select_fields(&m, names, 2, -1, sel);
	dkim_header_hash(DKIM_SHA1, DKIM_SIMPLE, sel, 2, f, strlen(f),
	    strlen(f), strlen(f), dg, &n);
	ok(n == 20 && dkim_sign_digest(k, DKIM_RSA_SHA1, dg, n, sig, &slen,
	    err, sizeof(err)) == 0, "sha1: signed with the primitives");
	b = dkim_base64_encode(sig, slen);
	n = strlen(f) + strlen(b) + sizeof(RFC6376_MSG) + 4;
	text = xmalloc(n);
	snprintf(text, n, "%s%s\r\n%s", f, b, RFC6376_MSG);
	rec = dkim_privkey_record(k);
	is_int(check(text, strlen(text), 0, rec, reason), DKIM_POLICY,
	    "sha1: a valid rsa-sha1 signature is policy");
	is_str(reason, "rsa-sha1 not accepted", "sha1: says why");
	vo.sha1 = 1;
	is_int(check(text, strlen(text), 0, rec, reason), DKIM_PASS,
	    "sha1: allowed, it passes");
	vo.sha1 = 0;
	text[strlen(f) + 3] = text[strlen(f) + 3] == 'A' ? 'B' : 'A';
	is_int(check(text, strlen(text), 0, rec, reason), DKIM_FAIL,
	    "sha1: a broken one fails");
	free(text);
	free(rec);
	free(b);
	free(bh);
	msg_free(&m);
	dkim_privkey_free(k);
}

static void
test_json(void)
{
	struct dkim_result r;
	json_t *j;
	char *s;

	memset(&r, 0, sizeof(r));
	r.res = DKIM_PASS;
	strcpy(r.d, "example.com");
	strcpy(r.s, "sel");
	r.a = "ed25519-sha256";
	strcpy(r.i, "@example.com");
	strcpy(r.b, "AuUoFEfDxTDkHlLX");
	r.testing = 1;
	j = dkim_json(&r);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"result\":\"pass\",\"d\":\"example.com\",\"s\":\"sel\","
	    "\"a\":\"ed25519-sha256\",\"i\":\"@example.com\","
	    "\"b\":\"AuUoFEfDxTDkHlLX\",\"testing\":true}", "json: a pass");
	free(s);
	json_decref(j);
	memset(&r, 0, sizeof(r));
	r.res = DKIM_PERMERROR;
	r.a = "";
	strcpy(r.d, "ex\001.com");
	strcpy(r.reason, "bad s=");
	j = dkim_json(&r);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"result\":\"permerror\",\"d\":\"ex\\\\x01.com\","
	    "\"reason\":\"bad s=\"}", "json: empty ones left out, "
	    "controls escaped");
	free(s);
	json_decref(j);
}

int
main(void)
{
	dkim_verify_opts_init(&vo);
	vo.now = 1528637909;
	test_tags();
	test_base64();
	test_sig();
	test_key();
	test_canon();
	test_select();
	test_rfc();
	test_roundtrip(EVP_PKEY_RSA);
	test_roundtrip(EVP_PKEY_ED25519);
	test_sha1();
	test_json();
	return t_done();
}
