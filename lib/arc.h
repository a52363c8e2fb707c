/*
 * arc: the Authenticated Received Chain (RFC 8617), verified and sealed,
 * on the primitives of lib/dkim (tag lists, canonicalisation, header and
 * body hashes, keys, signing).
 *
 * Verifying (RFC 8617 5.2) gives the chain validation status:
 *   none  no ARC field at all;
 *   fail  the structure is broken (an instance outside 1 to 50, a gap,
 *         a missing or duplicated field of an instance, an
 *         ARC-Authentication-Results not starting "i=N;"), the newest
 *         ARC-Seal says cv=fail, an ARC-Seal's cv= is not none for i=1
 *         and pass for the others, a tag list that does not parse or
 *         misses a tag, the newest ARC-Message-Signature or any ARC-Seal
 *         does not verify (rsa-sha1 and RSA keys under 1024 bits fail,
 *         as RFC 8301 says), an AMS whose h= names ARC-Seal, an AS with
 *         h=, a key that cannot be had;
 *   pass  otherwise.
 * On pass, oldest_pass is the oldest instance whose AMS verifies with
 * every newer one (RFC 8617 5.2 steps 4 and 5).
 *
 * Sealing (RFC 8617 5.1) adds instance N+1: ARC-Authentication-Results
 * (our Authentication-Results with "i=N+1; " in front),
 * ARC-Message-Signature (relaxed/relaxed, the key's algorithm, h= as
 * DKIM's default, never an ARC field) and ARC-Seal with the chain's cv=.
 * A chain whose newest ARC-Seal already says cv=fail, or that has 50
 * instances, is not sealed; a failed chain is sealed with cv=fail and an
 * ARC-Seal over its own set only (RFC 8617 5.1.2).
 *
 * Strings taken from the message (d, s, aar, reasons) are bytes as
 * received; escape them for logs and JSON as any wire bytes.  No global
 * state.  Out of memory exits 111 (xalloc.h).
 */
#ifndef SLUICE_ARC_H
#define SLUICE_ARC_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "dkim.h"
#include "dns.h"
#include "limit.h"
#include "msg.h"

enum arc_cv { ARC_NONE, ARC_PASS, ARC_FAIL };

/* "none", "pass", "fail". */
const char *arc_cv_str(enum arc_cv);

/* One instance of a chain, as far as it could be read. */
struct arc_set {
	int i;				/* the instance, 1 to 50 */
	char d[DKIM_NAME_MAX];		/* the ARC-Seal's d= and s=, "" when */
	char s[DKIM_NAME_MAX];		/* not well-formed */
	char cv[8];			/* its cv= as written, "" if bad */
	enum dkim_res ams;		/* the AMS: DKIM_NONE if not checked */
	char *aar;			/* the AAR after "i=N;", unfolded,
					 * trimmed, blanks squeezed, at most
					 * LIMIT_ARC_AAR bytes; NULL if none */
};

struct arc_result {
	enum arc_cv cv;
	int n;			/* instances (the highest i= read, at most
				 * 50); 0 without ARC fields */
	int oldest_pass;	/* on pass: see above; else 0 */
	int top_fail;		/* the newest ARC-Seal says cv=fail */
	char reason[DKIM_REASON_MAX];	/* why fail; "" otherwise */
	size_t nset;		/* sets read in order, set[k] instance k+1;
				 * n when the structure is sound, else 0 */
	struct arc_set set[LIMIT_ARC_SETS];
};

/* Frees the strings of r (not r). */
void arc_result_clear(struct arc_result *r);

/*
 * A key: TXT s._domainkey.d.  Returns as dkim_key_lookup does
 * (DKIM_PASS with *key set).
 */
typedef enum dkim_res (*arc_key_fn)(void *arg, const char *s,
    const char *d, struct dkim_key *key, char *reason);

struct arc_verify_opts {
	time_t now;		/* for AMS t= and x=; 0: the clock */
	long skew;		/* seconds a t= may be ahead of now */
	int min_bits;		/* smallest RSA key that can pass */
	struct dns *dns;	/* keys through dkim_key_lookup, or: */
	arc_key_fn key;		/* keys from here when not NULL */
	void *keyarg;
};

/* now 0, skew LIMIT_DKIM_SKEW, min_bits LIMIT_DKIM_MIN_BITS, no dns, no
 * key function (every key lookup then fails). */
void arc_verify_opts_init(struct arc_verify_opts *);

/*
 * Verify the chain of m into r (arc_result_clear it after).  Never
 * fails; at most 2 key lookups per instance.
 */
void arc_verify(const struct msg *m, const struct arc_verify_opts *,
    struct arc_result *r);

/*
 * auth.arc of sluice-record(5): {"result", "instances", "oldest_pass"
 * (null unless pass), "sealers": [{"i", "d", "s", "cv", "aar"}], "reason"
 * (on fail)}; wire bytes go through record_str.  A new reference.
 */
json_t *arc_json(const struct arc_result *);

/*
 * 1 if the AAR text aar (struct arc_set's: "authserv-id; results") has a
 * result "method=pass" whose property prop ("header.from",
 * "smtp.mailfrom", "header.d") is domain (ASCII case ignored; for an
 * address, its domain); else 0, a result without prop included.  Comments
 * are skipped.  The AAR is the sealer's word: trust it only when the
 * chain passes and the sealer is trusted.
 */
int arc_aar_pass(const char *aar, const char *method, const char *prop,
    const char *domain);

struct arc_seal_opts {
	const struct dkim_privkey *key;
	const char *domain;	/* d=, required */
	const char *selector;	/* s=, required */
	/* the AMS's h= as a colon list; NULL: dkim_sign_headers */
	const char *headers;
	time_t now;		/* t=; 0: the clock */
};

/*
 * Seal m, whose chain verified as r, with the Authentication-Results
 * value ar ("authserv-id; results", folding allowed): the fields
 * ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results, in
 * that order (to be put on top of the message in that order), into
 * out[0..3), each folded and ending in CRLF; the caller frees them.
 * Returns 0; 1 with out NULL and the reason in err when the chain is not
 * to be sealed (see above); -1 with the reason in err (bad domain,
 * selector or header list, h= naming an ARC field, signing failed).
 */
int arc_seal(const struct msg *m, const struct arc_result *r,
    const char *ar, const struct arc_seal_opts *, char *out[3], char *err,
    size_t errsz);

#endif
