/*
 * daemon/main.c -- dsyncd entry point: options, config check, the
 * process's parts built and stopped in order, signals.
 *
 *   dsyncd [-c FILE]             serve (in the foreground; supervisors daemonize)
 *   dsyncd [-c FILE] -n          check the configuration and exit
 *   dsyncd [-c FILE] import [--dry-run] [--prune] ZONE ZONEFILE
 *   dsyncd [-c FILE] delegation add|delete CHILD ...
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
#include "daemon/process.h"
#include "daemon/privdrop.h"
#include "keys/bootstrap.h"
#include "keys/keys.h"
#include "outbox/outbox.h"
#include "receiver/receiver.h"
#include "backends/backend.h"

#ifndef DSYNC_SYSCONFDIR
#define DSYNC_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG DSYNC_SYSCONFDIR "/dsyncd/dsyncd.conf"

static struct receiver *the_receiver;

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
		receiver_request_reload(the_receiver);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dsyncd [-c FILE] [-n]\n"
		   "       dsyncd [-c FILE] import [--dry-run] [--prune] ZONE ZONEFILE\n"
		   "       dsyncd [-c FILE] delegation add CHILD [--ns NAME]... [--ds TEXT]...\n"
		   "                        [--glue NAME ADDRESS]... [--reason TEXT]\n"
		   "       dsyncd [-c FILE] delegation delete CHILD [--reason TEXT]\n"
		   "       dsyncd [-c FILE] receiver-key show|roll\n"
		   "       dsyncd [-c FILE] key list | key pending | key trust|revoke KEY\n"
		   "         KEY: CHILD/TAG, CHILD/TAG/ALG or the key's id (also CHILD TAG)\n"
		   "       dsyncd [-c FILE] records [ZONE]\n"
		   "       dsyncd [-c FILE] store-copy [--from STORE] --to STORE\n"
		   "         STORE: a SQLite file, postgresql:CONNINFO or postgresql-file:FILE\n"
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
	/* import and delegation answer with their own exit status */
	if (strcmp(argv[0], "import") == 0)
		return daemon_import_command(cfg, argc - 1, argv + 1, stdout);
	if (strcmp(argv[0], "delegation") == 0)
		return daemon_delegation_command(cfg, argc - 1, argv + 1, stdout);
	if (strcmp(argv[0], "store-copy") == 0) {
		rc = daemon_store_copy_command(cfg, argc - 1, argv + 1, stdout);
		if (rc == EX_USAGE)
			usage(stderr);
		return rc;
	}
	if (strcmp(argv[0], "check") == 0 &&
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

/* Serve until SIGTERM (DS_OK, or why it could not); signals go to the receiver's I/O loop, which
 * reloads the whole configuration on SIGHUP (process_reload). */
static int serve(const struct cfg *cfg)
{
	struct sigaction sa = {0};
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* until the receiver runs, a SIGHUP (log rotation) must not stop the service */
	sigaction(SIGHUP, &sa, NULL);

	static struct process p = {
	    .lockfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	int rc = process_start(cfg, &p);
	if (rc == DS_OK)
		rc = privdrop(cfg);
	if (rc != DS_OK) {
		log_err("start-up failed");
		process_stop(&p);
		return rc;
	}
	the_receiver = p.receiver;
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_stats;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);

	rc = receiver_run(p.receiver);
	the_receiver = NULL;
	process_stop(&p);
	log_notice("stopped");
	return rc;
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
	/* a daemon that could not start, or stopped on an error: the log says
	 * why; the store held by another dsyncd is a temporary failure */
	rc = serve(cfg);
	rc = rc == DS_OK ? 0 : rc == DS_EBUSY ? EX_TEMPFAIL : EX_UNAVAILABLE;
	cfg_free(cfg);
	return rc;
}
