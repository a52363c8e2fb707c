#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

/* ASCII only: the locale must not change what a command means. */
static int
c_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static int
c_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
c_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
c_atext(int c, int utf8)
{
	if (c_alpha(c) || c_digit(c))
		return 1;
	if (c >= 0x80)
		return utf8;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* The start of s equals word (upper case), case-insensitively. */
static int
prefix(const char *s, const char *word)
{
	while (*word != '\0')
		if (c_upper((unsigned char)*s++) != *word++)
			return 0;
	return 1;
}

static int
valid_label_char(int c, int utf8)
{
	return c_alpha(c) || c_digit(c) || c == '-' || (utf8 && c >= 0x80);
}

static int
valid_literal(const char *s)
{
	char buf[64];
	unsigned char addr[16];
	size_t n = strlen(s);

	if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof(buf))
		return 0;
	memcpy(buf, s + 1, n - 2);
	buf[n - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	return inet_pton(AF_INET, buf, addr) == 1;
}

int
smtp_valid_domain(const char *s, int utf8)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > LIMIT_SMTP_DOMAIN)
		return 0;
	if (s[0] == '[')
		return valid_literal(s);
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!valid_label_char(*p, utf8))
			return 0;
		if (label == 0 && *p == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && p[-1] != '-';
}

/*
 * Parse the mailbox of a path in place: s is the text between < and >.
 * Sets *out to the address (a source route is dropped, RFC 5321 4.1.2
 * and C) and *eightbit.  Returns 0 or -1.
 */
static int
parse_mailbox(char *s, int rcpt, const char **out, int *eightbit)
{
	char *p = s, *at;
	size_t local;

	*eightbit = 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*eightbit = 1;
	if (*s == '\0') {
		*out = s;	/* the null path <> */
		return 0;
	}
	/* RFC 5321 4.5.3.1.3: 256 octets with the angle brackets */
	if (strlen(s) + 2 > LIMIT_SMTP_PATH)
		return -1;
	if (*s == '@') {
		/* A-d-l ":" : "@one,@two:" before the mailbox */
		char *colon = strchr(s, ':');

		if (colon == NULL)
			return -1;
		*colon = '\0';
		for (p = s; p != NULL; ) {
			char *comma;

			if (*p != '@')
				return -1;
			comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			if (!smtp_valid_domain(p + 1, *eightbit))
				return -1;
			p = comma ? comma + 1 : NULL;
		}
		s = colon + 1;
	}
	p = s;
	if (*p == '"') {
		/* Quoted-string: qtextSMTP or quoted-pair */
		for (p++; *p != '"'; p++) {
			unsigned char c = (unsigned char)*p;

			if (c == '\0')
				return -1;
			if (c == '\\') {
				c = (unsigned char)*++p;
				if (c < 32 || c == 127)
					return -1;
				continue;
			}
			if (c < 32 || c == 127)
				return -1;
		}
		p++;
	} else {
		/* Dot-string: atoms separated by single dots */
		int need_atom = 1;

		for (; *p != '\0' && *p != '@'; p++) {
			if (*p == '.') {
				if (need_atom)
					return -1;
				need_atom = 1;
			} else if (c_atext((unsigned char)*p, 1))
				need_atom = 0;
			else
				return -1;
		}
		if (need_atom)
			return -1;
	}
	local = (size_t)(p - s);
	if (local == 0 || local > LIMIT_SMTP_LOCAL)
		return -1;
	if (*p == '\0') {
		/* RFC 5321 4.5.1: <postmaster> without domain, RCPT only */
		if (rcpt && strcasecmp(s, "postmaster") == 0) {
			*out = s;
			return 0;
		}
		return -1;
	}
	if (*p != '@')
		return -1;
	at = p;
	if (!smtp_valid_domain(at + 1, 1))
		return -1;
	*out = s;
	return 0;
}

/* An upper-case hex digit (RFC 3461 4: xtext uses upper case). */
static int
c_hexup(int c)
{
	return c_digit(c) || (c >= 'A' && c <= 'F');
}

/* xtext (RFC 3461 4): printable ASCII but "+" and "=", and "+HH". */
static int
valid_xtext(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (c == '+') {
			if (!c_hexup((unsigned char)s[1]) ||
			    !c_hexup((unsigned char)s[2]))
				return 0;
			s += 2;
		} else if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return n > 0 && n <= max;
}

