#ifndef OPLOG_SYNC_CINOTIFYTOOLS_SHIM_H
#define OPLOG_SYNC_CINOTIFYTOOLS_SHIM_H

#include <sys/inotify.h>
#include <inotifytools/inotifytools.h>
#include <inotifytools/inotify.h>

/// The name of the file an event concerns, relative to the watched folder ("" for the folder
/// itself). Swift does not import the flexible array member `name`.
static inline const char *oplog_inotify_event_name(const struct inotify_event *event) {
    return event->len > 0 ? event->name : "";
}

#endif
