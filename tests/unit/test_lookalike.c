/*
 * test_lookalike: lib/lookalike: domains and display names that imitate
 * protected ones, each reason firing and its clean twin not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "lookalike.h"
#include "table.h"
#include "t.h"

static const char domains[] =
    "paypal.com,microsoft.com,www.google.com,b\xc3\xbc" "cher.de,"
    "example.co.uk,ibm.com,bankofamerica.com,.sub.example.org,co.uk,"
    "192.0.2.0/24";

static const char names[] =
    "Jane Doe,Robert Smith,Bj\xc3\xb6rn Borg";

/* domain, the reason wanted, the protected domain named */
static const struct {
	const char *dom;
	enum lookalike_why why;
	const char *target;
} doms[] = {
	/* the protected domains themselves and their subdomains: no */
	{ "paypal.com", LOOKALIKE_NONE, NULL },
	{ "PayPal.COM.", LOOKALIKE_NONE, NULL },
	{ "www.paypal.com", LOOKALIKE_NONE, NULL },
	{ "google.com", LOOKALIKE_NONE, NULL },
	{ "mail.google.com", LOOKALIKE_NONE, NULL },
	{ "b\xc3\xbc" "cher.de", LOOKALIKE_NONE, NULL },
	{ "xn--bcher-kva.de", LOOKALIKE_NONE, NULL },
	{ "shop.example.co.uk", LOOKALIKE_NONE, NULL },
	{ "example.org", LOOKALIKE_NONE, NULL },
	/* unrelated: no */
	{ "unrelated.com", LOOKALIKE_NONE, NULL },
	{ "paypal.com.evil.example", LOOKALIKE_NONE, NULL },
	{ "paperclip.com", LOOKALIKE_NONE, NULL },
	{ "ibx.com", LOOKALIKE_NONE, NULL },	/* too short for edits */
	{ "bucher.com", LOOKALIKE_EDIT, "xn--bcher-kva.de" },
	{ "com", LOOKALIKE_NONE, NULL },
	{ "", LOOKALIKE_NONE, NULL },
	{ "co.uk", LOOKALIKE_NONE, NULL },
	{ "192.0.2.1", LOOKALIKE_NONE, NULL },
	/* the same label under another suffix */
	{ "paypal.co", LOOKALIKE_TLD, "paypal.com" },
	{ "www.paypal.net", LOOKALIKE_TLD, "paypal.com" },
	{ "paypal.co.uk", LOOKALIKE_TLD, "paypal.com" },
	{ "example.com.au", LOOKALIKE_TLD, "example.co.uk" },
	{ "ibm.net", LOOKALIKE_TLD, "ibm.com" },
	{ "example.com", LOOKALIKE_TLD, "example.co.uk" },
	{ "b\xc3\xbc" "cher.com", LOOKALIKE_TLD, "xn--bcher-kva.de" },
	/* skeletons: digit, letter and script swaps */
	{ "paypa1.com", LOOKALIKE_SKELETON, "paypal.com" },
	{ "paypaI.com", LOOKALIKE_EDIT, "paypal.com" },	/* paypai */
	{ "g00gle.com", LOOKALIKE_SKELETON, "google.com" },
	{ "rnicrosoft.com", LOOKALIKE_SKELETON, "microsoft.com" },
	{ "p\xd0\xb0ypal.com", LOOKALIKE_SKELETON, "paypal.com" },
	{ "xn--pypal-4ve.com", LOOKALIKE_SKELETON, "paypal.com" },
	{ "p\xd0\xb0yp\xd0\xb0l.net", LOOKALIKE_SKELETON, "paypal.com" },
	{ "paypa1.co", LOOKALIKE_SKELETON, "paypal.com" },
	{ "vvikipedia.org", LOOKALIKE_NONE, NULL },
	/* edits: one, or two for labels of 8 and more */
	{ "paypai.com", LOOKALIKE_EDIT, "paypal.com" },
	{ "paypall.com", LOOKALIKE_EDIT, "paypal.com" },
	{ "papyal.com", LOOKALIKE_EDIT, "paypal.com" },	/* transposed */
	{ "pypal.com", LOOKALIKE_EDIT, "paypal.com" },
	{ "paypa.com", LOOKALIKE_EDIT, "paypal.com" },
	{ "pyapl.com", LOOKALIKE_NONE, NULL },		/* two: too many */
	{ "micosoft.com", LOOKALIKE_EDIT, "microsoft.com" },
	{ "micorsft.com", LOOKALIKE_EDIT, "microsoft.com" },	/* two */
	{ "mcrsft.com", LOOKALIKE_NONE, NULL },		/* three */
	{ "bankofamerca.com", LOOKALIKE_EDIT, "bankofamerica.com" },
	{ "rnicros0ftt.com", LOOKALIKE_EDIT, "microsoft.com" },
	{ "b\xc3\xbc" "cher.de.evil.example", LOOKALIKE_NONE, NULL },
	{ "bucher.de", LOOKALIKE_EDIT, "xn--bcher-kva.de" },
};

