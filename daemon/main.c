/*
 * daemon/main.c -- dsyncd entry point: options, config check, the
 * process's parts built and stopped in order, signals.
 *
 *   dsyncd [-c FILE]             serve (in the foreground; supervisors daemonize)
 *   dsyncd [-c FILE] -n          check the configuration and exit
 *   dsyncd [-c FILE] import ZONE ZONEFILE
 *   dsyncd [-c FILE] receiver-key show|roll
 *   dsyncd [-c FILE] key ... | records [ZONE] | config | check ZONE [--repair]
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/version.h"
#include "config/config.h"
#include "api/api.h"
#include "daemon/commands.h"
#include "keys/bootstrap.h"
#include "keys/keys.h"
#include "outbox/outbox.h"
#include "receiver/receiver.h"
#include "backends/backend.h"

#define DEFAULT_CONFIG "/etc/dsyncd/dsyncd.conf"

static struct receiver *the_receiver;

/* api_env.rkeys_changed: the I/O loop reads the receiver key folder again */
static void rkeys_reload(void *arg)
{
	receiver_request_keys(arg);
}

/* SIGHUP, after the keys: the API's tokens file */
static void reload_tokens(void *arg)
{
	api_reload_tokens(arg);
}

static void on_stop(int sig)
{
	(void)sig;
	if (the_receiver)
		receiver_stop(the_receiver);
}

static void on_stats(int sig)
{
	(void)sig;
	if (the_receiver)
		receiver_request_stats(the_receiver);
}

static void on_hup(int sig)
{
	(void)sig;
	if (the_receiver)
		receiver_request_keys(the_receiver);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dsyncd [-c FILE] [-n]\n"
		   "       dsyncd [-c FILE] import ZONE ZONEFILE\n"
		   "       dsyncd [-c FILE] receiver-key show|roll\n"
		   "       dsyncd [-c FILE] key list | key trust|revoke CHILD TAG\n"
		   "       dsyncd [-c FILE] records [ZONE]\n"
		   "       dsyncd [-c FILE] config\n"
		   "       dsyncd [-c FILE] check ZONE [--repair]\n"
		   "  -c, --config FILE  configuration (default " DEFAULT_CONFIG ")\n"
		   "  -n, --check        check the configuration and exit\n"
		   "  -V, --version      print the version\n"
		   "  -h, --help         this text\n");
}

/*
 * `dsyncd [options] COMMAND ...`: one operator subcommand; its exit status
 * (doc/exit-status.md): ds_exit_status of its result, 1 when `check` found
 * drift (it ran, and the answer is no).
 */
static int subcommand(const struct cfg *cfg, int argc, char **argv)
{
	int rc;
	if (strcmp(argv[0], "import") == 0 && argc == 3)
		rc = daemon_import(cfg, argv[1], argv[2], stdout);
	else if (strcmp(argv[0], "check") == 0 &&
		 (argc == 2 || (argc == 3 && strcmp(argv[2], "--repair") == 0))) {
		rc = outbox_check(cfg, argv[1], argc == 3, stdout);
		if (rc == DS_EEXIST)
			return 1;
	} else if (strcmp(argv[0], "config") == 0 && argc == 1)
		rc = api_config_print(cfg, stdout);
	else if (strcmp(argv[0], "records") == 0 && argc <= 2)
		rc = keys_records(cfg, argc == 2 ? argv[1] : NULL, stdout);
	else if (strcmp(argv[0], "key") == 0)
		rc = daemon_key_command(cfg, argc - 1, argv + 1, stdout);
	else if (strcmp(argv[0], "receiver-key") == 0 && argc == 2)
		rc = rkeys_command(cfg, argv[1], stdout);
	else {
		usage(stderr);
		return EX_USAGE;
	}
	return ds_exit_status(rc);
}

/* Everything the serving process is made of; daemon/ builds and frees it. */
struct process {
	int lockfd;	     /* the store's lock (store_lock), -1 when not held */
	struct store *store; /* the receiver's commit connection */
	struct keycache *keys;
	struct outbox_runner *outbox;
	struct boot_counters boot_counters;
	struct bootstrap *boot;
	struct receiver *receiver;
	struct api *api;
};

