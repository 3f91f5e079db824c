/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_COPYUP_H
#define OSH_COPYUP_H

#include <stdatomic.h>
#include <sys/stat.h>

#include "spec.h"

/* Limits on what an image may make the hook copy (a hostile image could
 * ship millions of files or a huge one under /run). */
#define COPYUP_MAX_ENTRIES 20000
#define COPYUP_MAX_BYTES (16u << 20)      /* data, holes are free */
#define COPYUP_MAX_DEPTH 32

/* Who will read the copy: the container's root.  With a user namespace
 * it holds its capabilities only over inodes whose owner and group are
 * both mapped; elsewhere the mode bits decide.  Without one (or with
 * userns false) it is host root: the image is its own, it may read it. */
struct copy_reader {
        bool userns;
        uid_t uid;                  /* host ids of the container's root */
        gid_t gid;
        const struct id_map *uid_maps, *gid_maps;
        size_t n_uid_maps, n_gid_maps;
};

/* Pure: may R read (MAY_READ_DIR: list and enter) what ST describes? */
bool copy_reader_may_read(const struct copy_reader *r, const struct stat *st);

/* Copy the tree under SRC (a directory fd in the image) into DST (the root
 * of a new, still detached tmpfs), like podman's tmpcopyup: directories,
 * regular files (sparse: holes stay holes), symlinks (as symlinks, never
 * followed), FIFOs; owners, modes and times kept; sockets and device
 * nodes skipped.  Files are opened O_PATH, checked to be regular, and only
 * then reopened for reading through that descriptor: nothing else is ever
 * opened.  What READER could not read is copied as an empty file or
 * directory with the same owner and mode.  KEEP_ROOT: DST takes SRC's
 * owner and mode (the directory existed in the image); else only owner. */
int copyup_tree(int src, int dst, const struct copy_reader *reader, bool keep_root, hook_error_t *err);
/* copyup_tree() that stops with -ECANCELED once *CANCEL is set (another
 * thread no longer needs the copy). */
int copyup_tree_cancellable(int src, int dst, const struct copy_reader *reader, bool keep_root,
                            const atomic_bool *cancel, hook_error_t *err);

#endif
