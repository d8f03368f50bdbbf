/*
 * daemon/commands.h -- the operator subcommands of dsyncd, each run once
 * against the configuration and the store (safe while the daemon runs: the
 * store serialises writers; a running daemon picks key changes up on
 * SIGHUP).
 */
#ifndef DS_DAEMON_COMMANDS_H
#define DS_DAEMON_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

/*
 * `dsyncd import ZONE FILE`: the delegations (NS, DS and glue below the
 * apex) of zone from the zone file at path into the store: each child's
 * data is replaced by the file's, changes are queued in the outbox and
 * audited.  A summary goes to out.
 */
int daemon_import(const struct cfg *cfg, const char *zone, const char *path, FILE *out);

/*
 * `dsyncd key list` and `dsyncd key trust|revoke CHILD TAG`: the manual
 * bootstrap method.
 */
int daemon_key_command(const struct cfg *cfg, int argc, char **argv, FILE *out);

#endif
