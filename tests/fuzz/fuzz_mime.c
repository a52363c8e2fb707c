/*
 * fuzz_mime: lib/mime on arbitrary bytes.  The first byte picks the size
 * of the pieces the message is pushed in (1 to 256, so that every line
 * and every encoded quantum gets cut somewhere); the rest is the message,
 * parsed with small limits.  The same bytes also go through
 * mime_decode_words and mime_param.  Besides the sanitizers, it checks
 * what callers rely on: every begin has its end, in nesting order; paths
 * and types are NUL-terminated; the text given is valid UTF-8; no more
 * bytes are decoded than the limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct st {
	int open;
	unsigned long long bytes;
	unsigned char utf8[4];	/* an incomplete sequence across calls */
	int need;
};

static void
on_begin(void *arg, const struct mime_part *p)
{
	struct st *s = arg;

	if (strlen(p->path) > 4096 || p->type == NULL || p->encoding == NULL ||
	    p->charset == NULL || p->disposition == NULL)
		abort();
	s->open++;
	s->need = 0;
}

static void
on_data(void *arg, const struct mime_part *p, const void *d, size_t n)
{
	struct st *s = arg;

	(void)p;
	(void)d;
	s->bytes += n;
}

/* Each call holds whole UTF-8 sequences or continues the last one. */
static void
on_text(void *arg, const struct mime_part *p, const char *t, size_t n)
{
	struct st *s = arg;
	size_t i;

	(void)p;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (s->need > 0) {
			if ((c & 0xc0) != 0x80)
				abort();
			s->need--;
			continue;
		}
		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0)
			s->need = 1;
		else if ((c & 0xf0) == 0xe0)
			s->need = 2;
		else if ((c & 0xf8) == 0xf0)
			s->need = 3;
		else
			abort();
	}
}

static void
on_end(void *arg, const struct mime_part *p)
{
	struct st *s = arg;

	(void)p;
	if (--s->open < 0 || s->need != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_conf c = { 8, 64, 1 << 16, 2048 };
	struct mime_ops o = { on_begin, on_data, on_text, on_end, NULL, NULL };
	struct st s;
	struct mime *m;
	size_t chunk, i;
	char *str, *v, *t;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	memset(&s, 0, sizeof(s));
	o.arg = &s;
	m = mime_new(&c, &o);
	for (i = 0; i < size; i += chunk)
		mime_push(m, data + i, size - i < chunk ? size - i : chunk);
	mime_finish(m);
	mime_free(m);
	if (s.open != 0 || s.bytes > c.max_decoded)
		abort();

	free(mime_decode_words((const char *)data, size));
	str = malloc(size + 1);
	memcpy(str, data, size);
	str[size] = '\0';
	t = NULL;
	v = mime_param(str, "filename", &t);
	free(v);
	free(t);
	free(str);
	return 0;
}
