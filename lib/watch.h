/*
 * watch: mail-pool's alarms.  Two rates follow the pool, messages
 * arriving and messages delivered per second, each as two exponentially
 * weighted moving averages: a short one (time constant window) and a
 * baseline (time constant baseline).
 *
 * A spike is the short arrival rate at least spike_min and above factor
 * times the baseline; it ends when the short rate falls under half of
 * that threshold.  The baseline does not learn during a spike, and
 * starts, after the first window, from the average rate of that window
 * (so that the traffic of a fresh start is not a spike).
 *
 * A stall is messages waiting (due, or due later after a deferral) and
 * nothing delivered for stall_time seconds; it ends with the next
 * delivery.
 *
 * Times are seconds as doubles from a fixed origin; nothing here reads
 * the clock, so tests drive it.
 */
#ifndef SLUICE_WATCH_H
#define SLUICE_WATCH_H

#include <stddef.h>

struct watch_conf {
	double factor;		/* a spike: above factor x baseline ... */
	double spike_min;	/* ... and at least this many per second */
	double window;		/* seconds: the short averages */
	double baseline;	/* seconds: the baselines */
	double stall_time;	/* seconds due without a delivery */
};

enum watch_event {
	WATCH_NONE,
	WATCH_SPIKE,
	WATCH_SPIKE_END,
	WATCH_STALL,
	WATCH_STALL_END
};

struct watch;

/* A new watch (free with watch_free); out of memory exits 111. */
struct watch *watch_new(const struct watch_conf *, double now);
void watch_free(struct watch *);

/* n messages arrived; n delivered. */
void watch_arrived(struct watch *, unsigned long n);
void watch_delivered(struct watch *, unsigned long n);

/*
 * Fold in what came since the last tick (call about once a second) with
 * due the number of messages waiting for delivery now.  Returns at most one change; call
 * again at the next tick for the next.
 */
enum watch_event watch_tick(struct watch *, double now, size_t due);

double watch_arrival_rate(const struct watch *);
double watch_arrival_baseline(const struct watch *);
double watch_delivery_rate(const struct watch *);
double watch_delivery_baseline(const struct watch *);
/* Seconds since the last delivery while messages were due (0 if none). */
double watch_stalled_for(const struct watch *, double now);
/* The spike threshold now: max(spike_min, factor x baseline). */
double watch_threshold(const struct watch *);

#endif
