/*
 * test_release: the AIMD controller against synthetic downstreams, on a
 * simulated clock.
 */
#include <stdio.h>
#include <stdlib.h>

#include "release.h"
#include "t.h"

#define QMAX 4096

/* A downstream that takes `cap` messages a second (a sliding window of
 * one second) and answers after `lat` seconds: THROTTLE above its rate,
 * or always `fixed` when fixed >= 0. */
struct sim {
	double cap, lat;
	int fixed;
	double acc[QMAX];	/* accept times, a ring */
	int nacc, head;
	/* in flight */
	double due[QMAX];
	unsigned long seq[QMAX];
	enum release_answer ans[QMAX];
	int nfl;
	/* counts from `from` on */
	double from;
	long sent, ok, throttled, ups, downs;
};

static int
accepted_last_second(struct sim *s, double now)
{
	int i, n = 0;

	for (i = 0; i < s->nacc; i++)
		if (s->acc[(s->head + QMAX - 1 - i) % QMAX] > now - 1)
			n++;
		else
			break;
	return n;
}

static void
run(struct release *r, struct sim *s, double t0, double t1)
{
	double t;
	int i;

	for (t = t0; t < t1; t += 0.001) {
		for (i = 0; i < s->nfl; ) {
			if (s->due[i] <= t) {
				enum release_event e = release_answer(r, t,
				    s->seq[i], s->ans[i]);

				if (e == RELEASE_DOWN && t >= s->from)
					s->downs++;
				if (e == RELEASE_UP && t >= s->from)
					s->ups++;
				s->nfl--;
				s->due[i] = s->due[s->nfl];
				s->seq[i] = s->seq[s->nfl];
				s->ans[i] = s->ans[s->nfl];
			} else
				i++;
		}
		while (s->nfl < QMAX && release_may_send(r, t, s->nfl)) {
			enum release_answer a;

			if (s->fixed >= 0)
				a = (enum release_answer)s->fixed;
			else if (accepted_last_second(s, t) < s->cap) {
				a = RELEASE_OK;
				s->acc[s->head] = t;
				s->head = (s->head + 1) % QMAX;
				if (s->nacc < QMAX)
					s->nacc++;
			} else
				a = RELEASE_THROTTLE;
			s->seq[s->nfl] = release_sent(r, t);
			s->due[s->nfl] = t + s->lat;
			s->ans[s->nfl] = a;
			s->nfl++;
			if (t >= s->from) {
				s->sent++;
				if (a == RELEASE_OK)
					s->ok++;
				if (a == RELEASE_THROTTLE)
					s->throttled++;
			}
		}
	}
}

static const struct release_conf conf = { 32, 0, 30, 5, 10 };

static void
converge(double cap, double lat)
{
	struct release *r = release_new(&conf, 0);
	struct sim *s = calloc(1, sizeof(*s));
	char name[128];
	double rate;

	s->cap = cap;
	s->lat = lat;
	s->fixed = -1;
	s->from = 60;
	run(r, s, 0, 180);
	rate = s->ok / 120.0;
	snprintf(name, sizeof(name), "cap %.0f/s, latency %.0f ms: "
	    "%.1f/s taken, within 90%%..100%% of the cap", cap, lat * 1000,
	    rate);
	ok(rate >= 0.9 * cap && rate <= cap * 1.001, name);
	snprintf(name, sizeof(name), "cap %.0f/s: %ld of %ld attempts "
	    "throttled, under 1%%", cap, s->throttled, s->sent);
	ok(s->throttled * 100 < s->sent, name);
	ok(!release_down(r), "a throttling route is not down");
	release_free(r);
	free(s);
}

