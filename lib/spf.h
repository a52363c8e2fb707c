/*
 * spf: Sender Policy Framework, RFC 7208.
 *
 * spf_check() runs check_host() (RFC 7208 4) for the MAIL FROM or the
 * HELO identity of a client, with every DNS query through lib/dns,
 * synchronously (dns_query_sync: callbacks of the handle's other queries
 * may run meanwhile).  It keeps no state between calls and no global
 * state: checks may run in several threads at once, each with its own
 * struct dns.
 *
 * Bounds (lib/limit.h): LIMIT_SPF_LOOKUPS DNS-querying terms (include,
 * a, mx, ptr, exists, redirect) per check, LIMIT_SPF_VOID void lookups
 * (NXDOMAIN or no records), LIMIT_SPF_MX MX names per mx mechanism
 * (more is a permerror), LIMIT_SPF_PTR PTR names per ptr mechanism or
 * %{p} (the rest ignored), LIMIT_SPF_RECORD bytes and LIMIT_SPF_TERMS
 * terms per record (more is a permerror), LIMIT_SPF_TIME seconds per
 * check (then temperror; each query also has the handle's deadline).
 * Loops through include and redirect end at the lookup limit.
 *
 * Choices where RFC 7208 leaves one:
 * - A target name that cannot be a domain name after macro expansion
 *   (an empty label, a label over 63 bytes, over 253 bytes when 7.3
 *   finds no label to cut) does not exist: a, mx, ptr and exists do not
 *   match (no void lookup is counted), include and redirect give
 *   permerror.  Any other byte may stand in a label (RFC 2181 11): a
 *   space from %_ is asked for as such.
 * - %{i} of an IPv6 address is its nibbles in lower case, as in the
 *   example of 7.4.
 * - A PTR lookup that fails gives no match (5.5); an address lookup of
 *   a PTR name that fails skips that name; an address lookup of an MX
 *   name that fails is a temperror, as is any failed lookup of a, exists,
 *   include and redirect.
 * - A void lookup is counted once per term whose own query (the A or
 *   AAAA of a, the MX of mx, the PTR of ptr, the A of exists) finds no
 *   record; the address lookups of MX and PTR names are not counted.
 * - %{p} costs no lookup term; its PTR names are validated once per
 *   check and shared with every ptr mechanism.
 * - The explanation is "" unless an exp= of the record that gave "fail"
 *   (not one reached through include) yields one: a local default is
 *   the caller's business.
 */
#ifndef SLUICE_SPF_H
#define SLUICE_SPF_H

#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "limit.h"

struct dns;

#define SPF_DOMAIN_MAX		256	/* a domain as text, NUL included */
#define SPF_SENDER_MAX		512	/* local@domain, NUL included */
#define SPF_TERM_MAX		256	/* a term as reported, cut to fit */
#define SPF_EXPLANATION_MAX	512	/* an explanation, cut to fit */
#define SPF_PROBLEM_MAX		200	/* a problem text, cut to fit */

/* The results, in RFC 7208 2.6 order; spf_result_str gives the words. */
enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR
};

enum spf_identity {
	SPF_MAILFROM,	/* the MAIL FROM domain; postmaster@HELO if empty */
	SPF_HELO	/* the HELO name (RFC 7208 2.3) */
};

struct spf_request {
	/* The client, AF_INET or AF_INET6 (an IPv4-mapped IPv6 address is
	 * taken as IPv4); the port is ignored. */
	const struct sockaddr *client;
	/* The MAIL FROM address without the angle brackets, "" for the
	 * null reverse-path (NULL is taken as "").  "@domain" and a bare
	 * domain get the local-part "postmaster" (RFC 7208 4.3). */
	const char *sender;
	const char *helo;	/* the HELO or EHLO argument (NULL: "") */
	const char *receiver;	/* our host name, for %{r} (NULL: "unknown") */
	time_t now;		/* for %{t}; 0: time(NULL) */
};

struct spf_response {
	enum spf_result result;
	/* The identity checked: SPF_HELO also for a MAIL FROM check of the
	 * null reverse-path (2.4). */
	enum spf_identity identity;
	/* The <domain> check_host() started with: the MAIL FROM domain or
	 * the HELO name, as given ("" if there was none). */
	char domain[SPF_DOMAIN_MAX];
	/* The <sender> the macros used: local@domain. */
	char sender[SPF_SENDER_MAX];
	/* The term that decided, as written (e.g. "-all", "include:x.org",
	 * "ip4:192.0.2.0/24"), in the record of mechanism_domain: the
	 * checked domain's, or that of the domain a redirect= led to; ""
	 * when no mechanism matched. */
	char mechanism[SPF_TERM_MAX];
	char mechanism_domain[SPF_DOMAIN_MAX];
	/* fail only, from exp= with its macros expanded; else "". */
	char explanation[SPF_EXPLANATION_MAX];
	/* permerror, temperror: what went wrong, printable ASCII, e.g.
	 * "example.org: more than one SPF record"; else "". */
	char problem[SPF_PROBLEM_MAX];
	int lookups;		/* DNS-querying terms evaluated */
	int void_lookups;	/* of which found nothing */
	int queries;		/* DNS queries asked in all */
};

