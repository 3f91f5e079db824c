/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_CONFIGURE_H
#define OSH_CONFIGURE_H

#include "util.h"

/* oci-systemd-hook configure ENGINE: wire the hook (or the runtime
 * wrapper) into an engine's configuration.  One small writer per format;
 * every write keeps the other settings, is atomic, leaves FILE.bak, and
 * happens only when a byte changes (a second run changes nothing). */

struct configure_opts {
        const char *engine;         /* docker, containerd, crio, podman */
        const char *config;         /* --config FILE (default: the engine's) */
        const char *runtime_path;   /* --runtime-path: oci-systemd-runtime */
        const char *hook_path;      /* --hook-path: the hook (default: this binary) */
        const char *base_spec;      /* --base-spec (containerd) */
        const char *handler;        /* --handler: runtime / handler name */
        bool dry_run;               /* print the diff, write nothing */
};

/* Does it; *ret_report (owned) is what to print: the diffs (dry run),
 * what was written, warnings, and what the user must restart. */
int configure_run(const struct configure_opts *o, char **ret_report, hook_error_t *err);

#endif
