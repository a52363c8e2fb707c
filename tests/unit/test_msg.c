#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "t.h"

int
main(void)
{
	struct msg m;
	char err[128], *v;
	static const char stored[] =
	    "X-Sluice-Id: 1.M1P2Q3.h\n"
	    "X-Sluice-Rcpt-To: <b@example.test>\n"
	    "Received: from c (unknown [192.0.2.1])\n"
	    "\tby mx (sluice) with ESMTP id 1.M1P2Q3.h; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Received: from elsewhere\n"
	    "From: A <a@example.org>\n"
	    "Subject: folded\n"
	    " subject  \n"
	    "DKIM-Signature : v=1\n"
	    "\n"
	    "body\n"
	    "X-Sluice-Id: not a header\n";

	ok(msg_parse(&m, stored, strlen(stored), err, sizeof(err)) == 0,
	    "parse a stored message");
	ok(m.relay != NULL && strncmp(m.relay, "X-Sluice-Id:", 12) == 0,
	    "relay block found");
	ok(m.relay != NULL && m.relaylen > 0 &&
	    strncmp(m.relay + m.relaylen, "Received: from elsewhere", 24) == 0,
	    "relay block ends after our Received");
	is_int(m.nf, 4, "four fields of the message itself");
	ok(msg_field_is(&m.f[0], "received") && msg_field_is(&m.f[1], "FROM"),
	    "names compare without case");
	is_int(msg_find(&m, "from", 0, 1), 1, "find from the top");
	is_int(msg_find(&m, "Received", (long)m.nf - 1, -1), 0,
	    "find from the bottom");
	is_int(msg_find(&m, "To", 0, 1), -1, "missing field");
	ok(msg_field_is(&m.f[3], "DKIM-Signature"), "obs-fws before colon");
	v = msg_value(&m.f[2]);
	is_str(v, "folded subject", "value unfolded and trimmed");
	free(v);
	ok(m.f[2].rawlen == strlen("Subject: folded\r\n subject  \r\n"),
	    "raw field keeps folding and its CRLF");
	ok(m.body != NULL && strcmp(m.body, "body\r\nX-Sluice-Id: not a "
	    "header\r\n") == 0, "body in CRLF form");
	ok(strstr(m.buf, "\n") != NULL && strstr(m.buf, "\r\r") == NULL,
	    "LF became CRLF once");
	msg_free(&m);

	ok(msg_parse(&m, "From: x\r\nTo: y\r\n\r\nhi\r\n", 22, err,
	    sizeof(err)) == 0 && m.relay == NULL && m.nf == 2,
	    "CRLF input kept, no relay block");
	ok(m.body != NULL && m.bodylen == 4, "body of CRLF input");
	msg_free(&m);

	ok(msg_parse(&m, "X-Sluice-Verdict: x\nFrom: y\n\n", 29, err,
	    sizeof(err)) == 0 && m.relay == NULL && m.nf == 2,
	    "X-Sluice fields without an id are no relay block");
	msg_free(&m);

	ok(msg_parse(&m, "From: y\nnot a field\nTo: z\n\n", 27, err,
	    sizeof(err)) == 0 && m.bad_header && m.nf == 1,
	    "a line that is no field ends the header");
	msg_free(&m);

	ok(msg_parse(&m, "From: y", 7, err, sizeof(err)) == 0 && m.nf == 1 &&
	    m.body == NULL, "no empty line, no body");
	msg_free(&m);

	errno = 0;
	ok(msg_load(&m, "/nonexistent/x", 1000, err, sizeof(err)) == -1 &&
	    errno == ENOENT, "missing file");
	ok(msg_load(&m, "/etc/hostname", 1, err, sizeof(err)) == -1 &&
	    errno == E2BIG, "too big");
	return t_done();
}
