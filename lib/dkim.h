/*
 * dkim: DKIM signatures (RFC 6376), verified and made; rsa-sha256 and
 * ed25519-sha256 (RFC 8463); rsa-sha1 verified but reported as "policy"
 * unless the caller allows it, RSA keys under 1024 bits failed (RFC 8301).
 *
 * Three layers, each usable alone:
 *
 *  1. Parsers, pure and bounded (no I/O): the tag=value list of RFC 6376
 *     3.2 (dkim_tags_parse), a DKIM-Signature (dkim_sig_parse, also the
 *     ARC-Message-Signature of RFC 8617 with DKIM_SIG_AMS), a key record
 *     (dkim_key_parse), base64.
 *  2. Primitives, for lib/arc as much as for DKIM: canonicalisation of a
 *     header field and of a body (3.4), the body hash (3.7), the fields an
 *     h= names (5.4.2), the header hash over a list of fields and a
 *     signature field, signing and verifying that hash; dkim_sign_fields
 *     makes a whole signature field from a tag list (an ARC-Seal, an
 *     ARC-Message-Signature, a DKIM-Signature).
 *  3. A whole message: dkim_verify checks every DKIM-Signature, looking
 *     the keys up with blocking DNS through lib/dns (one struct dns per
 *     thread); dkim_sign makes the field to put on top of a message.
 *
 * Results are RFC 8601's words (dkim_result_str):
 *   pass       the signature verifies with a usable key;
 *   fail       it does not (body hash or signature mismatch), or it is
 *              expired (x=), dated in the future (t=, beyond a skew),
 *              covers more body than there is (l=), or its RSA key is
 *              under the minimum size;
 *   policy     a valid rsa-sha1 signature (unless opts.sha1 allows it);
 *   permerror  the signature or key record cannot be used: syntax,
 *              missing or duplicate tags, unknown algorithm, i= outside
 *              d=, h= without From, no key record, revoked key (empty
 *              p=), key type or hash not allowed by the key, key not for
 *              e-mail (s=), t=s with an i= domain other than d=;
 *   temperror  the key lookup failed for now;
 *   neutral    not checked: signatures beyond opts.max_sigs are summed
 *              up in one last result;
 *   none       no signature at all (dkim_verify returns 0 results).
 *
 * Strings taken from the message (d, s, i, reasons) are bytes as
 * received; escape them for logs and JSON as any wire bytes.
 *
 * No global state; everything here may run in several threads at once on
 * different objects.  Functions returning int return 0, or -1 with a short
 * reason in err (size errsz); functions returning a pointer return NULL
 * with the reason in err.  Out of memory exits 111 (xalloc.h).
 */
#ifndef SLUICE_DKIM_H
#define SLUICE_DKIM_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "limit.h"
#include "msg.h"

#define DKIM_DIGEST_MAX	32	/* bytes of a SHA-256 digest */
#define DKIM_SIG_MAX	(LIMIT_DKIM_KEY_BITS / 8)	/* bytes of b= */
#define DKIM_NAME_MAX	254	/* a domain or selector, NUL included */
#define DKIM_IDENT_MAX	256	/* i=, NUL included */
#define DKIM_BPREFIX	16	/* characters of b= kept for header.b */
#define DKIM_REASON_MAX	80

enum dkim_res {
	DKIM_NONE,
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_NEUTRAL,
	DKIM_POLICY,
	DKIM_TEMPERROR,
	DKIM_PERMERROR
};

