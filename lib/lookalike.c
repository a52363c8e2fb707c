#include <idn2.h>
#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include "limit.h"
#include "lookalike.h"
#include "table.h"
#include "xalloc.h"

#define DOMAIN_MAX	253	/* RFC 1035: a name as text */
#define CP_MAX		128	/* code points of a label or its skeleton;
				 * a label has 63 at most, a skeleton may
				 * have more, a name up to the limit */
#define NAME_CP_MAX	(LIMIT_LOOKALIKE_NAME + 1)

/* A string as code points. */
struct cps {
	UChar32 c[NAME_CP_MAX];
	int32_t n;
};

struct pdom {
	char *reg;		/* registrable domain, ASCII */
	char *label;		/* its first label, ASCII */
	const char *suffix;	/* the public suffix, in reg */
	struct cps u;		/* the label in Unicode */
	struct cps sk;		/* the label's skeleton */
};

struct pname {
	char *name;		/* as in the table */
	struct cps fold;	/* blanks collapsed, case folded */
	struct cps sk;
};

struct lookalike {
	psl_ctx_t *psl;
	USpoofChecker *spoof;
	struct pdom *d;
	size_t nd;
	struct pname *nm;
	size_t nn;
};

/*
 * UTF-8 to UTF-16, blanks collapsed and trimmed, then either NFC and case
 * folded (loose 0: how a name is told from another) or under
 * NFKC_Casefold (loose 1: compatibility forms such as fullwidth letters
 * mapped, default ignorables such as soft hyphens and joiners gone; what
 * the skeleton is taken of).  Returns the length, or -1.
 */
static int32_t
fold(const char *s, UChar *out, int32_t outcap, int loose)
{
	UChar tmp[NAME_CP_MAX * 2], tmp2[NAME_CP_MAX * 2];
	UErrorCode ue = U_ZERO_ERROR;
	const UNormalizer2 *nz;
	int32_t n, i, j;

	u_strFromUTF8(tmp, NAME_CP_MAX * 2, &n, s, -1, &ue);
	if (U_FAILURE(ue) || n >= NAME_CP_MAX * 2)
		return -1;
	nz = loose ? unorm2_getNFKCCasefoldInstance(&ue) :
	    unorm2_getNFCInstance(&ue);
	if (U_FAILURE(ue))
		return -1;
	n = unorm2_normalize(nz, tmp, n, tmp2, NAME_CP_MAX * 2, &ue);
	if (U_FAILURE(ue) || n >= NAME_CP_MAX * 2)
		return -1;
	if (!loose) {
		n = u_strFoldCase(tmp, NAME_CP_MAX * 2, tmp2, n,
		    U_FOLD_CASE_DEFAULT, &ue);
		if (U_FAILURE(ue) || n >= NAME_CP_MAX * 2)
			return -1;
		memcpy(tmp2, tmp, (size_t)n * sizeof(tmp[0]));
	}
	/* collapse Unicode blanks to one space, none at the ends */
	for (i = j = 0; i < n && j < outcap; i++) {
		if (u_isUWhiteSpace(tmp2[i])) {
			if (j > 0 && out[j - 1] != ' ')
				out[j++] = ' ';
		} else
			out[j++] = tmp2[i];
	}
	if (i < n)
		return -1;
	if (j > 0 && out[j - 1] == ' ')
		j--;
	return j;
}

static int
to_cps(const UChar *s, int32_t n, struct cps *out)
{
	UErrorCode ue = U_ZERO_ERROR;

	u_strToUTF32(out->c, NAME_CP_MAX, &out->n, s, n, &ue);
	return U_FAILURE(ue) || out->n >= NAME_CP_MAX ? -1 : 0;
}

/*
 * The folded string of UTF-8 s and its skeleton, folded again: UTS #39
 * skeletons keep case (digit zero maps to a capital O), and we compare
 * without it.  0 or -1.
 */
static int
skeleton(const USpoofChecker *sc, const char *s, struct cps *f,
    struct cps *sk)
{
	UChar a[NAME_CP_MAX * 2], b[NAME_CP_MAX * 4], c[NAME_CP_MAX * 4];
	UErrorCode ue = U_ZERO_ERROR;
	int32_t n, m;

