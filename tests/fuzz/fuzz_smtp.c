/*
 * fuzz_smtp: the parsers of lib/smtp on arbitrary bytes.
 *
 *  - smtp_parse on each "\n"-separated line: a reply exactly when it
 *    fails, pointers into the line, at most LIMIT_SMTP_PARAMS parameters.
 *  - smtp_data_feed on the whole input, once in one call and again in
 *    chunks of sizes taken from the first bytes with small output
 *    buffers, for DATA and BDAT, with and without normalising.  Each call
 *    stays inside its buffers and makes progress; the end of data is the
 *    first CRLF.CRLF (or ".\r\n" at the very start) and nothing after it
 *    is consumed; the output never holds a CR; chunked and one-shot
 *    decoding agree byte for byte and flag for flag; a clean BDAT body
 *    decodes to its input with CRLF made LF.
 *  - smtp_hdr_feed on the decoded output, at once and a byte at a time,
 *    with the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_parse(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	size_t start = 0;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	while (start <= size) {
		char *nl = memchr(buf + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - buf) : size;
		struct smtp_cmd cmd;
		const char *reply = "unset";
		char *line = buf + start, *lim = buf + end + 1;
		int rc, i;

		/* the parser may write its NUL at line[len]: the "\n" or
		 * the buffer's last byte */
		rc = smtp_parse(line, end - start, &cmd, &reply);
		if (rc == 0) {
			if (reply != NULL)
				abort();
			if (cmd.arg == NULL || cmd.arg < line ||
			    cmd.arg >= lim)
				abort();
			if ((cmd.verb == SMTP_MAIL || cmd.verb == SMTP_RCPT) &&
			    (cmd.path == NULL || cmd.path < line ||
			    cmd.path >= lim ||
			    strlen(cmd.path) > LIMIT_SMTP_PATH))
				abort();
			if (cmd.verb == SMTP_RCPT && cmd.path[0] == '\0')
				abort();
			if (cmd.nparams < 0 ||
			    cmd.nparams > LIMIT_SMTP_PARAMS)
				abort();
			for (i = 0; i < cmd.nparams; i++) {
				const struct smtp_param *p = &cmd.params[i];

				if (p->key == NULL || p->key < line ||
				    p->key >= lim || p->key[0] == '\0' ||
				    (p->value != NULL && (p->value < line ||
				    p->value >= lim || p->value[0] == '\0')))
					abort();
				if (smtp_param(&cmd, p->key) == NULL)
					abort();
			}
		} else if (rc == -1) {
			/* "NNN X.Y.Z text" */
			if (reply == NULL || strlen(reply) < 10 ||
			    (reply[0] != '5') || reply[3] != ' ' ||
			    reply[5] != '.')
				abort();
		} else
			abort();
		start = end + 1;
	}
	free(buf);
}

struct result {
	char *out;
	size_t outn, cap;
	size_t used;
	int done, flags;
	unsigned long long size, lines;
};

static void
append(struct result *r, const char *p, size_t n)
{
	if (r->outn + n > r->cap)
		abort();	/* output beyond what the input can make */
	memcpy(r->out + r->outn, p, n);
	r->outn += n;
}

