/*
 * keys/rkey.c -- the receiver's own SIG(0) keys (D5: every response is
 * signed; the signer is the DSYNC target name, receiver.name).
 *
 * The keys are BIND key pairs in receiver.key-directory, with BIND's timing
 * metadata deciding their roles, as dnssec-settime users know them:
 *   published  Publish <= now < Delete        (its KEY goes at the DSYNC target)
 *   active     Activate <= now < Inactive     (it signs; the latest such one)
 * A roll writes a new key published now and active after roll-publish
 * seconds, and gives the current key Inactive = that moment and Delete =
 * roll-retire seconds later; the daemon rescans the folder once a minute, so
 * a roll made by `dsyncd receiver-key roll` needs no restart.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "keys/keys.h"

#define RKEYS_MAX 16

struct rkey {
	struct sig0_key *k;
	struct sig0_key_times t;
	char prefix[1024];
};

struct rkeys {
	struct rkey key[RKEYS_MAX];
	size_t n;
	uint64_t stamp; /* sum of the files' names/mtimes: changes when the folder does */
};

void rkeys_free(struct rkeys *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		sig0_key_free(s->key[i].k);
	free(s);
}

/* "K<name>+" for the receiver name, as BIND names key files. */
static void file_head(const struct cfg *cfg, char *out, size_t len)
{
	char name[DNAME_STR_MAX];
	uint8_t lower[DNAME_MAX];
	dname_lower(lower, cfg->receiver.name);
	dname_to_str(lower, name, sizeof(name));
	snprintf(out, len, "K%s+", name);
}

/* Walk the key folder; fill s (when not NULL) and the stamp. */
static int scan(const struct cfg *cfg, struct rkeys *s, uint64_t *stamp)
{
	char head[DNAME_STR_MAX + 2];
	file_head(cfg, head, sizeof(head));
	DIR *d = opendir(cfg->receiver.key_dir);
	if (d == NULL)
		return -errno;
	struct dirent *e;
	uint64_t st = 1469598103934665603ull;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (strncmp(e->d_name, head, strlen(head)) != 0 || l < 9 ||
		    strcmp(e->d_name + l - 8, ".private") != 0)
			continue;
		char path[1024];
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%.*s", cfg->receiver.key_dir, (int)(l - 8),
			 e->d_name);
		char priv[1100];
		snprintf(priv, sizeof(priv), "%s.private", path);
		if (stat(priv, &sb) == 0) {
			for (size_t i = 0; i < l; i++)
				st = (st ^ (uint8_t)e->d_name[i]) * 1099511628211ull;
			st = (st ^ (uint64_t)sb.st_mtim.tv_sec ^ (uint64_t)sb.st_mtim.tv_nsec) *
			     1099511628211ull;
		}
		if (s == NULL)
			continue;
		if (s->n == RKEYS_MAX) {
			log_warning("receiver key folder %s: more than %d keys; ignoring %s",
				    cfg->receiver.key_dir, RKEYS_MAX, e->d_name);
			continue;
		}
		struct rkey *k = &s->key[s->n];
		char why[256];
		if (sig0_key_read(path, &k->k, why, sizeof(why)) != DS_OK ||
		    sig0_key_times_read(path, &k->t) != DS_OK) {
			log_warning("receiver key %s not usable: %s", path, why);
			sig0_key_free(k->k);
			k->k = NULL;
			continue;
		}
		snprintf(k->prefix, sizeof(k->prefix), "%s", path);
		s->n++;
	}
	closedir(d);
	*stamp = st;
	return DS_OK;
}

/* A new key of receiver.name with timing t, written to the key folder
 * (its file prefix into prefix; why says why not). */
static int rkey_create(const struct cfg *cfg, const struct sig0_key_times *t, char *prefix,
		       size_t plen, char *why, size_t whylen)
{
	struct sig0_key *k;
	int rc = sig0_key_generate(cfg->receiver.alg, cfg->receiver.name, &k, why, whylen);
	if (rc == DS_OK) {
		rc = sig0_key_write(k, cfg->receiver.key_dir, t, prefix, plen, why, whylen);
		sig0_key_free(k);
	}
	return rc;
}

