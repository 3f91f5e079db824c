/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI state on stdin: spec_parse_state() and the stage logic, as
 * cmd_hook() uses them.  Input: the bytes read from stdin. */
#include "fuzz.h"
#include "log.h"
#include "spec.h"

int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_)
{
        return 0;
}

static void check_state(const struct oci_state *s)
{
        static char *const argv0[] = { (char *)"oci-systemd-hook", NULL };
        static char *const argv1[] = { (char *)"oci-systemd-hook", (char *)"createRuntime", NULL };
        enum hook_stage st;
        size_t i;

        FUZZ_CHECK(s->tree && s->id && s->oci_version && s->status && s->bundle, "missing field");
        FUZZ_CHECK(s->id[0] && !strchr(s->id, '/') && strlen(s->id) <= 1024, "id `%s`", s->id);
        FUZZ_CHECK(s->bundle[0] == '/', "bundle `%s`", s->bundle);
        for (i = 0; s->id[i]; i++)
                FUZZ_CHECK((unsigned char)s->id[i] >= 0x20 && s->id[i] != 0x7f, "control char in id");
        FUZZ_CHECK(s->pid >= 0 && s->pid != 1, "pid %d", (int)s->pid);
        FUZZ_CHECK(s->n_annotations == 0 || s->annotations, "annotations");
        for (i = 0; i < s->n_annotations; i++)
                FUZZ_CHECK(s->annotations[i].key && s->annotations[i].value, "annotation %zu", i);
        (void)spec_annotation(s->annotations, s->n_annotations, "oci-systemd-hook");
        st = spec_stage(1, argv0, s->status);
        FUZZ_CHECK(st >= STAGE_UNKNOWN && st <= STAGE_IGNORED, "stage %d", (int)st);
        (void)spec_stage_name(st);
        FUZZ_CHECK(spec_stage(2, argv1, s->status) == STAGE_CREATE_RUNTIME, "argv must win");
        (void)spec_stage_from_name(s->status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct oci_state s;
        hook_error_t err = {};
        int fd0 = fuzz_lowest_fd(), r;

        /* read_fd_capped() refuses more before anything parses it. */
        if (size > STATE_MAX_BYTES)
                return 0;
        r = spec_parse_state((const char *)data, size, &s, &err);
        /* main() names the container on every line, also after an error. */
        log_set_id(s.id);
        if (r < 0)
                fuzz_check_error(r, &err);
        else
                check_state(&s);
        spec_state_done(&s);
        log_set_id(NULL);
        FUZZ_CHECK(fuzz_lowest_fd() == fd0, "fd leak");
        return 0;
}
