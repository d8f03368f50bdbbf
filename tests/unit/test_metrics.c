/*
 * tests/unit/test_metrics.c -- /metrics: the counters the request path
 * bumps, the gauges read from a real store and the outbox runner's
 * delivery counts, rendered in the Prometheus text format and checked line
 * by line and by promtool.  Works in a fresh directory under /tmp.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/version.h"
#include "config/config.h"
#include "keystate/methods.h"
#include "receiver/internal.h"
#include "store/store.h"
#include "tests/unit/unit.h"
#include "backends/backend.h"

static char tmpdir[] = "/tmp/test_metrics.XXXXXX";
static char cfgpath[300];

/* the zone name holds a double quote, the second backend's name a quote, a
 * backslash and a newline: all of it must come out escaped */
static const char config_text[] =
    "store = { path = \"dsyncd.db\"; };\n"
    "log = { level = \"err\"; };\n"
    "zones = ( { name = \"q\\\\\\\"z.example.\";\n"
    "  backends = ( { type = \"null\"; },\n"
    "    { type = \"null\"; name = \"b\\\"ack\\\\slash\\nnl\"; } ); } );\n";
#define ZONE_LABEL "q\\\\\\\"z.example."
#define BACKEND2 "b\"ack\\slash\nnl"
#define BACKEND2_LABEL "b\\\"ack\\\\slash\\nnl"

/* Render r into a malloc'd string; NULL when metrics_render failed. */
static char *render(struct receiver *r, struct store *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		abort();
	int rc = metrics_render(r, r->cfg, s, f);
	fclose(f);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Is line (without its newline) one whole line of text? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static int check_line(const char *text, const char *line)
{
	if (has_line(text, line))
		return 1;
	fprintf(stderr, "missing line: %s\n", line);
	return 0;
}

static int count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	size_t k = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, k) == 0;
	return n;
}

/* The value of the series that starts with prefix (labels included), -1 when none. */
static double value_of(const char *text, const char *prefix)
{
	size_t k = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, k) == 0 && p[k] == ' ')
			return strtod(p + k + 1, NULL);
	return -1;
}

#define LANE(name, backend) name "{zone=\"" ZONE_LABEL "\",backend=\"" backend "\"}"

/* promtool check metrics on text (its complaints shown unless quiet): its
 * exit status, or -1 when it is not installed. */
static int promtool(const char *text, bool quiet)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return -1;
	FILE *p =
	    popen(quiet ? "promtool check metrics >/dev/null 2>&1" : "promtool check metrics", "w");
	if (p == NULL)
		return -1;
	fputs(text, p);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* Every one of the n lines is in text (one check). */
static void check_lines(const char *text, const char *const *lines, size_t n)
{
	int ok = 1;
	for (size_t i = 0; i < n; i++)
		ok &= check_line(text, lines[i]);
	CHECK(ok);
}

/* promtool accepts text, where promtool is installed (false when not). */
static bool check_format(const char *text)
{
	int pt = promtool(text, false);
	if (pt < 0)
		printf("note: promtool not installed; format check skipped\n");
	else
		CHECK_EQ(pt, 0);
	return pt >= 0;
}

