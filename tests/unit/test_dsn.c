/*
 * test_dsn: who may get a DSN, and what one looks like.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "t.h"

static int
authn(const char *from, const char *auth)
{
	char buf[2048];
	json_error_t je;
	json_t *rec;
	int r;

	snprintf(buf, sizeof(buf), "{\"envelope\":{\"from\":\"%s\","
	    "\"to\":[\"x@y.example\"]},\"auth\":%s}", from, auth);
	if ((rec = json_loads(buf, 0, &je)) == NULL) {
		printf("# %s: %s\n", buf, je.text);
		return -1;
	}
	r = dsn_authenticated(rec);
	json_decref(rec);
	return r;
}

int
main(void)
{
	static const struct {
		const char *from, *auth;
		int want;
		const char *name;
	} t[] = {
		{ "a@example.org", "{\"spf\":{\"result\":\"pass\","
		    "\"domain\":\"EXAMPLE.org.\"}}", 1, "SPF pass for D" },
		{ "a@example.org", "{\"spf\":{\"result\":\"pass\","
		    "\"domain\":\"mail.example.org\"}}", 0,
		    "SPF pass for another domain (HELO)" },
		{ "a@example.org", "{\"spf\":{\"result\":\"softfail\","
		    "\"domain\":\"example.org\"}}", 0, "SPF softfail" },
		{ "a@example.org", "{\"dkim\":[{\"result\":\"fail\","
		    "\"d\":\"example.org\"},{\"result\":\"pass\","
		    "\"d\":\"example.org\"}]}", 1, "a DKIM pass with d=D" },
		{ "a@example.org", "{\"dkim\":[{\"result\":\"pass\","
		    "\"d\":\"evil.example\"}]}", 0, "a DKIM pass, d= elsewhere" },
		{ "a@bounce.example.org", "{\"dkim\":[{\"result\":\"pass\","
		    "\"d\":\"example.org\"}],\"dmarc\":{\"result\":\"pass\","
		    "\"domain\":\"example.org\",\"org_domain\":\"example.org\"}}",
		    1, "relaxed: both under the organizational domain" },
		{ "a@bounce.example.org", "{\"dkim\":[{\"result\":\"pass\","
		    "\"d\":\"example.org\"}]}", 0,
		    "no organizational domain: exact only" },
		{ "a@example.org", "{\"dkim\":[{\"result\":\"pass\","
		    "\"d\":\"org\"}],\"dmarc\":{\"org_domain\":\"org\"}}", 1,
		    "(org_domain is mail-auth's: trusted as given)" },
		{ "a@example.org", "{\"dmarc\":{\"result\":\"pass\","
		    "\"domain\":\"other.example\"}}", 0,
		    "DMARC pass for another From domain" },
		{ "a@example.org", "{\"dmarc\":{\"result\":\"pass\","
		    "\"domain\":\"example.org\"}}", 1,
		    "DMARC pass, From domain = D" },
		{ "", "{\"spf\":{\"result\":\"pass\",\"domain\":\"example.org\"}}",
		    0, "the null sender: never" },
		{ "postmaster", "{\"spf\":{\"result\":\"pass\","
		    "\"domain\":\"postmaster\"}}", 0, "no domain: never" },
		{ "a@example.org", "null", 0, "no auth" },
		{ "a@example.org", "{\"spf\":\"pass\",\"dkim\":{\"d\":1}}", 0,
		    "auth of the wrong shapes" },
	};
	size_t i, len;
	json_error_t je;
	json_t *st;
	char *d;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(authn(t[i].from, t[i].auth), t[i].want, t[i].name);

	st = json_loads("{\"id\":\"1.M1P1Q1.mx\",\"pooled_at\":1700000000,"
	    "\"pending\":[1],\"failed\":[{\"addr\":\"b@x.example\","
	    "\"code\":550,\"enhanced\":\"5.1.1\",\"text\":\"no\\r\\nsuch\"}],"
	    "\"last\":[{\"addr\":\"c@x.example\",\"code\":451,"
	    "\"text\":\"4.3.0 try later\"}],\"record\":{\"envelope\":"
	    "{\"from\":\"a@example.org\",\"to\":[\"b@x.example\","
	    "\"c@x.example\"]}}}", 0, &je);
	d = dsn_make(st, "failed", "mx.test", "Subject: hi\n", 12, 1700000100,
	    &len);
	ok(d != NULL && len == strlen(d), "made");
	ok(strstr(d, "Content-Type: multipart/report; "
	    "report-type=delivery-status;") != NULL, "multipart/report");
	ok(strstr(d, "\nFinal-Recipient: rfc822; b@x.example\nAction: failed\n"
	    "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no  such\n") !=
	    NULL, "the failed recipient, its reply cleaned of CR LF");
	ok(strstr(d, "c@x.example") == NULL, "only the failed one");
	ok(strstr(d, "Content-Type: text/rfc822-headers\n\nSubject: hi\n") !=
	    NULL, "the original header");
	ok(strstr(d, "To: <a@example.org>\n") != NULL, "to the sender");
	free(d);
	d = dsn_make(st, "expired", "mx.test", NULL, 0, 1700000100, &len);
	ok(strstr(d, "\nFinal-Recipient: rfc822; c@x.example\nAction: failed\n"
	    "Status: 4.4.7\nDiagnostic-Code: smtp; 451 4.3.0 try later\n") !=
	    NULL, "expired: the pending one, 4.4.7, its last reply");
	ok(strstr(d, "rfc822; b@x.example") == NULL,
	    "expired: not the failed one");
	free(d);
	json_decref(st);
	return t_done();
}
