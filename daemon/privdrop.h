/*
 * daemon/privdrop.h -- the serving process gives up root (server.user,
 * server.group) once its sockets are bound and its store is open and locked.
 */
#ifndef DS_DAEMON_PRIVDROP_H
#define DS_DAEMON_PRIVDROP_H

#include "config/config.h"

/*
 * Switch the whole process (every thread) to server.user and server.group:
 * supplementary groups, group, user; then check that root cannot be had
 * back.  Before the switch, the files dsyncd made as root (the store, its
 * -wal, -shm and lock files, the receiver's key files) are given to the
 * user, and so is a folder that holds nothing else; after it, the store's
 * folder and the receiver key folder must be writable by the user.
 * Nothing to do when neither setting is set, or the process already runs
 * as that user and group.  DS_OK, or an error that was logged.
 */
int privdrop(const struct cfg *cfg);

#endif
