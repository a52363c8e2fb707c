/*
 * mime-dump: a test driver for lib/mime.
 *
 *   mime-dump [-c CHUNK] [-d DEPTH] [-p PARTS] [-t] [file]
 *
 * Parses the message (file, or stdin) pushing CHUNK bytes at a time
 * (default 4096) and prints one line per event:
 *
 *   begin PATH TYPE [name=FILENAME] [disp=DISPOSITION] [uu]
 *   end PATH size=N text=M
 *   defect NAME: DETAIL
 *
 * then "parts N".  -t prints each text part's UTF-8 after its end line,
 * as "text PATH: ..." (escaped as log_escape does).  Exit 0, 100 on bad
 * usage, 111 when the file cannot be read or stdout fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mime.h"
#include "xalloc.h"

struct state {
	int show_text;
	char *text;
	size_t textlen, textcap;
};

static void
on_begin(void *arg, const struct mime_part *p)
{
	char esc[600];

	(void)arg;
	printf("begin %s %s", p->path[0] ? p->path : "-", p->type);
	if (p->filename != NULL)
		printf(" name=%s", log_escape(esc, sizeof(esc), p->filename,
		    strlen(p->filename)));
	if (p->disposition[0] != '\0')
		printf(" disp=%s", p->disposition);
	if (p->uuencoded)
		printf(" uu");
	printf("\n");
}

static void
on_text(void *arg, const struct mime_part *p, const char *s, size_t n)
{
	struct state *st = arg;

	(void)p;
	if (!st->show_text)
		return;
	if (st->textlen + n + 1 > st->textcap) {
		st->textcap = (st->textlen + n + 1) * 2;
		st->text = xreallocarray(st->text, st->textcap, 1);
	}
	memcpy(st->text + st->textlen, s, n);
	st->textlen += n;
}

static void
on_end(void *arg, const struct mime_part *p)
{
	struct state *st = arg;
	char esc[4000];

	printf("end %s size=%llu\n", p->path[0] ? p->path : "-", p->size);
	if (st->show_text && p->text) {
		printf("text %s: %s\n", p->path, log_escape(esc, sizeof(esc),
		    st->text, st->textlen));
	}
	st->textlen = 0;
}

static void
on_defect(void *arg, enum mime_defect d, const char *detail)
{
	(void)arg;
	printf("defect %s: %s\n", mime_defect_name(d), detail);
}

int
main(int argc, char *argv[])
{
	struct mime_conf c = { 100, 10000, 1ULL << 32, 65536 };
	struct mime_ops o;
	struct state st;
	struct mime *m;
	size_t chunk = 4096;
	char *buf;
	ssize_t n;
	int ch, fd = 0;

	prog_init("mime-dump");
	memset(&st, 0, sizeof(st));
	while ((ch = getopt(argc, argv, "c:d:p:t")) != -1) {
		switch (ch) {
		case 'c': chunk = (size_t)strtoul(optarg, NULL, 10); break;
		case 'd': c.max_depth = (int)strtol(optarg, NULL, 10); break;
		case 'p': c.max_parts = strtol(optarg, NULL, 10); break;
		case 't': st.show_text = 1; break;
		default:
			fprintf(stderr, "usage: mime-dump [-c CHUNK] [-d DEPTH] "
			    "[-p PARTS] [-t] [file]\n");
			return 100;
		}
	}
	if (chunk == 0 || chunk > (1 << 24))
		die_perm("-c: 1 to 16777216");
	if (optind < argc && (fd = open(argv[optind], O_RDONLY)) == -1)
		die_temp("open %s: %s", argv[optind], strerror(errno));
	memset(&o, 0, sizeof(o));
	o.begin = on_begin;
	o.text = on_text;
	o.end = on_end;
	o.defect = on_defect;
	o.arg = &st;
	m = mime_new(&c, &o);
	buf = xmalloc(chunk);
	while ((n = read(fd, buf, chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die_temp("read: %s", strerror(errno));
		mime_push(m, buf, (size_t)n);
	}
	mime_finish(m);
	printf("parts %ld\n", mime_parts(m));
	mime_free(m);
	free(buf);
	free(st.text);
	if (fflush(stdout) == EOF || ferror(stdout))
		die_temp("write stdout: %s", strerror(errno));
	return 0;
}
