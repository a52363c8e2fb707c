#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

const char *progname = "sluice";

void
prog_init(const char *name)
{
	int fd;

	progname = name;
	/* Open fds 0-2 on /dev/null if closed: a later open() must not
	 * become our stdout and receive records meant for a pipe. */
	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd == -1)
			die_temp("open /dev/null: %s", strerror(errno));
		if (fd > 2) {
			close(fd);
			break;
		}
	}
}

static void
vlog(const char *tag, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX + 1];
	int n, m;
	size_t len;
	int saved = errno;

	n = snprintf(buf, sizeof(buf), "%s: %s", progname, tag);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	m = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (m < 0)
		m = 0;
	len = (size_t)n + (size_t)m;
	if (len > LOG_LINE_MAX - 1)
		len = LOG_LINE_MAX - 1;
	buf[len++] = '\n';
	/* One write: a short write to stderr is not worth a retry loop that
	 * could interleave with another thread's line. */
	if (write(2, buf, len) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
die_perm(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
	exit(100);
}

void
die_temp(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
	exit(111);
}

void
bug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("bug: ", fmt, ap);
	va_end(ap);
	abort();
}

char *
log_escape(char *dst, size_t dstsz, const void *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i, o = 0;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		size_t need = (c < 0x20 || c >= 0x7f || c == '\\') ? 4 : 1;

		if (o + need + 1 > dstsz) {
			/* cut, and say so */
			if (dstsz >= 4) {
				o = o + 4 > dstsz ? dstsz - 4 : o;
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1)
			dst[o++] = (char)c;
		else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}
