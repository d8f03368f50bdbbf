/*
 * keys/watch.c -- keys changed by other nodes of a shared store.
 *
 * When several dsyncd share a PostgreSQL store, a key trusted, revoked or
 * added on one node (UPDATE, API, dsyncctl, bootstrap) is announced by the
 * store at its commit (store_keys_watch).  One thread per process listens
 * on a connection of its own and brings the key cache in line: a key
 * written is read again and put, a key deleted (alone or with its child)
 * put as revoked; when announcements may have been missed (the connection
 * was lost), every key is read again (keycache_sync).  A
 * change thus reaches every node within the time of one round trip to the
 * database.  While the database is unreachable the thread tries again
 * every WATCH_RETRY_MS; a store that is not shared (SQLite: one node)
 * needs no watcher.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/vec.h"
#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"

#define WATCH_RETRY_MS 1000

struct keywatch {
	const struct cfg *cfg; /* held: the store and the key limits (read at start) */
	struct keycache *kc;
	struct store *s;
	pthread_t thread;
	bool started;
	int stop[2]; /* a byte on stop[1] ends the thread */
};

/* The announcements since the last look; all: read every key. */
struct news {
	struct store_key_news *v;
	size_t n, cap;
	bool all;
};

static void news_add(void *arg, const struct store_key_news *n)
{
	struct news *nw = arg;
	struct store_key_news *v;

	if (n->what == KEY_NEWS_ALL || nw->all) {
		nw->all = true;
		return;
	}
	v = vec_grow(nw->v, &nw->cap, nw->n + 1, sizeof(*v), 16);
	if (v == NULL) {
		nw->all = true; /* cannot keep the list: read everything */
		return;
	}
	nw->v = v;
	nw->v[nw->n++] = *n;
}

/* One key written or deleted on a node, into the cache. */
static int apply_one(struct keywatch *w, const struct store_key_news *n, struct store_key *k)
{
	int rc;

	if (n->what == KEY_NEWS_DELETED) {
		/* the cache keeps its entry, revoked: nothing verifies with it */
		memset(k, 0, sizeof(*k));
		k->id = n->key_id;
		memcpy(k->owner, n->child, dname_len(n->child));
		k->alg = n->alg;
		k->tag = n->tag;
		k->state = KEY_REVOKED;
	} else if ((rc = store_key_get(w->s, n->key_id, k)) != DS_OK) {
		return rc == DS_ENOENT ? DS_OK : rc; /* deleted since: announced as such */
	}
	rc = keycache_put(w->kc, k, &w->cfg->limits);
	if (rc == DS_OK)
		log_debug("keys: key %lld changed on a node: now %s", (long long)n->key_id,
			  n->what == KEY_NEWS_DELETED ? "deleted" : store_key_state_str(k->state));
	return rc;
}

/* Apply what was announced; false when the store failed. */
static bool apply(struct keywatch *w, struct news *nw)
{
	const struct sig0_limits *lim = &w->cfg->limits;
	struct store_key *k;
	int rc = DS_OK;

	if (nw->all) {
		rc = keycache_sync(w->kc, w->s, lim);
		if (rc == DS_OK)
			log_info("keys: read again after a change on another node (%zu in memory)",
				 keycache_count(w->kc));
		return rc == DS_OK;
	}
	k = malloc(sizeof(*k));
	if (k == NULL)
		return false;
	for (size_t i = 0; rc == DS_OK && i < nw->n; i++)
		rc = apply_one(w, &nw->v[i], k);
	free(k);
	return rc == DS_OK;
}

/* Wait for announcements (or the stop byte) for at most ms. */
static bool wait_input(struct keywatch *w, int ms)
{
	int fd = store_keys_fd(w->s);
	struct pollfd p[2] = {{.fd = w->stop[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};

	poll(p, fd >= 0 ? 2 : 1, ms);
	return (p[0].revents & POLLIN) == 0;
}

static void *watch_main(void *arg)
{
	struct keywatch *w = arg;
	struct news nw = {0};

	int wait = WATCH_RETRY_MS;

	while (wait_input(w, wait)) {
		nw.n = 0;
		bool ok = store_keys_news(w->s, news_add, &nw) == DS_OK;
		bool got = nw.n > 0 || nw.all;
		ok = ok && apply(w, &nw);
		/* the database away: every key is read again once it is back */
		nw.all = !ok;
		/* what came while applying is in libpq already, not on the socket:
		 * after any announcement, look again at once (a poll of 0 ms) */
		wait = ok && got ? 0 : WATCH_RETRY_MS;
	}
	free(nw.v);
	return NULL;
}

int keywatch_new(const struct cfg *cfg, struct keycache *kc, struct keywatch **out)
{
	struct keywatch *w;
	int fd, rc;

	*out = NULL;
	if (!store_spec_is_pg(cfg->store_spec))
		return DS_OK; /* one node: nothing to hear of */
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return DS_ENOMEM;
	w->cfg = cfg_hold(cfg);
	w->kc = kc;
	w->stop[0] = w->stop[1] = -1;
	rc = store_open(cfg->store_spec, &w->s);
	if (rc == DS_OK)
		rc = store_keys_watch(w->s, &fd);
	if (rc == DS_OK && pipe2(w->stop, O_CLOEXEC) != 0)
		rc = DS_EIO;
	if (rc != DS_OK) {
		log_err("keys: cannot listen for key changes on other nodes: %s", ds_strerror(rc));
		keywatch_stop(w);
		return rc;
	}
	*out = w;
	return DS_OK;
}

int keywatch_run(struct keywatch *w)
{
	if (w == NULL)
		return DS_OK;
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0)
		return DS_ENOMEM;
	w->started = true;
	return DS_OK;
}

void keywatch_stop(struct keywatch *w)
{
	if (w == NULL)
		return;
	if (w->started && write(w->stop[1], "x", 1) != 1)
		log_warning("keys: cannot stop the key watcher cleanly");
	if (w->started)
		pthread_join(w->thread, NULL);
	if (w->stop[0] >= 0)
		close(w->stop[0]);
	if (w->stop[1] >= 0)
		close(w->stop[1]);
	store_close(w->s);
	cfg_free(w->cfg);
	free(w);
}
