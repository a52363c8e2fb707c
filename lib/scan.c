/*
 * scan: mail-scan's work on one message (scan.h).
 *
 * The message is read once, in pieces, into lib/mime.  Each leaf that is
 * a file (a name, an attachment disposition, or a type that is not text)
 * is gathered into a blob: in memory up to BLOB_MEM bytes, past that in
 * an unlinked temporary file, so a 50 MB message stays in a few MB of
 * memory.  When the part ends, the blob is typed and checked, and opened
 * as an archive if it is one; archive members become blobs in turn, to
 * --max-archive-depth.  An encrypted archive is kept to the end of the
 * message, when the words the text offered as a password are tried on it.
 */
#define _GNU_SOURCE	/* memmem */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"
#include "limit.h"
#include "log.h"
#include "lookalike.h"
#include "mime.h"
#include "msg.h"
#include "record.h"
#include "rules.h"
#include "scan.h"
#include "table.h"
#include "url.h"
#include "xalloc.h"

#define BLOB_MEM	(1024 * 1024)	/* bytes of a file kept in memory */
#define HEAD_MAX	(256 * 1024)	/* bytes libmagic looks at */
#define CHUNK		65536
#define REASONS_MAX	100		/* reasons kept per message */
#define FILES_MAX	1000		/* attachments listed per message */
#define CANDIDATES_MAX	32		/* password candidates per message */
#define CANDIDATE_LEN	64
#define PENDING_MAX	8		/* encrypted archives kept per message */
#define RATIO_FLOOR	(1024 * 1024)	/* bytes before the ratio counts */

/* ---- the verdict's classes of reasons ---- */

enum cls { C_THREAT, C_SPOOF, C_SPAM, C_BULK, C_BEC, C_NCLS };

struct rule {
	const char *id;
	enum cls cls;
	int floor;		/* at least suspicious whatever the score */
	int unscanned;		/* part of the message went unscanned */
};

static const struct rule rules[] = {
	{ "hash_blocklist", C_THREAT, 1, 0 },
	{ "executable", C_THREAT, 0, 0 },
	{ "executable_disguised", C_THREAT, 1, 0 },
	{ "double_extension", C_THREAT, 1, 0 },
	{ "filename_rtlo", C_THREAT, 1, 0 },
	{ "type_mismatch", C_THREAT, 0, 0 },
	{ "script_file", C_THREAT, 0, 0 },
	{ "executable_file", C_THREAT, 0, 0 },
	{ "shortcut_file", C_THREAT, 0, 0 },
	{ "disk_image", C_THREAT, 0, 0 },
	{ "onenote_file", C_THREAT, 0, 0 },
	{ "office_macro", C_THREAT, 0, 0 },
	{ "pdf_javascript", C_THREAT, 0, 0 },
	{ "pdf_openaction", C_THREAT, 0, 0 },
	{ "pdf_launch", C_THREAT, 0, 0 },
	{ "html_smuggling", C_THREAT, 1, 0 },
	{ "archive_encrypted", C_THREAT, 0, 1 },
	{ "archive_password_in_text", C_THREAT, 1, 0 },
	{ "archive_bomb", C_THREAT, 1, 1 },
	{ "archive_depth", C_THREAT, 1, 1 },
	{ "archive_members", C_THREAT, 0, 1 },
	{ "archive_error", C_THREAT, 0, 1 },
	{ "mime_depth", C_THREAT, 1, 1 },
	{ "mime_parts", C_THREAT, 0, 1 },
	{ "mime_decoded", C_THREAT, 0, 1 },
	{ "mime_header", C_THREAT, 0, 1 },
	{ "mime_defect", C_THREAT, 0, 0 },
	{ "message_size", C_THREAT, 0, 1 },
	/* URLs: phishing is a threat; a lookalike or a block list hit is
	 * at least suspicious */
	{ "url.ip_literal", C_THREAT, 0, 0 },
	{ "url.punycode", C_THREAT, 0, 0 },
	{ "url.mixed_script", C_THREAT, 0, 0 },
	{ "url.text_mismatch", C_THREAT, 0, 0 },
	{ "url.lookalike", C_THREAT, 1, 0 },
	{ "url.shortener", C_THREAT, 0, 0 },
	{ "url.data", C_THREAT, 0, 0 },
	{ "url.javascript", C_THREAT, 0, 0 },
	{ "url.userinfo", C_THREAT, 0, 0 },
	{ "url.blocklist", C_THREAT, 1, 0 },
	{ "url.uribl", C_THREAT, 1, 0 },
	{ "dmarc_fail", C_SPOOF, 0, 0 },
	/* impersonation: its own sum, against --bec-score */
	{ "bec.display_name", C_BEC, 0, 0 },
	{ "bec.lookalike_from", C_BEC, 1, 0 },
	{ "bec.spoof_own", C_BEC, 0, 0 },
	{ "bec.reply_to", C_BEC, 0, 0 },
	{ "bec.reply_to_freemail", C_BEC, 0, 0 },
	{ "bec.urgency", C_BEC, 0, 0 },
	{ "dnsbl", C_SPAM, 0, 0 },
	{ "dns_tempfail", C_SPAM, 0, 0 },
	{ "bulk_header", C_BULK, 0, 0 },
	{ "bulk_sender", C_BULK, 0, 0 },
};

static const struct rule *
rule_of(const char *id)
{
	static const struct rule other = { "", C_THREAT, 0, 0 };
	static const struct rule file = { "rules.", C_SPAM, 0, 0 };
	size_t i;

	if (strncmp(id, "rules.", 6) == 0)
		return &file;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].id, id) == 0)
			return &rules[i];
	return &other;
}

/* ---- blobs: a file gathered from a part or an archive ---- */

struct blob {
	unsigned char *mem;
	size_t len, cap;
	int fd;			/* -1 while in memory */
	unsigned long long size;
	EVP_MD_CTX *sha;
	unsigned char digest[32];
	int werr;		/* a write to the temporary file failed */
};

static void
blob_init(struct blob *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if ((b->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL) != 1)
		die_temp("SHA-256: out of memory");
}

