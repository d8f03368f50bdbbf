/*
 * daemon/process.c -- the serving process's parts, built in order and
 * stopped in reverse, and the reload of its whole configuration.
 *
 * A reload runs on the receiver's I/O loop, so no new request is read
 * while it runs.  Everything that can fail is done first, beside the
 * running parts: load and check the file, make the new backends and
 * bootstrap scheduler.  Then the requests in flight are answered under
 * the old configuration (receiver_quiesce), the configured keys go into
 * the store in one transaction, and each part switches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "daemon/process.h"
#include "keys/keys.h"
#include "outbox/outbox.h"
#include "receiver/receiver.h"
#include "store/store.h"

/* The child keys: the configuration's into the store, the store's into the cache. */
static int open_keys(const struct cfg *cfg, struct process *p)
{
	char why[1200];
	/* opened first: store_open makes the store's folder when it is missing */
	int rc = store_open(cfg->store_spec, &p->store);
	if (rc != DS_OK) {
		log_err("cannot open store %s: %s", cfg->store_label, ds_strerror(rc));
		return rc;
	}
	/* several nodes share a PostgreSQL store: only a file is locked */
	p->lockfd = -1;
	rc = store_spec_is_pg(cfg->store_spec)
		 ? DS_OK
		 : store_lock(cfg->store_path, &p->lockfd, why, sizeof(why));
	if (rc != DS_OK) {
		log_err("%s", why);
		return rc;
	}
	/* one walk of the keys: a million keys are read in about a second;
	 * other nodes' changes heard from before it (shared store), applied after */
	rc = keycache_new(&p->keys);
	if (rc == DS_OK)
		rc = keywatch_new(cfg, p->keys, &p->keywatch);
	if (rc == DS_OK)
		rc = keys_load(cfg, p->store, p->keys);
	if (rc == DS_OK)
		rc = keywatch_run(p->keywatch);
	if (rc != DS_OK)
		log_err("cannot load the keys from the store: %s", ds_strerror(rc));
	return rc;
}

/* api_env.rkeys_changed: the I/O loop reads the receiver key folder again */
static void rkeys_reload(void *arg)
{
	receiver_request_keys(arg);
}

