/*
 * receiver/internal.h -- what the receiver's files share.  Not a public API.
 */
#ifndef DS_RECEIVER_INTERNAL_H
#define DS_RECEIVER_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "common/cookie.h"
#include "common/msg.h"
#include "common/ratelimit.h"
#include "config/config.h"
#include "keystate/keystate.h"
#include "keys/bootstrap.h"
#include "keys/keys.h"
#include "outbox/outbox.h"
#include "sig0/sig0.h"
#include "receiver/receiver.h"
#include "store/store.h"

/* ---- replay cache (R10) ---- */

struct replay;

int replay_new(struct replay **out);
void replay_free(struct replay *rp);
int replay_load(struct replay *rp, struct store *s, int64_t now);
/* The RCODE stored for digest, or -1 when not seen. */
int replay_lookup(struct replay *rp, const uint8_t digest[32], int64_t now);
int replay_insert(struct replay *rp, const uint8_t digest[32], int64_t expires, int rcode);
void replay_remove(struct replay *rp, const uint8_t digest[32]);
void replay_purge(struct replay *rp, int64_t now);

/* ---- decision results ---- */

/*
 * What became of a request, as data: each result has one row in results[]
 * (pipeline.c) with its name, its RCODE and EDE, and its label -- the
 * audit row's result, the log line's result= and the result label of
 * dsyncd_requests_total.  A few results carry the RCODE/EDE of something
 * else (a policy refusal, a replayed answer): job_decide_as().
 */
enum result {
	RES_ACCEPTED,	   /* NOERROR: committed, or nothing to change */
	RES_KEYSTATE,	   /* NOERROR: a KeyState inquiry answered */
	RES_FORMERR,	   /* FORMERR: a malformed message */
	RES_NOTIMP,	   /* NOTIMP: an opcode other than UPDATE and QUERY */
	RES_SERVFAIL,	   /* SERVFAIL: our failure (store, memory); never NOERROR */
	RES_BADVERS,	   /* BADVERS: EDNS version other than 0 */
	RES_NOTAUTH,	   /* NOTAUTH: a zone not served here */
	RES_NOT_SERVED,	   /* REFUSED: a query, or an inquiry about a name not below a zone here */
	RES_LIMITED,	   /* REFUSED, Blocked: a rate or size limit */
	RES_PROHIBITED,	   /* REFUSED, Prohibited: what the rules do not allow */
	RES_KEY_ALG,	   /* REFUSED, Unsupported DNSKEY Algorithm */
	RES_NOT_READY,	   /* REFUSED, Not Ready: a budget or queue is full; retry later */
	RES_KEY_UNKNOWN,   /* REFUSED, ede.key-unknown: an inquiry signed by an unknown key */
	RES_KEY_UNTRUSTED, /* REFUSED, ede.key-not-trusted */
	RES_KEY_FAILED,	   /* REFUSED, ede.key-validation-failed */
	RES_POLICY,	   /* REFUSED with the policy's EDE (job_decide_as) */
	RES_PREREQ,	   /* a prerequisite failed: the policy's RCODE (job_decide_as) */
	RES_BADKEY,	   /* BADKEY, ede.key-unknown: the signing key is unknown (*) */
	RES_SIG_FUTURE,	   /* REFUSED, Signature Not Yet Valid (*) */
	RES_SIG_EXPIRED,   /* REFUSED, Signature Expired (*) */
	RES_SIG_WINDOW,	   /* REFUSED, Other: validity span or expiration too far (*) */
	RES_BADSIG,	   /* REFUSED, DNSSEC Bogus: the signature does not verify (*) */
	RES_REPLAY,	   /* the first answer's RCODE (job_decide_as) */
	RES_TRUNCATED, /* NOERROR, TC=1, Not Ready: no server cookie while the budget is short */
	RES_N
};
/* (*) a signature problem: NOTAUTH when the request has no OPT (D3) */

/* The coarse labels results are counted and audited by. */
enum result_label {
	LBL_ACCEPTED,
	LBL_REFUSED,
	LBL_REJECTED,
	LBL_FORMERR,
	LBL_NOTIMP,
	LBL_SERVFAIL,
	LBL_BADKEY,
	LBL_BADSIG,
	LBL_BADTIME,
	LBL_BADVERS,
	LBL_NOTAUTH,
	LBL_KEYSTATE,
	LBL_REPLAY,
	LBL_N
};