static void
blob_free(struct blob *b)
{
	free(b->mem);
	if (b->fd != -1)
		close(b->fd);
	EVP_MD_CTX_free(b->sha);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

static int
spill(struct blob *b)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	size_t off = 0;
	ssize_t w;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/mail-scan.XXXXXX",
	    dir) >= sizeof(path))
		return -1;
	if ((b->fd = mkstemp(path)) == -1)
		return -1;
	unlink(path);	/* gone with the descriptor */
	while (off < b->len) {
		if ((w = write(b->fd, b->mem + off, b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	/* mem is the write buffer from now on */
	b->len = 0;
	if (b->cap < CHUNK) {
		free(b->mem);
		b->mem = xmalloc(CHUNK);
		b->cap = CHUNK;
	}
	return 0;
}

/* The write buffer of a spilled blob out to its file. */
static void
blob_flush(struct blob *b)
{
	size_t off = 0;
	ssize_t w;

	if (b->fd == -1 || b->werr)
		return;
	while (off < b->len) {
		if ((w = write(b->fd, b->mem + off, b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			b->werr = errno;
			break;
		}
		off += (size_t)w;
	}
	b->len = 0;
}

static void
blob_put(struct blob *b, const void *s, size_t n)
{
	const unsigned char *p = s;

	if (n == 0)
		return;
	EVP_DigestUpdate(b->sha, s, n);
	b->size += n;
	if (b->werr)
		return;
	if (b->fd == -1 && b->len + n <= BLOB_MEM) {
		if (b->len + n > b->cap) {
			size_t c = b->cap ? b->cap : 4096;

			while (c < b->len + n)
				c *= 2;
			b->mem = xreallocarray(b->mem, c, 1);
			b->cap = c;
		}
		memcpy(b->mem + b->len, s, n);
		b->len += n;
		return;
	}
	if (b->fd == -1 && spill(b) == -1) {
		b->werr = errno ? errno : EIO;
		return;
	}
	while (n > 0 && !b->werr) {
		size_t k = b->cap - b->len;

		if (k > n)
			k = n;
		memcpy(b->mem + b->len, p, k);
		b->len += k;
		p += k;
		n -= k;
		if (b->len == b->cap)
			blob_flush(b);
	}
}

static void
blob_done(struct blob *b)
{
	unsigned int k = 32;

	blob_flush(b);
	EVP_DigestFinal_ex(b->sha, b->digest, &k);
}

/* Up to n bytes from offset off into buf; the count, or -1. */
static ssize_t
blob_pread(const struct blob *b, void *buf, size_t n, off_t off)
{
	ssize_t r;

	if (b->fd == -1) {
		if ((unsigned long long)off >= b->len)
			return 0;
		if (n > b->len - (size_t)off)
			n = b->len - (size_t)off;
		memcpy(buf, b->mem + off, n);
		return (ssize_t)n;
	}
	do
		r = pread(b->fd, buf, n, off);
	while (r == -1 && errno == EINTR);
	return r;
}

/*
 * Each piece of the blob to fn, pieces overlapping by keep bytes so a
 * needle that straddles two is seen whole.
 */
static void
blob_each(const struct blob *b, size_t keep,
    void (*fn)(void *, const unsigned char *, size_t), void *arg)
{
	unsigned char *buf;
	size_t have = 0;
	off_t off = 0;
	ssize_t r;

	if (b->fd == -1) {
		fn(arg, b->mem, b->len);
		return;
	}
	buf = xmalloc(CHUNK + keep);
	while ((r = blob_pread(b, buf + have, CHUNK, off)) > 0) {
		off += r;
		fn(arg, buf, have + (size_t)r);
		have += (size_t)r;
		if (have > keep) {
			memmove(buf, buf + have - keep, keep);
			have = keep;
		}
	}
	free(buf);
}

/* ---- the message in hand ---- */

struct pending {
	struct blob b;
	char *type, *path, *name;
	int depth;
};

struct file;

struct job {
	struct scan *s;
	const struct scan_conf *c;
	json_t *reasons, *files, *attrs;
	int score[C_NCLS];
	int floor;
	int nreasons;
	unsigned long long expanded;	/* archive bytes, all archives */
	int bombed;			/* no archive opened after a bomb */
	/* the leaf in hand, and its part */
	struct file *cur;
	const struct mime_part *curp;
	/* password candidates from the text */
	char cand[CANDIDATES_MAX][CANDIDATE_LEN + 1];
	int ncand;
	char word[CANDIDATE_LEN + 1];
	size_t wlen;
	int wlong;
	int after_kw;		/* words still to take after a keyword */
	struct pending pend[PENDING_MAX];
	int npend;
	/* URLs, and the text of the text part in hand */
	struct urlset urls;
	char *tb;
	size_t tblen, tbcap;
	/* header fields for the BEC rules, decoded (UTF-8), or NULL */
	char *from, *reply_to, *subject;
	unsigned char *seen;	/* rules of the rules file that fired */
	const char *urgent;	/* the first urgency phrase met */
	const char *id;		/* the record's, for logs */
};

struct file {
	char *name;		/* UTF-8 or NULL */
	char *declared;		/* declared type, or NULL in an archive */
	char *path;		/* "1.2", "1.2/member" */
	int depth;		/* archive depth: 0 for a part */
	struct blob b;
	json_t *attrs;
};

/* The tables, loaded together and swapped together on SIGHUP. */
struct tabs {
	struct table *protect, *own, *shorteners, *block, *names, *freemail;
	struct lookalike *la;	/* protected and own domains, names */
	struct url_policy pol;
	int pol_init;
	struct rules *rules;
};

struct scan {
	const struct scan_conf *c;
	magic_t magic;
	unsigned char *block;
	size_t nblock;
	sig_atomic_t gen;
	struct tabs *t;
	struct dns *dns;	/* NULL without DNS block lists */
};

static void
add_attr(json_t *list, const char *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), a) == 0)
			return;
	json_array_append_new(list, json_string(a));
}

/* The one way a rule reports (scan_reason_fn). */
static void
reason(void *arg, const char *id, int score, const char *detail)
{
	struct job *j = arg;
	const struct rule *r = rule_of(id);
	json_t *o, *v;
	size_t i;
	int again = 0;

	/* a rule scores once a message, however often it fires */
	json_array_foreach(j->reasons, i, v)
		if (strcmp(record_get(v, "rule"), id) == 0)
			again = 1;
	if (!again)
		j->score[r->cls] += score;
	if (r->floor)
		j->floor = 1;
	if (r->unscanned)
		add_attr(j->attrs, "unscanned");
	if (j->nreasons++ >= REASONS_MAX)
		return;
	o = json_object();
	json_object_set_new(o, "rule", json_string(id));
	json_object_set_new(o, "score", json_integer(score));
	json_object_set_new(o, "detail", record_string(detail,
	    strlen(detail)));
	json_array_append_new(j->reasons, o);
}

/* "rule: NAME (PATH)" detail, cut to fit. */
static void
reasonf(struct job *j, const char *id, int score, const struct file *f,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
reasonf(struct job *j, const char *id, int score, const struct file *f,
    const char *fmt, ...)
{
	char d[600];
	size_t l;
	va_list ap;

	l = (size_t)snprintf(d, sizeof(d), "%.200s (part %.200s)%s",
	    f->name ? f->name : "unnamed", f->path, fmt[0] ? ": " : "");
	if (l < sizeof(d)) {
		va_start(ap, fmt);
		vsnprintf(d + l, sizeof(d) - l, fmt, ap);
		va_end(ap);
	}
	reason(j, id, score, d);
}

/* ---- names ---- */

static int
in_list(const char *ext, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(ext, *list) == 0)
			return 1;
	return 0;
}

static const char *const doc_ext[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt",
	"odt", "ods", "csv", "jpg", "jpeg", "png", "gif", "bmp", "tif",
	"tiff", "mp3", "mp4", "htm", "html", "zip", "rar", "7z", NULL
};
static const char *const exe_ext[] = {
	"exe", "scr", "pif", "com", "cpl", "msi", "msp", "dll", "jar",
	"appx", "msix", "gadget", "application", NULL
};
static const char *const script_ext[] = {
	"js", "jse", "vbs", "vbe", "vb", "wsf", "wsh", "ws", "wsc", "hta",
	"ps1", "psm1", "psd1", "bat", "cmd", "sct", "reg", "inf", "scf",
	"xll", "iqy", "slk", "svg", "url", "library-ms", "settingcontent-ms",
	NULL
};
static const char *const image_ext[] = {
	"iso", "img", "vhd", "vhdx", "udf", NULL
};

/* The last (which 1) or the one before (which 2) extension of name,
 * lower case, into buf; "" when none. */
static const char *
ext_of(const char *name, int which, char *buf, size_t bufsz)
{
	const char *e, *d;
	size_t n, i;

	buf[0] = '\0';
	if (name == NULL)
		return buf;
	/* trailing dots and blanks hide nothing from Windows */
	n = strlen(name);
	while (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' '))
		n--;
	e = name + n;
	d = NULL;
	for (i = 0; i < (size_t)which; i++) {
		for (d = e; d > name && d[-1] != '.' && d[-1] != '/' &&
		    d[-1] != '\\'; d--)
			;
		if (d == name || d[-1] != '.')
			return buf;
		if (i + 1 < (size_t)which)
			e = d - 1;
	}
	n = (size_t)(e - d);
	if (n == 0 || n >= bufsz || n > 20)
		return buf;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)d[i]);
	buf[n] = '\0';
	return buf;
}

/* ---- content checks ---- */

struct needles {
	const char *const *list;
	size_t n;
	int icase;
	unsigned int found;	/* bit per needle */
};

static void
find_needles(void *arg, const unsigned char *p, size_t n)
{
	struct needles *nd = arg;
	unsigned char *low = NULL;
	const unsigned char *h = p;
	size_t i;

	if (nd->icase) {
		low = xmalloc(n ? n : 1);
		for (i = 0; i < n; i++)
			low[i] = (unsigned char)tolower(p[i]);
		h = low;
	}
	for (i = 0; i < nd->n; i++)
		if (!(nd->found & (1u << i)) && memmem(h, n, nd->list[i],
		    strlen(nd->list[i])) != NULL)
			nd->found |= 1u << i;
	free(low);
}

static unsigned int
blob_find(const struct blob *b, const char *const *list, int icase)
{
	struct needles nd;

	nd.list = list;
	for (nd.n = 0; list[nd.n]; nd.n++)
		;
	nd.icase = icase;
	nd.found = 0;
	blob_each(b, 64, find_needles, &nd);
	return nd.found;
}

/* PDF names, #xx escapes undone (/J#61vaScript is /JavaScript). */
struct pdfnames {
	int state;		/* 0 out, 1 in a name, 2 and 3 in #xx */
	char name[32];
	size_t len;
	int hex;
	unsigned int found;
};

static const char *const pdf_keys[] = {
	"JavaScript", "JS", "OpenAction", "AA", "Launch", NULL
};

static void
pdf_name_end(struct pdfnames *p)
{
	size_t i;

	if (p->state == 0)
		return;
	p->name[p->len < sizeof(p->name) ? p->len : sizeof(p->name) - 1] = 0;
	for (i = 0; pdf_keys[i]; i++)
		if (p->len < sizeof(p->name) && strcmp(p->name, pdf_keys[i]) == 0)
			p->found |= 1u << i;
	p->state = 0;
	p->len = 0;
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void
pdf_scan(void *arg, const unsigned char *s, size_t n)
{
	struct pdfnames *p = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		int c = s[i];

		if (p->state == 2 || p->state == 3) {
			if (hexv(c) < 0) {
				pdf_name_end(p);
				continue;
			}
			p->hex = p->hex * 16 + hexv(c);
			if (p->state++ == 3) {
				if (p->len < sizeof(p->name))
					p->name[p->len++] = (char)p->hex;
				p->state = 1;
			}
			continue;
		}
		if (c == '/') {
			pdf_name_end(p);
			p->state = 1;
			continue;
		}
		if (p->state != 1)
			continue;
		if (c == '#') {
			p->state = 2;
			p->hex = 0;
		} else if (c <= ' ' || c > '~' || strchr("()<>[]{}%", c))
			pdf_name_end(p);
		else if (p->len < sizeof(p->name))
			p->name[p->len++] = (char)c;
		else
			p->len = sizeof(p->name);	/* too long: no key */
	}
}

/* ---- archives ---- */

static void check_file(struct job *, struct file *);
static void text_urls(struct job *, const char *, size_t, int, int);

static int
is_archive(const char *t)
{
	static const char *const types[] = {
		"application/zip", "application/x-zip-compressed",
		"application/x-7z-compressed", "application/x-rar",
		"application/vnd.rar", "application/x-rar-compressed",
		"application/x-tar", "application/gzip", "application/x-gzip",
		"application/x-bzip2", "application/x-xz",
		"application/x-lzma", "application/zstd",
		"application/x-iso9660-image", "application/vnd.ms-cab-compressed",
		"application/x-cpio", "application/java-archive",
		"application/x-archive", NULL
	};

	return in_list(t, types) ||
	    strncmp(t, "application/vnd.openxmlformats-officedocument.", 46) ==
	    0 || strstr(t, "macroenabled") != NULL ||
	    strncmp(t, "application/vnd.oasis.opendocument.", 35) == 0;
}