static void fill_store(struct store *s, const struct cfg *c)
{
	const struct cfg_zone *z = &c->zones[0];
	uint8_t child[DNAME_MAX];
	int64_t zid, cid, chg;
	CHECK(dname_from_str("child.q\\\"z.example.", child) > 0);
	CHECK_EQ(store_begin(s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, z->name, &zid), DS_OK);
	CHECK_EQ(store_child_ensure(s, zid, child, &cid), DS_OK);
	for (int i = 0; i < 4; i++) {
		struct store_key *k = calloc(1, sizeof(*k));
		if (k == NULL)
			abort();
		k->child_id = cid;
		k->alg = 15;
		k->flags = 512;
		k->rdlen = 36;
		k->rdata[0] = 0x02;
		k->rdata[2] = 3;
		k->rdata[3] = 15;
		k->rdata[4] = (uint8_t)(i + 1);
		k->state = i == 0   ? KEY_TRUSTED
			   : i == 1 ? KEY_VALIDATING
			   : i == 2 ? KEY_REVOKED
				    : KEY_KNOWN; /* waits for the operator */
		CHECK_EQ(store_key_upsert(s, k), DS_OK);
		if (k->state == KEY_VALIDATING)
			CHECK_EQ(store_validation_queue(s, k->id, (int64_t)time(NULL) + 3600),
				 DS_OK);
		free(k);
	}
	const char *names[2] = {z->backends[0].name ? z->backends[0].name : "null",
				z->backends[1].name};
	CHECK_EQ(store_outbox_add(s, z->name, child, "+ child.q\\\"z.example. 3600 IN NS ns1.\n",
				  names, 2, (int64_t)time(NULL) - 100, &chg),
		 DS_OK);
	CHECK_EQ(store_commit(s), DS_OK);
}

static void test_escaping_config(const struct cfg *c)
{
	/* the config kept the odd characters: the label test below means something */
	CHECK_EQ(c->nzones, 1);
	CHECK_EQ(c->zones[0].nbackends, 2);
	CHECK(strcmp(c->zones[0].backends[1].name, BACKEND2) == 0);
	char zn[DNAME_STR_MAX];
	CHECK_EQ(dname_to_str(c->zones[0].name, zn, sizeof(zn)), DS_OK);
	CHECK(strcmp(zn, "q\\\"z.example.") == 0);
}

/* the request path's counting, through the functions it calls */
static void bump_counters(struct receiver *r)
{
	struct counters *k = &r->ctr;
	for (int i = 0; i < 3; i++)
		metrics_count_decision(k, RES_ACCEPTED, RC_NOERROR);
	metrics_count_decision(k, RES_PROHIBITED, RC_REFUSED);
	metrics_count_decision(k, RES_BADKEY, RC_BADKEY);
	metrics_count_decision(k, RES_BADSIG, RC_NOTAUTH);
	metrics_count_decision(k, RES_N, 99);
	metrics_count_decision(k, (enum result) - 1, RC_YXDOMAIN);

	/* pipeline_log counts the decision and, for an inquiry, the inquiry */
	struct job *j = job_new(12);
	if (j == NULL)
		abort();
	snprintf(j->client, sizeof(j->client), "127.0.0.1#53");
	j->m->opcode = OP_QUERY;
	j->kind = MSG_INQUIRY;
	job_decide(j, RES_KEYSTATE, "KeyState of child: 4");
	pipeline_log(r, j);
	pipeline_log(r, j);
	j->kind = MSG_QUERY;
	job_decide(j, RES_FORMERR, "bad");
	pipeline_log(r, j);
	job_free(j);

	bootstrap_count_run(r->boot_counters, BOOT_AT_APEX, BM_OK);
	bootstrap_count_run(r->boot_counters, BOOT_AT_APEX, BM_OK);
	bootstrap_count_run(r->boot_counters, BOOT_AT_NS, BM_FAIL);
	bootstrap_count_run(r->boot_counters, BOOT_UNSIGNED, BM_TEMP);
	bootstrap_count_run(r->boot_counters, BOOT_UNSIGNED, BM_NA);
	bootstrap_count_run(r->boot_counters, BOOT_MANUAL, BM_OK); /* not an automatic method */
	bootstrap_count_run(r->boot_counters, BOOT_AT_NS, 42);	   /* not a result */

	/* buckets are upper bounds, inclusive */
	metrics_observe_ns(k, 100000);	    /* 0.0001 s */
	metrics_observe_ns(k, 500000);	    /* exactly 0.0005 */
	metrics_observe_ns(k, 700000);	    /* 0.0007 */
	metrics_observe_ns(k, 3000000000);  /* 3 s */
	metrics_observe_ns(k, 10000000000); /* 10 s: only +Inf */

	atomic_fetch_add(&k->verifications, 6);
	atomic_fetch_add(&k->verify_ok, 4);
	atomic_fetch_add(&r->boot_counters->attempts, 5);
	atomic_fetch_add(&r->boot_counters->trusted, 1);
	atomic_fetch_add(&r->boot_counters->failed, 2);
	atomic_fetch_add(&k->replays, 7);
	atomic_fetch_add(&k->dropped, 8);
	atomic_fetch_add(&k->tcp_accepted, 9);
	atomic_fetch_add(&k->tcp_refused_full, 1);
	atomic_fetch_add(&k->commits, 11);
	atomic_fetch_add(&k->verify_budget_exhausted, 3);
}

