/*
 * limit: every bound sluice puts on its input, in one place.  Each one is
 * the default of a flag and has a line in the man page of the program that
 * applies it.  (Not "limits.h": gcc's <limits.h> goes on to the next
 * limits.h in the search path, which -iquote lib would make this one.)
 */
#ifndef SLUICE_LIMITS_H
#define SLUICE_LIMITS_H

/* Records (JSON-lines) */
#define LIMIT_RECORD		(4 * 1024 * 1024)	/* bytes per record line */

/* Tables (plain text, one entry a line) */
#define LIMIT_TABLE_LINE	4096
#define LIMIT_TABLE_ENTRIES	1000000
#define LIMIT_VERDICT_FILE	(64 * 1024)	/* bytes of a --policy table */

/* SMTP intake (smtp-accept) */
#define LIMIT_SMTP_LINE		2048	/* command line, CRLF included */
#define LIMIT_DATA_LINE		65536	/* message line in DATA */
#define LIMIT_MESSAGE_SIZE	(50L * 1024 * 1024)
#define LIMIT_HEADER_SIZE	(1024 * 1024)	/* header section */
#define LIMIT_RCPT		1000	/* recipients per message */
#define LIMIT_MESSAGES		1000	/* messages per session */
#define LIMIT_COMMANDS		10000	/* commands per session */
#define LIMIT_ERRORS		20	/* error replies per session */
#define LIMIT_TIMEOUT		300	/* seconds per command */
#define LIMIT_DATA_TIMEOUT	180	/* seconds per read in DATA */
#define LIMIT_STRESS_TIMEOUT	10	/* seconds per read under stress */
#define LIMIT_SESSION_TIME	3600	/* seconds per session */
#define LIMIT_CONNECTIONS	10000	/* concurrent sessions */
#define LIMIT_CONN_PER_IP	50	/* concurrent sessions per client */
#define LIMIT_RCPT_RATE		1000	/* per recipient ... */
#define LIMIT_RCPT_RATE_WINDOW	3600	/* ... per this many seconds */
#define LIMIT_GREET_WAIT	1	/* seconds of pre-greet watch */
#define LIMIT_CHECK_TIMEOUT	60	/* seconds for a --check command */
#define LIMIT_PROXY_TIMEOUT	10	/* seconds for a PROXY header */
#define LIMIT_SMTP_PATH		256	/* RFC 5321 4.5.3.1.3 */
#define LIMIT_SMTP_LOCAL	64	/* RFC 5321 4.5.3.1.1 */
#define LIMIT_SMTP_DOMAIN	255	/* RFC 5321 4.5.3.1.2 */
#define LIMIT_SMTP_PARAMS	16	/* ESMTP parameters per command */
#define LIMIT_HELO		255
#define LIMIT_HOPS		50	/* Received fields before 554 5.4.6 */
#define LIMIT_MIN_FREE		(256LL * 1024 * 1024)	/* spool bytes */
#define LIMIT_MIN_INODES	10000	/* spool inodes */
#define LIMIT_COMMIT_THREADS	32	/* concurrent commits and checks */
#define LIMIT_DNS_WAIT		2	/* seconds the banner waits for rDNS */

/* mail-ls */
#define LIMIT_LS_IDS		1000000	/* ids --follow remembers */
#define LIMIT_LS_INTERVAL	5	/* seconds between rescans */

/* mail-pool */
#define LIMIT_POOL_MESSAGE	(100L * 1024 * 1024)	/* bytes of a message pooled */
#define LIMIT_POOL_STATE	(8 * 1024 * 1024)	/* bytes of a state file */
#define LIMIT_POOL_FIELD	(64 * 1024)	/* bytes of a field value added */
#define LIMIT_POOL_ADD		100	/* fields added per message */
#define LIMIT_POOL_BATCH	256	/* records pooled with one sync */
#define LIMIT_POOL_WORKERS	256	/* most --max-workers */
#define LIMIT_POOL_STOP		30	/* seconds SIGTERM waits for deliveries */
#define LIMIT_POOL_DOWN_ATTEMPTS 5	/* failed attempts in a row ... */
#define LIMIT_POOL_DOWN_TIME	10	/* ... and seconds without an answer:
					 * the route is down */
#define LIMIT_DSN_HEADER	(64 * 1024)	/* bytes of header a DSN returns */
#define LIMIT_POOL_NOTIFY	4	/* --notify commands running at once */
#define LIMIT_FAIR_SOURCES	65536	/* sources remembered for round robin */
#define LIMIT_CTL_FILE		(128 * 1024)	/* bytes of a control command */
#define LIMIT_CTL_IDS		1000	/* ids in one command */
#define LIMIT_CTL_PER_TICK	64	/* commands served per loop turn */

