/*
 * common/log.c -- one line per call, to syslog or stderr.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static const char *log_ident = "dsyncd";
/* a reload changes these while other threads log */
static atomic_bool log_syslog;
static atomic_int log_level = LOG_INFO;
static int log_facility = LOG_DAEMON;
static log_sink_fn log_sink;
static void *log_sink_arg;

void log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void log_init(const char *ident, bool use_syslog, int level)
{
	log_ident = ident;
	log_level = level;
	/* opened before other threads are told to use it */
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, log_facility);
	bool was = log_syslog;
	log_syslog = use_syslog;
	if (was && !use_syslog)
		closelog();
}

void log_set_facility(int facility)
{
	log_facility = facility;
	if (log_syslog) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	}
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	if (prio > log_level)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one line, whatever the message held */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_sink) {
		log_sink(log_sink_arg, prio, line);
		return;
	}
	if (log_syslog) {
		syslog(prio, "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* a single fprintf is one write under stdio's own lock */
	fprintf(stderr, "%s.%03ldZ %s[%s]: %s\n", when, ts.tv_nsec / 1000000, log_ident,
		prio_name(prio), line);
}