/* A result's label, and the label's name ("accepted", "refused", ...: what
 * audit rows, log lines and metrics say); LBL_N and "other" out of range. */
enum result_label result_label(enum result r);
const char *result_label_str(enum result_label l);
/* The label's name of r; result_detail() is r's own ("limited", ...). */
const char *result_name(enum result r);
const char *result_detail(enum result r);

/* The EDE text of a SERVFAIL when the store cannot be read or written (a
 * file error, or a PostgreSQL server unreachable): nothing was changed. */
#define STORE_DOWN "store unavailable; nothing changed, try again later"

/* ---- one request travelling through the pipeline ---- */

/*
 * What a message asks for, known before any crypto: each kind has its own
 * road through the pipeline (pipeline.c).  An UPDATE whose update section
 * holds only KEY records at one name is MSG_KEYS until its SIG(0) is
 * looked at: a key uploading itself (MSG_UPLOAD) or keys changed by a
 * trusted key (MSG_ROLLOVER).
 */
enum msg_kind {
	MSG_OTHER,    /* an opcode other than QUERY and UPDATE */
	MSG_QUERY,    /* a query that is not a KeyState inquiry */
	MSG_INQUIRY,  /* QUERY child KEY with the KeyState option */
	MSG_KEYS,     /* UPDATE of KEY records only, before the SIG(0) checks */
	MSG_UPLOAD,   /* a key uploading itself (bootstrap, or again) */
	MSG_ROLLOVER, /* a trusted key adding or removing the child's keys */
	MSG_DELEG,    /* any other UPDATE: a delegation change */
};

/* JOB_NEW is 0 so that a fresh job is never mistaken for a decided one. */
enum job_stage { JOB_NEW = 0, JOB_DECIDED, JOB_VERIFY, JOB_COMMIT };

#define JOB_MAX_CAND 2 /* R3: at most two verifications per message */

struct job {
	struct job *next;

	/* where it came from and how to answer */
	bool tcp;
	int fd;		  /* UDP socket, or TCP connection fd */
	uint64_t conn_id; /* TCP connection identity (fds are reused) */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char client[INET6_ADDRSTRLEN + 8];
	struct timespec t_recv;
	uint16_t udp_max; /* largest UDP answer the client takes */
	/* DNS Cookies: what the request's option holds (enum cookie_state), and
	 * the option of the answer (its client cookie and our server cookie) */
	uint8_t cookie;
	uint8_t cookie_outlen; /* 0: no COOKIE option in the answer */
	uint8_t cookie_out[COOKIE_LEN];
	bool tc; /* answered with TC=1: retry over TCP or with the cookie */

	/* set by pipeline_receive: the configured EDE codes of key refusals */
	const struct cfg *cfg;

	/* the request: bytes as received, and the parse that points into them */
	uint8_t *req;
	size_t reqlen;
	struct msg *m;

	/* authentication */
	const struct cfg_zone *zone;
	size_t ncand;
	size_t cand_sig[JOB_MAX_CAND]; /* which SIG(0) (0 or 1) */
	struct sig0_rr sig[MSG_MAX_SIG0];
	const struct key_entry *cand[JOB_MAX_CAND];
	const struct key_entry *key; /* the key that verified */
	int key_tag;		     /* for logs: first SIG(0)'s tag, -1 none */
	uint8_t signer[DNAME_MAX];
	bool have_signer;
	uint8_t digest[32];
	uint32_t sig_expiration;
	enum msg_kind kind;
	/* an upload by a key not trusted yet: the key comes from the update section */
	struct sig0_key *boot_pk;     /* owned by the job */
	const struct msg_rr *boot_rr; /* the KEY add */
	bool boot_queued;	      /* its automatic validation was queued */
	/* key rows written by this job: into the cache once committed */
	struct store_key *newkey; /* an array of nnewkey */
	size_t nnewkey;
	/* a KeyState inquiry (QUERY child KEY with the option) */
	uint16_t ks_keyid;
	bool ks_answer;	   /* put the KeyState option in the answer */
	uint8_t ks_state;  /* enum ks_code */
	uint16_t ks_code;  /* the option code (keystate.option-code) */
	char ks_text[200]; /* its EXTRA-TEXT ("" none) */