static const struct {
	const char *name;
	enum lookalike_why why;
	const char *target;
} nms[] = {
	{ "Jane Doe", LOOKALIKE_NONE, NULL },
	{ "jane doe", LOOKALIKE_NONE, NULL },
	{ "  JANE\t DOE ", LOOKALIKE_NONE, NULL },
	{ "John Doe", LOOKALIKE_NONE, NULL },
	{ "Jane", LOOKALIKE_NONE, NULL },
	{ "", LOOKALIKE_NONE, NULL },
	{ "   ", LOOKALIKE_NONE, NULL },
	{ "Jane D0e", LOOKALIKE_SKELETON, "jane doe" },
	/* a soft hyphen, fullwidth letters, a zero width joiner */
	{ "Ja\xc2\xadne Doe", LOOKALIKE_SKELETON, "jane doe" },
	{ "\xef\xbc\xaa\xef\xbd\x81ne Doe", LOOKALIKE_SKELETON, "jane doe" },
	{ "Jane\xe2\x80\x8d Doe", LOOKALIKE_SKELETON, "jane doe" },
	{ "J\xd0\xb0ne Doe", LOOKALIKE_SKELETON, "jane doe" },
	{ "Robert Smith", LOOKALIKE_NONE, NULL },
	{ "Robert Srnith", LOOKALIKE_SKELETON, "robert smith" },
	{ "R0bert 5mith", LOOKALIKE_NONE, NULL },	/* 5 is not s */
	{ "Bj\xc3\xb6rn Borg", LOOKALIKE_NONE, NULL },
	{ "BJ\xc3\x96RN BORG", LOOKALIKE_NONE, NULL },
	{ "Bjo\xcc\x88rn Borg", LOOKALIKE_NONE, NULL },	/* NFD: the same */
	{ "Bj\xc3\xb6rn B0rg", LOOKALIKE_SKELETON, "bj\xc3\xb6rn borg" },
	{ "\xff\xfe", LOOKALIKE_NONE, NULL },
};

int
main(void)
{
	struct table *td, *tn;
	struct lookalike *lk;
	const char *target;
	enum lookalike_why why;
	char err[256], name[300], *big;
	size_t i;

	td = table_from_list(domains, err, sizeof(err));
	tn = table_from_list(names, err, sizeof(err));
	ok(td != NULL && tn != NULL, "tables");
	lk = lookalike_new(td, tn, err, sizeof(err));
	ok(lk != NULL, "lookalike_new");
	if (lk == NULL) {
		printf("# %s\n", err);
		return t_done();
	}
	/* www.google.com counts as google.com; co.uk and the network not */
	is_int(lookalike_ndomains(lk), 8, "protected domains kept");
	is_int(lookalike_nnames(lk), 3, "protected names kept");

	for (i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		snprintf(name, sizeof(name), "domain %s: %s", doms[i].dom,
		    lookalike_why_str(doms[i].why));
		why = lookalike_domain(lk, doms[i].dom, &target);
		is_str(lookalike_why_str(why), lookalike_why_str(doms[i].why),
		    name);
		is_str(target, doms[i].target, name);
	}
	for (i = 0; i < sizeof(nms) / sizeof(nms[0]); i++) {
		snprintf(name, sizeof(name), "name %s: %s", nms[i].name,
		    lookalike_why_str(nms[i].why));
		why = lookalike_name(lk, nms[i].name, &target);
		is_str(lookalike_why_str(why), lookalike_why_str(nms[i].why),
		    name);
		is_str(target, nms[i].target, name);
	}

	/* bounded inputs */
	big = malloc(LIMIT_LOOKALIKE_NAME + 10);
	memset(big, 'a', LIMIT_LOOKALIKE_NAME + 9);
	big[LIMIT_LOOKALIKE_NAME + 9] = '\0';
	is_int(lookalike_name(lk, big, &target), LOOKALIKE_NONE,
	    "a name over the limit is not compared");
	memcpy(big + LIMIT_LOOKALIKE_NAME + 9 - 11, ".paypal.com", 11);
	is_int(lookalike_domain(lk, big, &target), LOOKALIKE_NONE,
	    "a domain over 253 bytes is not compared");
	free(big);

	/* no tables: nothing is a lookalike */
	lookalike_free(lk);
	lk = lookalike_new(NULL, NULL, err, sizeof(err));
	ok(lk != NULL, "lookalike_new without tables");
	is_int(lookalike_domain(lk, "paypa1.com", &target), LOOKALIKE_NONE,
	    "no protected domains");
	is_int(lookalike_name(lk, "Jane D0e", &target), LOOKALIKE_NONE,
	    "no protected names");
	lookalike_free(lk);
	lookalike_free(NULL);
	is_int(lookalike_domain(NULL, "paypa1.com", &target), LOOKALIKE_NONE,
	    "NULL handle");
	table_free(td);
	table_free(tn);
	return t_done();
}
