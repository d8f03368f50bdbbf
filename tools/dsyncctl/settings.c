/*
 * tools/dsyncctl/settings.c -- where dsyncctl connects and with which token: options first, then
 * the environment, then the config file.  The token itself is never taken
 * from the command line, where ps would show it to every user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/dsyncctl/dsyncctl.h"

/* A token goes into an HTTP header: printable ASCII without space only, so
 * that it cannot break the header or add another. */
static int token_check(const char *tok, const char *from)
{
	size_t i, n = strlen(tok);

	if (n == 0 || n > MAX_TOKEN)
		return cli_fail(RC_CONFIG, "the token in %s must be 1 to %d characters", from,
				MAX_TOKEN);
	for (i = 0; i < n; i++)
		if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f)
			return cli_fail(
			    RC_CONFIG, "the token in %s must be one word of printable ASCII", from);
	return 0;
}

/* The token is the first line of PATH that is neither blank nor a '#' comment. */
static int token_read(const char *path, char **out)
{
	struct stat st;
	char *buf, *line, *save = NULL;
	int rc;

	*out = NULL;
	if ((rc = read_small(path, "token file", &buf, &st)) != 0)
		return rc == RC_NOINPUT ? RC_CONFIG : rc; /* the setup is broken */
	if (st.st_mode & (S_IRGRP | S_IROTH))
		cli_warn("token file %s is readable by group or others (chmod 600 %s)", path, path);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (*line != '\0' && *line != '#')
			break;
	}
	if (line == NULL)
		rc = cli_fail(RC_CONFIG, "token file %s holds no token", path);
	else if ((rc = token_check(line, path)) == 0)
		*out = xstrdup(line);
	free_small(buf);
	return rc;
}

/* ---- the config file -------------------------------------------------------- */

struct conf {
	char *url, *token_file, *cacert;
	long timeout_ms; /* 0: not set */
};

static void conf_free(struct conf *cf)
{
	free(cf->url);
	free(cf->token_file);
	free(cf->cacert);
}

/* parse a timeout in seconds (fractions allowed) into milliseconds */
bool parse_timeout(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001 && v <= MAX_TIMEOUT_S))
		return false;
	*ms = (long)(v * 1000.0 + 0.5);
	return true;
}

/* a path from the config file: "~/" is $HOME, relative paths are relative
 * to the config file's folder */
static char *conf_path(const char *conf, const char *v)
{
	const char *home = getenv("HOME"), *slash;

	if (v[0] == '~' && v[1] == '/' && home != NULL && *home != '\0')
		return xasprintf("%s%s", home, v + 1);
	if (v[0] == '/' || (slash = strrchr(conf, '/')) == NULL)
		return xstrdup(v);
	return xasprintf("%.*s/%s", (int)(slash - conf), conf, v);
}

/* The config file to read: $DSYNCCTL_CONFIG, or else
 * $XDG_CONFIG_HOME/dsyncctl.conf or ~/.config/dsyncctl.conf when it
 * exists; NULL when there is none. */
static char *conf_file(void)
{
	const char *env = getenv("DSYNCCTL_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *path;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (xdg != NULL && *xdg == '/')
		path = xasprintf("%s/dsyncctl.conf", xdg);
	else if (home != NULL && *home != '\0')
		path = xasprintf("%s/.config/dsyncctl.conf", home);
	else
		return NULL;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		free(path);
		return NULL;
	}
	return path;
}

/* the slot of a path or URL setting; NULL with the reason printed */
static char **conf_slot(struct conf *cf, const char *path, unsigned lineno, char *key)
{
	if (strcmp(key, "url") == 0)
		return &cf->url;
	if (strcmp(key, "token-file") == 0)
		return &cf->token_file;
	if (strcmp(key, "cacert") == 0)
		return &cf->cacert;
	if (strcmp(key, "token") == 0)
		cli_fail(RC_CONFIG,
			 "%s:%u: put the token in a file of its own and name it "
			 "with 'token-file'",
			 path, lineno);
	else
		cli_fail(RC_CONFIG,
			 "%s:%u: unknown setting '%s' (url, token-file, cacert, "
			 "timeout)",
			 path, lineno, clean(key));
	return NULL;
}

/* One "key = value" line of the config file (trimmed, neither blank nor a
 * comment) into cf. */
