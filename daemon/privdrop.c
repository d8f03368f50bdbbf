/*
 * daemon/privdrop.c -- the serving process gives up root: server.user and
 * server.group, once the listeners and the API are bound and the store is
 * open and locked (daemon/main.c calls privdrop() after process_start).
 *
 * The store, its -wal/-shm/lock files and the receiver's key files may have
 * just been made by root: they are given to the user first, or the process
 * could not write them any more.  A folder is given too when it holds
 * nothing but such files (a folder dsyncd made); any other folder is left
 * as it is and must already be writable by the user.
 */
#include "daemon/privdrop.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "store/store.h"

struct target {
	const char *user; /* NULL: the user stays */
	uid_t uid;
	gid_t gid;
};

static int resolve(const struct cfg *cfg, struct target *t)
{
	t->user = NULL;
	t->uid = getuid();
	t->gid = getgid();
	if (cfg->user) {
		const struct passwd *pw = getpwnam(cfg->user);
		if (pw == NULL) {
			log_err("server.user: unknown user \"%s\"", cfg->user);
			return DS_ECONFIG;
		}
		t->user = cfg->user;
		t->uid = pw->pw_uid;
		t->gid = pw->pw_gid;
	}
	if (cfg->group) {
		const struct group *gr = getgrnam(cfg->group);
		if (gr == NULL) {
			log_err("server.group: unknown group \"%s\"", cfg->group);
			return DS_ECONFIG;
		}
		t->gid = gr->gr_gid;
	}
	return DS_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A file dsyncd makes: the store's (base: the store's file name) or, when
 * base is NULL, a receiver key file. */
static bool is_ours(const char *name, const char *base)
{
	if (base == NULL)
		return name[0] == 'K' && (ends_with(name, ".key") || ends_with(name, ".private") ||
					  ends_with(name, ".state"));
	size_t n = strlen(base);
	if (strncmp(name, base, n) != 0)
		return false;
	const char *rest = name + n;
	return rest[0] == '\0' || strcmp(rest, "-wal") == 0 || strcmp(rest, "-shm") == 0 ||
	       strcmp(rest, "-journal") == 0 || strcmp(rest, ".lock") == 0;
}

/* Root's files of dsyncd's in dir go to t; dir too when it holds nothing else. */
static int give(const char *dir, const char *base, const struct target *t)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		log_err("cannot read folder %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return DS_EIO;
	}
	bool only_ours = true;
	int rc = DS_OK;
	const struct dirent *e;
	struct stat st;
	while (rc == DS_OK && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!is_ours(e->d_name, base) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode)) {
			only_ours = false;
			continue;
		}
		if (st.st_uid == 0 &&
		    fchownat(dfd, e->d_name, t->uid, t->gid, AT_SYMLINK_NOFOLLOW)) {
			log_err("cannot give %s/%s to uid %u: %s", dir, e->d_name, (unsigned)t->uid,
				strerror(errno));
			rc = DS_EIO;
		}
	}
	if (rc == DS_OK && only_ours && fstat(dfd, &st) == 0 && st.st_uid == 0 &&
	    fchown(dfd, t->uid, t->gid) != 0) {
		log_err("cannot give folder %s to uid %u: %s", dir, (unsigned)t->uid,
			strerror(errno));
		rc = DS_EIO;
	}
	closedir(d);
	return rc;
}

/* The folder of path, a copy ("." when it has none); NULL when out of memory */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The store's files and the receiver's key files made by root, to t. */
static int give_files(const struct cfg *cfg, const char *store_dir, const struct target *t)
{
	int rc = DS_OK;
	if (store_dir) {
		const char *slash = strrchr(cfg->store_path, '/');
		rc = give(store_dir, slash ? slash + 1 : cfg->store_path, t);
	}
	if (rc == DS_OK && cfg->receiver.enabled)
		rc = give(cfg->receiver.key_dir, NULL, t);
	return rc;
}

/* After the switch: what the process goes on writing is writable. */
static int usable(const char *what, const char *path, int mode, const struct target *t)
{
	if (access(path, mode) == 0)
		return DS_OK;
	log_err("%s %s is not %s by uid %u: %s (give it to that user)", what, path,
		mode & X_OK ? "writable" : "readable and writable", (unsigned)t->uid,
		strerror(errno));
	return DS_EIO;
}

/* Supplementary groups, group, user; then root must be out of reach. */
static int switch_ids(const struct target *t)
{
	if ((t->user ? initgroups(t->user, t->gid) : setgroups(1, &t->gid)) != 0 ||
	    setresgid(t->gid, t->gid, t->gid) != 0 || setresuid(t->uid, t->uid, t->uid) != 0) {
		log_err("cannot switch to uid %u gid %u: %s", (unsigned)t->uid, (unsigned)t->gid,
			strerror(errno));
		return DS_EIO;
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	bool back = (t->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) ||
		    (t->uid != 0 && t->gid != 0 && (setgid(0) == 0 || setegid(0) == 0));
	if (back || getresuid(&r, &e, &s) != 0 || r != t->uid || e != t->uid || s != t->uid ||
	    getresgid(&rg, &eg, &sg) != 0 || rg != t->gid || eg != t->gid || sg != t->gid) {
		log_err("after switching to uid %u gid %u the process could still become "
			"root: stopping",
			(unsigned)t->uid, (unsigned)t->gid);
		return DS_EIO;
	}
	return DS_OK;
}

/* Files, then ids, then the check that the files are still ours to write. */
static int drop(const struct cfg *cfg, const struct target *t, uid_t euid)
{
	/* a PostgreSQL store has no file here */
	bool memory = strcmp(cfg->store_path, ":memory:") == 0 || store_spec_is_pg(cfg->store_spec);
	char *store_dir = memory ? NULL : folder_of(cfg->store_path);
	if (!memory && store_dir == NULL)
		return DS_ENOMEM;
	int rc = t->uid != euid ? give_files(cfg, store_dir, t) : DS_OK;
	if (rc == DS_OK)
		rc = switch_ids(t);
	if (rc == DS_OK && store_dir)
		rc = usable("store folder", store_dir, R_OK | W_OK | X_OK, t);
	if (rc == DS_OK && store_dir)
		rc = usable("store", cfg->store_path, R_OK | W_OK, t);
	if (rc == DS_OK && cfg->receiver.enabled)
		rc = usable("receiver key folder", cfg->receiver.key_dir, R_OK | W_OK | X_OK, t);
	free(store_dir);
	return rc;
}

int privdrop(const struct cfg *cfg)
{
	if (cfg->user == NULL && cfg->group == NULL)
		return DS_OK;
	struct target t;
	int rc = resolve(cfg, &t);
	if (rc != DS_OK)
		return rc;
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) == 0 && getresgid(&rg, &eg, &sg) == 0 && r == t.uid &&
	    e == t.uid && s == t.uid && rg == t.gid && eg == t.gid && sg == t.gid) {
		log_debug("already running as uid %u gid %u", (unsigned)t.uid, (unsigned)t.gid);
		return DS_OK;
	}
	rc = drop(cfg, &t, e);
	if (rc == DS_OK)
		log_notice("running as %s%suid %u, gid %u", t.user ? t.user : "", t.user ? " " : "",
			   (unsigned)t.uid, (unsigned)t.gid);
	return rc;
}
