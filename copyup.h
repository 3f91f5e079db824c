/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_COPYUP_H
#define OSH_COPYUP_H

#include "util.h"

/* Limits on what an image may make the hook copy (a hostile image could
 * ship millions of files or a huge one under /run). */
#define COPYUP_MAX_ENTRIES 20000
#define COPYUP_MAX_BYTES (64u << 20)
#define COPYUP_MAX_DEPTH 32

/* Copy the tree under SRC (a directory fd in the image) into DST (the root
 * of a new, still detached tmpfs), like podman's tmpcopyup: directories,
 * regular files, symlinks (as symlinks, never followed), FIFOs; owners,
 * modes and times kept; sockets and device nodes skipped.  Never opens
 * anything through a symlink.  The owner of DST becomes that of SRC. */
int copyup_tree(int src, int dst, hook_error_t *err);

#endif