int rkeys_load(const struct cfg *cfg, bool create, struct rkeys **out)
{
	struct rkeys *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DS_ENOMEM;
	if (create && mkdir(cfg->receiver.key_dir, 0700) != 0 && errno != EEXIST) {
		log_err("cannot create receiver key folder %s: %s", cfg->receiver.key_dir,
			strerror(errno));
		free(s);
		return DS_EIO;
	}
	int rc = scan(cfg, s, &s->stamp);
	if (rc == DS_ENOENT && !create)
		rc = DS_OK; /* no folder yet: no keys yet */
	if (rc == DS_OK && s->n == 0 && create) {
		/* first start: one key, published and active now */
		struct sig0_key_times t = {0};
		char why[256], prefix[1024];
		t.created = t.publish = t.activate = (int64_t)time(NULL);
		rc = rkey_create(cfg, &t, prefix, sizeof(prefix), why, sizeof(why));
		if (rc != DS_OK) {
			log_err("cannot create the receiver key in %s: %s", cfg->receiver.key_dir,
				why);
			rkeys_free(s);
			return rc;
		}
		log_notice("created receiver key %s", prefix);
		rc = scan(cfg, s, &s->stamp);
	}
	if (rc != DS_OK) {
		log_err("cannot read receiver key folder %s: %s", cfg->receiver.key_dir,
			ds_strerror(rc));
		rkeys_free(s);
		return rc;
	}
	*out = s;
	return DS_OK;
}

bool rkeys_changed(const struct cfg *cfg, const struct rkeys *s)
{
	uint64_t st;
	return scan(cfg, NULL, &st) == DS_OK && st != s->stamp;
}

static bool in_window(int64_t from, int64_t until, int64_t now)
{
	return from != 0 && from <= now && (until == 0 || now < until);
}

const struct sig0_key *rkeys_active(const struct rkeys *s, int64_t now)
{
	const struct rkey *best = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (in_window(s->key[i].t.activate, s->key[i].t.inactive, now) &&
		    (best == NULL || s->key[i].t.activate > best->t.activate))
			best = &s->key[i];
	return best ? best->k : NULL;
}

size_t rkeys_published(const struct rkeys *s, int64_t now, const struct sig0_key **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n && n < max; i++)
		if (in_window(s->key[i].t.publish, s->key[i].t.removal, now))
			out[n++] = s->key[i].k;
	return n;
}

static void fmt_time(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t == 0) {
		snprintf(out, len, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void show(const struct rkeys *s, int64_t now, FILE *out)
{
	const struct sig0_key *act = rkeys_active(s, now);
	for (size_t i = 0; i < s->n; i++) {
		const struct rkey *k = &s->key[i];
		char p[32], a[32], in[32], rm[32];
		fmt_time(k->t.publish, p, sizeof(p));
		fmt_time(k->t.activate, a, sizeof(a));
		fmt_time(k->t.inactive, in, sizeof(in));
		fmt_time(k->t.removal, rm, sizeof(rm));
		fprintf(
		    out, "%s tag %u alg %u: %s%s publish %s activate %s inactive %s delete %s\n",
		    k->prefix, sig0_key_tag(k->k), sig0_key_alg(k->k),
		    k->k == act ? "signing" : "not signing",
		    in_window(k->t.publish, k->t.removal, now) ? ", published" : "", p, a, in, rm);
	}
}

int rkeys_command(const struct cfg *cfg, const char *what, FILE *out)
{
	if (!cfg->receiver.enabled) {
		fprintf(out,
			"receiver-key: no receiver.name configured (responses are not signed)\n");
		return DS_ECONFIG;
	}
	bool roll = strcmp(what, "roll") == 0;
	if (!roll && strcmp(what, "show") != 0) {
		fprintf(out, "receiver-key: unknown command %s (show, roll)\n", what);
		return DS_EINVAL;
	}
	struct rkeys *s;
	int64_t now = (int64_t)time(NULL);
	int rc = rkeys_load(cfg, roll, &s);
	if (rc != DS_OK)
		return rc;
	if (roll) {
		/* the newest active key hands over at the new key's activation */
		struct rkey *cur = NULL;
		for (size_t i = 0; i < s->n; i++)
			if (in_window(s->key[i].t.activate, s->key[i].t.inactive, now) &&
			    (cur == NULL || s->key[i].t.activate > cur->t.activate))
				cur = &s->key[i];
		struct sig0_key_times t = {0};
		char why[1100] = "", prefix[1024];
		t.created = t.publish = now;
		t.activate = now + cfg->receiver.roll_publish;
		rc = rkey_create(cfg, &t, prefix, sizeof(prefix), why, sizeof(why));
		if (rc == DS_OK && cur) {
			cur->t.inactive = t.activate;
			cur->t.removal = t.activate + cfg->receiver.roll_retire;
			rc = sig0_key_times_write(cur->prefix, &cur->t);
			if (rc != DS_OK)
				snprintf(why, sizeof(why), "cannot update %s", cur->prefix);
		}
		if (rc != DS_OK) {
			fprintf(out, "receiver-key roll: %s\n", why);
			rkeys_free(s);
			return rc;
		}
		fprintf(out, "receiver-key roll: new key %s, published now, signing from %lld\n",
			prefix, (long long)t.activate);
		rkeys_free(s);
		if ((rc = rkeys_load(cfg, false, &s)) != DS_OK)
			return rc;
	}
	show(s, now, out);
	rkeys_free(s);
	return DS_OK;
}
