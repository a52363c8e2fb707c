/*
 * test_arc: lib/arc without DNS: chains made by arc_seal with an Ed25519
 * test key (given to arc_verify through its key function), then broken
 * on purpose: structure, limits, cv=, changed fields and bodies; the
 * ARC-Authentication-Results claims the DMARC override reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "dkim.h"
#include "msg.h"
#include "t.h"

/* 32 bytes of seed, base64: a key for these tests only */
static const char seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static struct dkim_privkey *key;
static int lookups;

static enum dkim_res
keyfn(void *arg, const char *s, const char *d, struct dkim_key *k,
    char *reason)
{
	char *rec = dkim_privkey_record(key), err[80];
	int r;

	(void)arg;
	lookups++;
	if (strcmp(s, "sel") != 0 || strcmp(d, "example.org") != 0) {
		free(rec);
		snprintf(reason, DKIM_REASON_MAX, "no key record");
		return DKIM_PERMERROR;
	}
	r = dkim_key_parse(k, rec, strlen(rec), err, sizeof(err));
	free(rec);
	return r == 0 ? DKIM_PASS : DKIM_PERMERROR;
}

static const char plain[] =
    "From: Alice <a@example.org>\r\n"
    "To: Bob <b@example.net>\r\n"
    "Subject: hello\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "Hello Bob.\r\n";

static void
verify(const char *text, struct arc_result *r)
{
	struct arc_verify_opts o;
	struct msg m;
	char err[80];

	arc_verify_opts_init(&o);
	o.key = keyfn;
	o.now = 1795400000;
	if (msg_parse(&m, text, strlen(text), err, sizeof(err)) == -1)
		abort();
	arc_verify(&m, &o, r);
	msg_free(&m);
}

/*
 * text sealed with ar and h= headers (NULL: the default), its chain as
 * verified in vtext (a message changed after it was checked): a new
 * string, or NULL when not sealed (*rc says why).
 */
static char *
seal_as(const char *vtext, const char *text, const char *ar,
    const char *headers, int *rc)
{
	struct arc_seal_opts so;
	struct arc_result r;
	struct msg m;
	char *f[3], err[128], *out;
	size_t n;

	verify(vtext, &r);
	if (msg_parse(&m, text, strlen(text), err, sizeof(err)) == -1)
		abort();
	memset(&so, 0, sizeof(so));
	so.key = key;
	so.domain = "example.org";
	so.selector = "sel";
	so.headers = headers;
	so.now = 1795400000;
	*rc = arc_seal(&m, &r, ar, &so, f, err, sizeof(err));
	arc_result_clear(&r);
	msg_free(&m);
	if (*rc != 0)
		return NULL;
	n = strlen(f[0]) + strlen(f[1]) + strlen(f[2]) + strlen(text) + 1;
	out = malloc(n);
	snprintf(out, n, "%s%s%s%s", f[0], f[1], f[2], text);
	free(f[0]);
	free(f[1]);
	free(f[2]);
	return out;
}

static char *
seal(const char *text, const char *ar, const char *headers, int *rc)
{
	return seal_as(text, text, ar, headers, rc);
}

/* text with the first occurrence of a replaced by b (same length or
 * not); a new string. */
static char *
subst(const char *text, const char *a, const char *b)
{
	const char *p = strstr(text, a);
	size_t n = strlen(text) - strlen(a) + strlen(b) + 1;
	char *out = malloc(n);

	if (p == NULL)
		abort();
	snprintf(out, n, "%.*s%s%s", (int)(p - text), text, b,
	    p + strlen(a));
	return out;
}

/* Is the chain of text fail with reason why? */
static void
fails(const char *text, const char *why, const char *name)
{
	struct arc_result r;

	verify(text, &r);
	is_str(arc_cv_str(r.cv), "fail", name);
	is_str(r.reason, why, name);
	arc_result_clear(&r);
}

