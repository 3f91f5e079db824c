/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_NSENTER_H
#define OSH_NSENTER_H

#include <sys/types.h>

#include "util.h"

/* Join the mount namespace of PID.  Refuses a dead pid and a pid whose
 * mount namespace is the hook's own (a reused pid, or a runtime without a
 * mount namespace): the hook must never mount on the host. */
int ns_enter_mount(pid_t pid, hook_error_t *err);

/* True when PID exists and lives in a mount namespace other than ours. */
bool ns_pid_alive(pid_t pid);

#endif
