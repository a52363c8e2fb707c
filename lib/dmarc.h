/*
 * dmarc: DMARC as RFC 9989 defines it (DMARCbis, which obsoletes RFC 7489
 * and RFC 9091): the policy record, the DNS Tree Walk that finds the
 * policy and the Organizational Domain (no Public Suffix List), identifier
 * alignment, the result and the disposition to apply.
 *
 * The module keeps no state of its own: each call works on what it is
 * given and on the struct dns, which belongs to the calling thread (see
 * dns.h).  The SPF and DKIM results come in as the RFC 8601 words other
 * modules produce; an exemptions table is the caller's business.
 *
 * DNS work is bounded: a tree walk makes at most LIMIT_DMARC_WALK queries
 * (RFC 9989 4.10), one check makes at most LIMIT_DMARC_WALKS walks (the
 * Author Domain, the SPF domain, DKIM d= domains) sharing their answers,
 * plus one query to tell whether the Author Domain exists when an np= tag
 * could apply.
 */
#ifndef SLUICE_DMARC_H
#define SLUICE_DMARC_H

#include <stddef.h>

#include <jansson.h>

#include "dns.h"
#include "limit.h"
#include "msg.h"

#define DMARC_DOMAIN_MAX	254	/* a domain as text, NUL included */
#define DMARC_ERRORS_MAX	256	/* syntax errors noted per record */
#define DMARC_REASON_MAX	256	/* the reason of a response */

enum dmarc_result {
	DMARC_NONE,		/* no policy record applies: DMARC does not
				 * apply to the message */
	DMARC_PASS,		/* an authenticated identifier is aligned */
	DMARC_FAIL,		/* a record applies, nothing aligned passed */
	DMARC_TEMPERROR,	/* a DNS failure kept the answer from us */
	DMARC_PERMERROR		/* no Author Domain to check, or an answer
				 * that cannot be parsed */
};

enum dmarc_policy {
	DMARC_POLICY_UNSET,	/* tag absent */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
	DMARC_POLICY_INVALID	/* tag present with a value that is none of
				 * the three (RFC 9989 4.10.1 then applies) */
};

/* Which tag of the policy record gave the policy. */
enum dmarc_source {
	DMARC_SOURCE_NONE,
	DMARC_SOURCE_P,		/* the Author Domain's own record */
	DMARC_SOURCE_SP,	/* an existing subdomain of the policy domain */
	DMARC_SOURCE_NP		/* a non-existent subdomain (NXDOMAIN) */
};

enum dmarc_mode { DMARC_MODE_RELAXED, DMARC_MODE_STRICT };

enum dmarc_psd { DMARC_PSD_U, DMARC_PSD_Y, DMARC_PSD_N };

/* The alignment outcome of one mechanism (SPF, or DKIM over all the
 * signatures). */
enum dmarc_align {
	DMARC_ALIGN_NONE,	/* no authenticated identifier (no pass) */
	DMARC_ALIGN_PASS,	/* a passing identifier is aligned */
	DMARC_ALIGN_FAIL,	/* passing identifiers, none aligned */
	DMARC_ALIGN_TEMPERROR	/* alignment or the mechanism could not be
				 * determined for a DNS failure */
};

/*
 * A DMARC Policy Record's tags.  Unknown tags are ignored; a tag with a
 * syntax error takes its default and the error is noted in errors.
 */
struct dmarc_record {
	enum dmarc_policy p, sp, np;	/* as published */
	enum dmarc_mode adkim, aspf;	/* default relaxed */
	enum dmarc_psd psd;		/* default u */
	int t;			/* testing: t=y, or without a t= tag the RFC
				 * 7489 pct=0 (RFC 9989 A.6); 0 otherwise */
	int t_tag;		/* t= as published: -1 absent, 0 n, 1 y */
	int pct;		/* RFC 7489 pct= (0-100), -1 absent */
	char fo[16];		/* failure reporting options, default "0" */
	char rua[LIMIT_DMARC_RECORD];	/* the valid URIs, "," between */
	char ruf[LIMIT_DMARC_RECORD];
	int nrua, nruf;		/* valid URIs in each */
	int nerrors;		/* syntax errors met */
	char errors[DMARC_ERRORS_MAX];	/* the first of them, "; " between */
};

