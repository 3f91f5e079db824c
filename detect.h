/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_DETECT_H
#define OSH_DETECT_H

#include "spec.h"

#define ANNOTATION_ENABLE "oci-systemd-hook"
#define ENV_DISABLE "oci-systemd-hook"

struct detect_result {
        bool systemd;
        char reason[320];
        char warning[200];       /* empty when none */
};

/* The command that will run, unwrapped from `sh -c "exec CMD ..."` and
 * `env [VAR=x] CMD`.  Returns a pointer into args or into *buf (owned). */
const char *detect_command(const char *const *args, size_t n, char **buf);

/* Decide whether the container runs systemd.  Pure apart from reading the
 * rootfs through ROOTFD (may be -1: decide by name only).  Annotations:
 * the config's, then the state's (runtimes copy them, podman passes both). */
void detect_systemd(const struct oci_config *c, const struct kv *state_ann, size_t n_state_ann,
                    int rootfd, struct detect_result *ret);

#endif
