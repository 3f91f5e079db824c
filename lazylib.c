/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>

#include "lazylib.h"

static void *open_lib(const char *soname)
{
        return dlopen(soname, RTLD_NOW | RTLD_LOCAL);
}

static bool load_syms(void *h, void **slots, const char *const *names, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (!(slots[i] = dlsym(h, names[i])))
                        return false;
        return true;
}

const struct mount_api *lazy_libmount(hook_error_t *err)
{
        static const char *const names[] = {
                "mnt_new_table", "mnt_unref_table", "mnt_new_iter", "mnt_free_iter",
                "mnt_table_parse_stream", "mnt_table_next_fs", "mnt_fs_get_fstype", "mnt_fs_get_fs_options",
                "mnt_fs_get_target", "mnt_fs_get_root", "mnt_optstr_get_option",
        };
        static struct mount_api api;
        static bool loaded;
        void *h;

        _Static_assert(sizeof(api) == sizeof(void *) * ELEMENTSOF(names), "one name per slot");
        if (loaded)
                return &api;
        h = open_lib("libmount.so.1");
        if (!h || !load_syms(h, (void **)&api, names, ELEMENTSOF(names))) {
                hook_error_set(err, ELIBACC, "loading libmount.so.1: %s", dlerror());
                return NULL;
        }
        loaded = true;
        return &api;
}

const struct selinux_api *lazy_libselinux(void)
{
#ifdef HAVE_SELINUX
        static const char *const names[] = { "is_selinux_enabled", "security_check_context" };
        static struct selinux_api api;
        static int state;   /* 0 untried, 1 loaded, -1 unavailable */
        void *h;

        if (state == 0) {
                h = open_lib("libselinux.so.1");
                state = h && load_syms(h, (void **)&api, names, ELEMENTSOF(names)) ? 1 : -1;
        }
        return state > 0 ? &api : NULL;
#else
        return NULL;
#endif
}