/* A DKIM signature's outcome, as the DKIM verifier gives it. */
struct dmarc_dkim {
	const char *d;		/* the signature's d= */
	const char *result;	/* "pass", "fail", "temperror", ... */
};

struct dmarc_request {
	/* The Author Domain: the domain of the RFC5322.From address, in
	 * A-labels (RFC 9989 5.3.1: the caller converts U-labels). */
	const char *from_domain;
	/* The domain SPF checked for the MAIL FROM identity (the HELO name
	 * when the reverse-path was null, RFC 7208 2.4) and its result
	 * ("pass", "fail", ...); NULL when SPF was not checked. */
	const char *spf_domain;
	const char *spf_result;
	const struct dmarc_dkim *dkim;	/* one per DKIM signature */
	size_t ndkim;
};

struct dmarc_response {
	enum dmarc_result result;
	char domain[DMARC_DOMAIN_MAX];	/* the Author Domain, lower case */
	/* Where the policy record was found; "" when none applies. */
	char policy_domain[DMARC_DOMAIN_MAX];
	/* The Author Domain's Organizational Domain (RFC 9989 4.10.2);
	 * "" when it was not needed (no record, strict alignment or
	 * identical identifiers) or could not be found. */
	char org_domain[DMARC_DOMAIN_MAX];
	int have_record;		/* rec holds the policy record */
	struct dmarc_record rec;
	enum dmarc_source source;	/* which of p, sp, np applied */
	enum dmarc_policy policy;	/* that tag's policy (NONE, QUARANTINE
					 * or REJECT; UNSET without record) */
	/* What to apply: NONE unless the result is fail; on fail the
	 * policy, one level lower when the record is in testing mode. */
	enum dmarc_policy disposition;
	int testing;			/* testing mode lowered the policy */
	enum dmarc_align spf, dkim;	/* alignment outcomes */
	char dkim_domain[DMARC_DOMAIN_MAX];	/* the aligned d=, or "" */
	int queries;			/* DNS queries made */
	char reason[DMARC_REASON_MAX];	/* a short phrase, for logs */
};

/*
 * Parse a TXT record's text (len bytes; NUL bytes are not DMARC) as a
 * DMARC Policy Record.  Returns 0 and fills *rec when the text starts
 * with v=DMARC1 (syntax errors in the rest are noted in rec->errors and
 * the tags they hit take their defaults, RFC 9989 4.8).  Returns -1 when
 * it is no DMARC record: no v=DMARC1 first, or over LIMIT_DMARC_RECORD
 * bytes; rec->errors says which.  Pure: no DNS, no allocation.
 */
int dmarc_parse_record(const void *txt, size_t len, struct dmarc_record *rec);

/*
 * Check a message: policy discovery by the DNS tree walk, identifier
 * alignment, result and disposition (RFC 9989 4.10, 5.3).  Returns 0 with
 * *rs filled, whatever the result (DNS failures are DMARC_TEMPERROR);
 * -1 with errno EINVAL for a request without from_domain or with dkim
 * NULL and ndkim > 0.
 */
int dmarc_check(struct dns *, const struct dmarc_request *,
    struct dmarc_response *rs);

/*
 * The Organizational Domain of domain (RFC 9989 4.10.2) by a tree walk
 * of at most LIMIT_DMARC_WALK queries, written to org (orgsz bytes,
 * DMARC_DOMAIN_MAX is enough).  Returns 0, or -1 with errno: EINVAL for a
 * name that is no domain (or U-labels), EAGAIN when a query failed
 * temporarily, EBADMSG when an answer could not be parsed.
 */
int dmarc_org_domain(struct dns *, const char *domain, char *org,
    size_t orgsz);

