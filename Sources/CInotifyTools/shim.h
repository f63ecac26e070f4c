#ifndef OPLOG_SYNC_CINOTIFYTOOLS_SHIM_H
#define OPLOG_SYNC_CINOTIFYTOOLS_SHIM_H

#include <sys/inotify.h>
#include <inotifytools/inotifytools.h>
#include <inotifytools/inotify.h>

#endif
