/*
 * test_poolctl: the control operations on a pool: hold, due, pause and
 * the frozen clock, quarantine and back, and the command parser and its
 * replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"
#include "poolctl.h"
#include "record.h"
#include "t.h"

static const char stored[] =
    "X-Sluice-Id: 1700000000.M1P1Q1.mx\n"
    "X-Sluice-Received-At: 2023-11-14T22:13:20Z\n"
    "X-Sluice-Client: ip=192.0.2.1 port=1 helo=a.example\n"
    "X-Sluice-Mail-From: <a@A.Example>\n"
    "X-Sluice-Rcpt-To: <b@b.example>\n"
    "Received: from a.example\n\tby mx; Tue, 14 Nov 2023 22:13:20 +0000\n"
    "Subject: hi\n"
    "\n"
    "body\n";

static int
exists(const char *dir, const char *sub, const char *name)
{
	char path[1024];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	return stat(path, &sb) == 0;
}

static const char *
parse_err(const char *s)
{
	static char err[256];
	json_t *c = ctl_parse(s, strlen(s), err, sizeof(err));

	if (c == NULL)
		return err;
	json_decref(c);
	return "ok";
}

static json_t *
apply(struct pool *p, const char *q, const char *cmd, time_t now)
{
	char err[256];
	json_t *c = ctl_parse(cmd, strlen(cmd), err, sizeof(err)), *r;

	if (c == NULL) {
		printf("# %s\n", err);
		return json_object();
	}
	r = ctl_apply(p, q, c, now);
	json_decref(c);
	return r;
}

int
main(void)
{
	char dir[] = "/tmp/test_poolctl.XXXXXX", spool[256], pdir[256];
	char q[256], path[1024], err[512];
	const char *id = "1700000000.M1P1Q1.mx";
	struct pool *p;
	struct pool_msg *m;
	json_t *rec, *st, *r;
	FILE *f;

	is_str(parse_err("{\"cmd\":\"hold\",\"ids\":[\"x\"]}"), "ok", "hold");
	is_str(parse_err("{\"cmd\":\"hold\"}"),
	    "command hold: ids: not 1 to 1000 ids", "hold without ids");
	is_str(parse_err("{\"cmd\":\"hold\",\"ids\":[]}"),
	    "command hold: ids: not 1 to 1000 ids", "hold with no id");
	is_str(parse_err("{\"cmd\":\"delete\",\"ids\":[3]}"),
	    "command delete: id 0: not an id", "an id not a string");
	is_str(parse_err("{\"cmd\":\"pause\"}"), "command pause: no route",
	    "pause without route");
	is_str(parse_err("{\"cmd\":\"flush\",\"rate\":0}"),
	    "command flush: rate: not a number of messages per second",
	    "a zero rate");
	is_str(parse_err("{\"cmd\":\"burn\"}"), "command: unknown cmd burn",
	    "unknown cmd");
	is_str(parse_err("[1]"), "command: no cmd", "not an object");
	is_str(parse_err("{\"cmd\":\"flush\",\"cmd\":\"flush\"}"),
	    "command: duplicate object key near '\"cmd\"'", "duplicate keys");
	ok(ctl_name_ok("1700.123.45") && !ctl_name_ok(".x") &&
	    !ctl_name_ok("a/b") && !ctl_name_ok(""), "command file names");

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(pdir, sizeof(pdir), "%s/pool", dir);
	snprintf(q, sizeof(q), "%s/pool/quarantine", dir);
	mkdir(spool, 0700);
	snprintf(path, sizeof(path), "%s/new", spool);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/new/%s", spool, id);
	f = fopen(path, "w");
	fputs(stored, f);
	fclose(f);
	p = pool_open(pdir, err, sizeof(err));
	ok(p != NULL && exists(pdir, "ctl", "new") &&
	    exists(pdir, "ctl", "reply"), "open makes ctl/");
	rec = json_pack("{s:s, s:s, s:{s:s, s:[s]}, s:{s:s}}", "id", id,
	    "path", path, "envelope", "from", "a@A.Example", "to",
	    "b@b.example", "client", "ip", "192.0.2.1");
	is_int(pool_add(p, rec, 1000, 1 << 20, 0, &m, err, sizeof(err)), 0,
	    "add");
	is_str(m->source, "a.example", "the source: the domain, lowercased");
	json_decref(rec);

	r = apply(p, q, "{\"cmd\":\"hold\",\"ids\":[\"1700000000.M1P1Q1.mx\","
	    "\"1.M1P1Q1.none\"]}", 1001);
	ok(m->held && !json_is_true(json_object_get(r, "ok")) &&
	    json_array_size(json_object_get(r, "done")) == 1,
	    "hold: one held, one unknown");
	is_str(record_get(json_array_get(json_object_get(r, "errors"), 0),
	    "error"), "1.M1P1Q1.none: no such message", "hold: the error");
	json_decref(r);
	st = pool_state_read(p, m, err, sizeof(err));
	ok(json_is_true(json_object_get(st, "held")), "hold: in the state");
	json_decref(st);
	r = apply(p, q, "{\"cmd\":\"release\",\"ids\":[\"1700000000.M1P1Q1.mx\"]}",
	    1002);
	ok(!m->held && m->next == 1002, "release of a held one: due now");
	json_decref(r);

	/* pause: the clock stands still */
	is_int(pool_age(p, m, 1010), 10, "age 10 s");
	r = apply(p, q, "{\"cmd\":\"pause\",\"route\":\"deliver\"}", 1010);
	ok(pool_paused(p) == 1010 && exists(pdir, "pause", "deliver"),
	    "pause: the file");
	json_decref(r);
	is_int(pool_age(p, m, 1050), 10, "paused: the age stands still");
	r = apply(p, q, "{\"cmd\":\"resume\",\"route\":\"deliver\"}", 1050);
	ok(pool_paused(p) == 0 && !exists(pdir, "pause", "deliver") &&
	    m->frozen == 40, "resume: 40 s frozen");
	json_decref(r);
	is_int(pool_age(p, m, 1060), 20, "resumed: the age goes on");
	r = apply(p, q, "{\"cmd\":\"pause\",\"route\":\"elsewhere\"}", 1060);
	is_str(record_get(json_array_get(json_object_get(r, "errors"), 0),
	    "error"), "no route elsewhere", "pause: an unknown route");
	json_decref(r);

	/* quarantine and back */
	st = pool_state_read(p, m, err, sizeof(err));
	is_int(pool_bury(p, m, st, q, "quarantine", err, sizeof(err)), 0,
	    "into the quarantine");
	json_decref(st);
	ok(pool_count(p) == 0 && exists(q, "new", id), "quarantined");
	r = apply(p, q, "{\"cmd\":\"release\",\"ids\":[\"1700000000.M1P1Q1.mx\"],"
	    "\"rate\":1}", 2000);
	ok(json_is_true(json_object_get(r, "ok")), "release from quarantine");
	json_decref(r);
	m = pool_get(p, id);
	ok(m != NULL && m->next == 2000 && exists(pdir, "new", id) &&
	    !exists(q, "new", id) && !exists(q, "state", id),
	    "released: in the pool, due, the quarantine's copy gone");
	st = m ? pool_state_read(p, m, err, sizeof(err)) : NULL;
	ok(st != NULL && record_get(st, "reason") == NULL &&
	    json_is_true(json_object_get(st, "released")),
	    "released: no reason, marked released");
	snprintf(path, sizeof(path), "%s/new/%s", pool_dir(p), id);
	is_str(record_get(json_object_get(st, "record"), "path"), path,
	    "released: the record's path is the pool's");
	json_decref(st);

	/* flush with a rate: spread */
	r = apply(p, q, "{\"cmd\":\"hold\",\"ids\":[\"1700000000.M1P1Q1.mx\"]}",
	    2001);
	json_decref(r);
	r = apply(p, q, "{\"cmd\":\"flush\",\"rate\":0.5}", 3000);
	ok(json_array_size(json_object_get(r, "done")) == 0 && m->held,
	    "flush leaves held messages alone");
	json_decref(r);
	m->in_flight = 1;
	r = apply(p, q, "{\"cmd\":\"delete\",\"ids\":[\"1700000000.M1P1Q1.mx\"]}",
	    3000);
	ok(json_is_true(json_object_get(json_array_get(json_object_get(r,
	    "errors"), 0), "temporary")), "delete in flight: temporary");
	json_decref(r);
	m->in_flight = 0;
	r = apply(p, q, "{\"cmd\":\"delete\",\"ids\":[\"1700000000.M1P1Q1.mx\"]}",
	    3000);
	ok(json_is_true(json_object_get(r, "ok")) && pool_count(p) == 0 &&
	    !exists(pdir, "new", id) && !exists(pdir, "state", id),
	    "delete");
	json_decref(r);

	pool_close(p);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return t_done();
}