/* The outcome of reading the From field of a message. */
enum dmarc_from {
	DMARC_FROM_OK,		/* exactly one Author Domain */
	DMARC_FROM_NONE,	/* no From field, or no address in it */
	DMARC_FROM_FIELDS,	/* several From fields (not RFC 5322) */
	DMARC_FROM_DOMAINS,	/* addresses in more than one domain */
	DMARC_FROM_BAD		/* an address that cannot be parsed, or a
				 * domain literal */
};

/*
 * The Author Domain(s) of a From field's value (len bytes, unfolded or
 * not): the domains of its mailboxes (RFC 5322 3.4, obsolete forms
 * included), lower case (ASCII letters), each once, at most max of them
 * in dom; *n is set to how many were stored.  Domains in U-labels are
 * given as written (valid UTF-8 or not: check before use).  RFC 9989
 * 5.3.1 leaves DMARC_FROM_DOMAINS to the receiver; dmarc_strictest picks
 * the answer of 11.5 from a check of each.
 */
enum dmarc_from dmarc_from_parse(const char *value, size_t len,
    char dom[][DMARC_DOMAIN_MAX], size_t max, size_t *n);

/* The same for a message: every From field of m (DMARC_FROM_FIELDS when
 * there are several, with the domains of all of them). */
enum dmarc_from dmarc_from_msg(const struct msg *m,
    char dom[][DMARC_DOMAIN_MAX], size_t max, size_t *n);

/*
 * Of n responses for the several Author Domains of one message, the one
 * to act on (RFC 9989 11.5): the fail with the strictest disposition;
 * without a fail a temperror, then a permerror, then a pass, then none.
 * Returns its index; 0 when n is 0.
 */
size_t dmarc_strictest(const struct dmarc_response *rs, size_t n);

/*
 * The response as the object mail-auth puts at auth.dmarc of a record
 * (a new reference; NULL only when jansson runs out of memory):
 *
 *   {"result":        "none|pass|fail|temperror|permerror",
 *    "domain":        the Author Domain (RFC5322.From), or null,
 *    "policy_domain": where the policy record was found, or null,
 *    "org_domain":    the Author Domain's Organizational Domain, or null
 *                     when it was not needed,
 *    "policy":        "none|quarantine|reject": the policy that applies
 *                     (from p, sp or np), or null without a record,
 *    "disposition":   "none|quarantine|reject": what to do after testing
 *                     (t=y lowers it one step; "none" unless fail),
 *    "source":        "p|sp|np", or null without a record,
 *    "testing":       true when t=y (or pct=0) lowered the disposition,
 *    "spf_aligned":   bool, an aligned SPF pass,
 *    "dkim_aligned":  bool, an aligned DKIM pass,
 *    "dkim_domain":   the aligned d=, or null,
 *    "reason":        a short phrase for people,
 *    "published":     null without a record, else the record in effect,
 *                     defaults filled in (what RFC 9990 reports need):
 *        {"adkim": "r|s", "aspf": "r|s",
 *         "p", "sp", "np": "none|quarantine|reject" (sp defaults to p,
 *                     np to sp; all "none" for a record without a valid
 *                     p= that counts for its rua=),
 *         "psd": "y|n|u", "t": "y|n" (pct=0 without t= is "y"),
 *         "pct": 0-100 only when the record has a valid pct=,
 *         "fo": "0|1|d|s" joined by ":",
 *         "rua": ["URI", ...] the valid URIs, "!size" cut off}}
 *
 * Every string is ASCII (domains are checked before they are stored, the
 * record's values are printable ASCII).
 */
json_t *dmarc_json(const struct dmarc_response *);

/* The RFC words: "none", "pass", "fail", "temperror", "permerror". */
const char *dmarc_result_str(enum dmarc_result);
/* "none", "quarantine", "reject"; "" for UNSET, "invalid". */
const char *dmarc_policy_str(enum dmarc_policy);
/* "p", "sp", "np"; "" for NONE. */
const char *dmarc_source_str(enum dmarc_source);
/* "none", "pass", "fail", "temperror". */
const char *dmarc_align_str(enum dmarc_align);
/* "dmarc_from" outcomes: "ok", "none", "fields", "domains", "bad". */
const char *dmarc_from_str(enum dmarc_from);

#endif