enum dkim_canon { DKIM_SIMPLE, DKIM_RELAXED };
enum dkim_hash { DKIM_SHA1, DKIM_SHA256 };
enum dkim_alg { DKIM_RSA_SHA1, DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
enum dkim_keytype { DKIM_K_RSA, DKIM_K_ED25519 };

/* "pass", "fail", "neutral", "policy", "temperror", "permerror", "none". */
const char *dkim_result_str(enum dkim_res);
/* "rsa-sha1", "rsa-sha256", "ed25519-sha256". */
const char *dkim_alg_str(enum dkim_alg);
enum dkim_hash dkim_alg_hash(enum dkim_alg);

/* Bytes of text: a name in h=, a piece of a field. */
struct dkim_span {
	const char *p;
	size_t len;
};

/*
 * Layer 1: parsers.
 */

/*
 * One tag of a tag list.  name and value point into the parsed text;
 * value is trimmed of the whitespace around it, inner whitespace kept.
 * [vstart, vend) is all that follows "=" up to the ";" or the end,
 * surrounding whitespace included, counted from the start of the text:
 * what RFC 6376 3.7 empties when b= is hashed.
 */
struct dkim_tag {
	struct dkim_span name;
	struct dkim_span value;
	size_t vstart, vend;
};

/*
 * Parse a tag list (RFC 6376 3.2): tag-spec *(";" tag-spec) [";"], with
 * whitespace (SP, HTAB, CR, LF) around names, "=" and values.  Names are
 * ALPHA *(ALPHA / DIGIT / "_"); a value has no ";" and no control
 * character but whitespace (8-bit bytes are allowed); empty tag-specs are
 * skipped.  At most max tags ("too many tags"); a name met twice is
 * "duplicate tag NAME".  Sets *n.
 */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags,
    size_t max, size_t *n, char *err, size_t errsz);

/* The tag called name among n, or NULL. */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *tags, size_t n,
    const char *name);

/*
 * Decode base64 skipping whitespace (SP, HTAB, CR, LF) anywhere, into out
 * (size outmax).  Any other byte, padding not at the end, or more than
 * outmax bytes is an error (-1).  Sets *outlen.
 */
int dkim_base64_decode(const char *s, size_t len, unsigned char *out,
    size_t outmax, size_t *outlen);

/* Base64 of n bytes, padded, one line, NUL-terminated; the caller frees. */
char *dkim_base64_encode(const unsigned char *p, size_t n);

/* 1 if p (len bytes) is a well-formed d= or s=: labels of letters,
 * digits, "-" and "_", 1 to 63 bytes each, 253 in all; else 0. */
int dkim_name_ok(const char *p, size_t len);

/* A parsed DKIM-Signature (or ARC-Message-Signature).  The spans in h
 * point into the value it was parsed from. */
struct dkim_sig {
	enum dkim_alg alg;		/* a= */
	enum dkim_canon hc, bc;		/* c=, simple/simple by default */
	char d[DKIM_NAME_MAX];		/* d=, as written */
	char s[DKIM_NAME_MAX];		/* s=, as written */
	char i[DKIM_IDENT_MAX];		/* i= or "@" d; "" for an AMS */
	int instance;			/* AMS: i= (1 to 50); else 0 */
	unsigned char bh[DKIM_DIGEST_MAX];	/* bh=, decoded */
	size_t bhlen;
	unsigned char b[DKIM_SIG_MAX];	/* b=, decoded */
	size_t blen;
	char bprefix[DKIM_BPREFIX + 1];	/* b= without whitespace, cut:
					 * header.b (RFC 6008) */
	long long l;			/* l=, -1 when absent; too big for
					 * long long is LLONG_MAX */
	long long t, x;			/* t=, x=, -1 when absent */
	size_t nh;			/* names in h= */
	struct dkim_span h[LIMIT_DKIM_HEADERS];
	size_t bstart, bend;		/* b='s [vstart, vend) in the value */
};

#define DKIM_SIG_AMS	1	/* flag: an ARC-Message-Signature */

/*
 * Parse the value of a DKIM-Signature field (struct msg_field's value,
 * folding included), len at most LIMIT_DKIM_FIELD.  Checks RFC 6376 3.5:
 * v=1; a=, b=, bh=, d=, h=, s= present; a known algorithm; c= simple or
 * relaxed; q= if present includes dns/txt; d= and s= well-formed names;
 * i= "[local]@domain" with the domain d= or under it; h= includes From,
 * at most LIMIT_DKIM_HEADERS names; l=, t=, x= decimal, x= not before t=;
 * b= and bh= base64.  Unknown tags are ignored.  With DKIM_SIG_AMS: no
 * v=, and i= is the instance, 1 to 50.  On failure the fields parsed so
 * far are set (d, s, bprefix empty unless well-formed) and err says why
 * ("duplicate tag d", "missing tag bh", "i= not in d=", "From not
 * signed", ...).
 */
int dkim_sig_parse(struct dkim_sig *, const char *value, size_t len,
    int flags, char *err, size_t errsz);

