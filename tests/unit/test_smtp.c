/*
 * test_smtp: lib/smtp (command parser, DATA/BDAT decoder, header scanner)
 * and lib/envelope (the relay header block and its record).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "envelope.h"
#include "record.h"
#include "smtp.h"
#include "t.h"

/* A byte string and its length, NULs included. */
#define B(s)	s, sizeof(s) - 1

#define A8	"aaaaaaaa"
#define A32	A8 A8 A8 A8
#define A64	A32 A32
#define L63	A32 A8 A8 A8 "aaaaaaa"

/* s (n bytes) with CR, LF, NUL and other controls made visible. */
static void
esc(const char *s, size_t n, char *buf, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			o += (size_t)snprintf(buf + o, size - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(buf + o, size - o, "\\n");
		else if (c < 32 || c >= 127)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
}

/*
 * Commands.  want is the reply line of a refused command, or a summary of
 * the parse: the verb, "[arg]" when there is one, "<path>" and the
 * parameters of MAIL and RCPT (" 8bit" for an 8-bit path), the size and
 * LAST of BDAT.
 */
struct crow {
	const char *name;
	const char *in;
	size_t n;
	const char *want;
};

static const char *const verb_names[] = {
	"UNKNOWN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET",
	"NOOP", "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH",
	"FORBIDDEN"
};

static const struct crow crows[] = {
	/* every verb */
	{ "HELO", B("HELO mx.example"), "HELO [mx.example]" },
	{ "EHLO", B("EHLO mx.example"), "EHLO [mx.example]" },
	{ "MAIL", B("MAIL FROM:<a@b.example>"), "MAIL <a@b.example>" },
	{ "RCPT", B("RCPT TO:<c@d.example>"), "RCPT <c@d.example>" },
	{ "DATA", B("DATA"), "DATA" },
	{ "BDAT", B("BDAT 10"), "BDAT size=10" },
	{ "RSET", B("RSET"), "RSET" },
	{ "NOOP", B("NOOP"), "NOOP" },
	{ "NOOP with an argument", B("NOOP anything at all"),
	    "NOOP [anything at all]" },
	{ "QUIT", B("QUIT"), "QUIT" },
	{ "VRFY", B("VRFY postmaster"), "VRFY [postmaster]" },
	{ "EXPN", B("EXPN staff"), "EXPN [staff]" },
	{ "HELP", B("HELP"), "HELP" },
	{ "HELP with a topic", B("HELP MAIL"), "HELP [MAIL]" },
	{ "STARTTLS", B("STARTTLS"), "STARTTLS" },
	{ "AUTH", B("AUTH PLAIN AGFAAGI="), "AUTH [PLAIN AGFAAGI=]" },
	{ "unknown verb parses", B("XYZZY plugh"), "UNKNOWN [plugh]" },
	{ "empty line parses as unknown", B(""), "UNKNOWN" },
	{ "a verb prefix is not the verb", B("DATAX"), "UNKNOWN" },
	{ "a longer verb is not the verb", B("QUITE"), "UNKNOWN" },
	{ "MAIL without the space is unknown", B("MAILFROM:<a@b.example>"),
	    "UNKNOWN" },

	/* case */
	{ "lower-case verb", B("ehlo mx.example"), "EHLO [mx.example]" },
	{ "mixed-case MAIL FROM", B("mAiL fRoM:<a@b.example>"),
	    "MAIL <a@b.example>" },
	{ "lower-case RCPT TO", B("rcpt to:<c@d.example>"),
	    "RCPT <c@d.example>" },
	{ "lower-case data", B("data"), "DATA" },
	{ "mixed-case StartTLS", B("StartTLS"), "STARTTLS" },
	{ "lower-case bdat last", B("bdat 5 last"), "BDAT size=5 LAST" },
	{ "address case kept", B("MAIL FROM:<Ab@B.Example>"),
	    "MAIL <Ab@B.Example>" },

	/* blanks */
	{ "trailing blanks ignored", B("DATA   "), "DATA" },
	{ "trailing tab ignored", B("QUIT\t"), "QUIT" },
	{ "tab after the verb", B("HELO\tmx.example"), "HELO [mx.example]" },

	/* arguments where none are allowed, and missing ones */
	{ "DATA takes no argument", B("DATA x"),
	    "501 5.5.4 Syntax error: no parameters allowed" },
	{ "RSET takes no argument", B("RSET x"),
	    "501 5.5.4 Syntax error: no parameters allowed" },
	{ "QUIT takes no argument", B("QUIT now"),
	    "501 5.5.4 Syntax error: no parameters allowed" },
	{ "STARTTLS takes no argument", B("STARTTLS x"),
	    "501 5.5.4 Syntax error: no parameters allowed" },
	{ "VRFY needs an argument", B("VRFY"),
	    "501 5.5.4 Syntax error: argument required" },
	{ "EXPN needs an argument", B("EXPN "),
	    "501 5.5.4 Syntax error: argument required" },

	/* HELO and EHLO */
	{ "HELO without name", B("HELO"), "501 5.5.4 Syntax: HELO hostname" },
	{ "EHLO without name", B("EHLO"), "501 5.5.4 Syntax: EHLO hostname" },
	{ "EHLO with only blanks", B("EHLO   "),
	    "501 5.5.4 Syntax: EHLO hostname" },
	{ "HELO with two words", B("HELO mx example"),
	    "501 5.5.4 Syntax: HELO hostname" },
	{ "EHLO with two words", B("EHLO mx.example extra"),
	    "501 5.5.4 Syntax: EHLO hostname" },
	{ "EHLO with two spaces before the name", B("EHLO  mx.example"),
	    "501 5.5.4 Syntax: EHLO hostname" },
	{ "EHLO address literal", B("EHLO [192.0.2.1]"),
	    "EHLO [[192.0.2.1]]" },
	{ "EHLO IPv6 literal", B("EHLO [IPv6:2001:db8::1]"),
	    "EHLO [[IPv6:2001:db8::1]]" },
	{ "HELO single label", B("HELO a"), "HELO [a]" },

	/* MAIL FROM forms */
	{ "MAIL FROM with a space after the colon",
	    B("MAIL FROM: <a@b.example>"), "MAIL <a@b.example>" },
	{ "MAIL FROM with two spaces after the colon",
	    B("MAIL FROM:  <a@b.example>"), "MAIL <a@b.example>" },
	{ "RCPT TO with a space after the colon", B("RCPT TO: <c@d.example>"),
	    "RCPT <c@d.example>" },
	{ "null sender", B("MAIL FROM:<>"), "MAIL <>" },
	{ "null sender with SIZE", B("MAIL FROM:<> SIZE=100"),
	    "MAIL <> SIZE=100" },
	{ "null recipient refused", B("RCPT TO:<>"),
	    "501 5.1.3 Bad recipient address syntax" },
	{ "MAIL FROM without brackets", B("MAIL FROM:a@b.example"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "RCPT TO without brackets", B("RCPT TO:c@d.example"),
	    "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "MAIL FROM without colon", B("MAIL FROM <a@b.example>"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL TO", B("MAIL TO:<a@b.example>"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "RCPT FROM", B("RCPT FROM:<a@b.example>"),
	    "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "MAIL alone", B("MAIL"), "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL with two spaces before FROM", B("MAIL  FROM:<a@b.example>"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "path without closing bracket", B("MAIL FROM:<a@b.example"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "text glued to the path", B("MAIL FROM:<a@b.example>SIZE=1"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "unterminated quote", B("MAIL FROM:<\"abc@b.example>"),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },

	/* source routes */
	{ "source route dropped", B("MAIL FROM:<@r1.example,@r2.example:"
	    "a@b.example>"), "MAIL <a@b.example>" },
	{ "one-hop source route dropped", B("RCPT TO:<@r1.example:"
	    "c@d.example>"), "RCPT <c@d.example>" },
	{ "source route without colon", B("MAIL FROM:<@r1.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "source route with a bad domain",
	    B("MAIL FROM:<@r1..example:a@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "source route hop without @",
	    B("MAIL FROM:<@r1.example,r2.example:a@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "empty source route", B("RCPT TO:<@:c@d.example>"),
	    "501 5.1.3 Bad recipient address syntax" },

	/* quoted local parts */
	{ "quoted local part with a space",
	    B("MAIL FROM:<\"john smith\"@b.example>"),
	    "MAIL <\"john smith\"@b.example>" },
	{ "quoted local part with an escaped quote",
	    B("RCPT TO:<\"a\\\"b\"@d.example>"),
	    "RCPT <\"a\\\"b\"@d.example>" },
	{ "quoted local part with >", B("RCPT TO:<\"a>b\"@d.example>"),
	    "RCPT <\"a>b\"@d.example>" },
	{ "quoted local part with > and params",
	    B("RCPT TO:<\"a> NOTIFY=NEVER\"@d.example> NOTIFY=SUCCESS"),
	    "RCPT <\"a> NOTIFY=NEVER\"@d.example> NOTIFY=SUCCESS" },
	{ "quoted local part with an escaped backslash",
	    B("RCPT TO:<\"a\\\\\"@d.example>"), "RCPT <\"a\\\\\"@d.example>" },
	{ "empty quoted local part", B("RCPT TO:<\"\"@d.example>"),
	    "RCPT <\"\"@d.example>" },
	{ "quoted string then text", B("RCPT TO:<\"a\"b@d.example>"),
	    "501 5.1.3 Bad recipient address syntax" },
	{ "quoted local part without domain", B("RCPT TO:<\"a b\">"),
	    "501 5.1.3 Bad recipient address syntax" },

	/* postmaster */
	{ "RCPT postmaster without domain", B("RCPT TO:<postmaster>"),
	    "RCPT <postmaster>" },
	{ "RCPT PostMaster without domain", B("RCPT TO:<PostMaster>"),
	    "RCPT <PostMaster>" },
	{ "MAIL postmaster without domain", B("MAIL FROM:<postmaster>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "RCPT other local part without domain", B("RCPT TO:<abuse>"),
	    "501 5.1.3 Bad recipient address syntax" },

	/* address literals */
	{ "IPv4 literal", B("MAIL FROM:<a@[192.0.2.1]>"),
	    "MAIL <a@[192.0.2.1]>" },
	{ "IPv6 literal", B("RCPT TO:<c@[IPv6:2001:db8::1]>"),
	    "RCPT <c@[IPv6:2001:db8::1]>" },
	{ "IPv4 literal out of range", B("MAIL FROM:<a@[192.0.2.256]>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "IPv6 literal without tag", B("MAIL FROM:<a@[2001:db8::1]>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "IPv6 tag with IPv4", B("MAIL FROM:<a@[IPv6:192.0.2.1]>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "unclosed literal", B("MAIL FROM:<a@[192.0.2.1>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "empty literal", B("MAIL FROM:<a@[]>"),
	    "501 5.1.7 Bad sender address syntax" },

	/* bad addresses */
	{ "missing @", B("MAIL FROM:<ab.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "missing @ in RCPT", B("RCPT TO:<cd.example>"),
	    "501 5.1.3 Bad recipient address syntax" },
	{ "double dot in local part", B("MAIL FROM:<a..b@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "leading dot in local part", B("MAIL FROM:<.a@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "trailing dot in local part", B("MAIL FROM:<a.@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "double dot in domain", B("MAIL FROM:<a@b..example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "leading dot in domain", B("MAIL FROM:<a@.b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "trailing dot in domain", B("MAIL FROM:<a@b.example.>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "label starting with a hyphen", B("MAIL FROM:<a@-b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "label ending with a hyphen", B("RCPT TO:<c@d-.example>"),
	    "501 5.1.3 Bad recipient address syntax" },
	{ "hyphen inside a label", B("RCPT TO:<c@d-e.example>"),
	    "RCPT <c@d-e.example>" },
	{ "underscore in domain", B("RCPT TO:<c@d_e.example>"),
	    "501 5.1.3 Bad recipient address syntax" },
	{ "empty domain", B("MAIL FROM:<a@>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "empty local part", B("MAIL FROM:<@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "two @", B("MAIL FROM:<a@b@c.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "space in an unquoted local part", B("MAIL FROM:<a b@c.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "special in an unquoted local part", B("MAIL FROM:<a(b@c.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "atext specials allowed", B("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@b.ex>"),
	    "MAIL <!#$%&'*+-/=?^_`{|}~@b.ex>" },
	{ "64-byte local part", B("MAIL FROM:<" A64 "@b.example>"),
	    "MAIL <" A64 "@b.example>" },
	{ "65-byte local part", B("MAIL FROM:<" A64 "a@b.example>"),
	    "501 5.1.7 Bad sender address syntax" },
	{ "64-byte quoted local part", B("MAIL FROM:<\"" A32 " " A8 A8 A8
	    "aaaaa\"@b.example>"), "MAIL <\"" A32 " " A8 A8 A8
	    "aaaaa\"@b.example>" },
	{ "65-byte quoted local part", B("MAIL FROM:<\"" A32 " " A8 A8 A8
	    "aaaaaa\"@b.example>"), "501 5.1.7 Bad sender address syntax" },
	{ "63-byte label", B("RCPT TO:<c@" L63 ".example>"),
	    "RCPT <c@" L63 ".example>" },
	{ "64-byte label", B("RCPT TO:<c@" L63 "a.example>"),
	    "501 5.1.3 Bad recipient address syntax" },
	{ "8-bit local part", B("MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8"),
	    "MAIL <j\xc3\xb6rg@b.example> 8bit SMTPUTF8" },
	{ "8-bit domain", B("RCPT TO:<c@b\xc3\xbc" "cher.example>"),
	    "RCPT <c@b\xc3\xbc" "cher.example> 8bit" },

	/* SIZE */
	{ "SIZE", B("MAIL FROM:<a@b.example> SIZE=1000"),
	    "MAIL <a@b.example> SIZE=1000" },
	{ "size in lower case", B("MAIL FROM:<a@b.example> size=10"),
	    "MAIL <a@b.example> SIZE=10" },
	{ "SIZE without value", B("MAIL FROM:<a@b.example> SIZE"),
	    "501 5.5.4 Invalid parameter value" },
	{ "SIZE with empty value", B("MAIL FROM:<a@b.example> SIZE="),
	    "501 5.5.4 Syntax error in parameters" },
	{ "SIZE not a number", B("MAIL FROM:<a@b.example> SIZE=12a"),
	    "501 5.5.4 Invalid parameter value" },
	{ "SIZE negative", B("MAIL FROM:<a@b.example> SIZE=-1"),
	    "501 5.5.4 Invalid parameter value" },
	{ "SIZE of 20 digits", B("MAIL FROM:<a@b.example> "
	    "SIZE=99999999999999999999"),
	    "MAIL <a@b.example> SIZE=99999999999999999999" },
	{ "SIZE of 21 digits", B("MAIL FROM:<a@b.example> "
	    "SIZE=999999999999999999999"),
	    "501 5.5.4 Invalid parameter value" },
	{ "SIZE on RCPT", B("RCPT TO:<c@d.example> SIZE=1"),
	    "555 5.5.4 Unsupported parameter" },

	/* BODY */
	{ "BODY=7BIT", B("MAIL FROM:<a@b.example> BODY=7BIT"),
	    "MAIL <a@b.example> BODY=7BIT" },
	{ "BODY=8BITMIME", B("MAIL FROM:<a@b.example> BODY=8BITMIME"),
	    "MAIL <a@b.example> BODY=8BITMIME" },
	{ "body=8bitmime", B("MAIL FROM:<a@b.example> body=8bitmime"),
	    "MAIL <a@b.example> BODY=8bitmime" },
	{ "BODY=BINARYMIME refused", B("MAIL FROM:<a@b.example> "
	    "BODY=BINARYMIME"), "555 5.5.4 Unsupported BODY type" },
	{ "BODY=other refused", B("MAIL FROM:<a@b.example> BODY=9BIT"),
	    "555 5.5.4 Unsupported BODY type" },
	{ "BODY without value", B("MAIL FROM:<a@b.example> BODY"),
	    "555 5.5.4 Unsupported BODY type" },

	/* SMTPUTF8 */
	{ "SMTPUTF8", B("MAIL FROM:<a@b.example> SMTPUTF8"),
	    "MAIL <a@b.example> SMTPUTF8" },
	{ "SMTPUTF8 with a value", B("MAIL FROM:<a@b.example> SMTPUTF8=yes"),
	    "501 5.5.4 Invalid parameter value" },
	{ "SMTPUTF8 on RCPT", B("RCPT TO:<c@d.example> SMTPUTF8"),
	    "555 5.5.4 Unsupported parameter" },

	/* RET, ENVID */
	{ "RET=FULL", B("MAIL FROM:<a@b.example> RET=FULL"),
	    "MAIL <a@b.example> RET=FULL" },
	{ "RET=hdrs", B("MAIL FROM:<a@b.example> RET=hdrs"),
	    "MAIL <a@b.example> RET=hdrs" },
	{ "RET=ALL", B("MAIL FROM:<a@b.example> RET=ALL"),
	    "501 5.5.4 Invalid parameter value" },
	{ "RET without value", B("MAIL FROM:<a@b.example> RET"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ENVID xtext", B("MAIL FROM:<a@b.example> ENVID=QQ314159+2Bx"),
	    "MAIL <a@b.example> ENVID=QQ314159+2Bx" },
	{ "ENVID +HH lower case", B("MAIL FROM:<a@b.example> ENVID=a+2bx"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ENVID + not hex", B("MAIL FROM:<a@b.example> ENVID=a+ZZ"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ENVID + cut short", B("MAIL FROM:<a@b.example> ENVID=a+2"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ENVID with =", B("MAIL FROM:<a@b.example> ENVID=a=b"),
	    "501 5.5.4 Syntax error in parameters" },
	{ "ENVID without value", B("MAIL FROM:<a@b.example> ENVID"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ENVID on RCPT", B("RCPT TO:<c@d.example> ENVID=x"),
	    "555 5.5.4 Unsupported parameter" },

	/* NOTIFY */
	{ "NOTIFY=NEVER", B("RCPT TO:<c@d.example> NOTIFY=NEVER"),
	    "RCPT <c@d.example> NOTIFY=NEVER" },
	{ "NOTIFY=SUCCESS", B("RCPT TO:<c@d.example> NOTIFY=SUCCESS"),
	    "RCPT <c@d.example> NOTIFY=SUCCESS" },
	{ "NOTIFY all three", B("RCPT TO:<c@d.example> "
	    "NOTIFY=SUCCESS,FAILURE,DELAY"),
	    "RCPT <c@d.example> NOTIFY=SUCCESS,FAILURE,DELAY" },
	{ "NOTIFY in lower case", B("RCPT TO:<c@d.example> "
	    "notify=failure,delay"),
	    "RCPT <c@d.example> NOTIFY=failure,delay" },
	{ "NOTIFY NEVER with others", B("RCPT TO:<c@d.example> "
	    "NOTIFY=NEVER,SUCCESS"), "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY others with NEVER", B("RCPT TO:<c@d.example> "
	    "NOTIFY=FAILURE,NEVER"), "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY empty item", B("RCPT TO:<c@d.example> "
	    "NOTIFY=SUCCESS,,FAILURE"), "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY trailing comma", B("RCPT TO:<c@d.example> NOTIFY=SUCCESS,"),
	    "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY leading comma", B("RCPT TO:<c@d.example> NOTIFY=,DELAY"),
	    "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY unknown", B("RCPT TO:<c@d.example> NOTIFY=ALWAYS"),
	    "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY without value", B("RCPT TO:<c@d.example> NOTIFY"),
	    "501 5.5.4 Invalid parameter value" },
	{ "NOTIFY on MAIL", B("MAIL FROM:<a@b.example> NOTIFY=NEVER"),
	    "555 5.5.4 Unsupported parameter" },

	/* ORCPT */
	{ "ORCPT", B("RCPT TO:<c@d.example> ORCPT=rfc822;c@d.example"),
	    "RCPT <c@d.example> ORCPT=rfc822;c@d.example" },
	{ "ORCPT xtext", B("RCPT TO:<c@d.example> ORCPT=rfc822;c+2Bx@d.ex"),
	    "RCPT <c@d.example> ORCPT=rfc822;c+2Bx@d.ex" },
	{ "ORCPT and NOTIFY", B("RCPT TO:<c@d.example> NOTIFY=DELAY "
	    "ORCPT=rfc822;c@d.example"),
	    "RCPT <c@d.example> NOTIFY=DELAY ORCPT=rfc822;c@d.example" },
	{ "ORCPT without type", B("RCPT TO:<c@d.example> ORCPT=;c@d.example"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ORCPT without address", B("RCPT TO:<c@d.example> ORCPT=rfc822;"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ORCPT without semicolon", B("RCPT TO:<c@d.example> ORCPT=rfc822"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ORCPT bad type", B("RCPT TO:<c@d.example> ORCPT=rfc.822;c@d.ex"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ORCPT on MAIL", B("MAIL FROM:<a@b.example> ORCPT=rfc822;a@b.ex"),
	    "555 5.5.4 Unsupported parameter" },
	{ "ORCPT bad xtext", B("RCPT TO:<c@d.example> ORCPT=rfc822;a+zz@b"),
	    "501 5.5.4 Invalid parameter value" },
	{ "ORCPT lower-case xtext", B("RCPT TO:<c@d.example> "
	    "ORCPT=rfc822;a+2b@b"), "501 5.5.4 Invalid parameter value" },
	{ "ORCPT UTF-8 (RFC 6533)", B("RCPT TO:<c@d.example> "
	    "ORCPT=utf-8;j\xc3\xb6@b"), "RCPT <c@d.example> "
	    "ORCPT=utf-8;j\xc3\xb6@b" },
	{ "NOTIFY value twice", B("RCPT TO:<c@d.example> "
	    "NOTIFY=SUCCESS,SUCCESS"), "501 5.5.4 Invalid parameter value" },

	/* parameters in general */
	{ "several parameters", B("MAIL FROM:<a@b.example> SIZE=5 "
	    "BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x"),
	    "MAIL <a@b.example> SIZE=5 BODY=8BITMIME SMTPUTF8 RET=HDRS "
	    "ENVID=x" },
	{ "several spaces between parameters", B("MAIL FROM:<a@b.example>  "
	    "SIZE=5   BODY=7BIT"), "MAIL <a@b.example> SIZE=5 BODY=7BIT" },
	{ "duplicate parameter", B("MAIL FROM:<a@b.example> SIZE=1 SIZE=2"),
	    "501 5.5.4 Duplicate parameter" },
	{ "duplicate parameter, other case", B("MAIL FROM:<a@b.example> "
	    "SIZE=1 size=1"), "501 5.5.4 Duplicate parameter" },
	{ "duplicate NOTIFY", B("RCPT TO:<c@d.example> NOTIFY=NEVER "
	    "NOTIFY=NEVER"), "501 5.5.4 Duplicate parameter" },
	{ "unknown parameter", B("MAIL FROM:<a@b.example> XFOO=bar"),
	    "555 5.5.4 Unsupported parameter" },
	{ "AUTH parameter unsupported", B("MAIL FROM:<a@b.example> AUTH=<>"),
	    "555 5.5.4 Unsupported parameter" },
	{ "unknown after good ones", B("MAIL FROM:<a@b.example> SIZE=1 X=1"),
	    "555 5.5.4 Unsupported parameter" },
	{ "keyword starting with =", B("MAIL FROM:<a@b.example> =x"),
	    "501 5.5.4 Syntax error in parameters" },
	{ "keyword starting with -", B("MAIL FROM:<a@b.example> -SIZE=1"),
	    "501 5.5.4 Syntax error in parameters" },
	{ "keyword with _", B("MAIL FROM:<a@b.example> SI_ZE=1"),
	    "501 5.5.4 Syntax error in parameters" },
	{ "value with a second =", B("MAIL FROM:<a@b.example> SIZE=1=2"),
	    "501 5.5.4 Syntax error in parameters" },
	{ "seventeen parameters: the first repeat is refused",
	    B("MAIL FROM:<a@b.example> SIZE=1 SIZE=1 SIZE=1 SIZE=1 SIZE=1 "
	    "SIZE=1 SIZE=1 SIZE=1 SIZE=1 SIZE=1 SIZE=1 SIZE=1 SIZE=1 SIZE=1 "
	    "SIZE=1 SIZE=1 SIZE=1"), "501 5.5.4 Duplicate parameter" },

	/* BDAT */
	{ "BDAT 0", B("BDAT 0"), "BDAT size=0" },
	{ "BDAT 0 LAST", B("BDAT 0 LAST"), "BDAT size=0 LAST" },
	{ "BDAT leading zeros", B("BDAT 007"), "BDAT size=7" },
	{ "BDAT largest (19 digits)", B("BDAT 9999999999999999999"),
	    "BDAT size=9999999999999999999" },
	{ "BDAT 20 digits", B("BDAT 10000000000000000000"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT past 2^64", B("BDAT 18446744073709551616"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT without size", B("BDAT"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT LAST without size", B("BDAT LAST"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT negative", B("BDAT -1"), "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT plus sign", B("BDAT +1"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT hex", B("BDAT 0x10"), "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT junk after the size", B("BDAT 1x"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT other end marker", B("BDAT 1 FIRST"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT junk after LAST", B("BDAT 1 LAST x"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },
	{ "BDAT two spaces before LAST", B("BDAT 1  LAST"),
	    "501 5.5.4 Syntax: BDAT size [LAST]" },

	/* control characters */
	{ "NUL in a command", B("HELO a\0b"),
	    "500 5.5.2 Invalid character in command" },
	{ "NUL at the end", B("QUIT\0"),
	    "500 5.5.2 Invalid character in command" },
	{ "bare CR in a command", B("NOOP a\rb"),
	    "500 5.5.2 Invalid character in command" },
	{ "CR at the end", B("DATA\r"),
	    "500 5.5.2 Invalid character in command" },
	{ "LF in a command", B("NOOP a\nRSET"),
	    "500 5.5.2 Invalid character in command" },
	{ "ESC in an address", B("MAIL FROM:<a\x1b@b.example>"),
	    "500 5.5.2 Invalid character in command" },
	{ "DEL in a command", B("NOOP \x7f"),
	    "500 5.5.2 Invalid character in command" },
	{ "8-bit bytes are not controls", B("NOOP \xff\x80"),
	    "NOOP [\xff\x80]" },

	/* HTTP on the SMTP port */
	{ "GET", B("GET / HTTP/1.1"), "FORBIDDEN [/ HTTP/1.1]" },
	{ "POST", B("POST /x HTTP/1.0"), "FORBIDDEN [/x HTTP/1.0]" },
	{ "HEAD", B("HEAD / HTTP/1.0"), "FORBIDDEN [/ HTTP/1.0]" },
	{ "PUT", B("PUT /x HTTP/1.1"), "FORBIDDEN [/x HTTP/1.1]" },
	{ "CONNECT", B("CONNECT mx.example:25 HTTP/1.1"),
	    "FORBIDDEN [mx.example:25 HTTP/1.1]" },
	{ "get in lower case", B("get /"), "FORBIDDEN [/]" },
	{ "GETS is not GET", B("GETS /"), "UNKNOWN [/]" },
};

/* What smtp_parse made of line (n bytes): the reply or a summary. */
static void
parse_summary(const char *line, size_t n, char *sum, size_t size)
{
	struct smtp_cmd cmd;
	const char *reply = "unset";
	char *buf = malloc(n + 1);	/* exactly what the parser may use */
	size_t o;
	int rc, i;

	if (buf == NULL) {
		snprintf(sum, size, "out of memory");
		return;
	}
	memcpy(buf, line, n);
	rc = smtp_parse(buf, n, &cmd, &reply);
	if (rc == -1) {
		snprintf(sum, size, "%s", reply ? reply : "(no reply)");
		free(buf);
		return;
	}
	if (rc != 0 || reply != NULL) {
		snprintf(sum, size, "rc %d, reply %s", rc,
		    reply ? reply : "NULL");
		free(buf);
		return;
	}
	o = (size_t)snprintf(sum, size, "%s", verb_names[cmd.verb]);
	switch (cmd.verb) {
	case SMTP_MAIL:
	case SMTP_RCPT:
		o += (size_t)snprintf(sum + o, size - o, " <%s>%s",
		    cmd.path ? cmd.path : "(null)",
		    cmd.path_8bit ? " 8bit" : "");
		for (i = 0; i < cmd.nparams && o < size; i++)
			o += (size_t)snprintf(sum + o, size - o, " %s%s%s",
			    cmd.params[i].key, cmd.params[i].value ? "=" : "",
			    cmd.params[i].value ? cmd.params[i].value : "");
		break;
	case SMTP_BDAT:
		snprintf(sum + o, size - o, " size=%llu%s", cmd.bdat_size,
		    cmd.bdat_last ? " LAST" : "");
		break;
	default:
		if (cmd.arg != NULL && *cmd.arg != '\0')
			snprintf(sum + o, size - o, " [%s]", cmd.arg);
		break;
	}
	free(buf);
}

static void
check_cmd(const char *name, const char *in, size_t n, const char *want)
{
	char sum[2048];

	parse_summary(in, n, sum, sizeof(sum));
	is_str(sum, want, name);
}

/* Commands too long to write out in the table. */
static void
test_lengths(void)
{
	char line[1024], want[2048], dom[512];
	size_t n;

	/* a path of 256 bytes with its brackets (RFC 5321 4.5.3.1.3),
	 * then 257 */
	snprintf(dom, sizeof(dom), "%s.%s.%s.%.61s", L63, L63, L63, L63);
	snprintf(line, sizeof(line), "RCPT TO:<cc@%s>", dom + 2);
	snprintf(want, sizeof(want), "RCPT <cc@%s>", dom + 2);
	check_cmd("path of 256 bytes", line, strlen(line), want);
	snprintf(line, sizeof(line), "RCPT TO:<ccc@%s>", dom + 2);
	check_cmd("path of 257 bytes", line, strlen(line),
	    "501 5.1.3 Bad recipient address syntax");
	snprintf(line, sizeof(line), "MAIL FROM:<@r.example:a@%s>", dom);
	check_cmd("path of 256 bytes plus a source route", line, strlen(line),
	    "501 5.1.7 Bad sender address syntax");

	/* HELO names up to LIMIT_HELO */
	memcpy(line, "EHLO ", 5);
	memset(line + 5, 'h', LIMIT_HELO);
	line[5 + LIMIT_HELO] = '\0';
	snprintf(want, sizeof(want), "EHLO [%s]", line + 5);
	check_cmd("EHLO name of LIMIT_HELO bytes", line, strlen(line), want);
	line[5 + LIMIT_HELO] = 'h';
	line[6 + LIMIT_HELO] = '\0';
	check_cmd("EHLO name over LIMIT_HELO", line, strlen(line),
	    "501 5.5.4 Syntax: EHLO hostname");

	/* ENVID up to 100 characters (decoded) */
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.example> "
	    "ENVID=");
	memset(line + n, 'e', 100);
	line[n + 100] = '\0';
	snprintf(want, sizeof(want), "MAIL <a@b.example> %s", line + 24);
	check_cmd("ENVID of 100", line, strlen(line), want);
	line[n + 100] = 'e';
	line[n + 101] = '\0';
	check_cmd("ENVID of 101", line, strlen(line),
	    "501 5.5.4 Invalid parameter value");

	/* the parser writes its NUL at buf[len], not past it */
	{
		char b[] = "RSET";
		struct smtp_cmd cmd;
		const char *reply;

		ok(smtp_parse(b, 4, &cmd, &reply) == 0 &&
		    cmd.verb == SMTP_RSET, "parse in a buffer of len + 1");
	}
}

static void
test_params(void)
{
	char line[] = "MAIL FROM:<a@b.example> size=10 SMTPUTF8";
	struct smtp_cmd cmd;
	const char *reply;

	ok(smtp_parse(line, strlen(line), &cmd, &reply) == 0, "MAIL parses");
	is_str(smtp_param(&cmd, "SIZE"), "10", "smtp_param value");
	is_str(smtp_param(&cmd, "SMTPUTF8"), "", "smtp_param keyword only");
	ok(smtp_param(&cmd, "BODY") == NULL, "smtp_param absent");
	ok(smtp_param(&cmd, "size") == NULL, "smtp_param wants upper case");
	is_int(cmd.nparams, 2, "two parameters");
}

static const struct {
	const char *s;
	int utf8, want;
} domains[] = {
	{ "example.org", 0, 1 },
	{ "a", 0, 1 },
	{ "xn--bcher-kva.example", 0, 1 },
	{ "123.example", 0, 1 },
	{ "", 0, 0 },
	{ ".", 0, 0 },
	{ "a..b", 0, 0 },
	{ "a.", 0, 0 },
	{ "-a", 0, 0 },
	{ "a-", 0, 0 },
	{ "a b", 0, 0 },
	{ "b\xc3\xbc" "cher.example", 0, 0 },
	{ "b\xc3\xbc" "cher.example", 1, 1 },
	{ "[192.0.2.1]", 0, 1 },
	{ "[IPv6:2001:db8::1]", 0, 1 },
	{ "[ipv6:::1]", 0, 1 },
	{ "[IPv6:2001:db8::1", 0, 0 },
	{ "[192.0.2]", 0, 0 },
	{ "[1.2.3.4.5]", 0, 0 },
	{ "[]", 0, 0 },
};

static void
test_domains(void)
{
	char name[600], big[300];
	size_t i;

	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		char e[128];

		esc(domains[i].s, strlen(domains[i].s), e, sizeof(e));
		snprintf(name, sizeof(name), "smtp_valid_domain \"%s\"%s %s", e,
		    domains[i].utf8 ? " (utf8)" : "",
		    domains[i].want ? "valid" : "invalid");
		is_int(smtp_valid_domain(domains[i].s, domains[i].utf8),
		    domains[i].want, name);
	}
	/* 4 labels of 63: 255 bytes, the most a domain may have */
	snprintf(big, sizeof(big), "%s.%s.%s.%s", L63, L63, L63, L63);
	is_int(smtp_valid_domain(big, 0), 1, "domain of 255 bytes valid");
	snprintf(big, sizeof(big), "%s.%s.%s.%s.a", L63, L63, L63, L63);
	is_int(smtp_valid_domain(big, 0), 0, "domain of 257 bytes invalid");
	is_int(smtp_valid_domain(L63 "a", 0), 0, "label of 64 invalid");
}

/*
 * The DATA decoder.  Each row is decoded all at once; the result must be
 * the one given, and feeding it 1 or 2 bytes at a time, with output
 * buffers of 2 and 3 bytes, and split in two at every byte, must give the
 * same result.
 */
struct drow {
	const char *name;
	const char *in;
	size_t n;
	int dot, normalize;
	size_t max_line;
	unsigned long long max_size;
	const char *out;	/* decoded output, escaped as by esc() */
	int flags;
	int done;
	size_t used;		/* (size_t)-1: all of it */
	unsigned long long size, lines;
};

#define ALL	((size_t)-1)
#define BIG	(1ULL << 20)
#define LF	SMTP_DATA_BARE_LF
#define CR	SMTP_DATA_BARE_CR

static const struct drow drows[] = {
	/* DATA */
	{ "a message", B("Subject: x\r\n\r\nbody\r\n.\r\n"), 1, 0, 1000, BIG,
	    "Subject: x\\n\\nbody\\n", 0, 1, ALL, 20, 3 },
	{ "an empty message", B(".\r\n"), 1, 0, 1000, BIG, "", 0, 1, ALL, 0,
	    0 },
	{ "the next command is not consumed", B("a\r\n.\r\nQUIT\r\n"), 1, 0,
	    1000, BIG, "a\\n", 0, 1, 6, 3, 1 },
	{ "pipelined end and next message", B("a\r\n.\r\n.\r\n"), 1, 0, 1000,
	    BIG, "a\\n", 0, 1, 6, 3, 1 },
	{ "dot-unstuffing", B("..a\r\n..\r\n...\r\nb.c\r\n.\r\n"), 1, 0, 1000,
	    BIG, ".a\\n.\\n..\\nb.c\\n", 0, 1, ALL, 16, 4 },
	{ "a dot line with text loses the dot", B(".x\r\n.\r\n"), 1, 0, 1000,
	    BIG, "x\\n", 0, 1, ALL, 3, 1 },
	{ "dots inside lines stay", B("a.\r\n.b.\r\n.\r\n"), 1, 0, 1000, BIG,
	    "a.\\nb.\\n", 0, 1, ALL, 8, 2 },
	{ "CRLF dot CR is not the end yet", B("a\r\n.\r"), 1, 0, 1000, BIG,
	    "a\\n", 0, 0, ALL, 3, 1 },
	{ "CRLF dot is not the end yet", B("a\r\n."), 1, 0, 1000, BIG,
	    "a\\n", 0, 0, ALL, 3, 1 },
	{ "no end without CRLF dot CRLF", B("a\r\nb"), 1, 0, 1000, BIG,
	    "a\\nb", 0, 0, ALL, 4, 1 },
	{ "NUL flagged and kept", B("a\0b\r\n.\r\n"), 1, 0, 1000, BIG,
	    "a\\x00b\\n", SMTP_DATA_NUL, 1, ALL, 5, 1 },
	{ "8-bit bytes kept", B("\xc3\xa9\xff\r\n.\r\n"), 1, 0, 1000, BIG,
	    "\\xc3\\xa9\\xff\\n", 0, 1, ALL, 5, 1 },

	/* smuggling: none of these end the data */
	{ "LF dot LF", B("a\n.\nb\r\n.\r\n"), 1, 0, 1000, BIG, "a.b\\n", LF,
	    1, ALL, 5, 1 },
	{ "LF dot CRLF", B("a\n.\r\nb\r\n.\r\n"), 1, 0, 1000, BIG,
	    "a.\\nb\\n", LF, 1, ALL, 7, 2 },
	{ "CRLF dot LF", B("a\r\n.\nb\r\n.\r\n"), 1, 0, 1000, BIG,
	    "a\\n.b\\n", LF, 1, ALL, 7, 2 },
	{ "CR dot CR", B("a\r.\rb\r\n.\r\n"), 1, 0, 1000, BIG, "a.b\\n", CR,
	    1, ALL, 5, 1 },
	{ "CR dot CRLF", B("a\r.\r\nb\r\n.\r\n"), 1, 0, 1000, BIG,
	    "a.\\nb\\n", CR, 1, ALL, 7, 2 },
	{ "CRLF dot CR then junk", B("a\r\n.\rMAIL FROM:<x@y>\r\n.\r\n"), 1,
	    0, 1000, BIG, "a\\n.MAIL FROM:<x@y>\\n", CR, 1, ALL, 21, 2 },
	{ "LF dot LF alone never ends", B("a\n.\n"), 1, 0, 1000, BIG, "a.", LF,
	    0, ALL, 2, 0 },
	{ "LF dot CRLF alone never ends", B("a\n.\r\n"), 1, 0, 1000, BIG,
	    "a.\\n", LF, 0, ALL, 4, 1 },
	{ "LF dot CRLF right after DATA", B("\n.\r\n.\r\n"), 1, 0, 1000, BIG,
	    ".\\n", LF, 1, ALL, 3, 1 },
	{ "LF then a true CRLF dot CRLF ends", B("a\n\r\n.\r\nX"), 1, 0, 1000,
	    BIG, "a\\n", LF, 1, 7, 3, 1 },
	{ "CR CR LF dot CRLF ends", B("a\r\r\n.\r\n"), 1, 0, 1000, BIG,
	    "a\\n", CR, 1, ALL, 3, 1 },

	/* normalize: bare CR and LF end lines, only CRLF.CRLF ends */
	{ "normalized LF dot LF", B("a\n.\nb\r\n.\r\n"), 1, 1, 1000, BIG,
	    "a\\n.\\nb\\n", 0, 1, ALL, 9, 3 },
	{ "normalized LF dot CRLF", B("a\n.\r\nb\r\n.\r\n"), 1, 1, 1000, BIG,
	    "a\\n.\\nb\\n", 0, 1, ALL, 9, 3 },
	{ "normalized CRLF dot LF", B("a\r\n.\nb\r\n.\r\n"), 1, 1, 1000, BIG,
	    "a\\n.\\nb\\n", 0, 1, ALL, 9, 3 },
	{ "normalized CR dot CR", B("a\r.\rb\r\n.\r\n"), 1, 1, 1000, BIG,
	    "a\\n.\\nb\\n", 0, 1, ALL, 9, 3 },
	{ "normalized CRLF dot CR then junk", B("a\r\n.\rjunk\r\n.\r\n"), 1, 1,
	    1000, BIG, "a\\n.\\njunk\\n", 0, 1, ALL, 12, 3 },
	{ "normalized LF dot CRLF alone never ends", B("a\n.\r\n"), 1, 1, 1000,
	    BIG, "a\\n.\\n", 0, 0, ALL, 6, 2 },
	{ "normalized LF dot LF alone never ends", B("a\n.\n"), 1, 1, 1000,
	    BIG, "a\\n.\\n", 0, 0, ALL, 6, 2 },
	{ "normalized unstuffing after a bare LF", B("a\n..x\r\n.\r\n"), 1, 1,
	    1000, BIG, "a\\n.x\\n", 0, 1, ALL, 7, 2 },
	{ "normalized CR CR LF", B("a\r\r\n.\r\n"), 1, 1, 1000, BIG,
	    "a\\n\\n", 0, 1, ALL, 5, 2 },
	{ "normalized bare CR at the end of a line", B("a\rb\r\n.\r\n"), 1, 1,
	    1000, BIG, "a\\nb\\n", 0, 1, ALL, 6, 2 },

	/* BDAT: no dot-stuffing, no end */
	{ "BDAT keeps dots and never ends", B("a\r\n.\r\n..b\r\n"), 0, 0,
	    1000, BIG, "a\\n.\\n..b\\n", 0, 0, ALL, 11, 3 },
	{ "BDAT bare LF flagged", B("a\nb\r\n"), 0, 0, 1000, BIG, "ab\\n", LF,
	    0, ALL, 4, 1 },
	{ "BDAT bare CR flagged", B("a\rb\r\n"), 0, 0, 1000, BIG, "ab\\n", CR,
	    0, ALL, 4, 1 },
	{ "BDAT CR pending at the end is bare", B("a\r\nb\r"), 0, 0, 1000,
	    BIG, "a\\nb", CR, 0, ALL, 4, 1 },
	{ "BDAT normalized bare LF", B("a\nb\r\n"), 0, 1, 1000, BIG,
	    "a\\nb\\n", 0, 0, ALL, 6, 2 },
	{ "BDAT keeps NUL", B("\0\r\n"), 0, 0, 1000, BIG, "\\x00\\n",
	    SMTP_DATA_NUL, 0, ALL, 3, 1 },

	/* line length, CRLF included */
	{ "line of 10 with CRLF at limit 10", B("12345678\r\n.\r\n"), 1, 0,
	    10, BIG, "12345678\\n", 0, 1, ALL, 10, 1 },
	{ "line of 11 with CRLF at limit 10", B("123456789\r\n.\r\n"), 1, 0,
	    10, BIG, "123456789\\n", SMTP_DATA_LONG, 1, ALL, 11, 1 },
	{ "long line without its end", B("12345678901"), 1, 0, 10, BIG,
	    "12345678901", SMTP_DATA_LONG, 0, ALL, 11, 0 },
	{ "short lines never long", B("1234567\r\n1234567\r\n.\r\n"), 1, 0,
	    10, BIG, "1234567\\n1234567\\n", 0, 1, ALL, 18, 2 },
	{ "BDAT long line", B("123456789\r\n"), 0, 0, 10, BIG,
	    "123456789\\n", SMTP_DATA_LONG, 0, ALL, 11, 1 },

	/* size, CRLF counted as 2 */
	{ "size limit: output stops, input read to the end",
	    B("0123456789\r\nabc\r\n.\r\nX"), 1, 0, 1000, 10, "0123456789",
	    SMTP_DATA_BIG, 1, 20, 17, 2 },
	{ "size at the limit (CRLF is 2)", B("abcd\r\nefgh\r\n.\r\n"), 1, 0,
	    1000, 12, "abcd\\nefgh\\n", 0, 1, ALL, 12, 2 },
	{ "size one over the limit", B("abcd\r\nefgh\r\n.\r\n"), 1, 0, 1000,
	    11, "abcd\\nefgh", SMTP_DATA_BIG, 1, ALL, 12, 2 },
	{ "stuffed dots are not counted", B("..\r\n.\r\n"), 1, 0, 1000, 3,
	    ".\\n", 0, 1, ALL, 3, 1 },
	{ "normalized bare LF counts as a CRLF", B("ab\ncd\n"), 0, 1, 1000,
	    7, "ab\\ncd", SMTP_DATA_BIG, 0, ALL, 8, 2 },
	{ "BDAT over the size", B("ab\r\ncd"), 0, 0, 1000, 4, "ab\\n",
	    SMTP_DATA_BIG, 0, ALL, 6, 1 },
	{ "size 0 takes nothing", B("a\r\n.\r\n"), 1, 0, 1000, 0, "",
	    SMTP_DATA_BIG, 1, ALL, 3, 1 },
};

struct dres {
	char out[4096];
	size_t outn;
	int flags, done, bad;
	size_t used;
	unsigned long long size, lines;
};

/*
 * Decode in (n bytes) as the row says: feed in[0, split), then the rest,
 * at most chunk bytes a call (0: all), with outsize bytes of output room
 * (a buffer of exactly that size, so that ASan sees any overrun).
 */
static void
decode(const struct drow *r, size_t split, size_t chunk, size_t outsize,
    struct dres *res)
{
	struct smtp_data d;
	char *obuf = malloc(outsize);
	size_t pos = 0, calls = 0;

	memset(res, 0, sizeof(*res));
	if (obuf == NULL) {
		res->bad = 1;
		return;
	}
	smtp_data_init(&d, r->dot, r->normalize, r->max_line, r->max_size);
	while (pos < r->n && !res->done) {
		size_t end = pos < split ? split : r->n;
		size_t left = end - pos, olen, used;

		if (chunk != 0 && left > chunk)
			left = chunk;
		while (left > 0 && !res->done) {
			olen = (size_t)-1;
			used = smtp_data_feed(&d, r->in + pos, left, obuf,
			    outsize, &olen, &res->done);
			/* no overrun, and progress on every call */
			if (used > left || olen > outsize ||
			    (used == 0 && olen == 0 && !res->done) ||
			    res->outn + olen > sizeof(res->out) ||
			    ++calls > 10 * r->n + 10) {
				res->bad = 1;
				goto out;
			}
			memcpy(res->out + res->outn, obuf, olen);
			res->outn += olen;
			pos += used;
			left -= used;
		}
	}
	if (!r->dot) {
		char tail[2];
		size_t n = smtp_data_finish(&d, tail);

		if (res->outn + n > sizeof(res->out)) {
			res->bad = 1;
			goto out;
		}
		memcpy(res->out + res->outn, tail, n);
		res->outn += n;
	}
out:
	res->used = pos;
	res->flags = d.flags;
	res->size = d.size;
	res->lines = d.lines;
	free(obuf);
}

/* A decoder result as one line: the output (escaped), then the facts. */
static void
summary(const char *out, int done, int flags, size_t used,
    unsigned long long size, unsigned long long lines, char *buf,
    size_t bufsize)
{
	snprintf(buf, bufsize, "\"%s\"%s%s%s%s%s%s used=%zu size=%llu "
	    "lines=%llu", out, done ? " done" : "",
	    flags & LF ? " BARE_LF" : "", flags & CR ? " BARE_CR" : "",
	    flags & SMTP_DATA_NUL ? " NUL" : "",
	    flags & SMTP_DATA_LONG ? " LONG" : "",
	    flags & SMTP_DATA_BIG ? " BIG" : "", used, size, lines);
}

static void
dres_summary(const struct dres *res, char *buf, size_t size)
{
	static char e[4096 * 4 + 1];

	if (res->bad) {
		snprintf(buf, size, "bad: overrun, no progress or too long");
		return;
	}
	esc(res->out, res->outn, e, sizeof(e));
	summary(e, res->done, res->flags, res->used, res->size, res->lines,
	    buf, size);
}

static void
test_data(void)
{
	static char got[20000], want[20000], other[20000];
	struct dres res;
	char name[256];
	size_t i, k;

	for (i = 0; i < sizeof(drows) / sizeof(drows[0]); i++) {
		const struct drow *r = &drows[i];
		int same;

		summary(r->out, r->done, r->flags,
		    r->used == ALL ? r->n : r->used, r->size, r->lines, want,
		    sizeof(want));
		decode(r, r->n, 0, 2 * r->n + 16, &res);
		dres_summary(&res, got, sizeof(got));
		snprintf(name, sizeof(name), "data: %s", r->name);
		is_str(got, want, name);

		decode(r, r->n, 1, 64, &res);
		dres_summary(&res, other, sizeof(other));
		snprintf(name, sizeof(name), "data: %s: 1 byte at a time",
		    r->name);
		is_str(other, got, name);

		decode(r, r->n, 2, 64, &res);
		dres_summary(&res, other, sizeof(other));
		snprintf(name, sizeof(name), "data: %s: 2 bytes at a time",
		    r->name);
		is_str(other, got, name);

		decode(r, r->n, 0, 2, &res);
		dres_summary(&res, other, sizeof(other));
		snprintf(name, sizeof(name), "data: %s: output buffer of 2",
		    r->name);
		is_str(other, got, name);

		decode(r, r->n, 0, 3, &res);
		dres_summary(&res, other, sizeof(other));
		snprintf(name, sizeof(name), "data: %s: output buffer of 3",
		    r->name);
		is_str(other, got, name);

		same = 1;
		for (k = 0; k <= r->n && same; k++) {
			decode(r, k, 0, 3, &res);
			dres_summary(&res, other, sizeof(other));
			if (strcmp(other, got) != 0) {
				same = 0;
				printf("#   split at %zu: %s\n", k, other);
			}
		}
		snprintf(name, sizeof(name), "data: %s: split at every byte",
		    r->name);
		ok(same, name);
	}
}

/* After the end, a new smtp_data_init starts clean: the flags of one
 * message do not leak into the next; the state after done is BOL. */
static void
test_data_again(void)
{
	static const char in[] = "a\nb\r\n.\r\n.\r\n";
	struct smtp_data d;
	char out[64];
	size_t olen, used;
	int done;

	smtp_data_init(&d, 1, 0, 1000, BIG);
	used = smtp_data_feed(&d, in, sizeof(in) - 1, out, sizeof(out), &olen,
	    &done);
	ok(done && used == 8 && (d.flags & LF), "first message ends, bare LF");
	used = smtp_data_feed(&d, in + used, sizeof(in) - 1 - used, out,
	    sizeof(out), &olen, &done);
	ok(done && used == 3 && olen == 0,
	    "after the end, \".\\r\\n\" ends again (line start)");
	smtp_data_init(&d, 1, 0, 1000, BIG);
	ok(d.flags == 0 && d.size == 0 && d.lines == 0, "init clears");

	/* output buffers under 2 take nothing */
	smtp_data_init(&d, 1, 0, 1000, BIG);
	used = smtp_data_feed(&d, "abc", 3, out, 1, &olen, &done);
	ok(used == 0 && olen == 0 && !done, "output room of 1 takes nothing");

	/* a huge input past the size limit: output stays empty */
	{
		static char big[200000];
		size_t pos = 0;

		memset(big, 'x', sizeof(big));
		memcpy(big + sizeof(big) - 5, "\r\n.\r\n", 5);
		smtp_data_init(&d, 1, 0, sizeof(big), 1000);
		done = 0;
		olen = 0;
		while (pos < sizeof(big) && !done) {
			size_t o;

			pos += smtp_data_feed(&d, big + pos, sizeof(big) - pos,
			    out, sizeof(out), &o, &done);
			olen += o;
		}
		ok(done && pos == sizeof(big) && olen == 1000 &&
		    (d.flags & SMTP_DATA_BIG) && d.size == sizeof(big) - 3,
		    "200000 bytes at a limit of 1000: 1000 out, all read");
	}
}

/* The header scanner. */
struct hrow {
	const char *name;
	const char *in;
	const char *want;
};

static const struct hrow hrows[] = {
	{ "the four fields", "From: Alice <a@b.example>\nSubject: hi\n"
	    "Message-ID: <1@b.example>\nDate: Tue, 14 Nov 2023 22:13:20 "
	    "+0000\n\nbody\n", "from=[Alice <a@b.example>] subject=[hi] "
	    "msgid=[<1@b.example>] date=[Tue, 14 Nov 2023 22:13:20 +0000] "
	    "received=0 done" },
	{ "names in any case", "FROM: a\nsubject: b\nmessage-id: c\n"
	    "DATE: d\n\n", "from=[a] subject=[b] msgid=[c] date=[d] received=0 "
	    "done" },
	{ "folded Subject unfolded", "Subject: hello\n world\n\tagain\n"
	    "From: a\n\n", "from=[a] subject=[hello world\tagain] msgid=- "
	    "date=- received=0 done" },
	{ "first of repeated From kept", "From: first\nFrom: second\n\n",
	    "from=[first] subject=- msgid=- date=- received=0 done" },
	{ "repeated Subject fold not appended", "Subject: one\n"
	    "Subject: two\n more\n\n", "from=- subject=[one] msgid=- date=- "
	    "received=0 done" },
	{ "Received counted", "Received: from a\nReceived: from b\n by c\n"
	    "received: from d\nX-Received: no\n\n", "from=- subject=- msgid=- "
	    "date=- received=3 done" },
	{ "obsolete blank before the colon", "Subject : obsolete\n"
	    "Received\t: x\n\n", "from=- subject=[obsolete] msgid=- date=- "
	    "received=1 done" },
	{ "blanks around the value trimmed", "Subject:   x y  \t\n\n",
	    "from=- subject=[x y] msgid=- date=- received=0 done" },
	{ "empty value", "Subject:\n\n", "from=- subject=[] msgid=- date=- "
	    "received=0 done" },
	{ "header ends at the empty line", "Subject: a\n\nFrom: b\n",
	    "from=- subject=[a] msgid=- date=- received=0 done" },
	{ "a line without colon ends the header", "Subject: a\nnot a header\n"
	    "From: b\n\n", "from=- subject=[a] msgid=- date=- received=0 "
	    "done" },
	{ "no empty line yet", "Subject: a\n", "from=- subject=[a] msgid=- "
	    "date=- received=0" },
	{ "no header at all", "\nSubject: a\n", "from=- subject=- msgid=- "
	    "date=- received=0 done" },
	{ "continuation first is ignored", " folded\nSubject: s\n\n",
	    "from=- subject=[s] msgid=- date=- received=0 done" },
	{ "continuation of another field", "Subject: a\nX-Other: b\n c\n\n",
	    "from=- subject=[a] msgid=- date=- received=0 done" },
	{ "long field names skipped", "X-A-Very-Long-Field-Name-Indeed-"
	    "Longer-Than-32: v\nSubject: s\n\n", "from=- subject=[s] msgid=- "
	    "date=- received=0 done" },
	{ "a long name that starts as Subject", "Subjectxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxx: v\n\n", "from=- subject=- msgid=- date=- "
	    "received=0 done" },
	{ "empty name", ": x\nSubject: s\n\n", "from=- subject=[s] msgid=- "
	    "date=- received=0 done" },
	{ "a long name padded with blanks is not Subject", "Subject"
	    "                        X-Evil: forged\nSubject: real\n\n",
	    "from=- subject=- msgid=- date=- received=0 done" },
	{ "a name of 40 bytes then a colon is no known field", "From"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: forged\nFrom: real\n\n",
	    "from=[real] subject=- msgid=- date=- received=0 done" },
	{ "a blank inside a name ends the header", "Subject X: v\n"
	    "From: f\n\n", "from=- subject=- msgid=- date=- received=0 "
	    "done" },
};

static void
hdr_summary(struct smtp_hdr *h, char *buf, size_t size)
{
	static const char *const key[] = { "from", "subject", "msgid",
	    "date" };
	size_t o = 0;
	int f;

	buf[0] = '\0';
	for (f = 0; f < SMTP_HDR_NFIELDS; f++) {
		const char *v = smtp_hdr_get(h, f);

		o += (size_t)snprintf(buf + o, size - o, v ? "%s=[%s] " :
		    "%s=- ", key[f], v);
		if (o >= size)
			return;
	}
	snprintf(buf + o, size - o, "received=%u%s", h->received,
	    h->done ? " done" : "");
}

static void
test_hdr(void)
{
	static struct smtp_hdr h, h1;
	char got[4096], other[4096], name[256];
	size_t i, j, n;
	int r, r1;

	for (i = 0; i < sizeof(hrows) / sizeof(hrows[0]); i++) {
		const struct hrow *row = &hrows[i];

		n = strlen(row->in);
		smtp_hdr_init(&h);
		r = smtp_hdr_feed(&h, row->in, n);
		hdr_summary(&h, got, sizeof(got));
		snprintf(name, sizeof(name), "hdr: %s", row->name);
		is_str(got, row->want, name);
		is_int(r, h.done, "hdr: returns done");

		smtp_hdr_init(&h1);
		r1 = 0;
		for (j = 0; j < n; j++)
			r1 = smtp_hdr_feed(&h1, row->in + j, 1);
		hdr_summary(&h1, other, sizeof(other));
		snprintf(name, sizeof(name), "hdr: %s: a byte at a time",
		    row->name);
		ok(strcmp(other, got) == 0 && r1 == r, name);
	}

	/* a NUL in a field name ends the header */
	smtp_hdr_init(&h);
	r = smtp_hdr_feed(&h, "Subject: a\nFr\0om: b\n\n", 20);
	hdr_summary(&h, got, sizeof(got));
	is_str(got, "from=- subject=[a] msgid=- date=- received=0 done",
	    "hdr: a NUL in a name ends the header");

	/* values are cut at SMTP_HDR_VALUE */
	{
		static char in[3000];

		memcpy(in, "Subject: ", 9);
		memset(in + 9, 'x', 2000);
		memcpy(in + 2009, "\n\n", 3);
		smtp_hdr_init(&h);
		smtp_hdr_feed(&h, in, strlen(in));
		is_int(strlen(smtp_hdr_get(&h, SMTP_HDR_SUBJECT)),
		    SMTP_HDR_VALUE - 1, "hdr: value cut at SMTP_HDR_VALUE "
		    "(leading blank trimmed)");
	}

	/* the header section is capped at LIMIT_HEADER_SIZE */
	{
		static char line[1001];
		unsigned long long fed = 0;

		memcpy(line, "X-Pad: ", 7);
		memset(line + 7, 'p', 992);
		line[999] = '\n';
		smtp_hdr_init(&h);
		r = 0;
		while (!r && fed < 2ULL * LIMIT_HEADER_SIZE) {
			r = smtp_hdr_feed(&h, line, 1000);
			fed += 1000;
		}
		ok(r == 1 && h.done, "hdr: 1 MiB of header ends it");
		ok(fed > LIMIT_HEADER_SIZE && fed < LIMIT_HEADER_SIZE + 2000,
		    "hdr: ended at the cap, not before");
		r = smtp_hdr_feed(&h, "Subject: late\n\n", 15);
		ok(r == 1 && smtp_hdr_get(&h, SMTP_HDR_SUBJECT) == NULL,
		    "hdr: nothing is read past the cap");
	}
}

/* The envelope: header block, read back, record. */
static char *
dumps(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static int
write_file(const char *path, const char *a, size_t alen, const char *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t blen = strlen(b);

	if (fd == -1)
		return -1;
	if (write(fd, a, alen) != (ssize_t)alen ||
	    write(fd, b, blen) != (ssize_t)blen) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static const char message[] =
    "From: Alice <a@b.example>\n"
    "Subject: hello\n"
    " there\n"
    "X-Sluice-Rcpt-To: <evil@attacker.example>\n"
    "X-Sluice-Id: 1.evil\n"
    "Message-ID: <m1@b.example>\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    "\n"
    "body\n"
    "X-Sluice-Rcpt-To: <evil2@attacker.example>\n";

static void
test_envelope(void)
{
	char tmpl[] = "/tmp/test_smtp.XXXXXX", *dir, path[512], why[128];
	struct envelope e, r;
	struct stat st;
	json_t *j1, *j2;
	char *hdr, *s1, *s2;
	size_t len, i;
	int rc;

	dir = mkdtemp(tmpl);
	ok(dir != NULL, "envelope: temp dir");
	if (dir == NULL)
		return;

	envelope_init(&e);
	snprintf(e.id, sizeof(e.id), "1700000000.M123456P42Q7.mx1");
	e.received = 1700000000;
	snprintf(e.ip, sizeof(e.ip), "2001:db8::1");
	e.port = 54321;
	envelope_set(&e.helo, "odd helo\x01+=\xc3\xbf]");
	envelope_set(&e.ptr, "mx.b.example");
	e.tls = 1;
	snprintf(e.tls_version, sizeof(e.tls_version), "TLSv1.3");
	snprintf(e.tls_cipher, sizeof(e.tls_cipher), "TLS_AES_256_GCM_SHA384");
	e.tls_bits = 256;
	envelope_set(&e.from, "a@b.example");
	envelope_set(&e.mail_params, "SIZE=123 BODY=8BITMIME SMTPUTF8 "
	    "ENVID=x+2By");
	envelope_add_rcpt(&e, "c@d.example", "NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;c@d.example");
	envelope_add_rcpt(&e, "\"q >x\"@d.example", NULL);
	envelope_add_rcpt(&e, "postmaster", "NOTIFY=NEVER");

	hdr = envelope_header(&e, "mx.sluice.test", &len);
	ok(hdr != NULL && strlen(hdr) == len, "envelope: header block made");
	ok(hdr != NULL && strstr(hdr, "X-Sluice-Client: ip=2001:db8::1 "
	    "port=54321 helo=odd+20helo+01+2B+3D+C3+BF] ptr=mx.b.example\n")
	    != NULL, "envelope: helo xtext-encoded in X-Sluice-Client");
	ok(hdr != NULL && strstr(hdr, "Received: from odd+20helo+01+2B+3D"
	    "+C3+BF] (mx.b.example [IPv6:2001:db8::1])\n\tby mx.sluice.test "
	    "(sluice) with UTF8SMTPS id 1700000000.M123456P42Q7.mx1\n"
	    "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256); "
	    "Tue, 14 Nov 2023 22:13:20 +0000\n") != NULL,
	    "envelope: Received field");
	ok(hdr != NULL && strncmp(hdr, "X-Sluice-Id: "
	    "1700000000.M123456P42Q7.mx1\nX-Sluice-Received-At: "
	    "2023-11-14T22:13:20Z\n", 75) == 0, "envelope: block starts with "
	    "the id and the time");
	ok(hdr != NULL && strstr(hdr, "X-Sluice-Rcpt-To: <\"q >x\"@d.example>"
	    "\n") != NULL, "envelope: quoted recipient written as is");

	/* a file name that is not the id: the id comes from the block */
	snprintf(path, sizeof(path), "%s/1600000000.other:2,S", dir);
	ok(hdr != NULL && write_file(path, hdr, len, message) == 0,
	    "envelope: message written");
	free(hdr);

	envelope_init(&r);
	rc = envelope_read(&r, path, why, sizeof(why));
	is_int(rc, 0, "envelope: read back");
	is_str(why, "", "envelope: no complaint");
	is_str(r.id, e.id, "envelope: id from the block");
	is_int(r.received, e.received, "envelope: received time");
	ok(r.relayed, "envelope: relayed");
	is_str(r.ip, e.ip, "envelope: ip");
	is_int(r.port, e.port, "envelope: port");
	is_str(r.helo, e.helo, "envelope: helo bytes decoded");
	is_str(r.ptr, e.ptr, "envelope: ptr");
	ok(r.tls && strcmp(r.tls_version, e.tls_version) == 0 &&
	    strcmp(r.tls_cipher, e.tls_cipher) == 0 && r.tls_bits == 256,
	    "envelope: TLS");
	is_str(r.from, e.from, "envelope: from");
	is_str(r.mail_params, e.mail_params, "envelope: MAIL parameters");
	is_int(r.nrcpt, 3, "envelope: three recipients, not the attacker's");
	for (i = 0; i < 3 && i < r.nrcpt; i++) {
		char name[64];

		snprintf(name, sizeof(name), "envelope: recipient %zu", i + 1);
		ok(strcmp(r.rcpt[i].addr, e.rcpt[i].addr) == 0 &&
		    ((r.rcpt[i].params == NULL && e.rcpt[i].params == NULL) ||
		    (r.rcpt[i].params != NULL && e.rcpt[i].params != NULL &&
		    strcmp(r.rcpt[i].params, e.rcpt[i].params) == 0)), name);
	}
	is_str(r.hdr[SMTP_HDR_FROM], "Alice <a@b.example>",
	    "envelope: From of the message");
	is_str(r.hdr[SMTP_HDR_SUBJECT], "hello there",
	    "envelope: Subject unfolded");
	is_str(r.hdr[SMTP_HDR_MSGID], "<m1@b.example>",
	    "envelope: Message-ID");
	is_str(r.hdr[SMTP_HDR_DATE], "Tue, 14 Nov 2023 22:13:20 +0000",
	    "envelope: Date");
	is_str(r.path, path, "envelope: path");
	ok(stat(path, &st) == 0 && r.size == (unsigned long long)st.st_size,
	    "envelope: size is the file's");

	/* the same record from both */
	envelope_set(&e.path, path);
	e.size = r.size;
	e.relayed = 1;
	for (i = 0; i < SMTP_HDR_NFIELDS; i++)
		envelope_set(&e.hdr[i], r.hdr[i]);
	j1 = envelope_record(&e);
	j2 = envelope_record(&r);
	s1 = dumps(j1);
	s2 = dumps(j2);
	ok(s1 != NULL && s2 != NULL, "envelope: records dump");
	is_str(s2, s1, "envelope: record of the file equals the original");
	ok(json_array_size(json_object_get(json_object_get(j2, "envelope"),
	    "to")) == 3, "envelope: record has three recipients");
	is_str(json_string_value(json_object_get(json_object_get(j2,
	    "client"), "helo")), "odd helo\\x01+=\xc3\xbf]",
	    "envelope: helo in the record escaped");
	is_str(json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(j2, "envelope"), "params"),
	    "mail"), "ENVID")), "x+2By", "envelope: ENVID kept as xtext");
	free(s1);
	free(s2);
	json_decref(j1);
	json_decref(j2);
	envelope_clear(&r);
	unlink(path);

	/* without a relay block: id from the file name, no client */
	snprintf(path, sizeof(path), "%s/1700000123.M1P2Q3.host:2,S", dir);
	ok(write_file(path, "", 0, "From: x@y.example\nSubject: plain\n\n"
	    "X-Sluice-Id: 1.evil\n") == 0, "envelope: plain message written");
	envelope_init(&r);
	rc = envelope_read(&r, path, why, sizeof(why));
	is_int(rc, 0, "envelope: plain message read");
	is_str(r.id, "1700000123.M1P2Q3.host", "envelope: id from the name");
	is_int(r.received, 1700000123, "envelope: time from the name");
	ok(!r.relayed && r.from == NULL && r.nrcpt == 0,
	    "envelope: no relay block");
	j2 = envelope_record(&r);
	s2 = j2 ? json_dumps(json_object_get(j2, "client"), JSON_ENCODE_ANY) :
	    NULL;
	is_str(s2, "null", "envelope: client null");
	free(s2);
	s2 = j2 ? json_dumps(json_object_get(j2, "envelope"),
	    JSON_ENCODE_ANY) : NULL;
	is_str(s2, "null", "envelope: envelope null");
	free(s2);
	s2 = j2 ? json_dumps(json_object_get(j2, "tls"), JSON_ENCODE_ANY) :
	    NULL;
	is_str(s2, "null", "envelope: tls null");
	free(s2);
	is_str(json_string_value(json_object_get(json_object_get(j2,
	    "headers"), "subject")), "plain", "envelope: headers read");
	is_str(record_get(j2, "id"), "1700000123.M1P2Q3.host",
	    "envelope: record id");
	json_decref(j2);
	envelope_clear(&r);
	unlink(path);

	/* a broken relay block */
	snprintf(path, sizeof(path), "%s/1700000124.M1P2Q4.host", dir);
	ok(write_file(path, "", 0, "X-Sluice-Id: 1/2\nReceived: x\n\n") == 0,
	    "envelope: broken block written");
	envelope_init(&r);
	errno = 0;
	rc = envelope_read(&r, path, why, sizeof(why));
	ok(rc == -1 && errno == EINVAL, "envelope: bad id is EINVAL");
	is_str(why, "bad X-Sluice-Id", "envelope: why");
	envelope_clear(&r);
	ok(write_file(path, "", 0, "X-Sluice-Id: 1.x\nX-Sluice-Received-At: "
	    "yesterday\n\n") == 0, "envelope: bad time written");
	envelope_init(&r);
	rc = envelope_read(&r, path, why, sizeof(why));
	ok(rc == -1 && strcmp(why, "bad X-Sluice-Received-At") == 0,
	    "envelope: bad time refused");
	envelope_clear(&r);
	ok(write_file(path, "", 0, "X-Sluice-Id: 1.x\nX-Sluice-Mail-From: "
	    "a@b\n\n") == 0, "envelope: bad sender written");
	envelope_init(&r);
	rc = envelope_read(&r, path, why, sizeof(why));
	ok(rc == -1 && strcmp(why, "bad X-Sluice-Mail-From") == 0,
	    "envelope: sender without brackets refused");
	envelope_clear(&r);
	{
		static const struct {
			const char *name, *file, *why;
		} bad[] = {
			{ "control byte in the id", "X-Sluice-Id: 1.x\r\r\n\n",
			    "bad X-Sluice-Id" },
			{ "month 13", "X-Sluice-Id: 1.x\nX-Sluice-Received-At: "
			    "2026-13-45T99:99:99Z\n\n",
			    "bad X-Sluice-Received-At" },
			{ "a negative year", "X-Sluice-Id: 1.x\n"
			    "X-Sluice-Received-At: -026-01-01T00:00:00Z\n\n",
			    "bad X-Sluice-Received-At" },
			{ "a relay line without colon", "X-Sluice-Id: 1.x\n"
			    "X-Sluice-Junk\n\n", "relay field without colon" },
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char nm[128];

			ok(write_file(path, "", 0, bad[i].file) == 0,
			    "envelope: bad block written");
			envelope_init(&r);
			rc = envelope_read(&r, path, why, sizeof(why));
			snprintf(nm, sizeof(nm), "envelope: %s refused",
			    bad[i].name);
			ok(rc == -1 && strcmp(why, bad[i].why) == 0, nm);
			envelope_clear(&r);
		}
	}
	/* a NUL in a relay line */
	{
		static const char withnul[] = "X-Sluice-Id: 1.x\nX-Sluice-Rcpt-"
		    "To: <a@b>\0junk\n\n";
		int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0600);

		ok(fd != -1 && write(fd, withnul, sizeof(withnul) - 1) ==
		    (ssize_t)sizeof(withnul) - 1 && close(fd) == 0,
		    "envelope: NUL block written");
		envelope_init(&r);
		rc = envelope_read(&r, path, why, sizeof(why));
		ok(rc == -1 && strcmp(why, "NUL byte in relay block") == 0,
		    "envelope: NUL in a relay line refused");
		envelope_clear(&r);
	}
	/* relay fields count only in the block on the first line */
	ok(write_file(path, "", 0, "Subject: x\nX-Sluice-Id: 1.y\n"
	    "X-Sluice-Mail-From: <a@b>\nX-Sluice-Rcpt-To: <evil@x>\n\n") == 0,
	    "envelope: forged block written");
	envelope_init(&r);
	rc = envelope_read(&r, path, why, sizeof(why));
	ok(rc == 0 && !r.relayed && r.nrcpt == 0,
	    "envelope: X-Sluice fields below the first line mean nothing");
	envelope_clear(&r);
	unlink(path);

	/* a maildir name whose time is out of range: clamped, not garbage */
	snprintf(path, sizeof(path), "%s/99999999999999999999.M1", dir);
	ok(write_file(path, "", 0, "From: a\n\n") == 0,
	    "envelope: far-future name written");
	envelope_init(&r);
	rc = envelope_read(&r, path, why, sizeof(why));
	j2 = envelope_record(&r);
	is_str(record_get(j2, "received_at"), "9999-12-31T23:59:59Z",
	    "envelope: an impossible time is clamped");
	json_decref(j2);
	envelope_clear(&r);
	unlink(path);

	envelope_init(&r);
	errno = 0;
	snprintf(path, sizeof(path), "%s/missing", dir);
	rc = envelope_read(&r, path, why, sizeof(why));
	ok(rc == -1 && errno == ENOENT, "envelope: a missing file is ENOENT");
	envelope_clear(&r);

	envelope_clear(&e);
	rmdir(dir);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(crows) / sizeof(crows[0]); i++)
		check_cmd(crows[i].name, crows[i].in, crows[i].n,
		    crows[i].want);
	test_lengths();
	test_params();
	test_domains();
	test_data();
	test_data_again();
	test_hdr();
	test_envelope();
	return t_done();
}
