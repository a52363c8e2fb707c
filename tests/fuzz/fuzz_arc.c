/*
 * fuzz_arc: lib/arc on arbitrary messages.  The first byte picks what the
 * rest is:
 *   0  a message: its chain verified (every key the one test key), each
 *      sealer's AAR read for claims, then the message sealed; when the
 *      chain was none or pass, the sealed message must verify pass with
 *      one instance more
 *   1  an ARC-Authentication-Results text for arc_aar_pass
 * Besides the sanitizers: reasons are NUL-terminated and say why a chain
 * failed; a pass has an oldest pass within 1..n.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "dkim.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static struct dkim_privkey *key;
static char *record;

static enum dkim_res
keyfn(void *arg, const char *s, const char *d, struct dkim_key *k,
    char *reason)
{
	char err[80];

	(void)arg;
	(void)s;
	(void)d;
	if (dkim_key_parse(k, record, strlen(record), err, sizeof(err)) ==
	    -1) {
		snprintf(reason, DKIM_REASON_MAX, "%s", err);
		return DKIM_PERMERROR;
	}
	return DKIM_PASS;
}

static void
check(const struct arc_result *r)
{
	if (memchr(r->reason, '\0', sizeof(r->reason)) == NULL)
		abort();
	if (r->cv == ARC_FAIL && r->reason[0] == '\0')
		abort();
	if (r->cv == ARC_PASS && (r->oldest_pass < 1 ||
	    r->oldest_pass > r->n || r->nset != (size_t)r->n))
		abort();
	if (r->n < 0 || r->n > LIMIT_ARC_SETS)
		abort();
}

static void
message(const char *p, size_t n)
{
	struct arc_verify_opts o;
	struct arc_seal_opts so;
	struct arc_result r, r2;
	struct msg m, m2;
	char err[128], *f[3], *buf;
	size_t k, len;
	int rc;

	if (msg_parse(&m, p, n, err, sizeof(err)) == -1)
		return;
	arc_verify_opts_init(&o);
	o.key = keyfn;
	o.now = 1795400000;
	arc_verify(&m, &o, &r);
	check(&r);
	for (k = 0; k < r.nset; k++)
		if (r.set[k].aar != NULL)
			(void)arc_aar_pass(r.set[k].aar, "dmarc",
			    "header.from", "example.org");
	memset(&so, 0, sizeof(so));
	so.key = key;
	so.domain = "example.org";
	so.selector = "sel";
	so.headers = "from:subject";
	so.now = 1795400000;
	rc = arc_seal(&m, &r, "fuzz.example; dmarc=pass", &so, f, err,
	    sizeof(err));
	if (rc == 0) {
		len = strlen(f[0]) + strlen(f[1]) + strlen(f[2]);
		buf = malloc(len + m.len + 1);
		snprintf(buf, len + 1, "%s%s%s", f[0], f[1], f[2]);
		memcpy(buf + len, m.buf, m.len);
		if (r.cv != ARC_FAIL && !m.bad_header &&
		    msg_parse(&m2, buf, len + m.len, err, sizeof(err)) == 0) {
			arc_verify(&m2, &o, &r2);
			check(&r2);
			if (r2.cv != ARC_PASS || r2.n != r.n + 1) {
				fprintf(stderr, "sealed chain: %s n=%d: %s\n",
				    arc_cv_str(r2.cv), r2.n, r2.reason);
				abort();
			}
			arc_result_clear(&r2);
			msg_free(&m2);
		}
		free(buf);
		for (k = 0; k < 3; k++)
			free(f[k]);
	}
	arc_result_clear(&r);
	msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[80], *s;

	if (key == NULL) {
		key = dkim_privkey_parse(seed, strlen(seed), err, sizeof(err));
		if (key == NULL)
			abort();
		record = dkim_privkey_record(key);
	}
	if (size < 1 || size > 256 * 1024)
		return 0;
	switch (data[0] % 2) {
	case 0:
		message((const char *)data + 1, size - 1);
		break;
	default:
		s = malloc(size);
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		(void)arc_aar_pass(s, "dmarc", "header.from", "example.org");
		(void)arc_aar_pass(s, "spf", "smtp.mailfrom", "example.org");
		free(s);
		break;
	}
	return 0;
}
