/*
 * tools/dsyncctl/main.c -- dsyncctl, the operator CLI over dsyncd's admin
 * HTTP API: the command table, the options, main().
 *
 * The exit status tells scripts what went wrong (sysexits.h; doc/dsyncctl.1,
 * doc/exit-status.md): 0 done, 1 the API refused the request, 64 usage,
 * 69 API unavailable, 75 a 503, 76 an answer not the API's, 77 not
 * authorised, 78 config or token file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/version.h"
#include "tools/dsyncctl/dsyncctl.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char cli_prog[] = "dsyncctl";

/* a numeric ID from the command line: 1 .. 2^63-1 */
int id_arg(const char *s, const char *what)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	if (*s == '\0' || *p != '\0' || p - s > 18 || strspn(s, "0") == strlen(s)) {
		char *d = clean(xstrdup(s));
		int rc = cli_fail(RC_USAGE, "%s must be a positive number, not '%s'", what, d);

		free(d);
		return rc;
	}
	return 0;
}

/* PREFIX + ID + SUFFIX into *path (the caller frees) once ID is checked */
int id_path(const char *id, const char *what, const char *prefix, const char *suffix, char **path)
{
	int rc = id_arg(id, what);

	*path = rc == 0 ? xasprintf("%s%s%s", prefix, id, suffix) : NULL;
	return rc;
}

struct command {
	const char *words; /* "key trust" */
	int min, max;	   /* arguments after the words */
	unsigned opts;	   /* OPT_* it takes */
	cmd_fn *run;
	const char *args; /* for the usage text */
};

static const struct command COMMANDS[] = {
    {"zones", 0, 0, OPT_LIMIT, cmd_zones, ""},
    {"children", 1, 1, OPT_LIMIT, cmd_children, "ZONE"},
    {"child show", 1, 1, 0, cmd_child_show, "NAME"},
    {"delegation add", 1, 1, OPT_DELEG | OPT_REASON, cmd_deleg_add,
     "NAME [--ns NS]... [--ds 'KEYTAG ALG TYPE DIGEST']... [--glue NAME ADDRESS]... "
     "[--reason TEXT]"},
    {"delegation delete", 1, 1, OPT_REASON, cmd_deleg_delete, "NAME [--reason TEXT]"},
    {"keys", 1, 1, OPT_LIMIT, cmd_keys, "NAME"},
    {"key add", 2, 2, 0, cmd_key_add, "NAME 'KEY-RR-TEXT'|KEY-FILE"},
    {"key trust", 1, 2, 0, cmd_key_trust, "KEY"},
    {"key revoke", 1, 2, 0, cmd_key_revoke, "KEY"},
    {"key delete", 1, 2, 0, cmd_key_delete, "KEY"},
    {"pending", 0, 0, OPT_LIMIT, cmd_pending, ""},
    {"validations", 0, 0, OPT_LIMIT, cmd_validations, ""},
    {"audit", 0, 0, OPT_LIMIT | OPT_AUDIT, cmd_audit,
     "[--child NAME] [--result R] [--since T] [--until T] [--limit N]"},
    {"outbox", 0, 0, OPT_LIMIT | OPT_STATE, cmd_outbox, "[--state pending|done|all] [--limit N]"},
    {"retry", 1, 1, 0, cmd_retry, "DELIVERY-ID"},
    {"backends", 0, 0, 0, cmd_backends, ""},
    {"records", 0, 1, 0, cmd_records, "[ZONE]"},
    {"receiver-key", 0, 0, 0, cmd_rkey_show, "[show]"},
    {"receiver-key show", 0, 0, 0, cmd_rkey_show, NULL},
    {"receiver-key roll", 0, 0, 0, cmd_rkey_roll, ""},
    {"config", 0, 0, 0, cmd_config, ""},
    {"reload", 0, 0, 0, cmd_reload, ""},
    {"health", 0, 0, 0, cmd_health, ""},
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: dsyncctl [--url URL] [--token-file FILE] [--cacert FILE] [--json]\n"
	      "                [--timeout S] COMMAND ...\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < NELEM(COMMANDS); i++)
		if (COMMANDS[i].args != NULL)
			fprintf(f, "  %s%s%s\n", COMMANDS[i].words, *COMMANDS[i].args ? " " : "",
				COMMANDS[i].args);
	fputs("Options:\n"
	      "  --url URL          the API (default " DEFAULT_URL ")\n"
	      "  --token-file FILE  the bearer token, first line of FILE\n"
	      "  --cacert FILE      CA certificates for https\n"
	      "  --json             the API's JSON instead of a table\n"
	      "  --timeout S        seconds per request (default 10)\n"
	      "  --limit N          at most N items of a list\n"
	      "KEY: CHILD/TAG, CHILD/TAG/ALG or the key's id (CHILD TAG also works).\n"
	      "Also DSYNCCTL_URL, DSYNCCTL_TOKEN, DSYNCCTL_TOKEN_FILE, DSYNCCTL_CONFIG.\n"
	      "Exit: 0 ok, 1 refused by the API, 64 usage, 69 API unavailable, 75 try again\n"
	      "later (503), 76 broken answer, 77 not authorised, 78 config or token file.\n"
	      "See dsyncctl(1).\n",
	      f);
}

