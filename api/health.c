/*
 * api/health.c -- the probes: GET /healthz (liveness) and GET /readyz
 * (readiness).  Both are answered without a token and write no audit row
 * (api.c lets routes of role API_ROLE_NONE through unauthenticated): load
 * balancers and kubelets call them every few seconds.
 *
 * /healthz says only that the API thread answers.  /readyz checks what
 * makes this dsyncd fit to take UPDATEs: its store takes a write, every
 * (zone, backend) delivered within api.ready-max-lag, and the bootstrap
 * queue has room.  Each check is cheap and bounded: one empty write
 * transaction (at most the store's busy timeout when another writer holds
 * the lock), two indexed reads per backend, one indexed count.  The same
 * checks give the gauge dsyncd_ready of /metrics.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "common/dname.h"
#include "common/err.h"

#define READY_ERROR_MAX 200 /* characters of a backend's last error in a reason */

void api_healthz(struct api_req *q)
{
	static const char ok[] = "ok\n";
	char *t = strdup(ok);
	api_text(q, t ? 200 : 500, "text/plain; charset=utf-8", t, t ? sizeof(ok) - 1 : 0);
}

/* The answer being built: every check, and the reasons of those that failed. */
struct readiness {
	json_t *checks, *reasons; /* NULL: not kept (the metric needs only the verdict) */
	bool failed;		  /* some check failed */
	unsigned max_lag;
	int64_t now;
};

/* One check's result; a failed one adds its detail, prefixed by name, to the reasons. */
static void ready_note(struct readiness *r, const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ready_note(struct readiness *r, const char *name, bool ok, const char *fmt, ...)
{
	char detail[512], reason[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(r->checks, json_pack("{s:s,s:b,s:o}", "name", name, "ok", ok,
						   "detail", api_json_text(detail)));
	if (!ok) {
		r->failed = true;
		snprintf(reason, sizeof(reason), "%s: %s", name, detail);
		json_array_append_new(r->reasons, api_json_text(reason));
	}
}

/* The store takes a write: an empty write transaction on the API's connection. */
static void check_store(struct readiness *r, struct store *s)
{
	int rc = store_begin(s);
	if (rc == DS_OK)
		rc = store_rollback(s);
	else
		store_rollback(s);
	if (rc == DS_OK)
		ready_note(r, "store", true, "writable");
	else if (rc == DS_EBUSY)
		ready_note(r, "store", false,
			   "not writable: another writer held the lock past the busy timeout");
	else
		ready_note(r, "store", false, "not writable: %s", ds_strerror(rc));
}

/* One (zone, backend): its oldest undelivered change against api.ready-max-lag. */
static int check_lane(void *arg, const struct cfg_zone *zone, const struct cfg_backend *b,
		      const struct delivery_status *st)
{
	struct readiness *r = arg;
	char zn[DNAME_STR_MAX], name[DNAME_STR_MAX + 80];
	if (dname_to_str(zone->name, zn, sizeof(zn)) != DS_OK)
		snprintf(zn, sizeof(zn), "?");
	snprintf(name, sizeof(name), "backend %s/%s", zn, b->name);
	if (st->pending == 0) {
		ready_note(r, name, true, "nothing pending");
		return 0;
	}
	int64_t age = r->now > st->oldest_created ? r->now - st->oldest_created : 0;
	if (age <= (int64_t)r->max_lag) {
		ready_note(r, name, true,
			   "%" PRId64 " pending, oldest %" PRId64 " s old (limit %u s)",
			   st->pending, age, r->max_lag);
		return 0;
	}
	/* the last error tells why, when the last attempt failed */
	bool failing = st->last_error[0] != '\0' && st->last_failure > st->last_success;
	ready_note(r, name, false,
		   "oldest undelivered change %" PRId64 " s old (limit %u s), %" PRId64
		   " pending, %d failed attempt(s)%s%.*s",
		   age, r->max_lag, st->pending, st->oldest_attempts,
		   failing ? ": last error: " : "", READY_ERROR_MAX, failing ? st->last_error : "");
	return 0;
}

/* The bootstrap queue has room: uploads are refused once it is full. */
static void check_bootstrap(struct readiness *r, struct store *s, unsigned cap)
{
	int64_t n = 0;
	int rc = store_validation_pending(s, &n);
	if (rc != DS_OK)
		ready_note(r, "bootstrap queue", false, "cannot be read: %s", ds_strerror(rc));
	else if (n >= (int64_t)cap)
		ready_note(r, "bootstrap queue", false,
			   "%" PRId64
			   " validations pending, at its cap (bootstrap.max-pending-total "
			   "%u): key uploads are refused",
			   n, cap);
	else
		ready_note(r, "bootstrap queue", true, "%" PRId64 " of %u", n, cap);
}

/* Run every check; true when all passed. */
static bool ready_run(struct api *a, const struct cfg *c, struct readiness *r)
{
	r->max_lag = c->api.ready_max_lag;
	r->now = (int64_t)time(NULL);
	check_store(r, a->store);
	int rc = outbox_status(c, a->store, check_lane, r);
	if (rc != DS_OK)
		ready_note(r, "backends", false, "delivery status cannot be read: %s",
			   ds_strerror(rc));
	check_bootstrap(r, a->store, c->boot.max_pending_total);
	return !r->failed;
}

void api_readyz(struct api_req *q)
{
	struct readiness r = {.checks = json_array(), .reasons = json_array()};
	if (r.checks == NULL || r.reasons == NULL) {
		json_decref(r.checks);
		json_decref(r.reasons);
		api_json(q, 500, NULL);
		return;
	}
	if (ready_run(q->a, q->cfg, &r)) {
		json_decref(r.reasons);
		api_json(q, 200, json_pack("{s:b,s:o}", "ready", true, "checks", r.checks));
	} else {
		api_json(q, 503,
			 json_pack("{s:b,s:o,s:o}", "ready", false, "reasons", r.reasons, "checks",
				   r.checks));
	}
}

int api_ready_metric(struct api *a, const struct cfg *cfg, FILE *out)
{
	struct readiness r = {0};
	bool ready = ready_run(a, cfg, &r);
	fprintf(out,
		"# HELP dsyncd_ready 1 when every check of /readyz passes, else 0.\n"
		"# TYPE dsyncd_ready gauge\n"
		"dsyncd_ready %d\n",
		ready);
	return ferror(out) ? DS_EIO : DS_OK;
}
