/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_TOMLCONF_H
#define OSH_TOMLCONF_H

/* TOML through toml11 (Debian libtoml11-dev, header-only C++11, a full
 * TOML 1.0 parser), behind a C interface.  Nothing here touches files. */

#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime handler `configure containerd` wants. */
struct ctrd_want {
        const char *handler;        /* "systemd" */
        const char *binary;         /* options.BinaryName: oci-systemd-runtime */
        const char *base_spec;      /* base_runtime_spec */
};

/* Pure: given a containerd config (BUF may be empty), the config with the
 * handler added.  Other bytes of the file are kept as they are: the new
 * tables are appended (and `version = 2` prepended to a file without
 * keys), then the result is parsed again and must equal the old settings
 * plus exactly the handler, or the edit is refused.  *ret_text is NULL
 * when the handler is already there as wanted.  *ret_version: 2 or 3.
 * WARNING (may be empty): e.g. the CRI plugin is disabled. */
int tomlconf_containerd(const char *buf, size_t len, const struct ctrd_want *w, char **ret_text,
                        int *ret_version, char *warning, size_t warning_len, hook_error_t *err);

/* The string array at KEYS (e.g. {"crio", "runtime", "hooks_dir"}):
 * 1 and a NULL-terminated owned list when set, 0 when absent, <0 on a
 * parse error or a value that is not an array of strings. */
int tomlconf_string_array(const char *buf, size_t len, const char *const *keys, size_t n_keys, char ***ret,
                          hook_error_t *err);

#ifdef __cplusplus
}
#endif

#endif
