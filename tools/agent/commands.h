/*
 * tools/agent/commands.h -- what the program dsync-agent shares among its
 * files (agent.h is the part test_agent tests too).
 *
 *   main.c      options, main()
 *   setup.c     the child's key, the resolver, where requests go (prepare)
 *   commands.c  discover, inquire, bootstrap, update
 *   keys.c      keygen, roll
 *   output.c    "field: value" lines, the --json object, judging answers
 */
#ifndef DS_TOOLS_AGENT_COMMANDS_H
#define DS_TOOLS_AGENT_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "tools/agent/agent.h"
#include "tools/cli.h"

#define DEFAULT_PORT 5354
#define DEFAULT_KS_OPTION 65002 /* D1 */
#define DEFAULT_SCHEME 2	/* D1 */
#define DEFAULT_SVCB_KEY 65282	/* D1 */
#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define DEFAULT_BOOT_TIMEOUT 600 /* s: bootstrap polls this long in all */
#define DEFAULT_POLL_MAX 60	 /* s: longest wait between two polls */
#define KEY_TTL 3600		 /* TTL of the KEY records we send and print */
#define MAX_NS 16

/* Options that only some commands take (the others refuse them). */
enum {
	OB_KEY = 1u << 0,
	OB_ALG = 1u << 1,
	OB_DIR = 1u << 2,
	OB_NS = 1u << 3,
	OB_RECORDS = 1u << 4, /* --add, --del, --del-rrset, --cds, --ns-port */
	OB_POLL = 1u << 5,    /* --timeout, --poll-max */
	OB_NET = 1u << 6,     /* server, receiver, transport, resolver options */
};

struct item {
	uint16_t rclass;
	const char *text;
};

struct opts {
	const char *cmd;
	const char *zone_text;
	uint8_t zone[DNAME_MAX];
	const char *server;
	long port; /* -1: not given */
	const char *key;
	const char *receiver_key;
	const char *resolver_config;
	const char *trust_anchor;
	const char *parent_text;
	bool json, tcp, udp, insecure_ok, cds, quiet;
	long query_timeout_ms;
	long retries;
	long timeout_s, poll_max_s;
	uint8_t alg; /* 0: the command's default */
	const char *dir;
	const char *ns[MAX_NS];
	size_t nns;
	struct item items[AGENT_MAX_RRS];
	size_t nitems;
	long ks_option;
	long scheme;
	long svcb_key;
	long ns_port;
	unsigned used; /* OB_* bits of the options given */
};

/* Everything a command works with; freed by ctx_free(). */
struct ctx {
	struct opts *o;
	struct sig0_key *key;
	struct bm_resolver *res;
	struct agent_discovery *disc; /* NULL when discovery did not run */
	struct agent_target target;
	struct agent_cookies cookies; /* the target's, per address */
	struct sig0_key *rkey[AGENT_MAX_KEYS];
	size_t nrkey;
	uint8_t parent[DNAME_MAX];
	json_t *out; /* the --json object */
};

/* ---- commands.c, keys.c: exit status (agent.h) ---- */

typedef int cmd_fn(struct ctx *c);

cmd_fn cmd_discover, cmd_inquire, cmd_bootstrap, cmd_update; /* commands.c */
cmd_fn cmd_keygen, cmd_roll;				     /* keys.c */

/* Exit status for a KeyState code. */
int ks_exit(uint8_t code);

/*
 * One signed inquiry about key: *a gets the answer.  Returns 0 when a
 * usable (authenticated or accepted) KeyState came back, else the exit
 * status.  The answer is shown (and *shown set) when show.
 */
int inquire(struct ctx *c, const struct agent_target *t, const struct sig0_key *key, bool show,
	    json_t **shown, struct agent_answer *a);

/* Send one UPDATE of rr[0..n) signed by key, show its answer as step and
 * judge it: 0 on an accepted NOERROR, else the exit status. */
int send_update(struct ctx *c, const struct agent_rr *rr, size_t n, const struct sig0_key *key,
		const char *step);

/* ---- setup.c ---- */

void ctx_free(struct ctx *c);
int open_resolver(struct ctx *c);
int discover(struct ctx *c);
int prepare(struct ctx *c);
struct agent_request *request_new(void);
int send_failed(int rc, const struct agent_answer *a);
void key_rr(const struct sig0_key *k, uint16_t rclass, struct agent_rr *rr);

/* ---- output.c ---- */

void say(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jset(json_t *o, const char *k, json_t *v);
json_t *show_answer(const struct ctx *c, const struct agent_answer *a);
int auth_gate(const struct ctx *c, const struct agent_answer *a);
json_t *discovery_json(const struct agent_discovery *d);
void show_discovery(const struct ctx *c, const struct agent_discovery *d);
int rcode_fail(const struct agent_answer *a, const char *what);
void show_changes(struct ctx *c, const struct agent_rr *rr, size_t n);
void state_line(struct ctx *c, json_t *states, const struct ks_opt *ks);

#endif