/* mail-scan (lib/mime, lib/scan) */
#define LIMIT_MIME_DEPTH	64	/* multipart and message nesting */
#define LIMIT_MIME_PARTS	1000	/* parts per message */
#define LIMIT_MIME_DECODED	(200ULL * 1024 * 1024)	/* bytes decoded */
#define LIMIT_ARCHIVE_DEPTH	4	/* archives inside archives */
#define LIMIT_ARCHIVE_MEMBERS	1000	/* members per archive */
#define LIMIT_ARCHIVE_EXPAND	(256ULL * 1024 * 1024)	/* bytes expanded
						 * per message */
#define LIMIT_ARCHIVE_RATIO	100	/* expanded / archive bytes */
#define LIMIT_SCAN_SIZE		(100LL * 1024 * 1024)	/* bytes read */

/* Maildir */
#define LIMIT_MAILDIR_TRIES	16	/* attempts at a unique tmp name */
#define LIMIT_TMP_AGE		(36 * 3600)	/* seconds before tmp/ junk goes */

/* PROXY protocol (smtp-accept behind a load balancer) */
#define LIMIT_PROXY_V2		1024	/* v2 bytes after the 16-byte header */

/* SPF (RFC 7208 4.6.4) */
#define LIMIT_SPF_LOOKUPS	10	/* DNS-querying terms per check */
#define LIMIT_SPF_VOID		2	/* lookups finding nothing, per check */
#define LIMIT_SPF_MX		10	/* MX names per mx mechanism */
#define LIMIT_SPF_PTR		10	/* PTR names per ptr or %{p} */
#define LIMIT_SPF_RECORD	4096	/* bytes per SPF record */
#define LIMIT_SPF_TERMS		512	/* terms per SPF record */
#define LIMIT_SPF_TIME		20	/* seconds per check */

/* DMARC (lib/dmarc, RFC 9989; tools/dmarc-report, RFC 9990) */
#define LIMIT_DMARC_RECORD	4096	/* bytes of a policy record */
#define LIMIT_DMARC_WALK	8	/* queries per DNS tree walk (RFC 9989
					 * 4.10: fixed, not a flag) */
#define LIMIT_DMARC_WALKS	8	/* tree walks per check: Author Domain,
					 * SPF domain, DKIM d= domains */
#define LIMIT_DMARC_FROM	8	/* distinct From domains read */
#define LIMIT_DMARC_ROWS	1000000	/* report rows dmarc-report keeps */
#define LIMIT_DMARC_SIGS	100	/* DKIM results per report row (RFC
					 * 9990 2.1.2) */

/* DKIM (lib/dkim) */
#define LIMIT_DKIM_SIGS		10	/* signatures checked per message */
#define LIMIT_DKIM_HEADERS	128	/* names in a signature's h= */
#define LIMIT_DKIM_TAGS		64	/* tags in a signature or key record */
#define LIMIT_DKIM_FIELD	(64 * 1024)	/* bytes of a signature field */
#define LIMIT_DKIM_KEY_BITS	8192	/* largest RSA key used */
#define LIMIT_DKIM_MIN_BITS	1024	/* smallest RSA key passed (RFC 8301) */
#define LIMIT_DKIM_SKEW		300	/* seconds a t= may be ahead of now */

/* URLs (lib/url, mail-scan) */
#define LIMIT_URLS		1000	/* distinct URLs kept per message */
#define LIMIT_URL_INPUT		(10 * 1024 * 1024)	/* bytes of a text or
					 * HTML part searched for URLs */
#define LIMIT_URL_LENGTH	4096	/* bytes of a URL kept; the rest cut */
#define LIMIT_URL_TEXT		256	/* bytes of a link's text kept */
#define LIMIT_URIBL_QUERIES	100	/* DNS URI block list queries per
					 * message */

/* mail-scan's rules file (lib/rules) and block lists */
#define LIMIT_RULES		10000	/* rules in a --rules file */
#define LIMIT_RULES_FILE	(16 * 1024 * 1024)	/* bytes of it */
#define LIMIT_RULE_MATCH	100000	/* pcre2_set_match_limit */
#define LIMIT_RULE_DEPTH	1000	/* pcre2_set_depth_limit */
#define LIMIT_RULE_HEAP		(16 * 1024)	/* KiB: pcre2_set_heap_limit */
#define LIMIT_RULE_SUBJECT	(1024 * 1024)	/* bytes of a part or field a
					 * rule is matched against */
#define LIMIT_DNSBL_QUERIES	20	/* client IP block list zones */

/* Lookalikes (lib/lookalike) */
#define LIMIT_LOOKALIKE_NAME	256	/* bytes of a display name compared */

/* ARC (lib/arc, RFC 8617) */
#define LIMIT_ARC_SETS		50	/* instances in a chain (RFC 8617 4.2.1) */
#define LIMIT_ARC_AAR		(16 * 1024)	/* bytes of an AAR kept per instance */

#endif
