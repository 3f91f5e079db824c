/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-systemd-configure (`oci-systemd-hook configure` runs it): wires the
 * hook into an engine's configuration.  A program of its own because it
 * links a C++ TOML library; the hook stays C. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>

#include "configure.h"
#include "log.h"
#include "runtime.h"

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: oci-systemd-hook configure [OPTIONS] ENGINE\n"
                "\n"
                "Wire the hook into ENGINE: docker (daemon.json runtimes), containerd (a runtime\n"
                "handler with the hook in its base_runtime_spec), crio (a hooks_dir drop-in) or\n"
                "podman (check the hooks dir).  Idempotent; writes atomically with a backup.\n"
                "\n"
                "  --config FILE        the engine's configuration file\n"
                "  --dry-run            print the diff, write nothing\n"
                "  --runtime-path PATH  the wrapper (default " BINDIR "/" RUNTIME_NAME ")\n"
                "  --hook-path PATH     the hook binary\n"
                "  --base-spec FILE     containerd: the base runtime spec to write\n"
                "  --handler NAME       containerd: the runtime handler (default systemd)\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, 'n' },
                { "runtime-path", required_argument, NULL, 'r' },
                { "hook-path", required_argument, NULL, 'p' },
                { "base-spec", required_argument, NULL, 'b' },
                { "handler", required_argument, NULL, 'H' },
                {},
        };
        struct configure_opts o = {
                .runtime_path = BINDIR "/" RUNTIME_NAME,
                .base_spec = "/etc/containerd/oci-systemd-hook-spec.json",
                .handler = "systemd",
        };
        _cleanup_free_ char *report = NULL, *installed = realpath(BINDIR "/oci-systemd-hook", NULL);
        hook_error_t err = {};
        int c;

        /* run as `oci-systemd-hook configure`, the hook passes its path */
        o.hook_path = installed;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': o.config = optarg; break;
                case 'n': o.dry_run = true; break;
                case 'r': o.runtime_path = optarg; break;
                case 'p': o.hook_path = optarg; break;
                case 'b': o.base_spec = optarg; break;
                case 'H': o.handler = optarg; break;
                default: usage(stderr); return 2;
                }
        }
        if (argc - optind != 1) {
                usage(stderr);
                return 2;
        }
        o.engine = argv[optind];
        if (configure_run(&o, &report, &err) < 0) {
                log_error("configure %.32s: %s", o.engine, err.msg);
                return 1;
        }
        fputs(report, stdout);
        return 0;
}