/* What operators alert on: version, start, keys waiting, detailed results. */
static void check_operator_lines(const char *t)
{
	static const char *const lines[] = {
	    "# TYPE dsyncd_build_info gauge",
	    "dsyncd_build_info{version=\"" DSYNC_VERSION "\"} 1",
	    "dsyncd_start_time_seconds 1700000000",
	    "dsyncd_keys_awaiting_operator 1",
	    "dsyncd_validations_pending_limit 10000",
	    "# TYPE dsyncd_decisions_total counter",
	    "dsyncd_decisions_total{result=\"accepted\"} 3",
	    "dsyncd_decisions_total{result=\"prohibited\"} 1",
	    "dsyncd_decisions_total{result=\"keystate\"} 2",
	    "dsyncd_decisions_total{result=\"formerr\"} 1",
	    "dsyncd_decisions_total{result=\"limited\"} 0",
	    "dsyncd_decisions_total{result=\"not-ready\"} 0",
	    "dsyncd_verify_budget_exhausted_total 3",
	};
	check_lines(t, lines, sizeof(lines) / sizeof(lines[0]));
	/* every result, 0 included; the out-of-range ones only in requests_total */
	CHECK_EQ(count_prefix(t, "dsyncd_decisions_total{"), RES_N);
}

static void test_first_render(struct receiver *r, struct store *s)
{
	char *t = render(r, s);
	if (t == NULL)
		return;
	static const char *const lines[] = {
	    "# TYPE dsyncd_requests_total counter",
	    "dsyncd_requests_total{result=\"accepted\",rcode=\"NOERROR\"} 3",
	    "dsyncd_requests_total{result=\"refused\",rcode=\"REFUSED\"} 1",
	    "dsyncd_requests_total{result=\"badkey\",rcode=\"BADKEY\"} 1",
	    "dsyncd_requests_total{result=\"badsig\",rcode=\"NOTAUTH\"} 1",
	    "dsyncd_requests_total{result=\"other\",rcode=\"other\"} 1",
	    "dsyncd_requests_total{result=\"other\",rcode=\"YXDOMAIN\"} 1",
	    "dsyncd_requests_total{result=\"keystate\",rcode=\"NOERROR\"} 2",
	    "dsyncd_requests_total{result=\"formerr\",rcode=\"FORMERR\"} 1",
	    "dsyncd_keystate_inquiries_total 2",
	    "dsyncd_sig0_verifications_total{outcome=\"ok\"} 4",
	    "dsyncd_sig0_verifications_total{outcome=\"fail\"} 2",
	    "dsyncd_validations_total{method=\"at-apex\",outcome=\"ok\"} 2",
	    "dsyncd_validations_total{method=\"at-apex\",outcome=\"fail\"} 0",
	    "dsyncd_validations_total{method=\"at-ns\",outcome=\"fail\"} 1",
	    "dsyncd_validations_total{method=\"at-ns\",outcome=\"ok\"} 0",
	    "dsyncd_validations_total{method=\"unsigned\",outcome=\"temporary\"} 1",
	    "dsyncd_validations_total{method=\"unsigned\",outcome=\"not-applicable\"} 1",
	    "dsyncd_validation_attempts_total 5",
	    "dsyncd_keys_trusted_by_bootstrap_total 1",
	    "dsyncd_keys_failed_validation_total 2",
	    "# TYPE dsyncd_backend_deliveries_total counter",
	    "dsyncd_queue_depth{queue=\"verify\"} 2",
	    "dsyncd_queue_depth{queue=\"commit\"} 1",
	    "dsyncd_outbox_pending 2",
	    "# TYPE dsyncd_delivery_pending gauge",
	    LANE("dsyncd_delivery_pending", "null") " 1",
	    LANE("dsyncd_delivery_pending", BACKEND2_LABEL) " 1",
	    "# TYPE dsyncd_delivery_lag_seconds gauge",
	    "# TYPE dsyncd_delivery_last_success_timestamp_seconds gauge",
	    LANE("dsyncd_delivery_last_success_timestamp_seconds", "null") " 0",
	    LANE("dsyncd_delivery_last_success_timestamp_seconds", BACKEND2_LABEL) " 0",
	    "dsyncd_validations_pending 1",
	    "dsyncd_keys{state=\"trusted\"} 1",
	    "dsyncd_keys{state=\"validating\"} 1",
	    "dsyncd_keys{state=\"revoked\"} 1",
	    "dsyncd_keys{state=\"known\"} 1",
	    "# TYPE dsyncd_request_duration_seconds histogram",
	    "dsyncd_request_duration_seconds_bucket{le=\"0.0005\"} 2",
	    "dsyncd_request_duration_seconds_bucket{le=\"0.001\"} 3",
	    "dsyncd_request_duration_seconds_bucket{le=\"2.5\"} 3",
	    "dsyncd_request_duration_seconds_bucket{le=\"5\"} 4",
	    "dsyncd_request_duration_seconds_bucket{le=\"+Inf\"} 5",
	    "dsyncd_request_duration_seconds_sum 13.001300000",
	    "dsyncd_request_duration_seconds_count 5",
	    "dsyncd_replays_total 7",
	    "dsyncd_dropped_total 8",
	    "dsyncd_tcp_connections_total 9",
	    "dsyncd_tcp_connections_refused_total 1",
	    "dsyncd_commits_total 11",
	};
	check_lines(t, lines, sizeof(lines) / sizeof(lines[0]));
	/* only the pairs that happened; every validation pair; 14 buckets */
	CHECK_EQ(count_prefix(t, "dsyncd_requests_total{"), 8);
	CHECK_EQ(count_prefix(t, "dsyncd_validations_total{"), 12);
	CHECK_EQ(count_prefix(t, "dsyncd_request_duration_seconds_bucket{"), 14);
	CHECK_EQ(count_prefix(t, "dsyncd_keys{"), 6);
	check_operator_lines(t);
	/* no outbox runner yet: no delivery series */
	CHECK_EQ(count_prefix(t, "dsyncd_backend_deliveries_total{"), 0);
	/* but the store's status of each configured backend; the change is 100 s old */
	CHECK_EQ(count_prefix(t, "dsyncd_delivery_pending{"), 2);
	CHECK_EQ(count_prefix(t, "dsyncd_delivery_lag_seconds{"), 2);
	double lag = value_of(t, LANE("dsyncd_delivery_lag_seconds", BACKEND2_LABEL));
	CHECK(lag >= 100 && lag < 160);
	check_format(t);
	free(t);
}