/* A parsed key record. */
struct dkim_key {
	enum dkim_keytype type;		/* k=, rsa by default */
	int hashes;			/* allowed: 1 << DKIM_SHA1 | 1 <<
					 * DKIM_SHA256 (both without h=) */
	int testing;			/* t=y */
	int strict;			/* t=s: i='s domain must be d= */
	int bits;			/* RSA modulus bits; 256 for ed25519 */
	EVP_PKEY *pkey;
};

/*
 * Parse a key record (RFC 6376 3.6.1, RFC 8463): the TXT strings of one
 * record joined, at most LIMIT_DKIM_FIELD bytes.  v= if present must come
 * first and be DKIM1; k= rsa or ed25519; h= hashes (unknown ones
 * ignored); s= service types, one of them "email" or "*"; t= flags y and
 * s; p= base64: for rsa a SubjectPublicKeyInfo or a bare PKCS#1
 * RSAPublicKey of at most LIMIT_DKIM_KEY_BITS, for ed25519 the 32 bytes
 * of the key.  Unknown tags are ignored.  Errors: "key revoked" (empty
 * p=), "key not for email", "unknown key type", "bad key", "bad v=",
 * syntax.  Small RSA keys parse (dkim_sig_check fails them).  Free with
 * dkim_key_clear (also after a failure).
 */
int dkim_key_parse(struct dkim_key *, const char *txt, size_t len,
    char *err, size_t errsz);
void dkim_key_clear(struct dkim_key *);

/*
 * Layer 2: primitives.
 */

/*
 * The canonical form (RFC 6376 3.4.1, 3.4.2) of one header field, raw
 * ("Name: value", folding, final CRLF optional): simple leaves it as it
 * is, relaxed lowercases the name, unfolds, turns runs of SP and HTAB
 * into one SP, drops whitespace at the end of the value and around the
 * colon.  Either way the result ends in CRLF.  Sets *outlen; the caller
 * frees.
 */
char *dkim_canon_header(enum dkim_canon, const char *raw, size_t len,
    size_t *outlen);

/*
 * The canonical form (3.4.3, 3.4.4) of a body (CRLF line ends): simple
 * drops empty lines at the end and makes it end in CRLF (an empty body is
 * one CRLF); relaxed also turns runs of SP and HTAB into one SP, drops
 * them at line ends, and leaves an empty body empty.  The caller frees.
 */
char *dkim_canon_body(enum dkim_canon, const char *body, size_t len,
    size_t *outlen);

/*
 * The body hash (3.7) of the canonical body, its first l bytes when l >=
 * 0, without copying the body.  Writes the digest to out
 * (DKIM_DIGEST_MAX bytes) and its length to *outlen; *canonlen gets the
 * length of the whole canonical body.  The caller compares *canonlen
 * with l.
 */
void dkim_body_hash(enum dkim_hash, enum dkim_canon, const char *body,
    size_t len, long long l, unsigned char *out, size_t *outlen,
    unsigned long long *canonlen);

/*
 * The fields named by names[0..n), into out (room for n): for each name
 * in order, the last instance of that name not taken yet, counting from
 * the bottom (5.4.2), or NULL when none is left (an over-signed name: it
 * adds nothing to the hash).  The field at index exclude (the signature
 * being checked; -1 for none) is never taken.
 */
void dkim_select_fields(const struct msg *, const struct dkim_span *names,
    size_t n, long exclude, const struct msg_field **out);

/*
 * The header hash (3.7): the canonical forms (hc) of the n fields f (NULL
 * entries add nothing), then the signature field sig (raw "Name: value",
 * final CRLF optional) with the bytes [bstart, bend) of it removed (b='s
 * value), canonicalised, without its final CRLF.  Writes the digest to
 * out (DKIM_DIGEST_MAX bytes), its length to *outlen.
 */
void dkim_header_hash(enum dkim_hash, enum dkim_canon hc,
    const struct msg_field *const *f, size_t n, const char *sig,
    size_t siglen, size_t bstart, size_t bend, unsigned char *out,
    size_t *outlen);

/* A private key to sign with. */
struct dkim_privkey;