static int
is_compressor(const char *t)
{
	return strcmp(t, "application/gzip") == 0 ||
	    strcmp(t, "application/x-gzip") == 0 ||
	    strcmp(t, "application/x-bzip2") == 0 ||
	    strcmp(t, "application/x-xz") == 0 ||
	    strcmp(t, "application/x-lzma") == 0 ||
	    strcmp(t, "application/zstd") == 0;
}

static struct archive *
archive_open(const struct blob *b, const char *type, const char *pass)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		die_temp("libarchive: out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	/* a lone compressed file is one member; never for other types,
	 * where raw would take any bytes as an archive */
	if (is_compressor(type))
		archive_read_support_format_raw(a);
	if (pass != NULL)
		archive_read_add_passphrase(a, pass);
	if (b->fd == -1) {
		if (archive_read_open_memory(a, b->mem ? b->mem :
		    (unsigned char *)"", b->len) != ARCHIVE_OK)
			goto fail;
	} else {
		if (lseek(b->fd, 0, SEEK_SET) == -1 ||
		    archive_read_open_fd(a, b->fd, CHUNK) != ARCHIVE_OK)
			goto fail;
	}
	return a;
fail:
	archive_read_free(a);
	return NULL;
}

/*
 * The members of archive f, each checked as a file of its own.  With
 * pass, encrypted members are read with it.  Returns 1 when an encrypted
 * member was met and not read, 0 otherwise; *opened (if not NULL) is set
 * when an encrypted member was read.
 */