static int conf_line(struct conf *cf, const char *path, unsigned lineno, char *line)
{
	char *eq = strchr(line, '='), *key, *val, **slot;
	size_t vl;

	if (eq == NULL)
		return cli_fail(RC_CONFIG, "%s:%u: expected 'key = value'", path, lineno);
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	vl = strlen(val);
	if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
		val[vl - 1] = '\0';
		val++;
	}
	if (strcmp(key, "timeout") == 0) {
		if (!parse_timeout(val, &cf->timeout_ms))
			return cli_fail(RC_CONFIG, "%s:%u: timeout must be seconds, 0.001 to 3600",
					path, lineno);
		return 0;
	}
	if ((slot = conf_slot(cf, path, lineno, key)) == NULL)
		return RC_CONFIG;
	if (*val == '\0')
		return cli_fail(RC_CONFIG, "%s:%u: %s has no value", path, lineno, key);
	free(*slot);
	*slot = slot == &cf->url ? xstrdup(val) : conf_path(path, val);
	return 0;
}

/* Load the config file (conf_file): lines "key = value", '#' comments. */
static int conf_load(struct conf *cf)
{
	char *path, *buf, *line, *next;
	struct stat st;
	unsigned lineno = 0;
	int rc;

	memset(cf, 0, sizeof(*cf));
	if ((path = conf_file()) == NULL)
		return 0;
	if ((rc = read_small(path, "config file", &buf, &st)) != 0) {
		free(path);
		return rc == RC_NOINPUT ? RC_CONFIG : rc; /* the setup is broken */
	}
	/* strtok_r would skip empty lines and so lose the numbering */
	for (line = buf; line != NULL && rc == 0; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line != '\0' && *line != '#')
			rc = conf_line(cf, path, lineno, line);
	}
	free_small(buf); /* in case a token was put there */
	free(path);
	if (rc != 0) {
		conf_free(cf);
		memset(cf, 0, sizeof(*cf));
	}
	return rc;
}

static bool loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* Check the base URL; *out is it without trailing '/'. */
static int url_check(const char *in, bool token, char **out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *part = NULL, *d = clean(xstrdup(in));
	int rc = 0;
	size_t n;

	*out = NULL;
	if (u == NULL)
		oom();
	if (curl_url_set(u, CURLUPART_URL, in, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = cli_fail(RC_USAGE, "bad URL '%s' (for example " DEFAULT_URL ")", d);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = cli_fail(RC_USAGE, "bad URL '%s': http:// or https:// only", d);
	else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK)
		rc = cli_fail(RC_USAGE, "bad URL: no user name or password in it (ps shows it)");
	else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
		 curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)
		rc = cli_fail(RC_USAGE, "bad URL '%s': no query or fragment", d);
	else if (token && strcmp(scheme, "http") == 0 && !loopback(host))
		cli_warn("the token goes unencrypted over http to %s; use https", clean(host));
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	free(d);
	if (rc != 0)
		return rc;
	*out = xstrdup(in);
	n = strlen(*out);
	while (n > 0 && (*out)[n - 1] == '/')
		(*out)[--n] = '\0';
	return 0;
}

int settings(struct ctl *c, const struct opts *o)
{
	struct conf cf;
	const char *url, *e;
	int rc;

	if ((rc = conf_load(&cf)) != 0)
		return rc;
	if (o->token_file != NULL)
		rc = token_read(o->token_file, &c->token);
	else if ((e = getenv("DSYNCCTL_TOKEN")) != NULL && *e != '\0') {
		if ((rc = token_check(e, "DSYNCCTL_TOKEN")) == 0)
			c->token = xstrdup(e);
	} else if ((e = getenv("DSYNCCTL_TOKEN_FILE")) != NULL && *e != '\0')
		rc = token_read(e, &c->token);
	else if (cf.token_file != NULL)
		rc = token_read(cf.token_file, &c->token);
	url = o->url;
	if (url == NULL && (e = getenv("DSYNCCTL_URL")) != NULL && *e != '\0')
		url = e;
	if (url == NULL)
		url = cf.url != NULL ? cf.url : DEFAULT_URL;
	if (rc == 0)
		rc = url_check(url, c->token != NULL, &c->url);
	if (o->cacert != NULL)
		c->cacert = xstrdup(o->cacert);
	else if ((e = getenv("DSYNCCTL_CACERT")) != NULL && *e != '\0')
		c->cacert = xstrdup(e);
	else if (cf.cacert != NULL)
		c->cacert = xstrdup(cf.cacert);
	c->timeout_ms =
	    o->timeout_ms ? o->timeout_ms : (cf.timeout_ms ? cf.timeout_ms : DEFAULT_TIMEOUT_MS);
	conf_free(&cf);
	return rc;
}