/*
 * Run check_host() for the identity of req into *resp (all of it
 * written).  Returns 0; every DNS trouble is in the result (temperror),
 * so there is no failure return.  Memory used is freed before return.
 */
int spf_check(struct dns *, const struct spf_request *req,
    enum spf_identity, struct spf_response *resp);

/*
 * The response as the JSON object mail-auth puts at the record key
 * auth.spf (DESIGN.md), keys in this order, a string key left out when
 * its string is empty:
 *
 *   {"result": "fail",			spf_result_str
 *    "domain": "example.org",		the <domain> checked
 *    "identity": "mailfrom",		or "helo"
 *    "mechanism": "-all",		the term that decided
 *    "explanation": "...",		from exp=, fail only
 *    "problem": "...",			temperror, permerror
 *    "lookups": 3, "void_lookups": 0}	integers, always there
 *
 * Strings go through record_string (odd bytes as \xNN).  Returns a new
 * reference (the caller decrefs); out of memory exits 111.
 */
json_t *spf_json(const struct spf_response *);

/* "none", "neutral", "pass", "fail", "softfail", "temperror",
 * "permerror" (RFC 7208 2.6); "unknown" for a value out of range. */
const char *spf_result_str(enum spf_result);

/*
 * A parsed record.  Terms point into text by offset; a record is a
 * plain value (copy it with memcpy).
 */
enum spf_kind {
	SPF_K_ALL,
	SPF_K_INCLUDE,
	SPF_K_A,
	SPF_K_MX,
	SPF_K_PTR,
	SPF_K_IP4,
	SPF_K_IP6,
	SPF_K_EXISTS,
	SPF_K_REDIRECT,		/* modifiers from here on */
	SPF_K_EXP,
	SPF_K_UNKNOWN		/* an unknown modifier, ignored */
};

struct spf_term {
	unsigned char kind;	/* enum spf_kind */
	unsigned char qualifier;/* '+' '-' '~' '?' (mechanisms) */
	unsigned char cidr4;	/* a, mx, ip4: 0-32 (32 if not given) */
	unsigned char cidr6;	/* a, mx, ip6: 0-128 (128 if not given) */
	unsigned short off;	/* the term: text + off, len bytes */
	unsigned short len;
	unsigned short arg;	/* domain-spec (macro-string for unknown */
	unsigned short arglen;	/* modifiers); arglen 0: none given */
	unsigned char addr[16];	/* ip4: 4 bytes; ip6: 16 bytes */
};

struct spf_record {
	char text[LIMIT_SPF_RECORD + 1];	/* the record, NUL added */
	size_t len;
	struct spf_term term[LIMIT_SPF_TERMS];	/* in record order */
	int nterms;
	int redirect;		/* index of redirect= in term, or -1 */
	int exp;		/* index of exp=, or -1 */
};

/*
 * 1 if the len bytes at txt are an SPF record, i.e. begin with "v=spf1"
 * (any case) followed by a space or the end (RFC 7208 4.5); else 0.
 */
int spf_is_record(const char *txt, size_t len);

/*
 * Parse an SPF record (len bytes, which may contain NUL) into *out,
 * checking all of it against RFC 7208 4.6 and 12: every mechanism and
 * modifier, CIDR lengths, domain-spec endings and macro syntax (c, r and
 * t only in exp text).  Returns 0, or -1 with the reason in err (size
 * errsz, printable ASCII, cut to fit): not an SPF record, a syntax error,
 * redirect= or exp= twice, over LIMIT_SPF_RECORD bytes or
 * LIMIT_SPF_TERMS terms.  check_host() turns -1 into permerror.
 */
int spf_parse_record(const char *txt, size_t len, struct spf_record *out,
    char *err, size_t errsz);

/*
 * What the macros of RFC 7208 7 expand to.  Strings are NUL-terminated;
 * NULL is taken as "".
 */
struct spf_macro_env {
	const struct sockaddr *client;	/* %{i} %{c} %{v} */
	const char *sender;	/* %{s}; %{l} and %{o} are its parts */
	const char *domain;	/* %{d} */
	const char *helo;	/* %{h} */
	const char *ptr;	/* %{p}: a validated name (NULL: "unknown") */
	const char *receiver;	/* %{r} (NULL: "unknown") */
	time_t now;		/* %{t} */
};

enum spf_expand_mode {
	SPF_EXPAND_DOMAIN,	/* domain-spec: letters slodiphv; the
				 * result without a final dot, cut from
				 * the left to 253 bytes (7.3) */
	SPF_EXPAND_EXPLAIN	/* exp text: spaces and crt too; the
				 * result cut from the right to fit */
};

/*
 * Expand the macro-string of len bytes at spec into out (size outsz, at
 * least SPF_DOMAIN_MAX for a domain).  Returns the length written, or
 * -1 with the reason in err for a syntax error (a bad macro, a byte no
 * macro-string may hold) or, for a domain, an expansion with no label
 * boundary to cut at.
 */
int spf_expand(const char *spec, size_t len, enum spf_expand_mode,
    const struct spf_macro_env *, char *out, size_t outsz, char *err,
    size_t errsz);

#endif