/* the command whose words start ARGS (the longest match), *nwords its word count */
static const struct command *find_command(char **args, int nargs, int *nwords)
{
	const struct command *best = NULL;
	size_t i;

	*nwords = 0;
	for (i = 0; i < NELEM(COMMANDS); i++) {
		const char *w = COMMANDS[i].words;
		int n = 0;

		while (n < nargs) {
			size_t len = strcspn(w, " ");

			if (strlen(args[n]) != len || strncmp(args[n], w, len) != 0)
				break;
			n++;
			w += len;
			if (*w == '\0')
				break;
			w++;
		}
		if (*w == '\0' && n > *nwords) {
			best = &COMMANDS[i];
			*nwords = n;
		}
	}
	return best;
}

/* --since / --until: epoch seconds, N{s,m,h,d,w} ago, or a UTC date
 * YYYY-MM-DD[THH:MM[:SS]][Z] */
static bool parse_when(const char *s, long long *out)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	size_t digits = strspn(s, "0123456789"), i;

	if (digits > 0 && digits <= 12 && s[digits] == '\0') {
		*out = strtoll(s, NULL, 10);
		return true;
	}
	if (digits > 0 && digits <= 9 && s[digits] != '\0' && s[digits + 1] == '\0') {
		const char *u = strchr("smhdw", s[digits]);
		static const long long mult[] = {1, 60, 3600, 86400, 604800};

		if (u == NULL)
			return false;
		*out = (long long)time(NULL) - strtoll(s, NULL, 10) * mult[u - "smhdw"];
		return true;
	}
	for (i = 0; i < NELEM(forms); i++) {
		struct tm tm;
		const char *e;

		memset(&tm, 0, sizeof(tm));
		e = strptime(s, forms[i], &tm);
		if (e != NULL && (*e == '\0' || (e[0] == 'Z' && e[1] == '\0'))) {
			*out = (long long)timegm(&tm);
			return true;
		}
	}
	return false;
}

enum {
	O_URL = 256,
	O_TOKEN_FILE,
	O_TOKEN,
	O_CACERT,
	O_JSON,
	O_TIMEOUT,
	O_LIMIT,
	O_CHILD,
	O_RESULT,
	O_SINCE,
	O_UNTIL,
	O_STATE,
	O_NS,
	O_DS,
	O_GLUE,
	O_REASON,
};

static const struct option LONG_OPTS[] = {
    {"url", required_argument, NULL, O_URL},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"token", required_argument, NULL, O_TOKEN},
    {"cacert", required_argument, NULL, O_CACERT},
    {"json", no_argument, NULL, O_JSON},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"limit", required_argument, NULL, O_LIMIT},
    {"child", required_argument, NULL, O_CHILD},
    {"result", required_argument, NULL, O_RESULT},
    {"since", required_argument, NULL, O_SINCE},
    {"until", required_argument, NULL, O_UNTIL},
    {"state", required_argument, NULL, O_STATE},
    {"ns", required_argument, NULL, O_NS},
    {"ds", required_argument, NULL, O_DS},
    {"glue", required_argument, NULL, O_GLUE},
    {"reason", required_argument, NULL, O_REASON},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Append the text s (an option's value) to the JSON array *a. */
static int push_text(json_t **a, const char *opt, const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL)
		return cli_fail(RC_USAGE, "the value of %s is not valid UTF-8", opt);
	if (*a == NULL)
		*a = jnn(json_array());
	if (json_array_append_new(*a, v) != 0)
		oom();
	return -1;
}

/* --glue NAME ADDRESS: the address is the next word, which getopt then
 * passes over (optind moves past it). */
static int push_glue(struct ctl *c, int argc, char **argv, const char *name)
{
	json_t *g;

	if (optind >= argc || argv[optind][0] == '-')
		return cli_fail(RC_USAGE,
				"--glue takes a name and an address: --glue NAME ADDRESS");
	g = json_pack("{s:s,s:s}", "name", name, "address", argv[optind]);
	if (g == NULL)
		return cli_fail(RC_USAGE, "the values of --glue are not valid UTF-8");
	optind++;
	if (c->glue == NULL)
		c->glue = jnn(json_array());
	if (json_array_append_new(c->glue, g) != 0)
		oom();
	return -1;
}

/* The options of delegation add|delete; -1 to go on, else the exit status. */
static int deleg_opt(int ch, int argc, char **argv, struct ctl *c, struct opts *o)
{
	o->used |= ch == O_REASON ? OPT_REASON : OPT_DELEG;
	switch (ch) {
	case O_NS:
		return push_text(&c->ns, "--ns", optarg);
	case O_DS:
		return push_text(&c->ds, "--ds", optarg);
	case O_GLUE:
		return push_glue(c, argc, argv, optarg);
	default:
		c->reason = optarg;
		return -1;
	}
}

/* Parse the options (anywhere on the line); returns -1 to go on, else the
 * exit status. */
