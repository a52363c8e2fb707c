/*
 * lookalike: domains and display names made to look like protected ones.
 *
 * A struct lookalike is built once from a table of protected domains and
 * one of protected display names (either may be NULL) and is read-only
 * after: rebuild it on SIGHUP.  It holds what each check needs computed
 * ahead: each protected domain's registrable domain (Public Suffix List,
 * libpsl), its label (the registrable domain less the public suffix) in
 * Unicode, and that label's confusable skeleton (ICU's spoof checker,
 * UTS #39); each name folded and its skeleton.
 *
 * A domain (A- or U-labels, any case, a final dot ignored) is a
 * lookalike of a protected domain P when its registrable domain is not
 * P's (P itself and its subdomains are never lookalikes) and, comparing
 * its label L with P's label:
 *
 *   LOOKALIKE_TLD       L is P's label under another public suffix
 *                       (paypal.co for paypal.com);
 *   LOOKALIKE_SKELETON  L and P's label have the same skeleton
 *                       (pаypal with a Cyrillic a, rnicrosoft, paypa1,
 *                       g00gle: the swaps rn/m, vv/w, 0/o, 1/l are in
 *                       the skeleton's data);
 *   LOOKALIKE_EDIT      the Damerau-Levenshtein distance (adjacent
 *                       transpositions count one) between the labels, or
 *                       between their skeletons, is at most 1, or at most
 *                       2 when P's label has 8 characters or more; only
 *                       for labels of LOOKALIKE_EDIT_MIN characters or
 *                       more, since "ibm" is one edit from many real
 *                       names.
 *
 * A display name is a lookalike of a protected name when the two differ
 * once blanks are collapsed, NFC applied and case folded, but have the
 * same skeleton, taken after NFKC_Casefold (which also maps fullwidth
 * letters and drops soft hyphens and joiners): "Jane D0e", "Jаne Doe"
 * with a Cyrillic a, "Ja\u00adne Doe" for "Jane Doe".  A name that equals a
 * protected one once folded is not a lookalike: it is the name itself,
 * and whether it may be used is mail-scan's question.
 *
 * Inputs are bounded: a domain of more than 253 bytes or a name of more
 * than LIMIT_LOOKALIKE_NAME bytes is never a lookalike.
 */
#ifndef SLUICE_LOOKALIKE_H
#define SLUICE_LOOKALIKE_H

#include <stddef.h>

#define LOOKALIKE_EDIT_MIN	4	/* characters in a label for edits */

enum lookalike_why {
	LOOKALIKE_NONE,
	LOOKALIKE_TLD,
	LOOKALIKE_SKELETON,
	LOOKALIKE_EDIT
};

struct table;
struct lookalike;

/*
 * Build the handle from the tables (the handle keeps no reference to
 * them; NULL is an empty table).  Entries that are not domains (network
 * entries, or one IDNA refuses) are skipped, as are public suffixes.
 * Returns the handle (free with lookalike_free), or NULL with the reason
 * in err (size errsz): ICU's spoof checker or the Public Suffix List
 * could not be opened (temporary).  Out of memory exits 111.
 */
struct lookalike *lookalike_new(const struct table *domains,
    const struct table *names, char *err, size_t errsz);
void lookalike_free(struct lookalike *);

/* The number of protected domains and names kept. */
size_t lookalike_ndomains(const struct lookalike *);
size_t lookalike_nnames(const struct lookalike *);

/*
 * Whether domain looks like one of the protected domains.  Returns the
 * reason (LOOKALIKE_NONE: no) and, when it is one, the protected domain
 * it imitates (its registrable domain, ASCII) in *target, which lives as
 * long as the handle.  The first protected domain found wins, in table
 * order of the reasons above (TLD, then skeleton, then edits).
 */
enum lookalike_why lookalike_domain(const struct lookalike *,
    const char *domain, const char **target);

/* Whether display (UTF-8) looks like a protected name; as above, *target
 * is the protected name as written in the table. */
enum lookalike_why lookalike_name(const struct lookalike *,
    const char *display, const char **target);

/* "tld", "skeleton", "edit" ("none"): for details in reasons. */
const char *lookalike_why_str(enum lookalike_why);

#endif
