/*
 * fuzz_spf: the parsers of lib/spf on arbitrary bytes.
 *
 *  - spf_parse_record of the input: 0 or -1 with a printable error; on 0,
 *    every term lies inside the record, CIDR lengths are in range and
 *    redirect/exp point at terms of their kind.
 *  - spf_expand of the input in both modes, into a small and a large
 *    buffer: -1, or a NUL-terminated result of the length returned that
 *    fits; a domain is at most 253 bytes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spf_record rec;

static void
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
			abort();
}

static void
parse(const char *txt, size_t len)
{
	char err[128];
	const struct spf_term *t;
	int i;

	if (spf_parse_record(txt, len, &rec, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		printable(err);
		return;
	}
	if (rec.nterms < 0 || rec.nterms > LIMIT_SPF_TERMS || rec.len != len)
		abort();
	for (i = 0; i < rec.nterms; i++) {
		t = &rec.term[i];
		if ((size_t)t->off + t->len > len ||
		    (size_t)t->arg + t->arglen > len || t->cidr4 > 32 ||
		    t->cidr6 > 128 || t->kind > SPF_K_UNKNOWN)
			abort();
	}
	if (rec.redirect != -1 && rec.term[rec.redirect].kind != SPF_K_REDIRECT)
		abort();
	if (rec.exp != -1 && rec.term[rec.exp].kind != SPF_K_EXP)
		abort();
}

static void
expand(const char *spec, size_t len, enum spf_expand_mode m,
    const struct spf_macro_env *env, size_t outsz)
{
	char out[SPF_EXPLANATION_MAX], err[128];
	int n;

	memset(out, 'x', sizeof(out));
	n = spf_expand(spec, len, m, env, out, outsz, err, sizeof(err));
	if (n == -1) {
		printable(err);
		return;
	}
	if ((size_t)n >= outsz || out[n] != '\0' || strlen(out) != (size_t)n)
		abort();
	if (m == SPF_EXPAND_DOMAIN && n > 253)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sockaddr_in6 sin6;
	static struct sockaddr_in sin4;
	struct spf_macro_env env;
	const char *s = (const char *)data;

	parse(s, size);
	if (size > 2 * LIMIT_SPF_RECORD)
		return 0;
	sin4.sin_family = AF_INET;
	sin4.sin_addr.s_addr = htonl(0xc0000203);
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::cb01", &sin6.sin6_addr);
	memset(&env, 0, sizeof(env));
	env.client = (size & 1) ? (struct sockaddr *)&sin6 :
	    (struct sockaddr *)&sin4;
	env.sender = "strong-bad@email.example.com";
	env.domain = "email.example.com";
	env.helo = "mx.example.org";
	env.ptr = "mail.example.com";
	env.receiver = "mx.example.net";
	env.now = 1700000000;
	expand(s, size, SPF_EXPAND_DOMAIN, &env, SPF_DOMAIN_MAX);
	expand(s, size, SPF_EXPAND_DOMAIN, &env, 16);
	expand(s, size, SPF_EXPAND_EXPLAIN, &env, SPF_EXPLANATION_MAX);
	expand(s, size, SPF_EXPAND_EXPLAIN, &env, 16);
	expand(s, size, SPF_EXPAND_EXPLAIN, NULL, 1);
	return 0;
}
