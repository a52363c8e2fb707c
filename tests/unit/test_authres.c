#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "t.h"

int
main(void)
{
	struct authres *a;
	char *id;

	a = authres_new("mx.example.net");
	is_str(authres_value(a), "mx.example.net; none", "no results: none");
	authres_add(a, "spf", "pass", NULL, "smtp.mailfrom", "a@example.org",
	    NULL);
	authres_add(a, "dkim", "fail", "body hash mismatch", "header.d",
	    "example.org", "header.s", "sel 1", "header.b", "", NULL);
	authres_add(a, "dmarc", "pass", NULL, "header.from",
	    "\"odd\"@example.org", NULL);
	is_str(authres_value(a), "mx.example.net;\r\n"
	    "\tspf=pass smtp.mailfrom=a@example.org;\r\n"
	    "\tdkim=fail reason=\"body hash mismatch\" header.d=example.org "
	    "header.s=\"sel 1\";\r\n"
	    "\tdmarc=pass header.from=\"\\\"odd\\\"@example.org\"",
	    "results folded, values quoted where needed, empty ones left out");
	is_str(authres_value_lf(a), "mx.example.net;\n"
	    "\tspf=pass smtp.mailfrom=a@example.org;\n"
	    "\tdkim=fail reason=\"body hash mismatch\" header.d=example.org "
	    "header.s=\"sel 1\";\n"
	    "\tdmarc=pass header.from=\"\\\"odd\\\"@example.org\"",
	    "LF form");
	authres_free(a);

	id = authres_id_of(" mx.example.net; spf=pass");
	is_str(id, "mx.example.net", "authserv-id");
	free(id);
	id = authres_id_of("(comment (nested)) mx.example.net 1; none");
	is_str(id, "mx.example.net", "comments and version skipped");
	free(id);
	id = authres_id_of("\"quoted.example\"; none");
	is_str(id, "quoted.example", "quoted id");
	free(id);
	ok(authres_id_of("  ") == NULL, "no id");
	ok(authres_id_of("\"open") == NULL, "unterminated quote");
	return t_done();
}