int
main(void)
{
	struct release *r;
	struct sim *s;
	struct release_conf capped = conf;
	double t;
	int n;

	converge(20, 0.01);
	converge(200, 0.05);
	converge(50, 0.2);

	/* --max-rate holds even when the downstream takes more */
	capped.max_rate = 5;
	r = release_new(&capped, 0);
	s = calloc(1, sizeof(*s));
	s->cap = 1000;
	s->lat = 0.01;
	s->fixed = -1;
	s->from = 30;
	run(r, s, 0, 90);
	ok(s->ok <= 5 * 60 + 1 && s->ok >= 4 * 60,
	    "max_rate 5/s: about 300 in 60 s, never more");
	is_int(s->throttled, 0, "max_rate: no throttling seen");
	ok(release_rate(r) <= 5, "max_rate: the rate stays at the cap");
	release_free(r);
	free(s);

	/* the window: never more in flight than max_window */
	capped = conf;
	capped.max_window = 3;
	r = release_new(&capped, 0);
	for (n = 0; release_may_send(r, 100, n); n++)
		release_sent(r, 100);
	ok(n >= 1 && n <= 3, "the window starts small and within its cap");
	release_free(r);

	/* a route that never answers goes down, is probed every 30 s, and
	 * comes back when a probe is answered */
	r = release_new(&conf, 0);
	s = calloc(1, sizeof(*s));
	s->lat = 0.5;
	s->fixed = RELEASE_FAIL;
	run(r, s, 0, 20);
	is_int(s->downs, 1, "all failing: down once");
	ok(release_down(r), "down after 20 s of failures");
	ok(s->sent >= 5 && s->sent < 40, "a few attempts before down");
	s->sent = 0;
	run(r, s, 20, 140);
	ok(s->sent >= 3 && s->sent <= 5,
	    "down: one probe every 30 s, no more (4 in 120 s)");
	s->fixed = RELEASE_OK;
	s->sent = 0;
	run(r, s, 140, 172);
	is_int(s->ups, 1, "an answered probe brings the route up");
	ok(!release_down(r), "up again");
	ok(s->sent > 2, "up: messages go again");
	release_free(r);
	free(s);

	/* a route down from its first attempt has learnt nothing: when it
	 * comes up it starts afresh, not at a tenth of its starting rate */
	r = release_new(&conf, 0);
	s = calloc(1, sizeof(*s));
	s->lat = 0.5;
	s->fixed = RELEASE_FAIL;
	run(r, s, 0, 40);
	ok(release_down(r), "down from the start");
	s->fixed = -1;
	s->cap = 100;
	s->lat = 0.05;
	s->from = 100;
	run(r, s, 40, 160);
	ok(s->ok >= 90 * 60, "down from the start, then up: 90% of a "
	    "100/s downstream within a minute of coming up");
	release_free(r);
	free(s);

	/* after coming up the rate starts at a tenth of what it was */
	r = release_new(&conf, 0);
	for (t = 0; t < 30; t += 0.01) {
		/* learn some rate: every message answered at once */
		while (release_may_send(r, t, 0))
			release_answer(r, t, release_sent(r, t), RELEASE_OK);
	}
	{
		double learnt = release_rate(r);
		unsigned long q;

		for (n = 0, t = 30; !release_down(r) && n < 100; n++, t += 3) {
			while (!release_may_send(r, t, 0))
				t += 0.01;
			q = release_sent(r, t);
			release_answer(r, t, q, RELEASE_FAIL);
		}
		ok(release_down(r), "failures take a learnt route down");
		t += 31;
		ok(release_may_send(r, t, 0), "a probe is due after 30 s");
		q = release_sent(r, t);
		ok(!release_may_send(r, t, 0), "one probe at a time");
		is_int(release_answer(r, t, q, RELEASE_OK), RELEASE_UP,
		    "the probe answered: up");
		ok(release_rate(r) <= learnt / 10 + 0.001 &&
		    release_rate(r) >= learnt / 10 - 0.001,
		    "back up at a tenth of the learnt rate");
		is_int((int)release_window(r), 1, "back up with a window of 1");
	}
	release_free(r);
	return t_done();
}