static int
valid_notify(const char *v)
{
	char buf[64], *tok, *save;
	int n = 0, never = 0, seen = 0, bit;

	if (strlen(v) >= sizeof(buf))
		return 0;
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, "NEVER") == 0)
			never = 1, bit = 1;
		else if (strcasecmp(tok, "SUCCESS") == 0)
			bit = 2;
		else if (strcasecmp(tok, "FAILURE") == 0)
			bit = 4;
		else if (strcasecmp(tok, "DELAY") == 0)
			bit = 8;
		else
			return 0;
		if (seen & bit)
			return 0;	/* a value twice */
		seen |= bit;
		n++;
	}
	/* NEVER stands alone; no empty items */
	if (n == 0 || (never && n > 1) || v[0] == ',' ||
	    v[strlen(v) - 1] == ',' || strstr(v, ",,") != NULL)
		return 0;
	return 1;
}

static int
valid_orcpt(const char *v)
{
	const char *semi = strchr(v, ';');
	const char *p;

	if (semi == NULL || semi == v)
		return 0;
	for (p = v; p < semi; p++)
		if (!c_alpha((unsigned char)*p) && !c_digit((unsigned char)*p) &&
		    *p != '-')
			return 0;
	/* xtext; RFC 6533's utf-8-addr-xtext and -unitext (under
	 * SMTPUTF8) add "\x{HEX}" and raw UTF-8, which only the latter
	 * fails as xtext */
	for (p = semi + 1; *p != '\0'; p++)
		if ((unsigned char)*p < 33 || *p == 127)
			return 0;
	if (strlen(v) > 500 || semi[1] == '\0')
		return 0;
	for (p = semi + 1; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return 1;
	return valid_xtext(semi + 1, 500);
}

/* Check one parameter of MAIL (mail = 1) or RCPT; NULL if fine. */
static const char *
check_param(const struct smtp_param *p, int mail)
{
	static const char bad[] = "501 5.5.4 Invalid parameter value";
	const char *v = p->value;

	if (mail && strcmp(p->key, "SIZE") == 0) {
		size_t i;

		if (v == NULL || *v == '\0' || strlen(v) > 20)
			return bad;
		for (i = 0; v[i] != '\0'; i++)
			if (!c_digit((unsigned char)v[i]))
				return bad;
		return NULL;
	}
	if (mail && strcmp(p->key, "BODY") == 0)
		return v != NULL && (strcasecmp(v, "7BIT") == 0 ||
		    strcasecmp(v, "8BITMIME") == 0) ? NULL :
		    "555 5.5.4 Unsupported BODY type";
	if (mail && strcmp(p->key, "SMTPUTF8") == 0)
		return v == NULL ? NULL : bad;
	if (mail && strcmp(p->key, "RET") == 0)
		return v != NULL && (strcasecmp(v, "FULL") == 0 ||
		    strcasecmp(v, "HDRS") == 0) ? NULL : bad;
	if (mail && strcmp(p->key, "ENVID") == 0)
		return v != NULL && valid_xtext(v, 100) ? NULL : bad;
	if (!mail && strcmp(p->key, "NOTIFY") == 0)
		return v != NULL && valid_notify(v) ? NULL : bad;
	if (!mail && strcmp(p->key, "ORCPT") == 0)
		return v != NULL && valid_orcpt(v) ? NULL : bad;
	return "555 5.5.4 Unsupported parameter";
}

/* Parse "KEY[=VALUE] KEY[=VALUE]..." in place into cmd->params. */
static const char *
parse_params(char *s, struct smtp_cmd *cmd, int mail)
{
	char *p = s;
	int i;

	while (*p != '\0') {
		struct smtp_param *prm;
		char *key;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (cmd->nparams == LIMIT_SMTP_PARAMS)
			return "501 5.5.4 Too many parameters";
		key = p;
		if (!c_alpha((unsigned char)*p) && !c_digit((unsigned char)*p))
			return "501 5.5.4 Syntax error in parameters";
		while (c_alpha((unsigned char)*p) || c_digit((unsigned char)*p) ||
		    *p == '-') {
			*p = (char)c_upper((unsigned char)*p);
			p++;
		}
		prm = &cmd->params[cmd->nparams];
		prm->key = key;
		prm->value = NULL;
		if (*p == '=') {
			*p++ = '\0';
			prm->value = p;
			while (*p != '\0' && *p != ' ') {
				unsigned char c = (unsigned char)*p;

				if (c < 33 || c == 127 || c == '=')
					return "501 5.5.4 Syntax error in "
					    "parameters";
				p++;
			}
			if (p == prm->value)
				return "501 5.5.4 Syntax error in parameters";
		}
		if (*p == ' ')
			*p++ = '\0';
		else if (*p != '\0')
			return "501 5.5.4 Syntax error in parameters";
		for (i = 0; i < cmd->nparams; i++)
			if (strcmp(cmd->params[i].key, prm->key) == 0)
				return "501 5.5.4 Duplicate parameter";
		cmd->nparams++;
		{
			const char *why = check_param(prm, mail);

			if (why != NULL)
				return why;
		}
	}
	return NULL;
}

/* MAIL FROM:<path> params / RCPT TO:<path> params */
static const char *
parse_path_cmd(char *s, struct smtp_cmd *cmd)
{
	int mail = cmd->verb == SMTP_MAIL;
	const char *syntax = mail ? "501 5.5.4 Syntax: MAIL FROM:<address>" :
	    "501 5.5.4 Syntax: RCPT TO:<address>";
	const char *badaddr = mail ? "501 5.1.7 Bad sender address syntax" :
	    "501 5.1.3 Bad recipient address syntax";
	const char *word = mail ? "FROM:" : "TO:";
	char *p, *end;

	if (!prefix(s, word))
		return syntax;
	p = s + strlen(word);
	/* RFC 5321 has no space here; many clients send one. */
	while (*p == ' ')
		p++;
	if (*p != '<' || (end = (char *)smtp_path_end(p)) == NULL)
		return syntax;
	*end = '\0';
	if (!mail && p[1] == '\0')
		return badaddr;
	if (parse_mailbox(p + 1, !mail, &cmd->path, &cmd->path_8bit) == -1)
		return badaddr;
	p = end + 1;
	if (*p != '\0' && *p != ' ')
		return syntax;
	return parse_params(p, cmd, mail);
}

const char *
smtp_path_end(const char *p)
{
	const char *end;
	int quoted = 0;

	if (*p != '<')
		return NULL;
	for (end = p + 1; *end != '\0'; end++) {
		if (quoted && *end == '\\' && end[1] != '\0')
			end++;
		else if (*end == '"')
			quoted = !quoted;
		else if (*end == '>' && !quoted)
			return end;
	}
	return NULL;
}

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "BDAT", SMTP_BDAT },
	{ "RSET", SMTP_RSET }, { "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT },
	{ "VRFY", SMTP_VRFY }, { "EXPN", SMTP_EXPN }, { "HELP", SMTP_HELP },
	{ "STARTTLS", SMTP_STARTTLS }, { "AUTH", SMTP_AUTH },
	{ "GET", SMTP_FORBIDDEN }, { "POST", SMTP_FORBIDDEN },
	{ "HEAD", SMTP_FORBIDDEN }, { "PUT", SMTP_FORBIDDEN },
	{ "CONNECT", SMTP_FORBIDDEN },
};