static int
walk(struct job *j, struct file *f, const char *type, const char *pass,
    int *opened)
{
	struct archive *a;
	struct archive_entry *e;
	long members = 0;
	unsigned long long mine = 0;
	int enc = 0, r, stop = 0;
	char *buf;

	if (j->bombed)
		return 0;
	if (f->depth >= j->c->max_archive_depth) {
		reasonf(j, "archive_depth", 6, f, "an archive nested past "
		    "depth %d", j->c->max_archive_depth);
		return 0;
	}
	if ((a = archive_open(&f->b, type, pass)) == NULL) {
		reasonf(j, "archive_error", 2, f, "cannot be opened");
		return 0;
	}
	buf = xmalloc(CHUNK);
	while (!stop && !j->bombed &&
	    (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		struct file m;
		const char *mn;
		char *p;
		size_t pl;
		la_ssize_t n;

		if (r < ARCHIVE_WARN) {
			reasonf(j, "archive_error", 2, f, "%.100s",
			    archive_error_string(a) ? archive_error_string(a) :
			    "unreadable");
			break;
		}
		if (++members > j->c->max_archive_members) {
			reasonf(j, "archive_members", 3, f, "over %ld members",
			    j->c->max_archive_members);
			break;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		mn = archive_entry_pathname_utf8(e);
		if (mn == NULL)
			mn = archive_entry_pathname(e);
		if (mn == NULL)
			mn = "data";
		if (archive_entry_is_encrypted(e) && pass == NULL) {
			enc = 1;
			add_attr(f->attrs, "encrypted");
			continue;
		}
		memset(&m, 0, sizeof(m));
		pl = strlen(f->path) + strlen(mn) + 2;
		p = xmalloc(pl);
		snprintf(p, pl, "%s/%s", f->path, mn);
		m.path = p;
		m.name = xstrdup(mn);
		m.depth = f->depth + 1;
		m.attrs = json_array();
		blob_init(&m.b);
		for (;;) {
			n = archive_read_data(a, buf, CHUNK);
			if (n == 0)
				break;
			if (n < 0) {
				if (archive_entry_is_encrypted(e))
					add_attr(f->attrs, "encrypted");
				else
					reasonf(j, "archive_error", 2, f,
					    "member %.100s: %.100s", mn,
					    archive_error_string(a) ?
					    archive_error_string(a) :
					    "unreadable");
				stop = archive_entry_is_encrypted(e) ? 0 : 1;
				break;
			}
			if (archive_entry_is_encrypted(e) && opened != NULL)
				*opened = 1;
			j->expanded += (unsigned long long)n;
			mine += (unsigned long long)n;
			if (j->expanded > j->c->max_expand) {
				reasonf(j, "archive_bomb", 10, f, "over %llu "
				    "bytes expanded", j->c->max_expand);
				j->bombed = stop = 1;
				break;
			}
			if (mine > RATIO_FLOOR && f->b.size > 0 &&
			    mine / f->b.size > (unsigned long long)
			    j->c->max_ratio) {
				reasonf(j, "archive_bomb", 10, f, "expands over "
				    "%ld times its size", j->c->max_ratio);
				j->bombed = stop = 1;
				break;
			}
			blob_put(&m.b, buf, (size_t)n);
		}
		blob_done(&m.b);
		if (!stop)
			check_file(j, &m);
		else
			json_decref(m.attrs);
		blob_free(&m.b);
		free(m.name);
		free(m.path);
	}
	free(buf);
	archive_read_free(a);
	return enc;
}

/* ---- TNEF (winmail.dat): its attachments as files ---- */

#define TNEF_ATTRS	10000	/* attributes read per TNEF stream */

static void
tnef_flush(struct job *j, struct file *f, struct file *m, int *have)
{
	char *p;
	size_t pl;

	if (!*have)
		return;
	*have = 0;
	blob_done(&m->b);
	if (m->name == NULL)
		m->name = xstrdup("attachment");
	pl = strlen(f->path) + strlen(m->name) + 2;
	p = xmalloc(pl);
	snprintf(p, pl, "%s/%s", f->path, m->name);
	m->path = p;
	m->depth = f->depth + 1;
	check_file(j, m);
	blob_free(&m->b);
	free(m->name);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/*
 * MS-OXTNEF: a signature, a key, then attributes (level, id, length,
 * data, checksum).  attAttachRendData starts an attachment,
 * attAttachTitle names it, attAttachData holds it.
 */
static void
tnef_walk(struct job *j, struct file *f)
{
	unsigned char h[9], *buf;
	off_t off = 6;
	struct file m;
	int have = 0, n;

	memset(&m, 0, sizeof(m));
	if (f->depth >= j->c->max_archive_depth) {
		reasonf(j, "archive_depth", 6, f, "TNEF nested past depth %d",
		    j->c->max_archive_depth);
		return;
	}
	buf = xmalloc(CHUNK);
	for (n = 0; n < TNEF_ATTRS && !j->bombed; n++) {
		unsigned int id;
		unsigned long long len;
		off_t at;

		if (blob_pread(&f->b, h, 9, off) != 9)
			break;
		id = (unsigned)h[1] | (unsigned)h[2] << 8;
		len = (unsigned long long)h[5] | (unsigned long long)h[6] << 8 |
		    (unsigned long long)h[7] << 16 |
		    (unsigned long long)h[8] << 24;
		at = off + 9;
		if (len > f->b.size - (unsigned long long)at)
			break;		/* cut short: what came is listed */
		off = at + (off_t)len + 2;
		if (id == 0x9002) {
			tnef_flush(j, f, &m, &have);
			continue;
		}
		if (id == 0x8010) {
			char name[256];
			size_t k = len < sizeof(name) - 1 ? len :
			    sizeof(name) - 1;
			ssize_t r = blob_pread(&f->b, name, k, at);

			if (r < 0)
				break;
			name[r] = '\0';
			free(m.name);
			m.name = xstrdup(name);
			if (!have) {
				blob_init(&m.b);
				m.attrs = json_array();
				have = 1;
			}
			continue;
		}
		if (id != 0x800f)
			continue;
		if (!have) {
			blob_init(&m.b);
			m.attrs = json_array();
			have = 1;
		}
		while (len > 0) {
			size_t want = len < CHUNK ? (size_t)len : CHUNK;
			ssize_t r = blob_pread(&f->b, buf, want, at);

			if (r <= 0)
				break;
			blob_put(&m.b, buf, (size_t)r);
			at += r;
			len -= (unsigned long long)r;
		}
	}
	tnef_flush(j, f, &m, &have);
	free(buf);
}

/* ---- one file: types, names, contents ---- */

static int
is_exe_type(const char *t)
{
	return strcmp(t, "application/x-dosexec") == 0 ||
	    strcmp(t, "application/x-msdownload") == 0 ||
	    strcmp(t, "application/vnd.microsoft.portable-executable") == 0 ||
	    strcmp(t, "application/x-executable") == 0 ||
	    strcmp(t, "application/x-pie-executable") == 0 ||
	    strcmp(t, "application/x-sharedlib") == 0 ||
	    strcmp(t, "application/x-mach-binary") == 0 ||
	    strcmp(t, "application/x-msi") == 0;
}

static int
is_doc_type(const char *t)
{
	return t != NULL && (strcmp(t, "application/pdf") == 0 ||
	    strncmp(t, "image/", 6) == 0 || strncmp(t, "text/", 5) == 0 ||
	    strcmp(t, "application/msword") == 0 ||
	    strncmp(t, "application/vnd.ms-", 19) == 0 ||
	    strncmp(t, "application/vnd.openxmlformats", 30) == 0);
}

static int
is_ole_type(const char *t)
{
	return strcmp(t, "application/msword") == 0 ||
	    strcmp(t, "application/vnd.ms-excel") == 0 ||
	    strcmp(t, "application/vnd.ms-powerpoint") == 0 ||
	    strcmp(t, "application/vnd.ms-office") == 0 ||
	    strcmp(t, "application/x-ole-storage") == 0 ||
	    strcmp(t, "application/CDFV2") == 0 ||
	    strcmp(t, "application/vnd.ms-outlook") == 0;
}

static int
hash_blocked(const struct scan *s, const unsigned char *d)
{
	size_t lo = 0, hi = s->nblock, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(d, s->block + mid * 32, 32);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* Keep an encrypted archive for the passwords the text may give. */
static void
keep_pending(struct job *j, struct file *f)
{
	struct pending *p;

	if (j->npend >= PENDING_MAX)
		return;
	p = &j->pend[j->npend++];
	p->b = f->b;
	p->type = NULL;
	p->name = NULL;
	p->path = xstrdup(f->path);
	p->depth = f->depth;
	/* the blob is the pending one's now */
	memset(&f->b, 0, sizeof(f->b));
	f->b.fd = -1;
}

static void
check_file(struct job *j, struct file *f)
{
	static const char *const ole_macro[] = {
		"_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0", NULL
	};
	static const char *const smuggle[] = {
		"atob(", "new blob(", "createobjecturl", "mssaveoropenblob",
		";base64,", ".download", "download=", NULL
	};
	char hex[65], e1[32], e2[32], head[HEAD_MAX];
	const char *type;
	ssize_t hl;
	json_t *o;
	size_t i;
	int exe;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", f->b.digest[i]);
	hl = blob_pread(&f->b, head, sizeof(head), 0);
	if (hl < 0)
		hl = 0;
	type = magic_buffer(j->s->magic, head, (size_t)hl);
	if (type == NULL)
		type = "application/octet-stream";
	type = strcmp(type, "application/x-empty") == 0 || hl == 0 ?
	    "application/x-empty" : type;
	ext_of(f->name, 1, e1, sizeof(e1));
	ext_of(f->name, 2, e2, sizeof(e2));

	if (f->b.werr)
		reasonf(j, "archive_error", 2, f, "temporary file: %s",
		    strerror(f->b.werr));
	if (hash_blocked(j->s, f->b.digest)) {
		reasonf(j, "hash_blocklist", 100, f, "sha256 %s", hex);
		add_attr(f->attrs, "blocklisted");
	}
	if (f->name != NULL && (strstr(f->name, "\xe2\x80\xae") != NULL ||
	    strstr(f->name, "\xe2\x80\xad") != NULL ||
	    strstr(f->name, "\xe2\x81\xa6") != NULL ||
	    strstr(f->name, "\xe2\x81\xa7") != NULL))
		reasonf(j, "filename_rtlo", 8, f, "a bidirectional override "
		    "in the name");
	exe = is_exe_type(type);
	if (exe) {
		add_attr(f->attrs, "executable");
		add_attr(j->attrs, "executable");
		if (in_list(e1, doc_ext) || is_doc_type(f->declared))
			reasonf(j, "executable_disguised", 10, f, "%s named "
			    ".%s, declared %.60s", type, e1[0] ? e1 : "",
			    f->declared ? f->declared : "nothing");
		else
			reasonf(j, "executable", 5, f, "%s", type);
	} else if (in_list(e1, exe_ext)) {
		add_attr(f->attrs, "executable");
		add_attr(j->attrs, "executable");
		reasonf(j, "executable_file", 5, f, ".%s", e1);
	}
	if (e2[0] && in_list(e2, doc_ext) && (in_list(e1, exe_ext) ||
	    in_list(e1, script_ext)))
		reasonf(j, "double_extension", 8, f, ".%s.%s", e2, e1);
	if (in_list(e1, script_ext) && strcmp(e1, "svg") != 0)
		reasonf(j, "script_file", 5, f, ".%s", e1);
	if (strcmp(e1, "lnk") == 0 ||
	    strcmp(type, "application/x-ms-shortcut") == 0)
		reasonf(j, "shortcut_file", 5, f, "a Windows shortcut");
	if (in_list(e1, image_ext) ||
	    strcmp(type, "application/x-iso9660-image") == 0)
		reasonf(j, "disk_image", 5, f, "%s", e1[0] ? e1 : type);
	if (strcmp(e1, "one") == 0 || strcmp(e1, "onepkg") == 0 ||
	    (hl >= 16 && memcmp(head, "\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d"
	    "\xae\xb1\x53\x78\xd0\x29\x96\xd3", 16) == 0))
		reasonf(j, "onenote_file", 5, f, "a OneNote notebook");
	if (f->declared != NULL && strcmp(f->declared, "application/pdf") ==
	    0 && strcmp(type, "application/pdf") != 0 && !exe)
		reasonf(j, "type_mismatch", 2, f, "declared %.60s, is %.60s",
		    f->declared, type);
	if (is_ole_type(type) && blob_find(&f->b, ole_macro, 0)) {
		add_attr(f->attrs, "macro");
		reasonf(j, "office_macro", 6, f, "VBA project in an OLE file");
	} else if (f->depth > 0 && f->name != NULL &&
	    (strcasecmp(f->name + strlen(f->name) - (strlen(f->name) >= 14 ?
	    14 : strlen(f->name)), "vbaProject.bin") == 0))
		reasonf(j, "office_macro", 6, f, "VBA project in an Office "
		    "Open XML file");
	if (strcmp(type, "application/pdf") == 0 ||
	    (hl >= 5 && memcmp(head, "%PDF-", 5) == 0)) {
		struct pdfnames pn;

		memset(&pn, 0, sizeof(pn));
		blob_each(&f->b, 0, pdf_scan, &pn);
		pdf_name_end(&pn);
		if (pn.found & 3)
			reasonf(j, "pdf_javascript", 5, f, "/JavaScript");
		if (pn.found & 12)
			reasonf(j, "pdf_openaction", 2, f, "/OpenAction or "
			    "/AA");
		if (pn.found & 16)
			reasonf(j, "pdf_launch", 8, f, "/Launch");
	}
	if (f->name != NULL && (strcmp(e1, "htm") == 0 ||
	    strcmp(e1, "html") == 0 || strcmp(e1, "xhtml") == 0 ||
	    strcmp(e1, "shtml") == 0 || strcmp(e1, "svg") == 0 ||
	    strcmp(type, "text/html") == 0)) {
		unsigned int m = blob_find(&f->b, smuggle, 1);

		/* a payload made in the browser, then handed out */
		if ((m & (2 | 4 | 8)) && (m & (1 | 16)) && (m & (8 | 32 | 64)))
			reasonf(j, "html_smuggling", 8, f, "a file built by "
			    "script and offered for download");
	}
	/* a text file not declared as text (an archive member, an HTML
	 * file sent as octets): its URLs from its first MiB */
	if (strncmp(type, "text/", 5) == 0 && (f->declared == NULL ||
	    strncmp(f->declared, "text/", 5) != 0)) {
		char *t = xmalloc(BLOB_MEM);
		ssize_t tl = blob_pread(&f->b, t, BLOB_MEM, 0);

		if (tl > 0)
			text_urls(j, t, (size_t)tl, strcmp(type, "text/html") ==
			    0, 1);
		free(t);
	}
	o = json_object();
	json_object_set_new(o, "name", f->name ? record_string(f->name,
	    strlen(f->name)) : json_null());
	json_object_set_new(o, "declared", record_str(f->declared));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "size", json_integer((json_int_t)f->b.size));
	json_object_set_new(o, "sha256", json_string(hex));
	json_object_set_new(o, "part", record_string(f->path,
	    strlen(f->path)));
	json_object_set_new(o, "attributes", f->attrs);
	if (json_array_size(j->files) < FILES_MAX)
		json_array_append_new(j->files, o);
	else
		json_decref(o);
	if (strcmp(type, "application/vnd.ms-tnef") == 0 ||
	    (hl >= 4 && memcmp(head, "\x78\x9f\x3e\x22", 4) == 0))
		tnef_walk(j, f);
	else if (is_archive(type)) {
		char *t = xstrdup(type);	/* magic's buffer is reused */

		if (walk(j, f, t, NULL, NULL)) {
			add_attr(j->attrs, "encrypted");
			/* the reason waits for the passwords the text may
			 * give, tried at the end of the message */
			if (j->npend < PENDING_MAX) {
				keep_pending(j, f);
				j->pend[j->npend - 1].type = t;
				j->pend[j->npend - 1].name = f->name ?
				    xstrdup(f->name) : NULL;
				t = NULL;
			} else
				reasonf(j, "archive_encrypted", 4, f,
				    "encrypted members not scanned");
		}
		free(t);
	}
}

/* ---- password candidates from the text ---- */

static const char *const pw_words[] = {
	"password", "passwort", "pass", "pw", "pwd", "passcode", "code",
	"kennwort", "mot", "contrase\xc3\xb1" "a", "senha", "wachtwoord",
	"parola", "haslo", "has\xc5\x82o", NULL
};

static void
word_end(struct job *j)
{
	char w[CANDIDATE_LEN + 1];
	size_t n = j->wlen, i;

	if (n == 0 || j->wlong) {
		j->wlen = 0;
		j->wlong = 0;
		return;
	}
	memcpy(w, j->word, n);
	w[n] = '\0';
	j->wlen = 0;
	/* "Password: x" or "password is x" or "(pw x)" */
	while (n > 0 && strchr(":.,;)\"'", w[n - 1]))
		w[--n] = '\0';
	{
		char *s = w;
		char low[CANDIDATE_LEN + 1];

		while (*s && strchr("(\"'", *s))
			s++;
		for (i = 0; s[i]; i++)
			low[i] = (char)tolower((unsigned char)s[i]);
		low[i] = '\0';
		if (in_list(low, pw_words)) {
			j->after_kw = 3;
			return;
		}
		if (j->after_kw > 0) {
			j->after_kw--;
			if (strcmp(low, "is") == 0 || strcmp(low, "de") == 0 ||
			    strcmp(low, "passe") == 0 || *s == '\0')
				return;
			if (j->ncand < CANDIDATES_MAX && strlen(s) >= 3) {
				/* s is at most CANDIDATE_LEN bytes: a word */
				size_t sl = strlen(s);

				memcpy(j->cand[j->ncand], s, sl + 1);
				j->ncand++;
			}
		}
	}
}

static void
words(struct job *j, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '<' || c == '>') {
			word_end(j);
			continue;
		}
		if (j->wlen < CANDIDATE_LEN)
			j->word[j->wlen++] = (char)c;
		else
			j->wlong = 1;
	}
}

/* ---- MIME callbacks ---- */

static int
is_file_part(const struct mime_part *p)
{
	if (p->container)
		return 0;
	if (p->filename != NULL || strcmp(p->disposition, "attachment") == 0)
		return 1;
	return strncmp(p->type, "text/", 5) != 0 &&
	    strcmp(p->type, "message/delivery-status") != 0 &&
	    strncmp(p->type, "message/", 8) != 0;
}

static void
on_begin(void *arg, const struct mime_part *p)
{
	struct job *j = arg;
	struct file *f;

	/* a uuencode block in a text part that is itself a file stays in
	 * that file */
	if (!is_file_part(p) || j->cur != NULL)
		return;
	f = xcalloc(1, sizeof(*f));
	f->name = p->filename ? xstrdup(p->filename) : NULL;
	f->declared = p->uuencoded ? NULL : xstrdup(p->type);
	f->path = xstrdup(p->path[0] ? p->path : "1");
	f->attrs = json_array();
	blob_init(&f->b);
	j->cur = f;
	j->curp = p;
}

static void
on_data(void *arg, const struct mime_part *p, const void *s, size_t n)
{
	struct job *j = arg;

	if (j->cur != NULL && p == j->curp)
		blob_put(&j->cur->b, s, n);
}

static void
on_text(void *arg, const struct mime_part *p, const char *s, size_t n)
{
	struct job *j = arg;

	(void)p;
	if (j->cur == NULL)
		words(j, s, n);
	/* the part's text, for URLs and rules, to LIMIT_URL_INPUT */
	if (n > LIMIT_URL_INPUT - j->tblen)
		n = LIMIT_URL_INPUT - j->tblen;
	if (n == 0)
		return;
	if (j->tblen + n > j->tbcap) {
		size_t c = j->tbcap ? j->tbcap : 16384;

		while (c < j->tblen + n)
			c *= 2;
		if (c > LIMIT_URL_INPUT)
			c = LIMIT_URL_INPUT;
		j->tb = xreallocarray(j->tb, c, 1);
		j->tbcap = c;
	}
	memcpy(j->tb + j->tblen, s, n);
	j->tblen += n;
}

/* The phrases of urgency and payment that BEC mail leans on: a weak
 * signal, lower case ASCII. */
static const char *const urgent_words[] = {
	"urgent", "wire transfer", "bank details", "banking details",
	"gift card", "change of bank", "new bank account", "payment today",
	"overdue invoice", "are you available", "quick favor",
	"quick favour", "kindly process", "confidential request", NULL
};

static void
urgency(struct job *j, const char *s, size_t n)
{
	char *low;
	size_t i;

	if (j->urgent != NULL || n == 0)
		return;
	low = xmalloc(n);
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	for (i = 0; urgent_words[i] != NULL; i++)
		if (memmem(low, n, urgent_words[i], strlen(urgent_words[i])) !=
		    NULL) {
			j->urgent = urgent_words[i];
			break;
		}
	free(low);
}

static void
rule_hit(void *arg, const char *id, int score, const char *desc)
{
	char rid[RULES_ID_MAX + 8];

	snprintf(rid, sizeof(rid), "rules.%s", id);
	reason(arg, rid, score, desc);
}

/* The URLs of text (HTML when html), from an attachment or not. */
static void
text_urls(struct job *j, const char *s, size_t n, int html, int attachment)
{
	size_t before = j->urls.n, i;

	if (html)
		url_extract_html(&j->urls, s, n);
	else
		url_extract_text(&j->urls, s, n);
	if (attachment)
		for (i = before; i < j->urls.n; i++)
			j->urls.v[i].source = URL_ATTACHMENT;
}

/* A text part has ended: its URLs; the rules and words of the body. */
static void
text_end(struct job *j, const struct mime_part *p)
{
	int attachment = j->cur != NULL && p == j->curp;

	text_urls(j, j->tb, j->tblen, strcmp(p->type, "text/html") == 0,
	    attachment);
	if (!attachment) {
		if (j->s->t->rules != NULL &&
		    rules_body(j->s->t->rules, j->tb, j->tblen, j->seen,
		    rule_hit, j) > 0)
			log_warn("%.100s: a body rule stopped at its match "
			    "limit", j->id);
		urgency(j, j->tb, j->tblen);
	}
	j->tblen = 0;
}

static void
on_end(void *arg, const struct mime_part *p)
{
	struct job *j = arg;
	struct file *f = j->cur;

	word_end(j);
	j->after_kw = 0;
	if (p->text)
		text_end(j, p);
	if (f == NULL || p != j->curp)
		return;
	j->cur = NULL;
	j->curp = NULL;
	blob_done(&f->b);
	check_file(j, f);
	blob_free(&f->b);
	free(f->name);
	free(f->declared);
	free(f->path);
	free(f);
}

static void
on_defect(void *arg, enum mime_defect d, const char *detail)
{
	struct job *j = arg;

	switch (d) {
	case MIME_DEPTH: reason(j, "mime_depth", 8, detail); break;
	case MIME_PARTS: reason(j, "mime_parts", 3, detail); break;
	case MIME_DECODED: reason(j, "mime_decoded", 3, detail); break;
	case MIME_HEADER: reason(j, "mime_header", 1, detail); break;
	default: reason(j, "mime_defect", 1, detail); break;
	}
}

/* ---- the encrypted archives against the candidates ---- */

static void
try_passwords(struct job *j)
{
	int i, k;

	for (i = 0; i < j->npend; i++) {
		struct pending *p = &j->pend[i];
		struct file f;

		memset(&f, 0, sizeof(f));
		f.b = p->b;
		f.path = p->path;
		f.name = p->name;
		f.depth = p->depth;
		for (k = 0; k < j->ncand; k++) {
			int opened = 0, score[C_NCLS], floor = j->floor;
			json_t *attrs = json_array();
			json_t *saved = j->files;
			json_t *jattrs = json_copy(j->attrs);
			int nr = j->nreasons;

			memcpy(score, j->score, sizeof(score));
			/* a wrong password reads garbage: its findings are
			 * thrown away unless a member opened */
			f.attrs = attrs;
			j->files = json_array();
			walk(j, &f, p->type, j->cand[k], &opened);
			if (opened) {
				size_t x;
				json_t *v;

				json_array_foreach(j->files, x, v)
					json_array_append(saved, v);
				json_decref(j->files);
				j->files = saved;
				json_decref(attrs);
				json_decref(jattrs);
				reasonf(j, "archive_password_in_text", 8, &f,
				    "the message text gives its password");
				break;
			}
			json_decref(j->files);
			j->files = saved;
			json_decref(attrs);
			memcpy(j->score, score, sizeof(score));
			j->floor = floor;
			json_decref(j->attrs);
			j->attrs = jattrs;
			/* drop what the failed try reported */
			while (j->nreasons > nr) {
				j->nreasons--;
				if ((size_t)j->nreasons <
				    json_array_size(j->reasons))
					json_array_remove(j->reasons,
					    (size_t)j->nreasons);
			}
		}
		if (k == j->ncand)
			reasonf(j, "archive_encrypted", 4, &f, "encrypted "
			    "members not scanned");
		blob_free(&p->b);
		free(p->type);
		free(p->path);
		free(p->name);
	}
	j->npend = 0;
}

/* ---- the block list ---- */

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

unsigned char *
scan_blocklist_load(const char *path, size_t *n, char *err, size_t errsz)
{
	FILE *fp;
	char line[LIMIT_TABLE_LINE];
	unsigned char *list = NULL;
	size_t cap = 0, cnt = 0, lineno = 0, i, len;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *s = line, *h;

		lineno++;
		len = strlen(s);
		if (len == sizeof(line) - 1 && s[len - 1] != '\n') {
			snprintf(err, errsz, "%s: line %zu: too long", path,
			    lineno);
			goto fail;
		}
		s[strcspn(s, "#")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		h = s;
		while (isxdigit((unsigned char)*s))
			s++;
		len = (size_t)(s - h);
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (len == 0 && *s == '\0')
			continue;
		if (len != 64 || (*s != '\0')) {
			snprintf(err, errsz, "%s: line %zu: not a SHA-256 in "
			    "hex", path, lineno);
			goto fail;
		}
		if (cnt >= LIMIT_TABLE_ENTRIES) {
			snprintf(err, errsz, "%s: over %d hashes", path,
			    LIMIT_TABLE_ENTRIES);
			goto fail;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			list = xreallocarray(list, cap, 32);
		}
		for (i = 0; i < 32; i++)
			list[cnt * 32 + i] = (unsigned char)(hexv(h[2 * i]) * 16 +
			    hexv(h[2 * i + 1]));
		cnt++;
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(fp);
	if (cnt > 0)
		qsort(list, cnt, 32, cmp32);
	*n = cnt;
	return list ? list : xmalloc(1);
fail:
	fclose(fp);
	free(list);
	return NULL;
}

/* ---- the tables ---- */

static void
tabs_free(struct tabs *t)
{
	if (t == NULL)
		return;
	table_free(t->protect);
	table_free(t->own);
	table_free(t->shorteners);
	table_free(t->block);
	table_free(t->names);
	table_free(t->freemail);
	lookalike_free(t->la);
	if (t->pol_init)
		url_policy_fini(&t->pol);
	rules_free(t->rules);
	free(t);
}

/* path loaded into *t (NULL path: none); 0, or -1 with err set. */
static int
tab(const char *path, struct table **t, char *err, size_t errsz)
{
	if (path == NULL)
		return 0;
	return (*t = table_load(path, err, errsz)) == NULL ? -1 : 0;
}

/* The keys of a and b as one table: own domains are protected too. */
static struct table *
merged(const struct table *a, const struct table *b)
{
	const struct table *ab[2] = { a, b };
	struct table *m;
	char *list = NULL, err[256];
	const char *k;
	size_t len = 0, cap = 0, pos, i, kl;

	for (i = 0; i < 2; i++)
		for (pos = 0; (k = table_next_key(ab[i], &pos)) != NULL; ) {
			/* a key with a comma is no domain: lookalike skips
			 * those anyway */
			if (strchr(k, ',') != NULL)
				continue;
			kl = strlen(k);
			if (len + kl + 2 > cap) {
				cap = (len + kl + 2) * 2;
				list = xreallocarray(list, cap, 1);
			}
			if (len > 0)
				list[len++] = ',';
			memcpy(list + len, k, kl);
			len += kl;
			list[len] = '\0';
		}
	m = table_from_list(list ? list : "", err, sizeof(err));
	free(list);
	if (m == NULL)
		bug("merged tables: %s", err);
	return m;
}

static struct tabs *
tabs_load(const struct scan_conf *c, char *err, size_t errsz)
{
	struct tabs *t = xcalloc(1, sizeof(*t));
	struct table *dom;

	if (tab(c->protect_domains, &t->protect, err, errsz) == -1 ||
	    tab(c->own_domains, &t->own, err, errsz) == -1 ||
	    tab(c->shorteners, &t->shorteners, err, errsz) == -1 ||
	    tab(c->domain_blocklist, &t->block, err, errsz) == -1 ||
	    tab(c->protect_names, &t->names, err, errsz) == -1 ||
	    tab(c->freemail, &t->freemail, err, errsz) == -1)
		goto fail;
	if (c->rules != NULL &&
	    (t->rules = rules_load(c->rules, err, errsz)) == NULL)
		goto fail;
	if (url_policy_init(&t->pol, err, errsz) == -1)
		goto fail;
	t->pol_init = 1;
	dom = merged(t->protect, t->own);
	t->la = lookalike_new(dom, t->names, err, errsz);
	table_free(dom);
	if (t->la == NULL)
		goto fail;
	t->pol.shorteners = t->shorteners;
	t->pol.blocklist = t->block;
	t->pol.lookalike = t->la;
	t->pol.uribl = c->uribl;
	t->pol.nuribl = c->nuribl;
	return t;
fail:
	tabs_free(t);
	return NULL;
}

/* ---- the scan handle ---- */

struct scan *
scan_new(const struct scan_conf *c, char *err, size_t errsz)
{
	struct scan *s = xcalloc(1, sizeof(*s));
	size_t v;

	s->c = c;
	if ((s->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) == NULL ||
	    magic_load(s->magic, NULL) == -1) {
		snprintf(err, errsz, "libmagic: %s", s->magic ?
		    magic_error(s->magic) : strerror(errno));
		scan_free(s);
		return NULL;
	}
	/* libmagic's own bounds, below its defaults */
	v = 8;
	magic_setparam(s->magic, MAGIC_PARAM_INDIR_MAX, &v);
	v = 30;
	magic_setparam(s->magic, MAGIC_PARAM_NAME_MAX, &v);
	v = 1024;
	magic_setparam(s->magic, MAGIC_PARAM_ELF_PHNUM_MAX, &v);
	magic_setparam(s->magic, MAGIC_PARAM_ELF_SHNUM_MAX, &v);
	v = 4096;
	magic_setparam(s->magic, MAGIC_PARAM_REGEX_MAX, &v);
	v = HEAD_MAX;
	magic_setparam(s->magic, MAGIC_PARAM_BYTES_MAX, &v);
	if (c->hash_blocklist != NULL && (s->block =
	    scan_blocklist_load(c->hash_blocklist, &s->nblock, err,
	    errsz)) == NULL) {
		scan_free(s);
		return NULL;
	}
	if ((s->t = tabs_load(c, err, errsz)) == NULL) {
		scan_free(s);
		return NULL;
	}
	if ((c->nuribl > 0 || c->ndnsbl > 0) &&
	    (s->dns = dns_new(c->dns, err, errsz)) == NULL) {
		scan_free(s);
		return NULL;
	}
	if (c->reload != NULL)
		s->gen = *c->reload;
	return s;
}

void
scan_free(struct scan *s)
{
	if (s == NULL)
		return;
	if (s->magic != NULL)
		magic_close(s->magic);
	free(s->block);
	tabs_free(s->t);
	dns_free(s->dns);
	free(s);
}

static int
has_tables(const struct scan_conf *c)
{
	return c->protect_domains || c->own_domains || c->shorteners ||
	    c->domain_blocklist || c->protect_names || c->freemail ||
	    c->rules;
}

/* SIGHUP: the tables and the block list again; a bad one keeps the old. */
static void
reload(struct scan *s)
{
	struct tabs *t;
	unsigned char *b;
	size_t n;
	char err[512];

	if (s->c->reload == NULL || *s->c->reload == s->gen)
		return;
	s->gen = *s->c->reload;
	if (!has_tables(s->c))
		;	/* nothing to read again */
	else if ((t = tabs_load(s->c, err, sizeof(err))) == NULL)
		log_warn("reload tables: %s (the old tables stay)", err);
	else {
		tabs_free(s->t);
		s->t = t;
		log_info("reload tables: %zu rules, %zu protected domains, "
		    "%zu protected names", rules_count(t->rules),
		    lookalike_ndomains(t->la), lookalike_nnames(t->la));
	}
	if (s->c->hash_blocklist == NULL)
		return;
	if ((b = scan_blocklist_load(s->c->hash_blocklist, &n, err,
	    sizeof(err))) == NULL) {
		log_warn("reload --hash-blocklist: %s (the old list stays)",
		    err);
		return;
	}
	free(s->block);
	s->block = b;
	s->nblock = n;
	log_info("reload --hash-blocklist: %zu hashes", n);
}

/* ---- the message ---- */

/* The fields that bulk senders' platforms add. */
static void
bulk_sender(struct job *j, const struct msg_field *f)
{
	static const char *const names[] = {
		"Feedback-ID", "X-Mailgun-Sid", "X-SG-EID", "X-MC-User",
		"X-SES-Outgoing", "X-Campaign-Id", "X-CSA-Complaints",
		"X-Mailchimp-Campaign", NULL
	};
	char d[100];
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (msg_field_is(f, names[i])) {
			snprintf(d, sizeof(d), "%s", names[i]);
			reason(j, "bulk_sender", 1, d);
			return;
		}
}

/* A field of the top header: kept for BEC (From, Reply-To, Subject),
 * given to the header rules. */
static void
header_field(struct job *j, const struct msg_field *f)
{
	char *v = msg_value(f), *d;

	d = mime_decode_words(v, strlen(v));
	free(v);
	if (j->s->t->rules != NULL && rules_header(j->s->t->rules, f->name,
	    f->namelen, d, strlen(d), j->seen, rule_hit, j) > 0)
		log_warn("%.100s: a header rule stopped at its match limit",
		    j->id);
	if (msg_field_is(f, "From") && j->from == NULL)
		j->from = d;
	else if (msg_field_is(f, "Reply-To") && j->reply_to == NULL)
		j->reply_to = d;
	else if (msg_field_is(f, "Subject") && j->subject == NULL)
		j->subject = d;
	else
		free(d);
}

/* The header section of the message, from its first bytes: the X-Sluice
 * fields from outside to remove, bulk mail. */
static void
top_header(struct job *j, const char *buf, size_t n, json_t *remove)
{
	struct msg m;
	char err[128];
	size_t i;
	const char *e;

	e = memmem(buf, n, "\n\n", 2);
	if (e == NULL) {
		const char *e2 = memmem(buf, n, "\r\n\r\n", 4);

		e = e2;
	} else {
		const char *e2 = memmem(buf, n, "\r\n\r\n", 4);

		if (e2 != NULL && e2 < e)
			e = e2;
	}
	if (e != NULL)
		n = (size_t)(e - buf) + 1;
	if (msg_parse(&m, buf, n, err, sizeof(err)) == -1)
		return;
	for (i = 0; i < m.nf; i++) {
		const struct msg_field *f = &m.f[i];

		if (f->namelen > 9 && strncasecmp(f->name, "X-Sluice-", 9) ==
		    0) {
			json_t *o = json_object();

			json_object_set_new(o, "field", record_string(f->name,
			    f->namelen));
			json_object_set_new(o, "index", json_integer(
			    (json_int_t)i));
			json_array_append_new(remove, o);
		} else if (msg_field_is(f, "List-Unsubscribe") ||
		    msg_field_is(f, "List-Id")) {
			if (j->score[C_BULK] == 0)
				reason(j, "bulk_header", 1, "List-Unsubscribe "
				    "or List-Id");
		} else if (msg_field_is(f, "Precedence")) {
			char *v = msg_value(f);

			if ((strcasecmp(v, "bulk") == 0 ||
			    strcasecmp(v, "list") == 0) &&
			    j->score[C_BULK] == 0)
				reason(j, "bulk_header", 1, "Precedence: bulk");
			free(v);
		} else
			bulk_sender(j, f);
		header_field(j, f);
	}
	msg_free(&m);
}

/* What the auth object says: a DMARC fail is a spoof. */
static void
from_auth(struct job *j, const json_t *rec)
{
	const json_t *dm = json_object_get(json_object_get(rec, "auth"),
	    "dmarc");
	const char *r = record_get(dm, "result");
	char d[300];

	if (r != NULL && strcmp(r, "fail") == 0) {
		snprintf(d, sizeof(d), "DMARC fail for %.200s",
		    record_get(dm, "domain") ? record_get(dm, "domain") :
		    "the author domain");
		reason(j, "dmarc_fail", 5, d);
	}
}

/* ---- URLs ---- */

struct urlhit {
	struct job *j;
	json_t *rules;		/* the URL's rule ids */
};

static void
url_reason(void *arg, const char *rule, int score, const char *detail)
{
	struct urlhit *h = arg;

	add_attr(h->rules, rule);
	reason(h->j, rule, score, detail);
}

static const char *
source_str(int src)
{
	static const char *const v[] = {
		"text", "href", "src", "frame", "script", "form", "meta",
		"attachment"
	};

	return src >= 0 && src <= URL_ATTACHMENT ? v[src] : "text";
}

/* url.uribl: the detail starts with the name listed, which is the
 * registrable domain of the URLs it names (or their IPv4 address). */
struct uriblhit {
	struct job *j;
	json_t **rules;
};

static void
uribl_reason(void *arg, const char *rule, int score, const char *detail)
{
	struct uriblhit *h = arg;
	const struct url_policy *pol = &h->j->s->t->pol;
	const char *sp = strchr(detail, ' ');
	size_t n = sp ? (size_t)(sp - detail) : strlen(detail), i;
	char reg[256];

	for (i = 0; i < h->j->urls.n; i++) {
		const char *host = h->j->urls.v[i].host, *name = host;

		if (host == NULL)
			continue;
		if (!h->j->urls.v[i].ip && url_registrable(pol, host, reg,
		    sizeof(reg)) == 0)
			name = reg;
		if (strlen(name) == n && strncmp(name, detail, n) == 0)
			add_attr(h->rules[i], rule);
	}
	reason(h->j, rule, score, detail);
}

static json_t *
urls_check(struct job *j)
{
	const struct tabs *t = j->s->t;
	json_t *out = json_array(), **ur;
	struct urlhit h;
	struct uriblhit uh;
	size_t i;
	int rc;
	char d[100];

	ur = xcalloc(j->urls.n ? j->urls.n : 1, sizeof(*ur));
	h.j = j;
	for (i = 0; i < j->urls.n; i++) {
		h.rules = ur[i] = json_array();
		url_check(&j->urls.v[i], &t->pol, url_reason, &h);
	}
	if (j->s->dns != NULL && t->pol.nuribl > 0 && j->urls.n > 0) {
		uh.j = j;
		uh.rules = ur;
		rc = url_uribl(j->s->dns, &j->urls, &t->pol, uribl_reason,
		    &uh);
		if (rc != 0) {
			snprintf(d, sizeof(d), "URI block list lookups "
			    "failed: %s", rc < 0 ? strerror(errno) : "some");
			reason(j, "dns_tempfail", 0, d);
		}
	}
	for (i = 0; i < j->urls.n; i++) {
		const struct url *u = &j->urls.v[i];
		json_t *o = json_object();

		json_object_set_new(o, "url", json_string(u->norm));
		json_object_set_new(o, "host", u->host ?
		    json_string(u->host) : json_null());
		json_object_set_new(o, "source",
		    json_string(source_str(u->source)));
		json_object_set_new(o, "rules", ur[i]);
		json_array_append_new(out, o);
	}
	if (j->urls.dropped > 0 || j->urls.truncated)
		add_attr(j->attrs, "urls_cut");
	free(ur);
	return out;
}

/* ---- impersonation ---- */

/* Free-mail domains: Reply-To there from another domain is a BEC tell. */
static const char *const freemail[] = {
	"gmail.com", "googlemail.com", "outlook.com", "hotmail.com",
	"live.com", "msn.com", "yahoo.com", "ymail.com", "aol.com",
	"icloud.com", "me.com", "mail.com", "gmx.com", "gmx.net", "gmx.de",
	"web.de", "yandex.com", "yandex.ru", "mail.ru", "proton.me",
	"protonmail.com", "zoho.com", "qq.com", "163.com", NULL
};

/*
 * The display name (blanks collapsed, quotes dropped) and the domain
 * (lower case) of the first mailbox of an address field value; either
 * may come out empty.
 */
static void
mailbox(const char *v, char *name, size_t namesz, char *dom, size_t domsz)
{
	const char *lt = strchr(v, '<'), *a, *e, *at;
	size_t n = 0, i;
	int blank = 0;

	name[0] = dom[0] = '\0';
	if (lt != NULL) {
		for (a = v; a < lt && n + 1 < namesz; a++) {
			if (*a == '"')
				continue;
			if (*a == ' ' || *a == '\t') {
				blank = n > 0;
				continue;
			}
			if (blank && n + 2 < namesz)
				name[n++] = ' ';
			blank = 0;
			name[n++] = *a;
		}
		name[n] = '\0';
		a = lt + 1;
		e = strchr(a, '>');
		if (e == NULL)
			e = a + strlen(a);
	} else {
		a = v;
		while (*a == ' ' || *a == '\t')
			a++;
		e = a + strcspn(a, " \t,;(");
	}
	at = NULL;
	for (i = 0; a + i < e; i++)
		if (a[i] == '@')
			at = a + i;
	if (at == NULL)
		return;
	at++;
	n = (size_t)(e - at);
	while (n > 0 && (at[n - 1] == '.' || at[n - 1] == ' '))
		n--;
	if (n == 0 || n >= domsz)
		return;
	for (i = 0; i < n; i++)
		dom[i] = (char)tolower((unsigned char)at[i]);
	dom[n] = '\0';
}

/* The registrable domain of d into out, or d itself. */
static void
org(const struct tabs *t, const char *d, char *out, size_t outsz)
{
	if (url_registrable(&t->pol, d, out, outsz) == -1)
		snprintf(out, outsz, "%s", d);
}

static int
own(const struct tabs *t, const char *d)
{
	char o[256];

	if (t->own == NULL || *d == '\0')
		return 0;
	org(t, d, o, sizeof(o));
	return table_has_domain(t->own, d) || table_has(t->own, o);
}

static int
is_freemail(const struct tabs *t, const char *o)
{
	return in_list(o, freemail) || table_has(t->freemail, o);
}

static void
bec(struct job *j, const json_t *rec)
{
	const struct tabs *t = j->s->t;
	const json_t *dm = json_object_get(json_object_get(rec, "auth"),
	    "dmarc");
	const char *r = record_get(dm, "result"), *target;
	char name[LIMIT_LOOKALIKE_NAME + 1], fd[256], rname[8], rd[256];
	char fo[256], ro[256], d[700];
	enum lookalike_why why;

	if (r != NULL && strcmp(r, "fail") == 0 && record_get(dm, "domain") &&
	    own(t, record_get(dm, "domain"))) {
		snprintf(d, sizeof(d), "DMARC fail for our own %.200s",
		    record_get(dm, "domain"));
		reason(j, "bec.spoof_own", 6, d);
	}
	if (j->subject != NULL)
		urgency(j, j->subject, strlen(j->subject));
	if (j->urgent != NULL) {
		snprintf(d, sizeof(d), "\"%s\"", j->urgent);
		reason(j, "bec.urgency", 1, d);
	}
	if (j->from == NULL)
		return;
	mailbox(j->from, name, sizeof(name), fd, sizeof(fd));
	if (name[0] != '\0' && !own(t, fd)) {
		target = NULL;
		if (table_has(t->names, name))
			target = name;
		else if (lookalike_name(t->la, name, &target) ==
		    LOOKALIKE_NONE)
			target = NULL;
		if (target != NULL) {
			snprintf(d, sizeof(d), "\"%.200s\" is protected, from "
			    "%.200s", target, fd[0] ? fd : "no address");
			reason(j, "bec.display_name", 5, d);
		}
	}
	if (fd[0] != '\0' && (why = lookalike_domain(t->la, fd, &target)) !=
	    LOOKALIKE_NONE) {
		snprintf(d, sizeof(d), "%.200s looks like %.200s (%s)", fd,
		    target, lookalike_why_str(why));
		reason(j, "bec.lookalike_from", 6, d);
	}
	if (j->reply_to == NULL || fd[0] == '\0')
		return;
	mailbox(j->reply_to, rname, sizeof(rname), rd, sizeof(rd));
	if (rd[0] == '\0')
		return;
	org(t, fd, fo, sizeof(fo));
	org(t, rd, ro, sizeof(ro));
	if (strcmp(fo, ro) == 0)
		return;
	if (is_freemail(t, ro)) {
		snprintf(d, sizeof(d), "Reply-To at free mail %.200s, From "
		    "%.200s", ro, fo);
		reason(j, "bec.reply_to_freemail", 3, d);
	} else {
		snprintf(d, sizeof(d), "Reply-To %.200s, From %.200s", ro,
		    fo);
		reason(j, "bec.reply_to", 2, d);
	}
}

/* ---- DNS block lists of client IPs ---- */

struct dnsblq {
	struct job *j;
	const char *zone;
	const char *ip;
	int tempfail;
};

static void
dnsbl_cb(void *arg, const struct dns_answer *a)
{
	struct dnsblq *q = arg;
	char d[400], addr[INET_ADDRSTRLEN];
	int i;

	if (a->status == DNS_TEMPFAIL) {
		q->tempfail = 1;
		return;
	}
	for (i = 0; i < a->nrr; i++) {
		uint32_t v;

		if (a->rr[i].type != DNS_T_A)
			continue;
		v = ntohl(a->rr[i].a.s_addr);
		/* 127.0.0.1 and 127.255.255.x: the list refuses the query */
		if ((v >> 24) != 127 || v == 0x7f000001 ||
		    (v & 0xffffff00) == 0x7fffff00)
			continue;
		inet_ntop(AF_INET, &a->rr[i].a, addr, sizeof(addr));
		snprintf(d, sizeof(d), "%.60s listed by %.250s (%s)", q->ip,
		    q->zone, addr);
		reason(q->j, "dnsbl", 5, d);
		return;
	}
}

static void
dnsbl(struct job *j, const json_t *rec)
{
	const char *ip = record_get(json_object_get(rec, "client"), "ip");
	struct dnsblq q[LIMIT_DNSBL_QUERIES];
	unsigned char b[16];
	char rev[80], name[DNS_NAME_MAX], d[300];
	size_t i, n = 0, k;
	int tf = 0;

	if (j->s->dns == NULL || j->c->ndnsbl == 0 || ip == NULL)
		return;
	if (inet_pton(AF_INET, ip, b) == 1)
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u", b[3], b[2], b[1],
		    b[0]);
	else if (inet_pton(AF_INET6, ip, b) == 1) {
		for (i = 0, k = 0; i < 16; i++) {
			rev[k++] = "0123456789abcdef"[b[15 - i] & 15];
			rev[k++] = '.';
			rev[k++] = "0123456789abcdef"[b[15 - i] >> 4];
			rev[k++] = '.';
		}
		rev[k - 1] = '\0';
	} else
		return;
	for (i = 0; i < j->c->ndnsbl && n < LIMIT_DNSBL_QUERIES; i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s.%s", rev,
		    j->c->dnsbl[i]) >= sizeof(name))
			continue;
		q[n].j = j;
		q[n].zone = j->c->dnsbl[i];
		q[n].ip = ip;
		q[n].tempfail = 0;
		if (dns_query(j->s->dns, name, DNS_T_A, dnsbl_cb, &q[n]) == -1)
			continue;
		n++;
	}
	if (dns_wait(j->s->dns) == -1) {
		snprintf(d, sizeof(d), "client block list lookups: %s",
		    strerror(errno));
		reason(j, "dns_tempfail", 0, d);
		return;
	}
	for (i = 0; i < n; i++)
		tf += q[i].tempfail;
	if (tf > 0) {
		snprintf(d, sizeof(d), "%d client block list lookups failed",
		    tf);
		reason(j, "dns_tempfail", 0, d);
	}
}

