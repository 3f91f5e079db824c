/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_PREDICT_H
#define OSH_PREDICT_H

#include <stdio.h>

#include "plan.h"
#include "spec.h"

#define PREDICT_MAX_LINES 8
#define PREDICT_LINE_MAX 600

/* Bounds of the walk through the image's units (the image is untrusted). */
#define PREDICT_MAX_UNITS 512           /* units visited */
#define PREDICT_MAX_DEPTH 16            /* Wants=/Requires= hops from default.target */
#define PREDICT_MAX_UNIT_BYTES 65536    /* a larger unit file is not read */
#define PREDICT_MAX_DIR_ENTRIES 256     /* per .wants/ or .requires/ directory */

/* What the config (and, given the rootfs, the image's units) predict will
 * fail at boot: seccomp rules and read-only paths that systemd 247-262
 * does not work around.  Lines only; no line means nothing predicted. */
struct prediction {
        char lines[PREDICT_MAX_LINES][PREDICT_LINE_MAX];
        size_t n;
        size_t n_units;         /* unit files read (0 without a rootfs) */
        bool capped;            /* a bound stopped the walk early */
};

/* Pure but for reading the image through ROOTFD (-1: the config alone, as
 * the hook does: no unit is read).  P is the hook's plan for C (its tmpfs
 * mounts make those paths writable whatever the config says). */
void predict_build(const struct oci_config *c, const struct plan *p, int rootfd, struct prediction *ret);
void predict_dump(const struct prediction *pr, FILE *f);

#endif
