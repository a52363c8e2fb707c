/*
 * release: AIMD of the window and rate of one route.  See release.h.
 */
#include <math.h>
#include <stdlib.h>

#include "release.h"
#include "xalloc.h"

#define RATE_MIN	0.1	/* messages per second, the floor of a cut */
#define RATE_MAX	1e6
#define RATE_START	10.0
#define CUT_THROTTLE	0.7	/* the window's cut on a 4xx */
#define CUT_FAIL	0.5
#define CUT_MAX		0.95	/* a 4xx takes the rate to at most this */
#define STEP_SHARE	0.01	/* additive step: this share of the rate cut */
#define STEP_MIN	0.2	/* messages/s per second at least */
#define EST_SPAN	2.0	/* seconds of answers the taken rate is over */
#define EST_MIN		5	/* answers it needs to say anything */
#define EST_RING	512

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
	double okt[EST_RING];	/* times of the last answers, a ring */
	unsigned nok;		/* answers in it */
	unsigned okhead;	/* the next slot */
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

/* The rate the downstream took over the last EST_SPAN seconds (or over
 * the last EST_RING answers when they came faster), 0 when too few
 * answers came to say. */
static double
taken(const struct release *r, double now)
{
	unsigned i, n = 0;
	double oldest = now;

	for (i = 0; i < r->nok; i++) {
		double t = r->okt[(r->okhead + EST_RING - 1 - i) % EST_RING];

		if (t <= now - EST_SPAN)
			break;
		oldest = t;
		n++;
	}
	if (n < EST_MIN)
		return 0;
	if (n == EST_RING && now - oldest > 0.001)
		return n / (now - oldest);
	return n / EST_SPAN;
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
		r->rate = fmin(r->rate + 2, fmax(r->rthresh, r->rate));
	else
		r->rate += r->step / r->rate;
	if (r->rate > rate_cap(r))
		r->rate = rate_cap(r);
}

/*
 * A 4xx takes the rate to what the downstream was seen to take (it let
 * that much through), a little under, and at least to CUT_MAX of the
 * rate and at most to half of it; no answer at all halves it.
 */
static void
cut(struct release *r, double now, double factor)
{
	double t = taken(r, now);

	if (factor == CUT_THROTTLE && t > 0)
		r->rate = fmax(r->rate * 0.5, fmin(r->rate * CUT_MAX,
		    t * CUT_MAX));
	else if (factor == CUT_THROTTLE)
		r->rate *= CUT_MAX;
	else
		r->rate *= factor;
	r->rate = fmax(RATE_MIN, r->rate);
	r->rthresh = r->rate;
	r->step = fmax(STEP_MIN, r->rate * STEP_SHARE);
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
	if (r->nok > 0) {
		/* the rate of the last answer */
		r->rthresh = fmin(r->good_rate, rate_cap(r));
		r->rate = fmax(RATE_MIN, r->rthresh / 10);
	} else {
		/* nothing learnt: a fresh start */
		r->rthresh = rate_cap(r);
		r->rate = fmin(RATE_START, rate_cap(r));
	}
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
		r->okt[r->okhead] = now;
		r->okhead = (r->okhead + 1) % EST_RING;
		if (r->nok < EST_RING)
			r->nok++;
		grow(r);
		r->good_rate = r->rate;
		return RELEASE_NONE;
	}
	r->fails++;
	if (seq > r->cut_seq)
		cut(r, now, a == RELEASE_THROTTLE ? CUT_THROTTLE : CUT_FAIL);
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