/* The BEC rules add up to --bec-score (0 in the conf: 5). */
static int
is_bec(const struct job *j)
{
	return j->score[C_BEC] >= (j->c->bec_score > 0 ? j->c->bec_score : 5);
}

static const char *
verdict(const struct job *j)
{
	const struct scan_conf *c = j->c;
	int t = j->score[C_THREAT];
	size_t i;
	json_t *v;

	json_array_foreach(j->reasons, i, v)
		if (strcmp(record_get(v, "rule"), "hash_blocklist") == 0)
			return "malicious";
	if (t >= c->malicious_score)
		return "malicious";
	if (t >= c->suspicious_score || j->floor || is_bec(j))
		return "suspicious";
	if (j->score[C_SPOOF] > 0)
		return "spoof";
	if (j->score[C_SPAM] + t >= c->spam_score && j->score[C_SPAM] > 0)
		return "spam";
	if (j->score[C_BULK] > 0)
		return "bulk";
	return "clean";
}

static int
by_score(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t sx = json_integer_value(json_object_get(x, "score"));
	json_int_t sy = json_integer_value(json_object_get(y, "score"));

	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

/* The fields for the downstream: the verdict, the main reasons. */
static json_t *
headers(const struct job *j, const char *v, int score)
{
	json_t *h = json_array(), *r[REASONS_MAX];
	char line[1000];
	size_t n = json_array_size(j->reasons), i, k, l;

	snprintf(line, sizeof(line), "X-Sluice-Verdict: %s score=%d", v,
	    score);
	json_array_append_new(h, json_string(line));
	for (i = 0; i < n && i < REASONS_MAX; i++)
		r[i] = json_array_get(j->reasons, i);
	qsort(r, i, sizeof(r[0]), by_score);
	l = (size_t)snprintf(line, sizeof(line), "X-Sluice-Reasons:");
	for (k = 0; k < i && k < 8; k++) {
		const char *id = record_get(r[k], "rule");
		size_t m;

		/* each rule once */
		for (m = 0; m < k; m++)
			if (strcmp(record_get(r[m], "rule"), id) == 0)
				break;
		if (m < k)
			continue;
		l += (size_t)snprintf(line + l, sizeof(line) - l, "%s %s",
		    k && l > 17 ? "," : "", id);
		if (l >= sizeof(line))
			break;
	}
	if (i > 0 && l < sizeof(line))
		json_array_append_new(h, json_string(line));
	return h;
}

int
scan_record(struct scan *s, json_t *rec, char *err, size_t errsz)
{
	const char *path = record_get(rec, "path");
	struct mime_conf mc;
	struct mime_ops mo;
	struct mime *m;
	struct job j;
	char *buf, *hdr = NULL;
	size_t hdrlen = 0, hdrcap = 0;
	unsigned long long total = 0;
	int fd, hdr_done = 0, score, rc = -1, k;
	ssize_t n;
	json_t *scan, *remove, *urls;
	const char *v;

	if (path == NULL) {
		snprintf(err, errsz, "record has no path");
		return -1;
	}
	reload(s);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "open %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.s = s;
	j.c = s->c;
	j.id = record_get(rec, "id") ? record_get(rec, "id") : path;
	j.reasons = json_array();
	j.files = json_array();
	j.attrs = json_array();
	if (s->t->rules != NULL)
		j.seen = xcalloc(rules_count(s->t->rules) + 1, 1);
	remove = json_array();
	mc.max_depth = s->c->max_depth;
	mc.max_parts = s->c->max_parts;
	mc.max_decoded = s->c->max_decoded;
	mc.max_header = 256 * 1024;
	memset(&mo, 0, sizeof(mo));
	mo.begin = on_begin;
	mo.data = on_data;
	mo.text = on_text;
	mo.end = on_end;
	mo.defect = on_defect;
	mo.arg = &j;
	m = mime_new(&mc, &mo);
	buf = xmalloc(CHUNK);
	for (;;) {
		n = read(fd, buf, CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errsz, "read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (total + (size_t)n > (unsigned long long)s->c->max_size) {
			char d[100];

			n = (ssize_t)((unsigned long long)s->c->max_size -
			    total);
			snprintf(d, sizeof(d), "over %lld bytes: the rest not "
			    "scanned", s->c->max_size);
			reason(&j, "message_size", 2, d);
			if (n <= 0)
				break;
		}
		total += (size_t)n;
		if (!hdr_done) {
			size_t take = (size_t)n;

			if (hdrlen + take > LIMIT_HEADER_SIZE)
				take = LIMIT_HEADER_SIZE - hdrlen;
			if (hdrlen + take + 1 > hdrcap) {
				hdrcap = hdrlen + take + 1;
				hdr = xreallocarray(hdr, hdrcap, 1);
			}
			memcpy(hdr + hdrlen, buf, take);
			hdrlen += take;
			if (memmem(hdr, hdrlen, "\n\n", 2) != NULL ||
			    memmem(hdr, hdrlen, "\n\r\n", 3) != NULL ||
			    hdrlen >= LIMIT_HEADER_SIZE) {
				top_header(&j, hdr, hdrlen, remove);
				hdr_done = 1;
			}
		}
		mime_push(m, buf, (size_t)n);
		if (total >= (unsigned long long)s->c->max_size)
			break;
	}
	if (!hdr_done && hdrlen > 0)
		top_header(&j, hdr, hdrlen, remove);
	mime_finish(m);
	try_passwords(&j);
	from_auth(&j, rec);
	urls = urls_check(&j);
	bec(&j, rec);
	dnsbl(&j, rec);
	if (is_bec(&j))
		add_attr(j.attrs, "bec");

	v = verdict(&j);
	score = 0;
	for (k = 0; k < C_NCLS; k++)
		score += j.score[k];
	scan = json_object();
	json_object_set_new(scan, "verdict", json_string(v));
	json_object_set_new(scan, "attributes", j.attrs);
	json_object_set_new(scan, "score", json_integer(score));
	json_object_set_new(scan, "reasons", j.reasons);
	json_object_set_new(scan, "attachments", j.files);
	json_object_set_new(scan, "urls", urls);
	json_object_set_new(scan, "headers", headers(&j, v, score));
	json_object_set_new(scan, "remove", remove);
	json_object_set_new(rec, "scan", scan);
	j.attrs = j.reasons = j.files = remove = NULL;
	rc = 0;
out:
	if (j.cur != NULL) {
		blob_free(&j.cur->b);
		json_decref(j.cur->attrs);
		free(j.cur->name);
		free(j.cur->declared);
		free(j.cur->path);
		free(j.cur);
	}
	while (j.npend > 0) {
		struct pending *p = &j.pend[--j.npend];

		blob_free(&p->b);
		free(p->type);
		free(p->path);
		free(p->name);
	}
	json_decref(j.attrs);
	json_decref(j.reasons);
	json_decref(j.files);
	json_decref(remove);
	urlset_free(&j.urls);
	free(j.tb);
	free(j.from);
	free(j.reply_to);
	free(j.subject);
	free(j.seen);
	mime_free(m);
	free(buf);
	free(hdr);
	close(fd);
	return rc;
}