/* The end of data by the book: the first CRLF.CRLF, or ".\r\n" first. */
static size_t
true_end(const uint8_t *data, size_t size)
{
	size_t i;

	if (size >= 3 && memcmp(data, ".\r\n", 3) == 0)
		return 3;
	for (i = 0; i + 5 <= size; i++)
		if (memcmp(data + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

/*
 * Decode data; chunks: NULL for one call with a big buffer, else sizes to
 * cycle through (nchunks of them) with outsize bytes of output.
 */
static void
decode(const uint8_t *data, size_t size, int dot, int normalize,
    size_t max_line, unsigned long long max_size, const uint8_t *chunks,
    size_t nchunks, size_t outsize, struct result *r)
{
	struct smtp_data d;
	size_t pos = 0, k = 0, olen, used;
	char *obuf;
	int done = 0;

	memset(r, 0, sizeof(*r));
	/* no input byte makes more than one output byte in all */
	r->cap = size + 2;
	r->out = malloc(r->cap);
	smtp_data_init(&d, dot, normalize, max_line, max_size);
	if (chunks == NULL) {
		outsize = 2 * size + 2;
		obuf = malloc(outsize);
		if (r->out == NULL || obuf == NULL)
			abort();
		used = smtp_data_feed(&d, (const char *)data, size, obuf,
		    outsize, &olen, &done);
		if (used > size || olen > outsize || (!done && used != size))
			abort();
		append(r, obuf, olen);
		pos = used;
	} else {
		obuf = malloc(outsize);
		if (r->out == NULL || obuf == NULL)
			abort();
		while (pos < size && !done) {
			size_t give = chunks[k++ % nchunks] % 37 + 1;

			if (give > size - pos)
				give = size - pos;
			while (give > 0 && !done) {
				olen = (size_t)-1;
				used = smtp_data_feed(&d,
				    (const char *)data + pos, give, obuf,
				    outsize, &olen, &done);
				if (used > give || olen > outsize ||
				    (used == 0 && olen == 0 && !done))
					abort();
				append(r, obuf, olen);
				pos += used;
				give -= used;
			}
		}
	}
	if (!dot) {
		char tail[2];
		size_t n = smtp_data_finish(&d, tail);

		if (n > 2)
			abort();
		append(r, tail, n);
	}
	free(obuf);
	r->used = pos;
	r->done = done;
	r->flags = d.flags;
	r->size = d.size;
	r->lines = d.lines;
}

static void
check_hdr(const char *out, size_t n)
{
	static struct smtp_hdr a, b;
	size_t i;
	int ra, rb = 0, f;

	smtp_hdr_init(&a);
	smtp_hdr_init(&b);
	ra = smtp_hdr_feed(&a, out, n);
	for (i = 0; i < n && !rb; i++)
		rb = smtp_hdr_feed(&b, out + i, 1);
	if (ra != rb || a.done != b.done || a.received != b.received)
		abort();
	if (a.size > LIMIT_HEADER_SIZE + 1)
		abort();
	for (f = 0; f < SMTP_HDR_NFIELDS; f++) {
		const char *va = smtp_hdr_get(&a, f);
		const char *vb = smtp_hdr_get(&b, f);

		if ((va == NULL) != (vb == NULL))
			abort();
		if (va != NULL && (strcmp(va, vb) != 0 ||
		    strlen(va) > SMTP_HDR_VALUE))
			abort();
	}
}

static void
fuzz_data(const uint8_t *data, size_t size, int dot, int normalize)
{
	static const size_t outsizes[] = { 2, 3, 4, 7, 64 };
	struct result one, many;
	size_t nchunks = size < 4 ? size : 4, end, i;
	const uint8_t one_chunk = 0;
	size_t max_line = size > 0 ? (size_t)data[0] % 64 + 1 : 1000;
	unsigned long long max_size = size > 1 ?
	    (data[1] & 0x80 ? ~0ULL : (unsigned long long)data[1] * 3) : ~0ULL;
	size_t outsize = outsizes[(size > 2 ? data[2] : 0) % 5];

	decode(data, size, dot, normalize, max_line, max_size, NULL, 0, 0,
	    &one);
	decode(data, size, dot, normalize, max_line, max_size,
	    nchunks ? data : &one_chunk, nchunks ? nchunks : 1, outsize,
	    &many);
	if (one.outn != many.outn || memcmp(one.out, many.out, one.outn) != 0 ||
	    one.used != many.used || one.done != many.done ||
	    one.flags != many.flags || one.size != many.size ||
	    one.lines != many.lines)
		abort();

	/* the end of data, and only there */
	end = dot ? true_end(data, size) : 0;
	if (end != 0) {
		if (!one.done || one.used != end)
			abort();
	} else if (one.done || one.used != size)
		abort();

	/* CRLF became LF, bare CR went or became LF: never a CR out */
	if (memchr(one.out, '\r', one.outn) != NULL)
		abort();
	if (one.outn > max_size)
		abort();
	if (((one.flags & SMTP_DATA_BIG) != 0) != (one.size > max_size))
		abort();
	if (normalize && (one.flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR)))
		abort();

	/* a clean BDAT body is its input with CRLF made LF */
	if (!dot && !normalize && !(one.flags & (SMTP_DATA_BARE_LF |
	    SMTP_DATA_BARE_CR | SMTP_DATA_BIG))) {
		size_t o = 0;

		for (i = 0; i < size; i++) {
			if (data[i] == '\r' && i + 1 < size &&
			    data[i + 1] == '\n')
				continue;
			if (o >= one.outn || one.out[o++] != (char)data[i])
				abort();
		}
		if (o != one.outn)
			abort();
	}

	check_hdr(one.out, one.outn);
	free(one.out);
	free(many.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_data(data, size, 1, 0);
	fuzz_data(data, size, 1, 1);
	fuzz_data(data, size, 0, 0);
	fuzz_data(data, size, 0, 1);
	return 0;
}
