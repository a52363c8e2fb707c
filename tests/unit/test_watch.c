/*
 * test_watch: spikes and stalls on a driven clock.
 */
#include <stdio.h>

#include "watch.h"
#include "t.h"

int
main(void)
{
	struct watch_conf c = { 4, 1, 10, 600, 30 };
	struct watch *w = watch_new(&c, 0);
	enum watch_event e, seen;
	double t;
	int spike_at = -1, i;

	/* warm up at 2 a second: the baseline starts there, no spike */
	for (t = 1, seen = WATCH_NONE; t <= 60; t++) {
		watch_arrived(w, 2);
		watch_delivered(w, 2);
		if ((e = watch_tick(w, t, 3)) != WATCH_NONE)
			seen = e;
	}
	is_int(seen, WATCH_NONE, "steady traffic: no event");
	ok(watch_arrival_baseline(w) > 1.5 && watch_arrival_baseline(w) < 2.5,
	    "the baseline learnt 2/s");
	ok(watch_delivery_rate(w) > 1.5, "the delivery rate follows");
	/* 40 a second: a spike within a few seconds */
	for (i = 1; i <= 20 && spike_at == -1; i++) {
		watch_arrived(w, 40);
		watch_delivered(w, 2);
		if (watch_tick(w, t++, 3) == WATCH_SPIKE)
			spike_at = i;
	}
	ok(spike_at >= 1 && spike_at <= 5, "a spike of 20x is seen in 5 s");
	ok(watch_arrival_baseline(w) < 2.5, "a spike does not move the baseline");
	for (i = 0, seen = WATCH_NONE; i < 60; i++) {
		watch_arrived(w, 2);
		watch_delivered(w, 2);
		if ((e = watch_tick(w, t++, 3)) != WATCH_NONE)
			seen = e;
	}
	is_int(seen, WATCH_SPIKE_END, "back to 2/s: the spike ends");

	/* a stall: due, nothing delivered for 30 s */
	for (i = 0, seen = WATCH_NONE; i < 29; i++)
		if ((e = watch_tick(w, t++, 5)) != WATCH_NONE)
			seen = e;
	is_int(seen, WATCH_NONE, "29 s without a delivery: not yet");
	is_int(watch_tick(w, t++, 5), WATCH_STALL, "30 s: a stall");
	ok(watch_stalled_for(w, t) >= 30, "stalled for 30 s");
	is_int(watch_tick(w, t++, 5), WATCH_NONE, "said once");
	watch_delivered(w, 1);
	is_int(watch_tick(w, t++, 5), WATCH_STALL_END, "a delivery ends it");
	/* nothing due is no stall */
	for (i = 0, seen = WATCH_NONE; i < 100; i++)
		if ((e = watch_tick(w, t++, 0)) != WATCH_NONE)
			seen = e;
	is_int(seen, WATCH_NONE, "nothing due, nothing delivered: no stall");
	watch_free(w);

	/* a fresh start under a flood: no spike in the first window */
	w = watch_new(&c, 0);
	for (t = 1, seen = WATCH_NONE; t < 10; t++) {
		watch_arrived(w, 50);
		if ((e = watch_tick(w, t, 0)) != WATCH_NONE)
			seen = e;
	}
	is_int(seen, WATCH_NONE, "warming up: no spike");
	watch_free(w);
	/* spike_min guards a quiet baseline */
	w = watch_new(&c, 0);
	for (t = 1; t <= 20; t++)
		watch_tick(w, t, 0);
	watch_arrived(w, 1);
	is_int(watch_tick(w, t++, 0), WATCH_NONE,
	    "one message on a zero baseline: under spike_min");
	watch_free(w);
	return t_done();
}
