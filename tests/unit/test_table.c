#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "limit.h"
#include "table.h"
#include "t.h"

static char dir[] = "/tmp/test_table.XXXXXX";
static char path[256];

/* Write n bytes into dir/name; path holds its name.  0 or -1. */
static int
put(const char *name, const char *s, size_t n)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (fwrite(s, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int
has_addr(const struct table *t, const char *text)
{
	struct sockaddr_storage ss;

	if (cidr_parse_addr(text, &ss) == -1)
		return -1;
	return table_has_addr(t, (struct sockaddr *)&ss);
}

#define B(s)	s, sizeof(s) - 1

static const char good[] =
    "# relay domains\n"
    "Example.ORG\n"
    "  .Sub.Example.net\t# every subdomain\n"
    "\t\n"
    "\n"
    "192.0.2.0/24   \n"
    "2001:db8::/32\n"
    " b\xc3\xbc" "cher.example\r\n"
    "example.org\n"
    "198.51.100.7\n"
    "Jane Doe\n"
    "user@Example.COM\n"
    "deadbeef\n"
    "# the end, without a newline: last line\n"
    "last.example";

/* Lookups in the good table. */
static const struct {
	const char *what;	/* "key", "domain" or "addr" */
	const char *q;
	int want;
} looks[] = {
	{ "key", "example.org", 1 },
	{ "key", "EXAMPLE.org", 1 },
	{ "key", "example.org.", 0 },
	{ "key", "xample.org", 0 },
	{ "key", "example.or", 0 },
	{ "key", "", 0 },
	{ "key", ".sub.example.net", 1 },
	{ "key", "jane doe", 1 },
	{ "key", "JANE DOE", 1 },
	{ "key", "jane  doe", 0 },
	{ "key", "user@example.com", 1 },
	{ "key", "DEADBEEF", 1 },
	{ "key", "last.example", 1 },
	{ "key", "192.0.2.0/24", 0 },		/* a network, not a key */
	{ "key", "# relay domains", 0 },
	{ "domain", "example.org", 1 },
	{ "domain", "Example.Org.", 1 },	/* trailing dot ignored */
	{ "domain", "example.org..", 0 },
	{ "domain", "a.example.org", 0 },	/* no ".example.org" entry */
	{ "domain", "sub.example.net", 0 },	/* parent entry: subs only */
	{ "domain", "a.sub.example.net", 1 },
	{ "domain", "b.a.SUB.example.net.", 1 },
	{ "domain", "asub.example.net", 0 },
	{ "domain", "example.net", 0 },
	{ "domain", "b\xc3\xbc" "cher.example", 1 },
	{ "domain", "B\xc3\xbc" "CHER.EXAMPLE", 1 },	/* ASCII folded */
	{ "domain", "b\xc3\x9c" "cher.example", 0 },	/* U+00DC is not */
	{ "domain", "", 0 },
	{ "domain", ".", 0 },
	{ "addr", "192.0.2.77", 1 },
	{ "addr", "::ffff:192.0.2.77", 1 },
	{ "addr", "192.0.3.1", 0 },
	{ "addr", "198.51.100.7", 1 },
	{ "addr", "198.51.100.6", 0 },
	{ "addr", "2001:db8:1::25", 1 },
	{ "addr", "2001:db9::25", 0 },
};

/* Files that must fail, and the error after "PATH: ". */
static const struct {
	const char *name;
	const char *s;
	size_t n;
	const char *err;
} bads[] = {
	{ "hostbits", B("a.example\n\n# comment\n192.0.2.1/24\n"),
	    "line 4: 192.0.2.1/24: host bits set beyond /24 "
	    "(the network is 192.0.2.0/24)" },
	{ "v6", B("a.example\n2001:db8::/129 # x\n"),
	    "line 2: 2001:db8::/129: bad prefix length (0 to 128)" },
	{ "shortv4", B("1.2.3\n"),
	    "line 1: 1.2.3: not an IPv4 or IPv6 address" },
	{ "octal", B("\n\n\n010.0.0.1\n"),
	    "line 4: 010.0.0.1: not an IPv4 or IPv6 address" },
	{ "hexcolon", B("dead:beef:\n"),
	    "line 1: dead:beef:: not an IPv4 or IPv6 address" },
	{ "control", B("ok.example\na\x01" "b\n"),
	    "line 2: control character 0x01" },
	{ "del", B("a\x7f" "b\n"), "line 1: control character 0x7f" },
	{ "badutf8", B("caf\xe9.example\n"), "line 1: invalid UTF-8" },
	{ "overlong", B("\xc0\xae.example\n"), "line 1: invalid UTF-8" },
	{ "surrogate", B("\xed\xa0\x80.example\n"), "line 1: invalid UTF-8" },
	{ "nul", B("a.example\nb\0c\n"), "line 2: NUL byte" },
};

int
main(void)
{
	struct table *t;
	char err[512], want[600], name[200], *big;
	size_t i, n;
	int all, q;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	/* a good file */
	ok(put("good", B(good)) == 0, "write good");
	t = table_load(path, err, sizeof(err));
	ok(t != NULL, "load good");
	if (t == NULL)
		printf("#   %s\n", err);
	is_int(table_count(t), 10, "ten entries (a duplicate once)");
	for (i = 0; t != NULL && i < sizeof(looks) / sizeof(looks[0]); i++) {
		switch (looks[i].what[0]) {
		case 'k':
			q = table_has(t, looks[i].q);
			break;
		case 'd':
			q = table_has_domain(t, looks[i].q);
			break;
		default:
			q = has_addr(t, looks[i].q);
			break;
		}
		snprintf(name, sizeof(name), "%s \"%s\"", looks[i].what,
		    looks[i].q);
		is_int(q, looks[i].want, name);
	}
	/* the keys in the order read, lowercased, once each, no networks */
	{
		static const char *const keys[] = { "example.org",
		    ".sub.example.net", "b\xc3\xbc" "cher.example",
		    "jane doe", "user@example.com", "deadbeef",
		    "last.example" };
		const char *k;
		size_t pos = 0;

		for (i = 0; (k = table_next_key(t, &pos)) != NULL &&
		    i < sizeof(keys) / sizeof(keys[0]); i++)
			is_str(k, keys[i], "table_next_key: in order");
		is_int(i, sizeof(keys) / sizeof(keys[0]),
		    "table_next_key: every key");
		is_str(table_next_key(t, &pos), NULL,
		    "table_next_key: NULL after the last");
		pos = 0;
		is_str(table_next_key(NULL, &pos), NULL,
		    "table_next_key: an empty table");
	}
	table_free(t);

	/* bad files */
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		put(bads[i].name, bads[i].s, bads[i].n);
		errno = 0;
		t = table_load(path, err, sizeof(err));
		snprintf(name, sizeof(name), "%s: fails", bads[i].name);
		ok(t == NULL && errno == EINVAL, name);
		table_free(t);
		snprintf(want, sizeof(want), "%s: %s", path, bads[i].err);
		snprintf(name, sizeof(name), "%s: error", bads[i].name);
		is_str(err, want, name);
	}

	/* line length: LIMIT_TABLE_LINE is fine, one more is not */
	n = LIMIT_TABLE_LINE + 1;
	big = malloc(3 * n + 16);
	memset(big, 'a', 3 * n + 16);
	memcpy(big, "x.example\n", 10);
	big[10 + LIMIT_TABLE_LINE] = '\n';
	ok(put("longest", big, 10 + LIMIT_TABLE_LINE + 1) == 0,
	    "write longest");
	t = table_load(path, err, sizeof(err));
	is_int(table_count(t), 2, "a line of LIMIT_TABLE_LINE bytes loads");
	table_free(t);
	big[10 + LIMIT_TABLE_LINE] = 'a';
	big[10 + LIMIT_TABLE_LINE + 1] = '\n';
	ok(put("toolong", big, 10 + LIMIT_TABLE_LINE + 2) == 0,
	    "write toolong");
	t = table_load(path, err, sizeof(err));
	ok(t == NULL, "a longer line fails");
	snprintf(want, sizeof(want), "%s: line 2: longer than %d bytes", path,
	    LIMIT_TABLE_LINE);
	is_str(err, want, "over-long line error");
	free(big);

	/* files that cannot be read */
	snprintf(path, sizeof(path), "%s/missing", dir);
	errno = 0;
	t = table_load(path, err, sizeof(err));
	ok(t == NULL && errno == ENOENT, "missing file fails with ENOENT");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	is_str(err, want, "missing file error");
	t = table_load(dir, err, sizeof(err));
	ok(t == NULL && errno == EISDIR, "directory fails with EISDIR");
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	is_str(err, want, "directory error");

	/* an empty file and a comments-only file are empty tables */
	put("empty", "", 0);
	t = table_load(path, err, sizeof(err));
	ok(t != NULL && table_count(t) == 0, "empty file");
	table_free(t);
	put("comments", B("# nothing\n   # here\n\n"));
	t = table_load(path, err, sizeof(err));
	ok(t != NULL && table_count(t) == 0, "comments only");
	table_free(t);

	/* comma lists */
	t = table_from_list("a.example, B.Example ,\t192.0.2.0/24,.c.example",
	    err, sizeof(err));
	ok(t != NULL, "list");
	is_int(table_count(t), 4, "list has four");
	is_int(table_has(t, "b.example"), 1, "list key lowercased");
	is_int(table_has_domain(t, "x.c.example"), 1, "list parent entry");
	is_int(has_addr(t, "192.0.2.1"), 1, "list network");
	table_free(t);
	t = table_from_list("", err, sizeof(err));
	ok(t != NULL && table_count(t) == 0, "empty list, empty table");
	table_free(t);
	t = table_from_list(" ", err, sizeof(err));
	ok(t != NULL && table_count(t) == 0, "blank list, empty table");
	table_free(t);
	t = table_from_list("a.example,,b.example", err, sizeof(err));
	ok(t == NULL, "empty entry fails");
	is_str(err, "entry 2: empty", "empty entry error");
	t = table_from_list("a.example, ", err, sizeof(err));
	ok(t == NULL, "trailing comma fails");
	is_str(err, "entry 2: empty", "trailing comma error");
	t = table_from_list("a.example, 192.0.2.1/24", err, sizeof(err));
	ok(t == NULL, "bad network in list fails");
	is_str(err, "entry 2: 192.0.2.1/24: host bits set beyond /24 "
	    "(the network is 192.0.2.0/24)", "list error");

	/* @FILE or list */
	put("arg", B("arg.example\n"));
	snprintf(want, sizeof(want), "@%s", path);
	t = table_from_arg(want, err, sizeof(err));
	ok(t != NULL && table_has(t, "arg.example") == 1, "@FILE loads FILE");
	table_free(t);
	t = table_from_arg("arg.example,other.example", err, sizeof(err));
	ok(t != NULL && table_count(t) == 2, "no @ is a list");
	table_free(t);
	snprintf(want, sizeof(want), "@%s/missing", dir);
	t = table_from_arg(want, err, sizeof(err));
	ok(t == NULL, "@FILE missing fails");
	snprintf(want, sizeof(want), "%s/missing: No such file or directory",
	    dir);
	is_str(err, want, "@FILE error names the file");

	/* NULL is an empty table */
	is_int(table_has(NULL, "a"), 0, "NULL table_has");
	is_int(table_has_domain(NULL, "a"), 0, "NULL table_has_domain");
	is_int(has_addr(NULL, "192.0.2.1"), 0, "NULL table_has_addr");
	is_int(table_count(NULL), 0, "NULL table_count");
	table_free(NULL);

	/* 100,000 domains and 1,000 networks */
	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	for (i = 0; f != NULL && i < 100000; i++)
		fprintf(f, "d%zu.Example.ORG\n", i);
	for (i = 0; f != NULL && i < 1000; i++)
		fprintf(f, "10.%zu.%zu.0/24\n", i / 256, i % 256);
	ok(f != NULL && fclose(f) == 0, "write big");
	t = table_load(path, err, sizeof(err));
	is_int(table_count(t), 101000, "big table count");
	all = t != NULL;
	for (i = 0; all && i < 100000; i++) {
		snprintf(name, sizeof(name), "D%zu.example.org", i);
		all = table_has(t, name) && table_has_domain(t, name);
		snprintf(name, sizeof(name), "x.d%zu.example.org", i);
		all = all && !table_has_domain(t, name);
	}
	ok(all, "every big key found, no subdomain");
	is_int(table_has(t, "d100000.example.org"), 0, "absent key");
	is_int(has_addr(t, "10.3.231.9"), 1, "last network");
	is_int(has_addr(t, "10.3.232.9"), 0, "past the networks");
	table_free(t);

	/* one entry more than LIMIT_TABLE_ENTRIES */
	snprintf(path, sizeof(path), "%s/huge", dir);
	f = fopen(path, "w");
	for (i = 0; f != NULL && i <= LIMIT_TABLE_ENTRIES; i++)
		fprintf(f, "%zx.e\n", i);
	ok(f != NULL && fclose(f) == 0, "write huge");
	t = table_load(path, err, sizeof(err));
	ok(t == NULL, "too many entries fail");
	snprintf(want, sizeof(want), "%s: line %d: more than %d entries",
	    path, LIMIT_TABLE_ENTRIES + 1, LIMIT_TABLE_ENTRIES);
	is_str(err, want, "too many entries error");

	/* clean up */
	{
		static const char *const names[] = { "good", "longest",
		    "toolong", "empty", "comments", "arg", "big", "huge" };

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			unlink(path);
		}
		for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    bads[i].name);
			unlink(path);
		}
		rmdir(dir);
	}
	return t_done();
}