/* With the outbox runner: the change goes to both null backends. */
static void test_deliveries(struct receiver *r, struct store *s)
{
	CHECK_EQ(outbox_start(r->cfg, &r->outbox), DS_OK);
	if (r->outbox == NULL)
		return;
	int64_t pending = -1;
	for (int i = 0; i < 250; i++) { /* at most 5 s */
		if (store_outbox_pending(s, &pending) == DS_OK && pending == 0)
			break;
		usleep(20000);
	}
	CHECK_EQ(pending, 0);
	/* one observation from a real receipt time, 20 s ago: +Inf only */
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec -= 20;
	metrics_observe_request(&r->ctr, &t);

	char *txt = render(r, s);
	if (txt == NULL)
		return;
	static const char *const lines[] = {
	    "dsyncd_backend_deliveries_total{zone=\"" ZONE_LABEL
	    "\",backend=\"null\",outcome=\"ok\"} 1",
	    "dsyncd_backend_deliveries_total{zone=\"" ZONE_LABEL
	    "\",backend=\"null\",outcome=\"fail\"} 0",
	    "dsyncd_backend_deliveries_total{zone=\"" ZONE_LABEL "\",backend=\"" BACKEND2_LABEL
	    "\",outcome=\"ok\"} 1",
	    "dsyncd_backend_deliveries_total{zone=\"" ZONE_LABEL "\",backend=\"" BACKEND2_LABEL
	    "\",outcome=\"fail\"} 0",
	    "dsyncd_outbox_pending 0",
	    LANE("dsyncd_delivery_pending", "null") " 0",
	    LANE("dsyncd_delivery_pending", BACKEND2_LABEL) " 0",
	    LANE("dsyncd_delivery_lag_seconds", "null") " 0",
	    LANE("dsyncd_delivery_lag_seconds", BACKEND2_LABEL) " 0",
	    "dsyncd_request_duration_seconds_bucket{le=\"5\"} 4",
	    "dsyncd_request_duration_seconds_bucket{le=\"+Inf\"} 6",
	    "dsyncd_request_duration_seconds_count 6",
	};
	check_lines(txt, lines, sizeof(lines) / sizeof(lines[0]));
	CHECK_EQ(count_prefix(txt, "dsyncd_backend_deliveries_total{"), 4);
	/* both deliveries were recorded as successes just now */
	double now = (double)time(NULL);
	double ok1 = value_of(txt, LANE("dsyncd_delivery_last_success_timestamp_seconds", "null"));
	double ok2 =
	    value_of(txt, LANE("dsyncd_delivery_last_success_timestamp_seconds", BACKEND2_LABEL));
	CHECK(ok1 > now - 60 && ok1 <= now);
	CHECK(ok2 > now - 60 && ok2 <= now);
	/* the raw newline of the backend name never reaches the output */
	CHECK(strstr(txt, "slash\nnl") == NULL);
	/* the sum grew by about 20 s */
	const char *sum = strstr(txt, "\ndsyncd_request_duration_seconds_sum ");
	double v = sum ? strtod(sum + strlen("\ndsyncd_request_duration_seconds_sum "), NULL) : 0;
	CHECK(v >= 33.0 && v < 43.0);
	/* a mistake promtool must see, so that its verdict means something */
	if (check_format(txt))
		CHECK(promtool("dsyncd_untyped 1\n", true) > 0);
	free(txt);
}

