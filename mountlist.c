/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mount table below one mount, from listmount(2) and statmount(2)
 * (Linux 6.8): the mounts of a subtree only, where /proc/self/mountinfo
 * prints every mount of the namespace (before pivot_root a container's
 * namespace holds a copy of the node's, which grows with the node).  The
 * entries are those of mountinfo.h, so one callback serves both readers. */
#include <fcntl.h>
#include <linux/types.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "mountinfo.h"

#ifndef __NR_statmount
#define __NR_statmount 457
#endif
#ifndef __NR_listmount
#define __NR_listmount 458
#endif
#define OSH_STATX_MNT_ID_UNIQUE 0x4000U
#define OSH_STATMOUNT_MNT_BASIC 0x02U
#define OSH_STATMOUNT_MNT_ROOT 0x08U
#define OSH_STATMOUNT_MNT_POINT 0x10U
#define OSH_STATMOUNT_FS_TYPE 0x20U
#define OSH_STATMOUNT_MNT_OPTS 0x80U    /* 6.11: the filesystem's options */
#define OSH_MNT_ID_REQ_SIZE_VER0 24
#define OSH_MS_SHARED (1 << 20)
#define OSH_MS_SLAVE (1 << 19)
#define LIST_CHUNK 256
#define STATMOUNT_MAX (1u << 20)

/* include/uapi/linux/mount.h (6.8), under names of our own: newer
 * headers have them too. */
struct osh_mnt_id_req {
        __u32 size, spare;
        __u64 mnt_id, param;
};

struct osh_statmount {
        __u32 size, mnt_opts;               /* mnt_opts: 6.11, spare before */
        __u64 mask;
        __u32 sb_dev_major, sb_dev_minor;
        __u64 sb_magic;
        __u32 sb_flags, fs_type;
        __u64 mnt_id, mnt_parent_id;
        __u32 mnt_id_old, mnt_parent_id_old;
        __u64 mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
        __u32 mnt_root, mnt_point;
        __u64 spare2[50];
        char str[];
};

bool mountlist_off;

struct idset {
        uint64_t *v;
        size_t n;
};

static void idset_add(struct idset *s, uint64_t id)
{
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = id;
}

static int cmp_id(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* The mounts listmount() gives below ID, added to S. */
static int list_below(__u64 id, struct idset *s)
{
        struct osh_mnt_id_req req = { .size = OSH_MNT_ID_REQ_SIZE_VER0, .mnt_id = id };
        __u64 buf[LIST_CHUNK];
        long n, i;

        do {
                n = syscall(__NR_listmount, &req, buf, LIST_CHUNK, 0);
                if (n < 0)
                        return -errno;
                for (i = 0; i < n; i++)
                        if (!u64_in(s->v, s->n, buf[i]))
                                idset_add(s, buf[i]);
                if (n > 0)
                        req.param = buf[n - 1];
        } while (n == LIST_CHUNK);
        return 0;
}

/* statmount() of ID into *BUF (grown as needed); -ENOENT: gone since. */
static int stat_one(__u64 id, __u64 extra, struct osh_statmount **buf, size_t *size)
{
        struct osh_mnt_id_req req = {
                .size = OSH_MNT_ID_REQ_SIZE_VER0, .mnt_id = id,
                .param = OSH_STATMOUNT_MNT_BASIC | OSH_STATMOUNT_MNT_ROOT | OSH_STATMOUNT_MNT_POINT |
                         OSH_STATMOUNT_FS_TYPE | extra,
        };

        for (;;) {
                if (syscall(__NR_statmount, &req, *buf, *size, 0) == 0)
                        return 0;
                if (errno != EOVERFLOW || *size >= STATMOUNT_MAX)
                        return -errno;
                *size *= 2;
                free(*buf);
                *buf = xmalloc(*size);
        }
}

static const char *str_at(const struct osh_statmount *sm, size_t size, __u64 flag, __u32 off)
{
        if (!(sm->mask & flag) || off >= size - offsetof(struct osh_statmount, str))
                return "";
        return sm->str + off;
}

static int report(const struct osh_statmount *sm, size_t size, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        struct mountinfo_entry e = {
                .id = sm->mnt_id_old, .parent = sm->mnt_parent_id_old,
                .root = str_at(sm, size, OSH_STATMOUNT_MNT_ROOT, sm->mnt_root),
                .mount_point = str_at(sm, size, OSH_STATMOUNT_MNT_POINT, sm->mnt_point),
                .options = sm->mnt_attr & MOUNT_ATTR_RDONLY ? "ro" : "rw",
                .fstype = str_at(sm, size, OSH_STATMOUNT_FS_TYPE, sm->fs_type),
                .source = "", .super_options = str_at(sm, size, OSH_STATMOUNT_MNT_OPTS, sm->mnt_opts),
        };
        char optional[64] = "";

        if (sm->mnt_propagation & OSH_MS_SHARED)
                (void)snprintf(optional, sizeof(optional), "shared:%llu", (unsigned long long)sm->mnt_peer_group);
        else if (sm->mnt_propagation & OSH_MS_SLAVE)
                (void)snprintf(optional, sizeof(optional), "master:%llu", (unsigned long long)sm->mnt_master);
        e.optional = optional;
        return cb(&e, userdata, err);
}

/* The unique (statmount) id of the mount FD is on; -ENOSYS before 6.8 or
 * with mountlist_off. */
static int unique_mnt_id(int fd, __u64 *ret)
{
        struct statx stx;

        if (mountlist_off)
                return -ENOSYS;
        if (statx(fd, "", AT_EMPTY_PATH, OSH_STATX_MNT_ID_UNIQUE, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & OSH_STATX_MNT_ID_UNIQUE))
                return -ENOSYS;
        *ret = stx.stx_mnt_id;
        return 0;
}

int mountlist_foreach_below(int fd, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        struct idset s = {};
        struct osh_statmount *sm = NULL;
        size_t size = 4096, i;
        bool recursive = false;
        __u64 id;
        int r;

        if ((r = unique_mnt_id(fd, &id)) < 0)
                return r;
        idset_add(&s, id);
        /* Linux 6.8 lists a mount's children, later ones all its
         * descendants: go down until the first grandchild shows which. */
        sm = xmalloc(size);
        for (i = 0; i < s.n && r >= 0; i++) {
                if (!recursive && (r = list_below(s.v[i], &s)) < 0)
                        break;
                if (i == 0) {
                        size_t j;
                        for (j = 1; j < s.n && !recursive; j++)
                                if (stat_one(s.v[j], 0, &sm, &size) == 0 && sm->mnt_parent_id != s.v[0])
                                        recursive = true;
                }
        }
        if (r < 0) {
                r = r == -ENOSYS || r == -EINVAL ? -ENOSYS : hook_error_set(err, -r, "listmount: %s", strerror(-r));
                goto out;
        }
        /* in the order they were mounted, as mountinfo lists them */
        qsort(s.v, s.n, sizeof(*s.v), cmp_id);
        for (i = 0; i < s.n && r == 0; i++) {
                int q = stat_one(s.v[i], 0, &sm, &size);
                if (q == -ENOENT)
                        continue;       /* unmounted since */
                if (q < 0) {
                        r = q == -ENOSYS ? -ENOSYS : hook_error_set(err, -q, "statmount: %s", strerror(-q));
                        break;
                }
                r = report(sm, size, cb, userdata, err);
        }
out:
        free(sm);
        free(s.v);
        return r < 0 ? r : 0;
}

int mountlist_stat_path(const char *path, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        struct osh_statmount *sm = NULL;
        size_t size = 4096;
        struct statx stx;
        int r;

        if (mountlist_off)
                return -ENOSYS;
        /* by path, no descriptor: a missing one or no directory is no mount */
        if (statx(AT_FDCWD, path, 0, STATX_TYPE | OSH_STATX_MNT_ID_UNIQUE, &stx) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -ENOSYS;
        if (!S_ISDIR(stx.stx_mode))
                return 0;
        if (!(stx.stx_mask & OSH_STATX_MNT_ID_UNIQUE) || !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -ENOSYS;
        if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return 0;
        sm = xmalloc(size);
        r = stat_one(stx.stx_mnt_id, OSH_STATMOUNT_MNT_OPTS, &sm, &size);
        /* no options: none to show (cgroup2), or a kernel before 6.11;
         * a cgroup v1 mount always has some (its controllers, name=) */
        if (r == 0 && !(sm->mask & OSH_STATMOUNT_MNT_OPTS) &&
            streq(str_at(sm, size, OSH_STATMOUNT_FS_TYPE, sm->fs_type), "cgroup"))
                r = -ENOSYS;
        if (r == 0)
                r = report(sm, size, cb, userdata, err);
        else if (r != -ENOSYS)
                r = hook_error_set(err, -r, "statmount `%s`: %s", path, strerror(-r));
        free(sm);
        return r;
}

int mountlist_attr(int fd, uint64_t *ret_attr)
{
        struct osh_mnt_id_req req = { .size = OSH_MNT_ID_REQ_SIZE_VER0, .param = OSH_STATMOUNT_MNT_BASIC };
        struct osh_statmount sm;
        int r;

        if ((r = unique_mnt_id(fd, &req.mnt_id)) < 0)
                return r;
        if (syscall(__NR_statmount, &req, &sm, sizeof(sm), 0) < 0)
                return -errno;
        if (!(sm.mask & OSH_STATMOUNT_MNT_BASIC))
                return -ENOSYS;
        *ret_attr = sm.mnt_attr;
        return 0;
}