int
main(void)
{
	struct arc_result r;
	char err[80], *one, *two, *x, *y, *c;
	int rc, k;

	key = dkim_privkey_parse(seed, strlen(seed), err, sizeof(err));
	ok(key != NULL, "the test key loads");
	if (key == NULL)
		return t_done();

	verify(plain, &r);
	is_str(arc_cv_str(r.cv), "none", "no ARC field: none");
	is_int(r.n, 0, "no ARC field: 0 instances");

	one = seal(plain, "hop1.example; spf=pass smtp.mailfrom=a@example.org;"
	    "\r\n\tdmarc=pass header.from=example.org", NULL, &rc);
	ok(one != NULL, "a plain message is sealed");
	ok(strncmp(one, "ARC-Seal: a=ed25519-sha256; b=", 30) == 0,
	    "the ARC-Seal comes first, a= then b=");
	ok(strstr(one, "cv=none; d=example.org; i=1; s=sel; t=1795400000") !=
	    NULL, "the seal of i=1 says cv=none");
	ok(strstr(one, "\r\nARC-Authentication-Results: i=1; hop1.example; "
	    "spf=pass") != NULL, "the AAR carries the results");
	ok(strstr(one, "h=from:from:subject:subject:date:date:"
	    "message-id:message-id:to:to;") != NULL,
	    "the AMS signs the default fields, over-signed");
	lookups = 0;
	verify(one, &r);
	is_str(arc_cv_str(r.cv), "pass", "one set: pass");
	is_int(r.n, 1, "one set: 1 instance");
	is_int(r.oldest_pass, 1, "one set: oldest pass 1");
	is_int(r.nset, 1, "one set: its sealer");
	is_str(r.set[0].d, "example.org", "the sealer's d=");
	is_str(r.set[0].cv, "none", "the sealer's cv=");
	is_str(r.set[0].aar, "hop1.example; spf=pass smtp.mailfrom="
	    "a@example.org; dmarc=pass header.from=example.org",
	    "the AAR text, unfolded");
	is_int(lookups, 2, "one key lookup for the AMS, one for the seal");
	ok(arc_aar_pass(r.set[0].aar, "dmarc", "header.from", "example.org"),
	    "the AAR says dmarc=pass for example.org");
	ok(arc_aar_pass(r.set[0].aar, "spf", "smtp.mailfrom", "EXAMPLE.org"),
	    "the AAR says spf=pass for an address at example.org");
	ok(!arc_aar_pass(r.set[0].aar, "dmarc", "header.from", "example.net"),
	    "not for another domain");
	ok(!arc_aar_pass(r.set[0].aar, "dkim", "header.d", "example.org"),
	    "no dkim result, no claim");
	arc_result_clear(&r);
	ok(!arc_aar_pass("x; dmarc=fail header.from=example.org", "dmarc",
	    "header.from", "example.org"), "dmarc=fail claims nothing");
	ok(!arc_aar_pass("x; dmarc=pass", "dmarc", "header.from",
	    "example.org"), "dmarc=pass without header.from claims nothing");
	ok(arc_aar_pass("x; spf=none; dmarc (a; comment) = pass (p=reject) "
	    "header.from=\"example.org\"", "dmarc", "header.from",
	    "example.org"), "comments, blanks, quotes");
	ok(!arc_aar_pass("x; spf=pass (dmarc=pass header.from=example.org)",
	    "dmarc", "header.from", "example.org"),
	    "a claim in a comment is no claim");
	ok(!arc_aar_pass("dmarc=pass header.from=example.org", "dmarc",
	    "header.from", "example.org"), "the authserv-id is no result");

	two = seal(one, "hop2.example; arc=pass", NULL, &rc);
	ok(two != NULL, "a passing chain is sealed again");
	ok(strstr(two, "cv=pass; d=example.org; i=2;") != NULL,
	    "the seal of i=2 says cv=pass");
	verify(two, &r);
	is_str(arc_cv_str(r.cv), "pass", "two sets: pass");
	is_int(r.n, 2, "two sets: 2 instances");
	is_int(r.oldest_pass, 1, "two sets: oldest pass 1");
	arc_result_clear(&r);

	/* broken on purpose */
	x = subst(two, "Hello Bob.", "Hello Eve.");
	fails(x, "ARC-Message-Signature i=2: body hash mismatch",
	    "a changed body fails the newest AMS");
	free(x);
	x = subst(two, "i=1; hop1.example", "i=1; hop9.example");
	fails(x, "ARC-Seal i=2: signature mismatch",
	    "a changed AAR of i=1 fails the newest seal");
	free(x);
	x = subst(two, "ARC-Seal: a=ed25519-sha256; b=",
	    "ARC-Seal: a=ed25519-sha256; b=A");
	fails(x, "ARC-Seal i=2: bad b=", "a b= that is not base64");
	free(x);
	x = subst(two, "cv=pass", "cv=fail");
	verify(x, &r);
	is_str(r.reason, "newest ARC-Seal says cv=fail",
	    "a newest seal with cv=fail fails the chain");
	is_int(r.top_fail, 1, "and says so");
	arc_result_clear(&r);
	y = seal(x, "hop3.example; arc=fail", NULL, &rc);
	ok(y == NULL && rc == 1, "such a chain is not sealed again");
	free(x);
	x = subst(two, "cv=pass", "cv=none");
	fails(x, "ARC-Seal i=2: cv= not pass", "cv=none above i=1 fails");
	free(x);
	x = subst(one, "cv=none", "cv=pass");
	fails(x, "ARC-Seal i=1: cv= not none", "cv=pass at i=1 fails");
	free(x);
	x = subst(two, "i=2; hop2", "i=3; hop2");
	fails(x, "ARC-Authentication-Results i=2: missing",
	    "an AAR of the wrong instance leaves a hole");
	free(x);
	x = subst(two, "ARC-Authentication-Results: i=2;",
	    "ARC-Authentication-Results: i=1;");
	fails(x, "two ARC-Authentication-Results i=1",
	    "two AARs of one instance");
	free(x);
	x = subst(two, "ARC-Authentication-Results: i=2;",
	    "ARC-Authentication-Results: hop2.example; i=2;");
	fails(x, "ARC-Authentication-Results without a valid i=",
	    "an AAR not starting i=");
	free(x);
	x = subst(two, "ARC-Authentication-Results: i=2;",
	    "ARC-Authentication-Results: i=51;");
	fails(x, "ARC-Authentication-Results over i=50", "an instance over 50");
	free(x);
	x = subst(two, "ARC-Authentication-Results: i=2;",
	    "ARC-Authentication-Results: i=0;");
	fails(x, "ARC-Authentication-Results without a valid i=",
	    "an instance 0");
	free(x);
	x = subst(two, "ARC-Message-Signature: ", "X-Gone: ");
	fails(x, "ARC-Message-Signature i=2: missing", "a missing AMS");
	free(x);
	x = subst(two, "ARC-Seal: ", "ARC-Seal: h=from; ");
	fails(x, "ARC-Seal i=2: h= in a seal", "an ARC-Seal with h=");
	free(x);
	x = subst(two, "ARC-Seal: a=ed25519-sha256;",
	    "ARC-Seal: a=rsa-sha1;");
	fails(x, "ARC-Seal i=2: algorithm not accepted",
	    "rsa-sha1 fails (RFC 8301)");
	free(x);
	x = subst(two, "ARC-Seal: a=ed25519-sha256;",
	    "ARC-Seal: a=ed25519-sha256;;");
	fails(x, "ARC-Seal i=2: empty tag", "an empty tag fails");
	free(x);
	x = subst(two, "s=sel", "s=other");
	fails(x, "ARC-Seal i=2: no key record", "no key");
	free(x);

	/* a list server checks the chain (pass), tags the subject, seals:
	 * the older AMS breaks, the chain still passes, the oldest pass
	 * moves up */
	x = seal(plain, "hop1.example; none", "from:subject", &rc);
	y = subst(x, "Subject: hello", "Subject: [list] hello");
	c = seal_as(x, y, "hop2.example; arc=pass", "from:subject", &rc);
	verify(c, &r);
	is_str(arc_cv_str(r.cv), "pass", "a subject tagged after the check: pass");
	is_int(r.oldest_pass, 2, "the oldest pass is 2");
	is_int(r.set[0].ams, DKIM_FAIL, "AMS 1 fails");
	arc_result_clear(&r);
	free(x);
	free(y);
	free(c);

	/* an AMS naming ARC-Seal, when we seal and when we verify */
	x = seal(plain, "hop1.example; none", "from:arc-seal", &rc);
	ok(x == NULL && rc == -1, "h= naming ARC-Seal is refused");
	x = subst(one, "h=from:", "h=arc-seal:from:");
	fails(x, "ARC-Message-Signature i=1: h= names ARC-Seal",
	    "an AMS signing ARC-Seal fails");
	free(x);

	/* a failed chain is sealed once, with cv=fail */
	x = subst(two, "Hello Bob.", "Hello Eve.");
	y = seal(x, "hop3.example; arc=fail", NULL, &rc);
	ok(y != NULL && strstr(y, "cv=fail; d=example.org; i=3;") != NULL,
	    "a failed chain is sealed with cv=fail");
	verify(y, &r);
	is_int(r.top_fail, 1, "then it has failed for good");
	arc_result_clear(&r);
	free(x);
	free(y);

	/* 50 instances, the limit */
	x = strdup(plain);
	for (k = 0; k < 50 && x != NULL; k++) {
		y = seal(x, "hop.example; arc=pass", "from", &rc);
		free(x);
		x = y;
	}
	ok(x != NULL, "50 sets are made");
	verify(x, &r);
	is_str(arc_cv_str(r.cv), "pass", "50 sets: pass");
	is_int(r.n, 50, "50 sets: 50 instances");
	arc_result_clear(&r);
	y = seal(x, "hop.example; arc=pass", "from", &rc);
	ok(y == NULL && rc == 1, "a 51st set is not made");
	free(x);

	free(one);
	free(two);
	dkim_privkey_free(key);
	return t_done();
}