int main(void)
{
	backends_register();
	struct cfg *c = NULL;
	struct store *s = NULL;
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(cfgpath, sizeof(cfgpath), "%s/dsyncd.conf", tmpdir);
	FILE *f = fopen(cfgpath, "w");
	if (f == NULL)
		return 2;
	fputs(config_text, f);
	fclose(f);
	log_init("test_metrics", false, LOG_ERR);

	CHECK_EQ(cfg_load(cfgpath, stderr, &c), DS_OK);
	if (c == NULL)
		UNIT_DONE("test_metrics");
	test_escaping_config(c);

	struct receiver *r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	static struct boot_counters boot;
	r->cfg = c;
	r->started = 1700000000;
	r->boot_counters = &boot;
	jobq_init(&r->verifyq, 8);
	jobq_init(&r->commitq, 8);
	jobq_init(&r->doneq, 0);
	CHECK(jobq_push(&r->verifyq, job_new(12)));
	CHECK(jobq_push(&r->verifyq, job_new(12)));
	CHECK(jobq_push(&r->commitq, job_new(12)));

	CHECK_EQ(store_open(c->store_path, &s), DS_OK);
	if (s != NULL) {
		fill_store(s, c);
		bump_counters(r);
		test_first_render(r, s);
		test_deliveries(r, s);
	}

	outbox_stop(r->outbox);
	store_close(s);
	jobq_destroy(&r->verifyq);
	jobq_destroy(&r->commitq);
	jobq_destroy(&r->doneq);
	free(r);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	cfg_free(c);
	UNIT_DONE("test_metrics");
}