	if (f != NULL && ((n = fold(s, a, NAME_CP_MAX * 2, 0)) < 0 ||
	    to_cps(a, n, f) == -1))
		return -1;
	if ((n = fold(s, a, NAME_CP_MAX * 2, 1)) < 0)
		return -1;
	m = uspoof_getSkeleton(sc, 0, a, n, b, NAME_CP_MAX * 4, &ue);
	if (U_FAILURE(ue) || m >= NAME_CP_MAX * 4)
		return -1;
	m = u_strFoldCase(c, NAME_CP_MAX * 4, b, m, U_FOLD_CASE_DEFAULT, &ue);
	if (U_FAILURE(ue) || m >= NAME_CP_MAX * 4)
		return -1;
	return to_cps(c, m, sk);
}

static int
same(const struct cps *a, const struct cps *b)
{
	return a->n == b->n && memcmp(a->c, b->c, (size_t)a->n *
	    sizeof(a->c[0])) == 0;
}

/*
 * Damerau-Levenshtein distance (optimal string alignment) of a and b, or
 * max + 1 once it is sure to exceed max.
 */
static int
distance(const struct cps *a, const struct cps *b, int max)
{
	int d[CP_MAX + 1][CP_MAX + 1];
	int i, j, v, rowmin;

	if (a->n > CP_MAX || b->n > CP_MAX || abs(a->n - b->n) > max)
		return max + 1;
	for (i = 0; i <= a->n; i++)
		d[i][0] = i;
	for (j = 0; j <= b->n; j++)
		d[0][j] = j;
	for (i = 1; i <= a->n; i++) {
		rowmin = d[i][0];
		for (j = 1; j <= b->n; j++) {
			int cost = a->c[i - 1] == b->c[j - 1] ? 0 : 1;

			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a->c[i - 1] == b->c[j - 2] &&
			    a->c[i - 2] == b->c[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (rowmin > max)
			return max + 1;
	}
	return d[a->n][b->n];
}

/*
 * A domain's ASCII form, its registrable domain and label; fills p and
 * returns 0, or -1 (not a domain, or a public suffix).
 */
static int
split(const struct lookalike *lk, const char *domain, struct pdom *p)
{
	char low[DOMAIN_MAX + 2], *ascii = NULL, *uni = NULL, *dot;
	const char *reg;
	size_t n = strlen(domain), i;
	int r = -1;

	memset(p, 0, sizeof(*p));
	while (n > 0 && domain[0] == '.') {	/* ".example.org" entries */
		domain++;
		n--;
	}
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return -1;
	for (i = 0; i < n; i++)
		low[i] = (char)((domain[i] >= 'A' && domain[i] <= 'Z') ?
		    domain[i] - 'A' + 'a' : domain[i]);
	low[n] = '\0';
	if (idn2_to_ascii_8z(low, &ascii, IDN2_NONTRANSITIONAL |
	    IDN2_NFC_INPUT) != IDN2_OK)
		return -1;
	for (i = 0; ascii[i] != '\0'; i++)
		if (ascii[i] >= 'A' && ascii[i] <= 'Z')
			ascii[i] = (char)(ascii[i] - 'A' + 'a');
	if ((reg = psl_registrable_domain(lk->psl, ascii)) == NULL)
		goto out;
	p->reg = xstrdup(reg);
	dot = strchr(p->reg, '.');
	if (dot == NULL)
		goto out;
	p->label = xstrndup(p->reg, (size_t)(dot - p->reg));
	p->suffix = dot + 1;
	if (idn2_to_unicode_8z8z(p->label, &uni, 0) != IDN2_OK)
		goto out;
	if (skeleton(lk->spoof, uni, &p->u, &p->sk) == -1)
		goto out;
	r = 0;
out:
	if (r == -1) {
		free(p->reg);
		free(p->label);
		memset(p, 0, sizeof(*p));
	}
	idn2_free(uni);
	idn2_free(ascii);
	return r;
}

struct lookalike *
lookalike_new(const struct table *domains, const struct table *names,
    char *err, size_t errsz)
{
	struct lookalike *lk;
	UErrorCode ue = U_ZERO_ERROR;
	struct pdom p;
	struct pname *m;
	const char *k;
	size_t pos, n, i;

	lk = xcalloc(1, sizeof(*lk));
	if ((lk->psl = psl_latest(NULL)) == NULL) {
		snprintf(err, errsz, "Public Suffix List: cannot load");
		free(lk);
		return NULL;
	}
	lk->spoof = uspoof_open(&ue);
	if (U_FAILURE(ue)) {
		snprintf(err, errsz, "ICU spoof checker: %s", u_errorName(ue));
		psl_free(lk->psl);
		free(lk);
		return NULL;
	}
	n = table_count(domains);
	lk->d = xcalloc(n ? n : 1, sizeof(*lk->d));
	pos = 0;
	while (lk->nd < n && (k = table_next_key(domains, &pos)) != NULL) {
		if (split(lk, k, &p) == -1)
			continue;
		for (i = 0; i < lk->nd && strcmp(lk->d[i].reg, p.reg) != 0; i++)
			;
		if (i < lk->nd) {	/* a subdomain of one kept */
			free(p.reg);
			free(p.label);
			continue;
		}
		lk->d[lk->nd++] = p;
	}
	n = table_count(names);
	lk->nm = xcalloc(n ? n : 1, sizeof(*lk->nm));
	pos = 0;
	while (lk->nn < n && (k = table_next_key(names, &pos)) != NULL) {
		if (strlen(k) > LIMIT_LOOKALIKE_NAME)
			continue;
		m = &lk->nm[lk->nn];
		if (skeleton(lk->spoof, k, &m->fold, &m->sk) == -1 ||
		    m->fold.n == 0)
			continue;
		m->name = xstrdup(k);
		lk->nn++;
	}
	return lk;
}

void
lookalike_free(struct lookalike *lk)
{
	size_t i;

	if (lk == NULL)
		return;
	for (i = 0; i < lk->nd; i++) {
		free(lk->d[i].reg);
		free(lk->d[i].label);
	}
	for (i = 0; i < lk->nn; i++)
		free(lk->nm[i].name);
	free(lk->d);
	free(lk->nm);
	uspoof_close(lk->spoof);
	psl_free(lk->psl);
	free(lk);
}

size_t
lookalike_ndomains(const struct lookalike *lk)
{
	return lk == NULL ? 0 : lk->nd;
}

size_t
lookalike_nnames(const struct lookalike *lk)
{
	return lk == NULL ? 0 : lk->nn;
}

static int
edits(const struct pdom *cand, const struct pdom *p)
{
	int max = p->u.n >= 8 ? 2 : 1;

	if (p->u.n < LOOKALIKE_EDIT_MIN || cand->u.n < LOOKALIKE_EDIT_MIN)
		return 0;
	return distance(&cand->u, &p->u, max) <= max ||
	    distance(&cand->sk, &p->sk, max) <= max;
}

enum lookalike_why
lookalike_domain(const struct lookalike *lk, const char *domain,
    const char **target)
{
	struct pdom c;
	enum lookalike_why why = LOOKALIKE_NONE;
	size_t i;

	*target = NULL;
	if (lk == NULL || lk->nd == 0 || split(lk, domain, &c) == -1)
		return LOOKALIKE_NONE;
	for (i = 0; i < lk->nd; i++)
		if (strcmp(c.reg, lk->d[i].reg) == 0)
			goto out;	/* the protected domain itself */
	for (i = 0; i < lk->nd && why == LOOKALIKE_NONE; i++)
		if (strcmp(c.label, lk->d[i].label) == 0) {
			why = LOOKALIKE_TLD;
			*target = lk->d[i].reg;
		}
	for (i = 0; i < lk->nd && why == LOOKALIKE_NONE; i++)
		if (same(&c.sk, &lk->d[i].sk)) {
			why = LOOKALIKE_SKELETON;
			*target = lk->d[i].reg;
		}
	for (i = 0; i < lk->nd && why == LOOKALIKE_NONE; i++)
		if (edits(&c, &lk->d[i])) {
			why = LOOKALIKE_EDIT;
			*target = lk->d[i].reg;
		}
out:
	free(c.reg);
	free(c.label);
	return why;
}

enum lookalike_why
lookalike_name(const struct lookalike *lk, const char *display,
    const char **target)
{
	struct cps f, sk;
	size_t i;

	*target = NULL;
	if (lk == NULL || lk->nn == 0 ||
	    strlen(display) > LIMIT_LOOKALIKE_NAME ||
	    skeleton(lk->spoof, display, &f, &sk) == -1 || f.n == 0)
		return LOOKALIKE_NONE;
	for (i = 0; i < lk->nn; i++)
		if (same(&f, &lk->nm[i].fold))
			return LOOKALIKE_NONE;	/* the name itself */
	for (i = 0; i < lk->nn; i++)
		if (same(&sk, &lk->nm[i].sk)) {
			*target = lk->nm[i].name;
			return LOOKALIKE_SKELETON;
		}
	return LOOKALIKE_NONE;
}

const char *
lookalike_why_str(enum lookalike_why why)
{
	switch (why) {
	case LOOKALIKE_TLD: return "tld";
	case LOOKALIKE_SKELETON: return "skeleton";
	case LOOKALIKE_EDIT: return "edit";
	default: return "none";
	}
}