/*
 * A private key from a file or from memory: PEM (PKCS#1 or PKCS#8, RSA or
 * Ed25519; encrypted keys are refused), or an Ed25519 seed as 32 bytes in
 * base64 (as dkimpy keeps them).  RSA keys under LIMIT_DKIM_MIN_BITS or
 * over LIMIT_DKIM_KEY_BITS are refused.  Free with dkim_privkey_free
 * (NULL is fine).
 */
struct dkim_privkey *dkim_privkey_load(const char *path, char *err,
    size_t errsz);
struct dkim_privkey *dkim_privkey_parse(const void *buf, size_t len,
    char *err, size_t errsz);
void dkim_privkey_free(struct dkim_privkey *);
/* DKIM_RSA_SHA256 or DKIM_ED25519_SHA256. */
enum dkim_alg dkim_privkey_alg(const struct dkim_privkey *);
int dkim_privkey_bits(const struct dkim_privkey *);
/* The key record to publish, "v=DKIM1; k=rsa; p=..." (p= the
 * SubjectPublicKeyInfo) or "v=DKIM1; k=ed25519; p=..." (the 32 bytes);
 * the caller frees. */
char *dkim_privkey_record(const struct dkim_privkey *);
/* The key itself, for writing it out (owned by the struct). */
EVP_PKEY *dkim_privkey_pkey(const struct dkim_privkey *);

/*
 * Sign the digest dg (dlen bytes) as alg says: RSASSA-PKCS1-v1_5 with
 * alg's hash, or PureEd25519 over the digest (RFC 8463 3).  Writes at
 * most DKIM_SIG_MAX bytes to sig, the length to *siglen.
 */
int dkim_sign_digest(const struct dkim_privkey *, enum dkim_alg,
    const unsigned char *dg, size_t dlen, unsigned char *sig,
    size_t *siglen, char *err, size_t errsz);

/* 0 if sig is a signature of dg by key under alg, else -1
 * ("signature mismatch", "key type mismatch"). */
int dkim_verify_digest(const struct dkim_key *, enum dkim_alg,
    const unsigned char *dg, size_t dlen, const unsigned char *sig,
    size_t siglen, char *err, size_t errsz);

/*
 * Make a signature field "Name: tag; ...; b=VALUE": tags are ntags "k=v"
 * strings in order; b= goes where the list has the entry "b=" (ARC's
 * canonical tag order puts it second), else last; the header hash (hc, the hash of the
 * key's algorithm) covers the n fields f (NULL entries add nothing), then
 * the new field with b= empty.  The caller puts a= among the tags
 * (dkim_alg_str(dkim_privkey_alg(key))).  The field is folded at 78
 * columns (b= anywhere, h= after its colons when it cannot fit on a
 * line, other tags whole; a new line after a b= that is not last) and
 * ends in CRLF; the caller frees.  With DKIM_FIELD_BWHOLE in flags the
 * value of b= is not folded: an ARC-Message-Signature is hashed by the
 * ARC-Seals above it, and sealers (the ValiMail suite's among them) put
 * b= whole, so the seal's b= comes out the same as theirs.
 */
#define DKIM_FIELD_BWHOLE	1
char *dkim_sign_fields(const struct dkim_privkey *, enum dkim_canon hc,
    const char *name, const char *const *tags, size_t ntags,
    const struct msg_field *const *f, size_t n, int flags, char *err,
    size_t errsz);

/*
 * Layer 3: a message.
 */

struct dkim_verify_opts {
	time_t now;		/* for t= and x=; 0: the clock */
	long skew;		/* seconds t= may be ahead of now */
	int min_bits;		/* smallest RSA key that can pass */
	int sha1;		/* a valid rsa-sha1 signature passes (else
				 * policy) */
	size_t max_sigs;	/* signatures checked per message, at most
				 * LIMIT_DKIM_SIGS */
};

/* now 0, skew LIMIT_DKIM_SKEW, min_bits LIMIT_DKIM_MIN_BITS, sha1 0,
 * max_sigs LIMIT_DKIM_SIGS. */
void dkim_verify_opts_init(struct dkim_verify_opts *);

/* The result for one signature. */
struct dkim_result {
	enum dkim_res res;
	char reason[DKIM_REASON_MAX];	/* why not pass; "" on pass */
	char d[DKIM_NAME_MAX];		/* "" when not well-formed */
	char s[DKIM_NAME_MAX];
	char i[DKIM_IDENT_MAX];		/* i= (or "@" d) */
	const char *a;			/* dkim_alg_str, "" if unknown */
	char b[DKIM_BPREFIX + 1];	/* header.b (RFC 6008) */
	int bits;			/* key size, 0 without a key */
	int testing;			/* the key says t=y */
	size_t field;			/* index in msg->f of the field */
};

