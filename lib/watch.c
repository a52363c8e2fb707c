/*
 * watch: arrival and delivery rates, spikes and stalls.  See watch.h.
 */
#include <math.h>
#include <stdlib.h>

#include "watch.h"
#include "xalloc.h"

struct watch {
	struct watch_conf c;
	double start, last;		/* created, last tick */
	unsigned long arrived, delivered;	/* since the last tick */
	double arr, arr_base, del, del_base;
	int warm;			/* the baselines have started */
	double warm_arr, warm_del;	/* counted until then */
	int spiking, stalled;
	double progress;		/* last delivery, or last time none due */
};

struct watch *
watch_new(const struct watch_conf *c, double now)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->c = *c;
	w->start = w->last = w->progress = now;
	return w;
}

void
watch_free(struct watch *w)
{
	free(w);
}

void
watch_arrived(struct watch *w, unsigned long n)
{
	w->arrived += n;
}

void
watch_delivered(struct watch *w, unsigned long n)
{
	w->delivered += n;
}

/* One EWMA step of x toward rate r over dt with time constant tau. */
static double
ewma(double x, double r, double dt, double tau)
{
	return x + (1 - exp(-dt / tau)) * (r - x);
}

double
watch_threshold(const struct watch *w)
{
	double t = w->c.factor * w->arr_base;

	return t > w->c.spike_min ? t : w->c.spike_min;
}

enum watch_event
watch_tick(struct watch *w, double now, size_t due)
{
	double dt = now - w->last;
	double ra, rd;

	if (dt <= 0)
		return WATCH_NONE;
	ra = (double)w->arrived / dt;
	rd = (double)w->delivered / dt;
	w->arr = ewma(w->arr, ra, dt, w->c.window);
	w->del = ewma(w->del, rd, dt, w->c.window);
	if (!w->warm) {
		/* the baselines start from the plain average of the first
		 * window: an EWMA from zero would take its time constant */
		w->warm_arr += (double)w->arrived;
		w->warm_del += (double)w->delivered;
		if (now - w->start >= w->c.window) {
			w->warm = 1;
			w->arr = w->arr_base = w->warm_arr / (now - w->start);
			w->del = w->del_base = w->warm_del / (now - w->start);
		}
	} else {
		/* a spike does not teach the baseline that it is normal */
		if (!w->spiking)
			w->arr_base = ewma(w->arr_base, ra, dt, w->c.baseline);
		w->del_base = ewma(w->del_base, rd, dt, w->c.baseline);
	}
	if (w->delivered > 0 || due == 0)
		w->progress = now;
	w->arrived = w->delivered = 0;
	w->last = now;

	if (w->stalled && w->progress == now) {
		w->stalled = 0;
		return WATCH_STALL_END;
	}
	if (!w->stalled && now - w->progress >= w->c.stall_time) {
		w->stalled = 1;
		return WATCH_STALL;
	}
	if (!w->spiking && w->warm && w->arr >= watch_threshold(w)) {
		w->spiking = 1;
		return WATCH_SPIKE;
	}
	if (w->spiking && w->arr < watch_threshold(w) / 2) {
		w->spiking = 0;
		return WATCH_SPIKE_END;
	}
	return WATCH_NONE;
}

double
watch_arrival_rate(const struct watch *w)
{
	return w->arr;
}

double
watch_arrival_baseline(const struct watch *w)
{
	return w->arr_base;
}

double
watch_delivery_rate(const struct watch *w)
{
	return w->del;
}

double
watch_delivery_baseline(const struct watch *w)
{
	return w->del_base;
}

double
watch_stalled_for(const struct watch *w, double now)
{
	return w->stalled || now - w->progress > 0 ? now - w->progress : 0;
}
