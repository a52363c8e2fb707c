/*
 * fuzz_dkim: lib/dkim's parsers and canonicalisers on arbitrary bytes.
 * The first byte picks what the rest is:
 *   0  a DKIM-Signature value (1: as an ARC-Message-Signature)
 *   2  a key record
 *   3  a header field, both canonicalisations
 *   4  a body, both canonicalisations and body hashes
 *   5  a whole message through dkim_verify (no resolver: keys temperror)
 * Besides the sanitizers, it checks what callers rely on: errors are
 * NUL-terminated; tag spans lie inside the input; the canonical forms end
 * in CRLF (the empty relaxed body aside), relaxed ones are fixed points,
 * and the body hash counts as many bytes as the canonical body has.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sig(const char *p, size_t n, int flags)
{
	struct dkim_tag t[LIMIT_DKIM_TAGS];
	struct dkim_sig *s = malloc(sizeof(*s));
	char err[80];
	size_t nt, k;

	if (dkim_tags_parse(p, n, t, LIMIT_DKIM_TAGS, &nt, err,
	    sizeof(err)) == 0)
		for (k = 0; k < nt; k++)
			if (t[k].name.p < p || t[k].value.p + t[k].value.len >
			    p + n || t[k].vstart > t[k].vend || t[k].vend > n)
				abort();
	if (dkim_sig_parse(s, p, n, flags, err, sizeof(err)) == -1 &&
	    memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (memchr(s->d, '\0', sizeof(s->d)) == NULL ||
	    memchr(s->bprefix, '\0', sizeof(s->bprefix)) == NULL)
		abort();
	free(s);
}

static void
key(const char *p, size_t n)
{
	struct dkim_key k;
	char err[80];

	if (dkim_key_parse(&k, p, n, err, sizeof(err)) == 0 &&
	    k.pkey == NULL)
		abort();
	dkim_key_clear(&k);
}

static void
header(const char *p, size_t n)
{
	char *c, *c2;
	size_t cl, cl2;

	c = dkim_canon_header(DKIM_SIMPLE, p, n, &cl);
	if (cl < 2 || memcmp(c + cl - 2, "\r\n", 2) != 0)
		abort();
	free(c);
	c = dkim_canon_header(DKIM_RELAXED, p, n, &cl);
	if (cl < 2 || memcmp(c + cl - 2, "\r\n", 2) != 0)
		abort();
	/* a canonical field with a colon stays as it is */
	if (memchr(p, ':', n) != NULL && memchr(c, '\r', cl - 2) == NULL) {
		c2 = dkim_canon_header(DKIM_RELAXED, c, cl, &cl2);
		if (cl2 != cl || memcmp(c, c2, cl) != 0)
			abort();
		free(c2);
	}
	free(c);
}

static void
body(const char *p, size_t n)
{
	unsigned char dg[DKIM_DIGEST_MAX];
	unsigned long long clen;
	size_t cl, cl2, dl;
	char *c, *c2;
	int canon;

	for (canon = DKIM_SIMPLE; canon <= DKIM_RELAXED; canon++) {
		c = dkim_canon_body(canon, p, n, &cl);
		if (cl > 0 && (cl < 2 || memcmp(c + cl - 2, "\r\n", 2) != 0))
			abort();
		if (canon == DKIM_SIMPLE && cl == 0)
			abort();
		dkim_body_hash(DKIM_SHA256, canon, p, n, (long long)n / 2, dg,
		    &dl, &clen);
		if (clen != cl || dl != 32)
			abort();
		c2 = dkim_canon_body(canon, c, cl, &cl2);
		if (canon == DKIM_RELAXED && (cl2 != cl ||
		    memcmp(c, c2, cl) != 0))
			abort();
		free(c2);
		free(c);
	}
}

static void
message(const char *p, size_t n)
{
	struct dkim_result res[LIMIT_DKIM_SIGS + 1];
	struct dkim_verify_opts o;
	struct msg m;
	char err[80];
	size_t k, nr;

	if (msg_parse(&m, p, n, err, sizeof(err)) == -1)
		return;
	dkim_verify_opts_init(&o);
	o.now = 1700000000;
	nr = dkim_verify(&m, NULL, &o, res);
	if (nr > LIMIT_DKIM_SIGS + 1)
		abort();
	for (k = 0; k < nr; k++)
		if (res[k].res == DKIM_PASS || res[k].res == DKIM_NONE)
			abort();
	msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 6) {
	case 0: sig(p, n, 0); break;
	case 1: sig(p, n, DKIM_SIG_AMS); break;
	case 2: key(p, n); break;
	case 3: header(p, n); break;
	case 4: body(p, n); break;
	case 5: message(p, n); break;
	}
	return 0;
}
