/*
 * common/log.h -- logging to syslog or stderr.
 *
 * Priorities are syslog's (LOG_ERR ... LOG_DEBUG).  Messages above the
 * configured level are dropped cheaply.  Thread-safe: each call writes one
 * whole line.
 */
#ifndef DS_COMMON_LOG_H
#define DS_COMMON_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Set the destination and level.  ident is kept by pointer. */
void log_init(const char *ident, bool use_syslog, int level);

void log_set_facility(int facility);

/*
 * Send every line (already one line, without the time stamp) to fn instead
 * of syslog or stderr; fn NULL goes back.  For tests that read what would
 * be logged (the in-process fuzz target); fn must be thread-safe.
 */
typedef void (*log_sink_fn)(void *arg, int prio, const char *line);
void log_set_sink(log_sink_fn fn, void *arg);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