/*
 * Body hashes of one message, shared by its signatures (and the
 * ARC-Message-Signatures): one per (canonicalisation, hash, l=).  Zero it
 * before the first use; nothing to free.
 */
struct dkim_bhcache {
	size_t n;
	struct {
		enum dkim_canon c;
		enum dkim_hash h;
		long long l;
		unsigned char dg[DKIM_DIGEST_MAX];
		size_t dlen;
		unsigned long long canonlen;
	} e[2 * LIMIT_DKIM_SIGS];
};

/*
 * Check one parsed signature sig, field number field of m, with key: key
 * type and hashes, t=s, key size, l=, body hash, header hash and
 * signature, rsa-sha1 policy, in that order (t= and x= are dkim_verify's
 * business).  cache may be NULL.  Fills r->res, r->reason, r->bits,
 * r->testing; returns r->res.  For ARC-Message-Signatures too.
 */
enum dkim_res dkim_sig_check(const struct msg *m, size_t field,
    const struct dkim_sig *sig, const struct dkim_key *key,
    const struct dkim_verify_opts *, struct dkim_bhcache *cache,
    struct dkim_result *r);

/*
 * The key record of selector s in domain d: TXT s._domainkey.d through
 * dns (blocking).  Returns DKIM_PASS with *key set (dkim_key_clear it),
 * DKIM_TEMPERROR (lookup failed) or DKIM_PERMERROR (no record, or none
 * that parses; the first parse error in reason, DKIM_REASON_MAX).
 */
enum dkim_res dkim_key_lookup(struct dns *, const char *s, const char *d,
    struct dkim_key *key, char *reason);

/*
 * Verify every DKIM-Signature of m from the top, at most opts->max_sigs
 * of them; any more are summed up in one neutral result.  Writes the
 * results to res (room for LIMIT_DKIM_SIGS + 1) and returns how many; 0
 * means no signature (result none).  Never fails otherwise.
 */
size_t dkim_verify(const struct msg *m, struct dns *,
    const struct dkim_verify_opts *, struct dkim_result *res);

/*
 * One entry of a record's auth.dkim array (sluice-record(5)):
 * {"result", "d", "s", "a", "i", "b" (header.b), "reason", "testing"
 * (true on t=y)}, empty strings and a false testing left out.  Returns a
 * new reference.
 */
json_t *dkim_json(const struct dkim_result *);

/*
 * Signing a message.
 */

struct dkim_sign_opts {
	const char *domain;	/* d=, required */
	const char *selector;	/* s=, required */
	const char *identity;	/* i=, NULL for none */
	/* h= as a colon list, used as given (repeat a name to sign its
	 * absence); NULL: DKIM_SIGN_HEADERS as present, each once more
	 * than present (over-signed) */
	const char *headers;
	enum dkim_canon hc, bc;	/* relaxed/relaxed */
	time_t now;		/* t=; 0: the clock */
	long expire;		/* x= now + expire seconds; 0: no x= */
	int length;		/* put l= (the whole body) */
};

#define DKIM_SIGN_HEADERS "from:sender:reply-to:subject:date:message-id:" \
	"to:cc:mime-version:content-type:content-transfer-encoding:" \
	"in-reply-to:references:list-id:list-unsubscribe"

void dkim_sign_opts_init(struct dkim_sign_opts *);

/* The default h= for m as a colon list: the names of DKIM_SIGN_HEADERS
 * present, each once more than present ("" when none is).  The caller
 * frees. */
char *dkim_sign_headers(const struct msg *m);

/*
 * The DKIM-Signature field for m (to put above its first field), signed
 * with key: tags v, a, c, d, s, [i], t, [x], [l], h, bh, b, folded, CRLF
 * line ends.  Refused: no From field in m, an h= without From, a bad
 * domain, selector or identity.  The caller frees.
 */
char *dkim_sign(const struct msg *m, const struct dkim_privkey *key,
    const struct dkim_sign_opts *, char *err, size_t errsz);

#endif