static int parse_opts(int argc, char **argv, struct ctl *c, struct opts *o)
{
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hV", LONG_OPTS, NULL)) != -1) {
		switch (ch) {
		case O_URL:
		case O_TOKEN_FILE:
		case O_CACERT:
			*(ch == O_URL	       ? &o->url
			  : ch == O_TOKEN_FILE ? &o->token_file
					       : &o->cacert) = optarg;
			break;
		case O_TOKEN:
			return cli_fail(RC_USAGE,
					"the token is never taken from the command line, where "
					"ps shows it: use --token-file FILE or DSYNCCTL_TOKEN");
		case O_JSON:
			c->json = true;
			break;
		case O_TIMEOUT:
			if (!parse_timeout(optarg, &o->timeout_ms))
				return cli_fail(RC_USAGE, "--timeout takes seconds, 0.001 to 3600");
			break;
		case O_LIMIT:
			if (!cli_num(optarg, 1, 1000000000L, &c->limit))
				return cli_fail(RC_USAGE,
						"--limit takes a number, 1 to 1000000000");
			o->used |= OPT_LIMIT;
			break;
		case O_CHILD:
		case O_RESULT:
			*(ch == O_CHILD ? &c->child : &c->result) = optarg;
			o->used |= OPT_AUDIT;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (!parse_when(optarg, ch == O_SINCE ? &c->since : &c->until))
				return cli_fail(
				    RC_USAGE,
				    "--%s takes epoch seconds, N{s,m,h,d,w} (that long ago) "
				    "or YYYY-MM-DD[THH:MM[:SS]] (UTC)",
				    ch == O_SINCE ? "since" : "until");
			*(ch == O_SINCE ? &c->has_since : &c->has_until) = true;
			o->used |= OPT_AUDIT;
			break;
		case O_STATE:
			if (strcmp(optarg, "pending") != 0 && strcmp(optarg, "done") != 0 &&
			    strcmp(optarg, "all") != 0)
				return cli_fail(RC_USAGE, "--state takes pending, done or all");
			c->state = optarg;
			o->used |= OPT_STATE;
			break;
		case O_NS:
		case O_DS:
		case O_GLUE:
		case O_REASON:
			if ((rc = deleg_opt(ch, argc, argv, c, o)) >= 0)
				return rc;
			break;
		case 'h':
			usage(stdout);
			return RC_OK;
		case 'V':
			printf("dsyncctl %s\n", DSYNC_VERSION);
			return RC_OK;
		default: {
			char *d = clean(xstrdup(argv[optind - 1]));

			cli_fail(RC_USAGE, "unknown option or missing argument: %s", d);
			free(d);
			usage(stderr);
			return RC_USAGE;
		}
		}
	}
	return -1;
}

/* The command line's command, run; its exit status. */
static int run(int argc, char **argv, struct ctl *c)
{
	struct opts o;
	const struct command *cmd;
	char **args;
	int rc, nargs, nwords;

	memset(&o, 0, sizeof(o));
	if ((rc = parse_opts(argc, argv, c, &o)) >= 0)
		return rc;
	args = argv + optind;
	nargs = argc - optind;
	if (nargs == 0) {
		usage(stderr);
		return RC_USAGE;
	}
	cmd = find_command(args, nargs, &nwords);
	if (cmd == NULL) {
		char *d = clean(xstrdup(args[0]));

		cli_fail(RC_USAGE, "unknown command '%s'%s; try 'dsyncctl --help'", d,
			 strcmp(d, "key") == 0		? " (key add|trust|revoke|delete)"
			 : strcmp(d, "delegation") == 0 ? " (delegation add|delete NAME)"
			 : strcmp(d, "child") == 0	? " (child show NAME)"
							: "");
		free(d);
		return RC_USAGE;
	}
	args += nwords;
	nargs -= nwords;
	if (nargs < cmd->min || nargs > cmd->max)
		return cli_fail(RC_USAGE, "usage: dsyncctl %s %s", cmd->words,
				cmd->args != NULL ? cmd->args : "");
	if (o.used & ~cmd->opts)
		return cli_fail(RC_USAGE, "%s does not take %s", cmd->words,
				(o.used & ~cmd->opts & OPT_LIMIT)   ? "--limit"
				: (o.used & ~cmd->opts & OPT_STATE) ? "--state"
				: (o.used & ~cmd->opts & OPT_DELEG) ? "--ns, --ds or --glue"
				: (o.used & ~cmd->opts & OPT_REASON)
				    ? "--reason"
				    : "--child, --result, --since or --until");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cli_fail(RC_SOFTWARE, "cannot initialise libcurl");
	if ((rc = settings(c, &o)) == 0) {
		if ((c->curl = curl_easy_init()) == NULL)
			oom();
		rc = cmd->run(c, args);
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = cli_fail(RC_IOERR, "cannot write output: %s", strerror(errno));
	curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	free_secret(c->token);
	free(c->url);
	free(c->cacert);
	return rc;
}

/* URL, token, CA and timeout: options, then environment, then config file */
int main(int argc, char **argv)
{
	struct ctl c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = run(argc, argv, &c);
	json_decref(c.ns);
	json_decref(c.ds);
	json_decref(c.glue);
	return rc;
}