/* The child keys: the configuration's into the store, the store's into the cache. */
static int open_keys(const struct cfg *cfg, struct process *p)
{
	char why[PATH_MAX + 200];
	/* opened first: store_open makes the store's folder when it is missing */
	int rc = store_open(cfg->store_path, &p->store);
	if (rc != DS_OK) {
		log_err("cannot open store %s: %s", cfg->store_path, ds_strerror(rc));
		return rc;
	}
	rc = store_lock(cfg->store_path, &p->lockfd, why, sizeof(why));
	if (rc != DS_OK) {
		log_err("%s", why);
		return rc;
	}
	rc = keys_sync_config(cfg, p->store);
	if (rc == DS_OK)
		rc = keycache_new(&p->keys);
	if (rc == DS_OK)
		rc = keycache_sync(p->keys, p->store, &cfg->limits);
	if (rc != DS_OK)
		log_err("cannot load the keys from the store: %s", ds_strerror(rc));
	return rc;
}

/* Store and keys, outbox, bootstrap scheduler, receiver, API: in that order. */
static int process_start(const struct cfg *cfg, struct process *p)
{
	int rc = open_keys(cfg, p);
	if (rc == DS_OK)
		rc = outbox_start(cfg, &p->outbox);
	if (rc == DS_OK)
		rc = bootstrap_start(cfg, p->keys, &p->boot_counters, &p->boot);
	struct receiver_env renv = {
	    .store = p->store,
	    .keys = p->keys,
	    .outbox = p->outbox,
	    .boot = p->boot,
	    .boot_counters = &p->boot_counters,
	};
	if (rc == DS_OK)
		rc = receiver_new(cfg, &renv, &p->receiver);
	struct api_env aenv = {
	    .cfg = cfg,
	    .keys = p->keys,
	    .outbox = p->outbox,
	    .rkeys_changed = rkeys_reload,
	    .metrics = receiver_metrics,
	    .arg = p->receiver,
	};
	if (rc == DS_OK)
		rc = api_start(&aenv, &p->api);
	if (rc == DS_OK)
		receiver_set_reload_hook(p->receiver, reload_tokens, p->api);
	return rc;
}

/* The reverse: whoever uses a part is stopped before it (NULLs are fine). */
static void process_stop(struct process *p)
{
	api_stop(p->api);
	receiver_free(p->receiver);
	bootstrap_stop(p->boot);
	if (p->outbox)
		outbox_stop(p->outbox);
	keycache_free(p->keys);
	store_close(p->store);
	store_unlock(p->lockfd);
}

/* Serve until SIGTERM; signals go to the receiver's I/O loop, which fans
 * SIGHUP out to the receiver keys, the child keys and the API's tokens. */
static int serve(const struct cfg *cfg)
{
	struct sigaction sa = {0};
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* until the receiver runs, a SIGHUP (log rotation) must not stop the service */
	sigaction(SIGHUP, &sa, NULL);

	static struct process p = {.lockfd = -1};
	if (process_start(cfg, &p) != DS_OK) {
		log_err("start-up failed");
		process_stop(&p);
		return 1;
	}
	the_receiver = p.receiver;
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_stats;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);

	int rc = receiver_run(p.receiver);
	the_receiver = NULL;
	process_stop(&p);
	log_notice("stopped");
	return rc == DS_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	backends_register();
	const char *conf = DEFAULT_CONFIG;
	bool check_only = false;
	int opt;
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	while ((opt = getopt_long(argc, argv, "+c:nVhf", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'f': /* accepted for compatibility: dsyncd always stays in the foreground */
			break;
		case 'V':
			printf("dsyncd %s\n", DSYNC_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	log_init("dsyncd", false, LOG_INFO);

	struct cfg *cfg = NULL;
	int rc = cfg_load(conf, stderr, &cfg);
	if (rc != DS_OK)
		return ds_exit_status(rc);
	/* serving, or checking for it: what start-up needs besides the text */
	if ((check_only || optind == argc) && (rc = cfg_preflight(cfg, stderr)) != DS_OK) {
		if (!check_only)
			log_err("start-up refused: the configuration check failed (dsyncd -n)");
		cfg_free(cfg);
		return ds_exit_status(rc);
	}
	if (check_only) {
		printf("%s: configuration OK (%zu zone(s))\n", conf, cfg->nzones);
		cfg_free(cfg);
		return 0;
	}
	log_set_facility(cfg->log_facility);
	log_init("dsyncd", cfg->log_syslog, cfg->log_level);

	if (optind < argc) {
		rc = subcommand(cfg, argc - optind, argv + optind);
		cfg_free(cfg);
		return rc;
	}
	/* a daemon that could not start, or stopped on an error: the log says why */
	rc = serve(cfg) == 0 ? 0 : EX_UNAVAILABLE;
	cfg_free(cfg);
	return rc;
}
