/*
 * release: how fast mail-pool hands messages to one downstream route.
 *
 * Two figures follow the downstream's answers, as TCP's congestion
 * window does (AIMD): the window, how many messages may be in flight at
 * once, and the rate, how many may start per second (a token bucket
 * with a tenth of a second of burst).  Each starts small and grows fast
 * while the downstream keeps answering (slow start: the window doubles
 * per window of answers, the rate triples each second); after the first
 * sign of load they grow additively: the window by one message per
 * window of answers, the rate by 1% of the rate it fell to (at least
 * 0.2 messages a second) each second.  A 4xx answer (421 "too busy" and
 * the like) cuts the window to 0.7 and the rate to what the downstream
 * was seen to take over the last 2 seconds, a little under (0.95 of it,
 * and at most 0.95 and at least half of the rate it had): a downstream
 * that throttles above its capacity is fed just under it.  No answer at
 * all (refused, timed out, lost) halves both.  Once per window: answers
 * to messages sent before the last cut do not cut again.  They grow only
 * while they hold messages back, so an idle route does not learn a rate
 * it never tried.
 *
 * A route whose attempts all fail (down_attempts in a row, and no
 * answer for down_time seconds) is down: nothing goes but one probe
 * message every probe_interval seconds.  When one is answered the route
 * is up again, from a window of one and a tenth of the rate it had at
 * its last answer, growing fast back to that rate; a route that never
 * answered starts afresh.
 *
 * Times are seconds as doubles from any fixed origin (a monotonic
 * clock); nothing here reads the clock, so tests drive it.
 */
#ifndef SLUICE_RELEASE_H
#define SLUICE_RELEASE_H

enum release_answer {
	RELEASE_OK,		/* 2xx or 5xx: the downstream answered */
	RELEASE_THROTTLE,	/* 4xx only */
	RELEASE_FAIL		/* no answer: refused, timeout, lost */
};

enum release_event {
	RELEASE_NONE,
	RELEASE_DOWN,		/* the route just went down */
	RELEASE_UP		/* the route just came back */
};

struct release_conf {
	int max_window;		/* messages in flight at most (>= 1) */
	double max_rate;	/* messages per second at most; 0: no cap */
	double probe_interval;	/* seconds between probes when down */
	int down_attempts;	/* failed attempts in a row ... */
	double down_time;	/* ... and seconds without an answer */
};

struct release;

/* A controller (free with release_free); out of memory exits 111. */
struct release *release_new(const struct release_conf *, double now);
void release_free(struct release *);

/*
 * May one more message go now, with in_flight already out?  Ask only
 * with a message ready: a "no" of the window or the rate marks the route
 * as limited, which lets the next answer grow them.  When down, yes only
 * for a probe that is due.
 */
int release_may_send(struct release *, double now, int in_flight);

/* A message went (after a yes): its sequence number, for the answer. */
unsigned long release_sent(struct release *, double now);

/* The answer to message seq; a change of the route's state. */
enum release_event release_answer(struct release *, double now,
    unsigned long seq, enum release_answer);

/* Message seq will never be answered (its worker died). */
void release_lost(struct release *, unsigned long seq);

/* Seconds until release_may_send may say yes (0: now; at most 3600). */
double release_wait(const struct release *, double now, int in_flight);

int release_down(const struct release *);
double release_window(const struct release *);
double release_rate(const struct release *);

#endif