	/* decision */
	enum job_stage stage;
	int rcode;
	uint16_t ede;
	bool has_ede;
	char text[256]; /* EDE EXTRA-TEXT and log reason */
	enum result result;
	bool audit;    /* write an audit row */
	bool verified; /* a signature verified (digest and sig_expiration are set) */
	bool replayed;
	bool changed;
	char *changes; /* "+ rr\n- rr\n" of an accepted change (malloc'd) */

	/* response */
	uint8_t resp[1024];
	size_t resplen;
	size_t respcap; /* what the client takes (UDP: 512 or its EDNS size) */
};

struct job *job_new(size_t reqlen);
void job_free(struct job *j);
/* Decide: the result's RCODE and EDE, and the reason text (printf-style). */
void job_decide(struct job *j, enum result result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with the RCODE and EDE (-1: none) of something else. */
void job_decide_as(struct job *j, enum result result, int rcode, int ede, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- bounded FIFO between threads ---- */

struct jobq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t n, max;
	bool closed;
};

void jobq_init(struct jobq *q, size_t max);
void jobq_destroy(struct jobq *q);
/* false when full or closed (caller keeps j) */
bool jobq_push(struct jobq *q, struct job *j);
/* The same, but false already when limit jobs wait (0: no limit). */
bool jobq_push_below(struct jobq *q, struct job *j, size_t limit);

/* Audit rows a minute for requests refused before crypto, per /24 or /56. */
#define AUDIT_PER_SOURCE 600
/* Block for one job; NULL once closed and empty. */
struct job *jobq_pop(struct jobq *q);
/* Take up to max jobs without blocking (returns a chain; *n set). */
struct job *jobq_take(struct jobq *q, size_t max, size_t *n);
void jobq_close(struct jobq *q);

/* ---- counters (atomic; logged on SIGUSR1 and at exit, served by metrics.c) ---- */

/*
 * Sizes of the labelled counters; the label tables are in metrics.c.
 * Decisions are counted per (result label, RCODE), the last index of each
 * being "other".
 */
#define MX_RESULTS (LBL_N + 1)
#define MX_RCODES 15
/* request duration histogram: 13 finite upper bounds (0.0005 .. 5 s) and +Inf */
#define MX_BUCKETS 14

struct counters {
	atomic_ulong received, updates, accepted, refused, formerr, notimp, servfail;
	atomic_ulong verifications, verify_ok, verify_fail;
	atomic_ulong commits, commit_jobs, replays, dropped;
	atomic_ulong tcp_accepted, tcp_closed_bad, tcp_refused_full;
	atomic_ulong audit_skipped; /* refusals logged but not audited (AUDIT_PER_SOURCE) */

	/* for /metrics (metrics.c); each is only ever added to */
	atomic_ulong inquiries; /* KeyState inquiries decided */
	atomic_ulong requests[MX_RESULTS][MX_RCODES];
	atomic_ulong results[RES_N];	      /* by result (result_detail) */
	atomic_ulong verify_budget_exhausted; /* refused: sig0.verify-budget spent (R8) */
	atomic_ulong duration[MX_BUCKETS];    /* per bucket, not cumulative */
	atomic_ullong duration_ns;	      /* sum of the observed durations */
};

/* ---- the receiver ---- */

/* The log lines of refused requests in the current second (I/O thread only). */
struct refused_lines {
	int64_t second; /* time(NULL) */
	uint64_t written, held;
};

struct receiver {
	const struct cfg *cfg;
	struct refused_lines refused_lines;
	struct store *store;   /* commit thread's connection (env) */
	struct keycache *keys; /* (env) */
	struct replay *replay;
	struct counters ctr;
	int64_t started; /* Unix time the receiver was made (dsyncd_start_time_seconds) */

	/* I/O */
	int epfd;
	int wakefd; /* eventfd: completions and stop requests */
	int *lfd;   /* listening sockets (UDP and TCP) */
	bool *ltcp;
	size_t nlfd;
	struct conn **conns; /* indexed by fd */
	size_t nconns_max;
	struct conn **open; /* the open connections, nconns of them (any order) */
	size_t nconns;
	uint64_t next_conn_id;

	/* threads and queues */
	struct jobq verifyq, commitq, doneq;
	pthread_t *workers;
	size_t nworkers;
	pthread_t committer;
	volatile sig_atomic_t stop;
	volatile sig_atomic_t want_stats;
	volatile sig_atomic_t want_keys;   /* look at the receiver key folder now (a roll) */
	volatile sig_atomic_t want_reload; /* SIGHUP or an API request: reload_hook */
	size_t inflight; /* jobs dispatched and not answered yet (I/O thread only) */
	size_t open_cap; /* room in open[] */

	struct outbox_runner *outbox;	     /* (env) */
	struct bootstrap *boot;		     /* (env) */
	struct boot_counters *boot_counters; /* (env), else own_boot (all 0) */
	struct boot_counters own_boot;
	/* run by the I/O loop for each reload request (daemon/: the whole configuration) */
	void (*reload_hook)(void *arg);
	void *reload_arg;
	struct ratelimit *boot_source;	       /* key uploads per source prefix (I/O thread) */
	struct ratelimit *boot_child_verified; /* verified uploads per child (commit thread) */
	struct ratelimit *ks_source;	       /* KeyState inquiries per source prefix */
	struct ratelimit *audit_source;	       /* audit rows of pre-crypto refusals per prefix */
	struct ratelimit *upd_source, *upd_signer; /* R9: signed UPDATEs per prefix / signer */
	struct ratelimit_bucket verify_budget;	   /* R8: verifications a second, all requests */
	struct ratelimit *verify_share; /* verifications a second per prefix, budget short */
	struct cookie_mac *cookie_mac;	/* server cookies (I/O thread); NULL: no SipHash */
	/* the receiver's own keys: swapped by the I/O loop when the key folder
	 * changes; replaced sets stay allocated until exit (requests in flight
	 * may still sign with them) */
	_Atomic(struct rkeys *) rkeys;
	struct rkeys *rkeys_old[64];
	size_t nrkeys_old;
	atomic_long sign_tokens; /* R17: signatures left this second for unauthenticated requests */
	int64_t replay_purged;	 /* commit thread: last purge of the store's replay table */
};

/*
 * server.c: everything a request needs on its way through the pipeline
 * (env, the replay cache, rate limits, the receiver's keys), without
 * sockets or threads.  receiver_new() starts with it; the in-process tests
 * use it alone and run each request through the pipeline_* steps on their
 * own thread.  Freed with receiver_free().
 */
int receiver_core_new(const struct cfg *cfg, const struct receiver_env *env, struct receiver **out);

/* pipeline.c */
/* I/O thread: parse and the checks before crypto; sets j->stage. */
void pipeline_receive(struct receiver *r, struct job *j);
/* worker thread: signature verification. */
void pipeline_verify(struct receiver *r, struct job *j);
/* commit thread: decide a batch, commit once, build responses. */
void pipeline_commit_batch(struct receiver *r, struct job *batch);
/* I/O thread: the one log line for a decision; counts it for /metrics */
void pipeline_log(struct receiver *r, const struct job *j);
/* Log how many refused lines log.refused-per-second held back, once their second is over. */
void pipeline_log_flush(struct receiver *r);

/*
 * Replays (R10), on the commit thread (replay.c): a verified message seen
 * before is decided with its first answer (true); the decision is written
 * to the store in the job's savepoint, noted in memory once the savepoint
 * stays, and forgotten again when the batch's commit fails; expired rows
 * leave the store once a minute.
 */
bool replay_seen(struct receiver *r, struct job *j);
void replay_store(struct receiver *r, struct job *j);
void replay_note(struct receiver *r, struct job *j);
void replay_forget(struct receiver *r, const struct job *batch);
void replay_purge_store(struct receiver *r);

/* respond.c: build j->resp from the decision in j, then sign it (D5). */
void respond_build(struct job *j);
void respond_sign(struct receiver *r, struct job *j);

/* metrics.c: the counters of /metrics (Prometheus text format 0.0.4).
 * The metrics_count_* and metrics_observe_* calls are for the request path:
 * atomics only, no lock, no allocation. */
/* One decision with its result and RCODE (extended RCODEs included). */
void metrics_count_decision(struct counters *c, enum result result, int rcode);
/* One request answered now, received at t_recv (CLOCK_REALTIME). */
void metrics_observe_request(struct counters *c, const struct timespec *t_recv);
/* The same with the duration given, in nanoseconds (tests). */
void metrics_observe_ns(struct counters *c, uint64_t ns);
/*
 * Write every metric of r to out.  The gauges from the store are read with
 * s (the caller's own connection) before anything is written: on a store
 * error nothing is written and the error is returned; DS_EIO when out
 * fails.  Safe on any thread while r runs.
 */
int metrics_render(struct receiver *r, const struct cfg *cfg, struct store *s, FILE *out);

#endif