/* The receiver's reload hook: one reload, its outcome for whoever asked. */
static void on_reload(void *arg)
{
	struct process *p = arg;
	struct api_reload_result res = {0};
	pthread_mutex_lock(&p->mu);
	unsigned long asked = p->asked;
	pthread_mutex_unlock(&p->mu);
	int rc = process_reload(p, &res);
	pthread_mutex_lock(&p->mu);
	p->done = asked;
	p->last_rc = rc;
	p->last = res;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* api_env.reload (POST /api/v1/reload): ask the I/O loop, wait for the outcome. */
static int api_reload(void *arg, struct api_reload_result *res)
{
	struct process *p = arg;
	int rc = DS_EAGAIN;
	pthread_mutex_lock(&p->mu);
	unsigned long mine = ++p->asked;
	receiver_request_reload(p->receiver);
	while (p->done < mine && !p->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	if (p->done >= mine) {
		*res = p->last;
		rc = p->last_rc;
	} else {
		snprintf(res->error, sizeof(res->error), "the server is shutting down");
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/*
 * The old delivery lanes and bootstrap scheduler end what they are doing
 * (a delivery or a validation may take its whole timeout) on a thread of
 * their own, so that the I/O loop serves meanwhile; the new ones start
 * once the old ones are gone, never beside them.  The old configuration
 * is freed last.
 */
struct switcher {
	struct outbox_runner *outbox;
	struct outbox_next *lanes;
	struct bootstrap *old_boot, *new_boot;
	const struct cfg *old_cfg;
};

static void *switcher_main(void *arg)
{
	struct switcher *w = arg;
	if (outbox_switch(w->outbox, w->lanes) != DS_OK)
		log_err("reload: some delivery threads did not start; restart dsyncd");
	bootstrap_stop(w->old_boot);
	if (bootstrap_run(w->new_boot, false) != DS_OK)
		log_err("reload: the bootstrap scheduler did not start; restart dsyncd");
	cfg_free(w->old_cfg);
	free(w);
	return NULL;
}

/* Wait for the previous reload's switcher (a reload or the stop comes after it). */
static void switcher_wait(struct process *p)
{
	if (p->switching) {
		pthread_join(p->switcher, NULL);
		p->switching = false;
	}
}

/* What the receiver works with, as the process has it now. */
static struct receiver_env receiver_env_of(struct process *p)
{
	return (struct receiver_env){
	    .store = p->store,
	    .keys = p->keys,
	    .outbox = p->outbox,
	    .boot = p->boot,
	    .boot_counters = &p->boot_counters,
	};
}

int process_start(const struct cfg *cfg, struct process *p)
{
	p->cfg = cfg_hold(cfg);
	int rc = open_keys(cfg, p);
	if (rc == DS_OK)
		rc = outbox_start(cfg, &p->outbox);
	if (rc == DS_OK)
		rc = bootstrap_start(cfg, p->keys, &p->boot_counters, &p->boot);
	struct receiver_env renv = receiver_env_of(p);
	if (rc == DS_OK)
		rc = receiver_new(cfg, &renv, &p->receiver);
	struct api_env aenv = {
	    .cfg = cfg,
	    .keys = p->keys,
	    .outbox = p->outbox,
	    .rkeys_changed = rkeys_reload,
	    .metrics = receiver_metrics,
	    .arg = p->receiver,
	    .reload = api_reload,
	    .reload_arg = p,
	};
	if (rc == DS_OK)
		rc = api_start(&aenv, &p->api);
	if (rc == DS_OK)
		receiver_set_reload_hook(p->receiver, on_reload, p);
	return rc;
}

void process_stop(struct process *p)
{
	pthread_mutex_lock(&p->mu);
	p->stopping = true; /* an API request waiting for a reload gives up */
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	switcher_wait(p);
	api_stop(p->api);
	receiver_free(p->receiver);
	bootstrap_stop(p->boot);
	if (p->outbox)
		outbox_stop(p->outbox);
	keywatch_stop(p->keywatch);
	keycache_free(p->keys);
	store_close(p->store);
	store_unlock(p->lockfd);
	cfg_free(p->cfg);
	p->cfg = NULL;
}

/* ---- reload ---- */

/*
 * Load and check the file again: the text as start-up does, the running
 * values of the settings read only at start kept (res->restart names the
 * changed ones), then what a reload reads again (tokens file, backends'
 * files and programs).  The new configuration, or res->error.
 */
static int reload_load(struct process *p, struct cfg **out, struct api_reload_result *res)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return DS_ENOMEM;
	}
	int rc = cfg_load(p->cfg->file, f, out);
	if (rc == DS_OK)
		rc = cfg_keep_restart(*out, p->cfg, res->restart, sizeof(res->restart));
	if (rc == DS_OK)
		rc = cfg_preflight_reload(*out, f);
	if (rc != DS_OK && *out != NULL) {
		cfg_free(*out);
		*out = NULL;
	}
	fclose(f);
	if (rc != DS_OK) {
		/* every problem on its own log line; the answer has them all */
		for (char *save, *l = strtok_r(text, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			log_err("reload: %s", l);
			size_t at = strlen(res->error);
			snprintf(res->error + at, sizeof(res->error) - at, "%s%s", at ? "; " : "",
				 l);
		}
		if (res->error[0] == '\0')
			snprintf(res->error, sizeof(res->error), "%s", ds_strerror(rc));
	}
	free(text);
	return rc;
}

/* What the new configuration is made of, for the log and the answer. */
static void summarize(const struct cfg *c, char *out, size_t len)
{
	size_t children = 0, backends = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		children += c->zones[i].nchildren;
		backends += c->zones[i].nbackends;
	}
	snprintf(out, len, "%zu zone(s), %zu configured child(ren), %zu backend(s)", c->nzones,
		 children, backends);
}

/* The parts made for the new configuration before anything switches. */
struct next {
	struct cfg *cfg;
	struct outbox_next *outbox;
	struct bootstrap *boot;
	struct switcher *switcher;
};

static void next_free(struct next *n)
{
	outbox_next_free(n->outbox);
	bootstrap_stop(n->boot);
	cfg_free(n->cfg);
	free(n->switcher);
}

/* Everything that can fail, beside the running parts. */
static int reload_prepare(struct process *p, struct next *n, struct api_reload_result *res)
{
	int rc = reload_load(p, &n->cfg, res);
	if (rc != DS_OK)
		return rc;
	if ((n->switcher = malloc(sizeof(*n->switcher))) == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK && (rc = outbox_prepare(p->outbox, n->cfg, &n->outbox)) != DS_OK)
		snprintf(res->error, sizeof(res->error),
			 "the backends of the new configuration cannot be set up (%s): see the log",
			 ds_strerror(rc));
	if (rc == DS_OK &&
	    (rc = bootstrap_new(n->cfg, p->keys, &p->boot_counters, &n->boot)) != DS_OK)
		snprintf(res->error, sizeof(res->error),
			 "the bootstrap scheduler of the new configuration cannot start (%s): see "
			 "the log",
			 ds_strerror(rc));
	if (rc != DS_OK && res->error[0] == '\0')
		snprintf(res->error, sizeof(res->error), "%s", ds_strerror(rc));
	return rc;
}

/* The configured keys of the new configuration into the store (one
 * transaction: on failure nothing changed) and the cache. */
static int reload_keys(struct process *p, const struct cfg *c, struct api_reload_result *res)
{
	int rc = keys_sync_config(c, p->store);
	if (rc != DS_OK) {
		snprintf(res->error, sizeof(res->error),
			 "the configured keys cannot be written to the store: %s", ds_strerror(rc));
		return rc;
	}
	/* committed: from here on the reload goes through */
	if (keycache_sync(p->keys, p->store, &c->limits) != DS_OK)
		log_err("reload: the key cache was not read again from the store; send SIGHUP "
			"again");
	else
		log_notice("child keys reloaded from the store (%zu in memory)",
			   keycache_count(p->keys));
	return DS_OK;
}

/* Every part onto the new configuration (nothing here fails the reload). */
static void reload_switch(struct process *p, struct next *n)
{
	struct switcher *w = n->switcher;
	outbox_ask_stop(p->outbox);
	bootstrap_ask_stop(p->boot);
	*w = (struct switcher){p->outbox, n->outbox, p->boot, n->boot, p->cfg};
	p->boot = n->boot;
	struct receiver_env renv = receiver_env_of(p);
	receiver_apply(p->receiver, n->cfg, &renv);
	api_set_cfg(p->api, n->cfg);
	api_reload_tokens(p->api);
	log_set_facility(n->cfg->log_facility);
	log_init("dsyncd", n->cfg->log_syslog, n->cfg->log_level);
	p->cfg = n->cfg;
	*n = (struct next){0};
	if (pthread_create(&p->switcher, NULL, switcher_main, w) == 0)
		p->switching = true;
	else
		switcher_main(w); /* no thread: the I/O loop waits for the old parts */
}

int process_reload(struct process *p, struct api_reload_result *res)
{
	struct next n = {0};
	switcher_wait(p);
	log_notice("reloading the configuration from %s", p->cfg->file);
	int rc = reload_prepare(p, &n, res);
	if (rc == DS_OK) {
		receiver_quiesce(p->receiver);
		rc = reload_keys(p, n.cfg, res);
	}
	if (rc != DS_OK) {
		log_err("configuration not reloaded; the running one stays: %s", res->error);
		next_free(&n);
		return rc;
	}
	reload_switch(p, &n);
	summarize(p->cfg, res->summary, sizeof(res->summary));
	log_notice("configuration reloaded: %s", res->summary);
	if (res->restart[0] != '\0')
		log_warning("reload: changed settings that take effect at the next restart: %s",
			    res->restart);
	return DS_OK;
}
