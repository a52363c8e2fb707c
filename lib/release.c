/*
 * release: AIMD of the window and rate of one route.  See release.h.
 */
#include <math.h>
#include <stdlib.h>

#include "release.h"
#include "xalloc.h"

#define RATE_MIN	0.1	/* messages per second, the floor of a cut */
#define RATE_MAX	1e6
#define RATE_START	4.0
#define CUT_THROTTLE	0.7
#define CUT_FAIL	0.5
#define STEP_SHARE	0.02	/* additive step: this share of the rate cut */

struct release {
	struct release_conf c;
	double window, wthresh;	/* slow start below the thresholds */
	double rate, rthresh;
	double step;		/* additive increase, messages/s per second */
	double tokens, refilled;
	double last_ok;		/* time of the last answer */
	double good_rate;	/* the rate when last answered */
	double next_probe;
	unsigned long seq, cut_seq, probe_seq;
	int fails;		/* failed attempts in a row */
	int limited;		/* a message waited on the window or rate */
	int down;
};

static double
rate_cap(const struct release *r)
{
	return r->c.max_rate > 0 ? r->c.max_rate : RATE_MAX;
}

struct release *
release_new(const struct release_conf *c, double now)
{
	struct release *r = xcalloc(1, sizeof(*r));

	r->c = *c;
	if (r->c.max_window < 1)
		r->c.max_window = 1;
	r->window = 1;
	r->wthresh = r->c.max_window;
	r->rate = fmin(RATE_START, rate_cap(r));
	r->rthresh = rate_cap(r);
	r->step = 1;
	r->tokens = 1;
	r->refilled = now;
	r->last_ok = now;
	r->good_rate = r->rate;
	return r;
}

void
release_free(struct release *r)
{
	free(r);
}

static double
burst(const struct release *r)
{
	return fmax(1, r->rate / 10);
}

static void
refill(struct release *r, double now)
{
	if (now > r->refilled) {
		r->tokens = fmin(burst(r), r->tokens + r->rate *
		    (now - r->refilled));
		r->refilled = now;
	}
}

int
release_may_send(struct release *r, double now, int in_flight)
{
	refill(r, now);
	if (r->down)
		return r->probe_seq == 0 && now >= r->next_probe;
	if (in_flight >= (int)r->window || r->tokens < 1) {
		r->limited = 1;
		return 0;
	}
	return 1;
}

unsigned long
release_sent(struct release *r, double now)
{
	refill(r, now);
	r->seq++;
	if (r->down)
		r->probe_seq = r->seq;
	else
		r->tokens -= 1;
	return r->seq;
}

static void
grow(struct release *r)
{
	if (!r->limited)
		return;
	r->limited = 0;
	if (r->window < r->wthresh)
		r->window += 1;
	else
		r->window += 1 / r->window;
	if (r->window > r->c.max_window)
		r->window = r->c.max_window;
	/* r->rate answers a second: +1 each doubles it each second; +step/rate
	 * each adds step a second */
	if (r->rate < r->rthresh)
		r->rate = fmin(r->rate + 1, fmax(r->rthresh, r->rate));
	else
		r->rate += r->step / r->rate;
	if (r->rate > rate_cap(r))
		r->rate = rate_cap(r);
}

static void
cut(struct release *r, double factor)
{
	r->rate = fmax(RATE_MIN, r->rate * factor);
	r->rthresh = r->rate;
	r->step = fmax(1, r->rate * STEP_SHARE);
	r->window = fmax(1, floor(r->window * factor));
	r->wthresh = r->window;
	if (r->tokens > burst(r))
		r->tokens = burst(r);
	r->cut_seq = r->seq;
}

static enum release_event
come_up(struct release *r, double now)
{
	r->down = 0;
	r->probe_seq = 0;
	r->fails = 0;
	r->last_ok = now;
	r->window = 1;
	r->wthresh = r->c.max_window;
	r->rthresh = fmin(r->good_rate, rate_cap(r));
	r->rate = fmax(RATE_MIN, r->rthresh / 10);
	r->tokens = 1;
	r->refilled = now;
	return RELEASE_UP;
}

enum release_event
release_answer(struct release *r, double now, unsigned long seq,
    enum release_answer a)
{
	if (r->down) {
		if (a == RELEASE_OK)
			return come_up(r, now);
		if (seq == r->probe_seq) {
			r->probe_seq = 0;
			r->next_probe = now + r->c.probe_interval;
		}
		return RELEASE_NONE;
	}
	if (a == RELEASE_OK) {
		r->fails = 0;
		r->last_ok = now;
		grow(r);
		r->good_rate = r->rate;
		return RELEASE_NONE;
	}
	r->fails++;
	if (seq > r->cut_seq)
		cut(r, a == RELEASE_THROTTLE ? CUT_THROTTLE : CUT_FAIL);
	if (r->fails >= r->c.down_attempts &&
	    now - r->last_ok >= r->c.down_time) {
		r->down = 1;
		r->probe_seq = 0;
		r->next_probe = now + r->c.probe_interval;
		return RELEASE_DOWN;
	}
	return RELEASE_NONE;
}

void
release_lost(struct release *r, unsigned long seq)
{
	if (r->down && seq == r->probe_seq)
		r->probe_seq = 0;
}

double
release_wait(const struct release *r, double now, int in_flight)
{
	double t;

	if (r->down) {
		if (r->probe_seq != 0)
			return 3600;
		t = r->next_probe - now;
	} else if (in_flight >= (int)r->window)
		return 3600;
	else {
		double tok = fmin(burst(r), r->tokens + r->rate *
		    (now > r->refilled ? now - r->refilled : 0));

		t = tok >= 1 ? 0 : (1 - tok) / r->rate;
	}
	if (t < 0)
		t = 0;
	return t > 3600 ? 3600 : t;
}

int
release_down(const struct release *r)
{
	return r->down;
}

double
release_window(const struct release *r)
{
	return r->window;
}

double
release_rate(const struct release *r)
{
	return r->rate;
}