int
smtp_parse(char *buf, size_t len, struct smtp_cmd *cmd, const char **reply)
{
	char *arg;
	size_t i, vlen;

	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = SMTP_UNKNOWN;
	*reply = NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c < 32 && c != '\t') || c == 127) {
			*reply = "500 5.5.2 Invalid character in command";
			return -1;
		}
	}
	buf[len] = '\0';
	/* A tab is blank in a command; treat it as a space. */
	for (i = 0; i < len; i++)
		if (buf[i] == '\t')
			buf[i] = ' ';
	while (len > 0 && buf[len - 1] == ' ')
		buf[--len] = '\0';
	vlen = strcspn(buf, " ");
	arg = buf + vlen;
	if (*arg == ' ')
		*arg++ = '\0';
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == vlen && prefix(buf, verbs[i].name)) {
			cmd->verb = verbs[i].verb;
			break;
		}
	cmd->arg = arg;
	switch (cmd->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		if (*arg == '\0' || strchr(arg, ' ') != NULL ||
		    strlen(arg) > LIMIT_HELO) {
			*reply = cmd->verb == SMTP_HELO ?
			    "501 5.5.4 Syntax: HELO hostname" :
			    "501 5.5.4 Syntax: EHLO hostname";
			return -1;
		}
		return 0;
	case SMTP_MAIL:
	case SMTP_RCPT:
		*reply = parse_path_cmd(arg, cmd);
		return *reply == NULL ? 0 : -1;
	case SMTP_BDAT: {
		char *sp = strchr(arg, ' '), *end;
		unsigned long long v;

		if (sp != NULL) {
			*sp++ = '\0';
			if (strcasecmp(sp, "LAST") != 0) {
				*reply = "501 5.5.4 Syntax: BDAT size [LAST]";
				return -1;
			}
			cmd->bdat_last = 1;
		}
		if (!c_digit((unsigned char)*arg) || strlen(arg) > 19) {
			*reply = "501 5.5.4 Syntax: BDAT size [LAST]";
			return -1;
		}
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (*end != '\0' || errno != 0) {
			*reply = "501 5.5.4 Syntax: BDAT size [LAST]";
			return -1;
		}
		cmd->bdat_size = v;
		return 0;
	}
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		if (*arg != '\0') {
			*reply = "501 5.5.4 Syntax error: no parameters allowed";
			return -1;
		}
		return 0;
	case SMTP_VRFY:
	case SMTP_EXPN:
		if (*arg == '\0') {
			*reply = "501 5.5.4 Syntax error: argument required";
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

const char *
smtp_param(const struct smtp_cmd *cmd, const char *key)
{
	int i;

	for (i = 0; i < cmd->nparams; i++)
		if (strcmp(cmd->params[i].key, key) == 0)
			return cmd->params[i].value ? cmd->params[i].value : "";
	return NULL;
}

/* DATA decoder states */
enum { D_BOL, D_DOT, D_DOT_CR, D_TEXT, D_CR };

void
smtp_data_init(struct smtp_data *d, int dot, int normalize, size_t max_line,
    unsigned long long max_size)
{
	memset(d, 0, sizeof(*d));
	d->state = D_BOL;
	d->dot = dot;
	d->normalize = normalize;
	d->prev_crlf = 1;	/* the DATA command ended in CRLF */
	d->max_line = max_line;
	d->max_size = max_size;
}

/* Append c to out unless the message is past its size limit. */
static void
emit(struct smtp_data *d, char c, char *out, size_t *o)
{
	/* The size counts the message as sent, a line end as CRLF. */
	d->size += (c == '\n') ? 2 : 1;
	if (d->size > d->max_size) {
		d->flags |= SMTP_DATA_BIG;
		return;
	}
	out[(*o)++] = c;
}

/* A line ended (crlf: with a true CRLF). */
static void
end_line(struct smtp_data *d, int crlf, char *out, size_t *o)
{
	emit(d, '\n', out, o);
	d->lines++;
	d->line = 0;
	d->prev_crlf = crlf;
	d->state = D_BOL;
}

static void
text_byte(struct smtp_data *d, unsigned char c, char *out, size_t *o)
{
	if (c == '\0')
		d->flags |= SMTP_DATA_NUL;
	emit(d, (char)c, out, o);
	d->state = D_TEXT;
}

/* A bare CR or LF: a line end when normalising, otherwise an error that
 * ends nothing; the decoder goes on looking for the true end. */
static void
bare(struct smtp_data *d, int flag, char *out, size_t *o)
{
	if (d->normalize) {
		end_line(d, 0, out, o);
		return;
	}
	d->flags |= flag;
	d->state = D_TEXT;
}

size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t n, char *out,
    size_t outsize, size_t *outlen, int *done)
{
	size_t i, o = 0;

	*done = 0;
	for (i = 0; i < n && o + 2 <= outsize; i++) {
		unsigned char c = (unsigned char)in[i];

		if (++d->line > d->max_line)
			d->flags |= SMTP_DATA_LONG;
		switch (d->state) {
		case D_BOL:
			if (c == '.' && d->dot)
				d->state = D_DOT;
			else if (c == '\r')
				d->state = D_CR;
			else if (c == '\n')
				bare(d, SMTP_DATA_BARE_LF, out, &o);
			else
				text_byte(d, c, out, &o);
			break;
		case D_DOT:
			if (c == '\r')
				d->state = D_DOT_CR;
			else if (c == '\n') {
				/* ".\n" is not the end; "." is content */
				emit(d, '.', out, &o);
				bare(d, SMTP_DATA_BARE_LF, out, &o);
			} else {
				/* the stuffing dot is not part of the line
				 * (RFC 5321 4.5.3.1.6) */
				d->line--;
				text_byte(d, c, out, &o);
			}
			break;
		case D_DOT_CR:
			if (c == '\n' && d->prev_crlf) {
				d->line = 0;
				d->state = D_BOL;
				*done = 1;
				*outlen = o;
				return i + 1;
			}
			emit(d, '.', out, &o);
			if (c == '\n')
				end_line(d, 1, out, &o);
			else {
				bare(d, SMTP_DATA_BARE_CR, out, &o);
				/* c starts the next line or goes on this one */
				i--;
				d->line--;
			}
			break;
		case D_TEXT:
			if (c == '\r')
				d->state = D_CR;
			else if (c == '\n')
				bare(d, SMTP_DATA_BARE_LF, out, &o);
			else
				text_byte(d, c, out, &o);
			break;
		case D_CR:
			if (c == '\n')
				end_line(d, 1, out, &o);
			else {
				bare(d, SMTP_DATA_BARE_CR, out, &o);
				i--;	/* look at c again */
				d->line--;
			}
			break;
		}
	}
	*outlen = o;
	return i;
}

size_t
smtp_data_finish(struct smtp_data *d, char *out)
{
	size_t o = 0;

	if (d->state == D_DOT_CR)
		emit(d, '.', out, &o);
	if (d->state == D_CR || d->state == D_DOT_CR) {
		if (d->normalize)
			end_line(d, 0, out, &o);
		else
			d->flags |= SMTP_DATA_BARE_CR;
	}
	d->state = D_BOL;
	return o;
}

/* Header scanner */
enum { H_BOL, H_NAME, H_VALUE, H_DONE };

static const char *const hdr_names[SMTP_HDR_NFIELDS] = {
	"from", "subject", "message-id", "date"
};

void
smtp_hdr_init(struct smtp_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->state = H_BOL;
	h->field = -1;
}

static void
hdr_name_done(struct smtp_hdr *h)
{
	int i;

	h->name[h->namelen] = '\0';
	h->field = -1;
	h->skip = 0;
	if (h->toolong || h->namelen == 0)
		return;
	for (i = 0; i < SMTP_HDR_NFIELDS; i++)
		if (strcasecmp(h->name, hdr_names[i]) == 0) {
			h->field = i;
			/* a repeated field: the first one counts */
			h->skip = h->seen[i];
			h->seen[i] = 1;
		}
	if (strcasecmp(h->name, "received") == 0)
		h->received++;
}

int
smtp_hdr_feed(struct smtp_hdr *h, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n && h->state != H_DONE; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (++h->size > LIMIT_HEADER_SIZE) {
			h->state = H_DONE;
			break;
		}
		switch (h->state) {
		case H_BOL:
			if (c == '\n') {
				h->state = H_DONE;
				break;
			}
			if (c == ' ' || c == '\t') {
				/* folded: the field goes on */
				h->state = H_VALUE;
				goto value;
			}
			h->namelen = 0;
			h->blank = 0;
			h->toolong = 0;
			h->field = -1;
			h->state = H_NAME;
			/* FALLTHROUGH */
		case H_NAME:
			if (c == ':') {
				hdr_name_done(h);
				h->state = H_VALUE;
			} else if (c > 32 && c < 127 && !h->blank) {
				/* a name longer than any we keep is no
				 * name we keep: never cut it into one */
				if (h->namelen < sizeof(h->name) - 1)
					h->name[h->namelen++] = (char)c;
				else
					h->toolong = 1;
			} else if (c == ' ' || c == '\t')
				h->blank = 1;	/* obs-fws before ":" only */
			else
				h->state = H_DONE; /* not a header line */
			break;
		case H_VALUE:
value:
			if (c == '\n') {
				h->state = H_BOL;
				break;
			}
			if (h->field >= 0 && !h->skip &&
			    h->len[h->field] < SMTP_HDR_VALUE)
				h->value[h->field][h->len[h->field]++] =
				    (char)c;
			break;
		}
	}
	if (h->state == H_DONE)
		h->done = 1;
	return h->done;
}

const char *
smtp_hdr_get(struct smtp_hdr *h, enum smtp_hdr_field f)
{
	char *v = h->value[f];
	size_t n = h->len[f], s = 0;

	if (!h->seen[f])
		return NULL;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	v[n] = '\0';
	while (s < n && (v[s] == ' ' || v[s] == '\t'))
		s++;
	return v + s;
}
