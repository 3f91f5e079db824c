#!/usr/bin/python3
"""boundary-fanswap.py DIR NAME OTHER READY: swap DIR/NAME (a regular file
of the image) with DIR/OTHER (a device node) at the one moment that
matters to the copy-up: after the hook has stat'ed NAME as a regular file
and before it opens it. Deterministic, with fanotify permission events
(the hook waits while we decide):

 1. FAN_OPEN_PERM on DIR: the hook opens DIR to copy it (its new tmpfs
    exists and is still detached). Its pid is in the event; among its
    descriptors, the directory on a tmpfs that no mount table knows is
    that tmpfs: marked (FAN_MARK_FILESYSTEM, FAN_OPEN_PERM).
 2. FAN_OPEN_PERM on that tmpfs for NAME: the hook creates the copy of
    NAME, which it does right after the stat and before it opens the
    image's NAME. While it waits, NAME and OTHER are exchanged
    (renameat2 RENAME_EXCHANGE); then it goes on.

Every event is allowed. Prints what happened: `swapped PID`, or why not.
Touches only DIR and the hook's detached tmpfs (never a mounted one:
other processes would wait on it). READY is created once DIR is marked.
Closing the group allows whatever is still pending, so an error here
never blocks the hook."""
import ctypes
import os
import select
import struct
import sys
import time

FAN_CLOEXEC, FAN_CLASS_CONTENT = 0x01, 0x04
FAN_MARK_ADD, FAN_MARK_FILESYSTEM = 0x01, 0x100
FAN_OPEN_PERM, FAN_ONDIR = 0x00010000, 0x40000000
FAN_ALLOW = 0x01
AT_FDCWD, RENAME_EXCHANGE = -100, 2
TMPFS_MAGIC = 0x01021994

libc = ctypes.CDLL(None, use_errno=True)
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]


def die(msg):
    print(msg)
    sys.exit(1)


def mark(fan, flags, mask, path):
    if libc.fanotify_mark(fan, FAN_MARK_ADD | flags, mask, AT_FDCWD, path.encode()) != 0:
        die("fanotify_mark %s: %s" % (path, os.strerror(ctypes.get_errno())))


def fs_type(path):
    buf = ctypes.create_string_buffer(256)
    if libc.statfs(path.encode(), buf) != 0:
        return None
    return struct.unpack_from("l", buf)[0]


def mount_devs(pid):
    devs = set()
    for f in ("/proc/self/mountinfo", "/proc/%d/mountinfo" % pid):
        with open(f) as fh:
            for line in fh:
                devs.add(line.split()[2])
    return devs


def detached_tmpfs(pid):
    """The hook's descriptors on a directory of a tmpfs no mount table has."""
    known, found = mount_devs(pid), []
    d = "/proc/%d/fd" % pid
    for n in os.listdir(d):
        p = os.path.join(d, n)
        try:
            st = os.stat(p)
        except OSError:
            continue
        dev = "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))
        if (st.st_mode & 0o170000) == 0o040000 and dev not in known and fs_type(p) == TMPFS_MAGIC:
            found.append(p)
    return found


def main():
    dirp, name, other, ready = sys.argv[1:5]
    fan = libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, os.O_RDONLY)
    if fan < 0:
        die("fanotify_init: %s" % os.strerror(ctypes.get_errno()))
    mark(fan, 0, FAN_OPEN_PERM | FAN_ONDIR, dirp)
    st = os.stat(dirp)
    want = (st.st_dev, st.st_ino)
    open(ready, "w").close()
    state, hook, deadline = "wait-dir", 0, time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([fan], [], [], 1)
        if not r:
            continue
        data = os.read(fan, 4096)
        off = 0
        while off + 24 <= len(data):
            elen, _vers, _res, _mlen, mask, efd, pid = struct.unpack_from("IBBHQii", data, off)
            off += elen
            if efd < 0:
                continue
            try:
                target = os.readlink("/proc/self/fd/%d" % efd)
            except OSError:
                target = "?"
            st = os.fstat(efd)
            if state == "wait-dir" and (st.st_dev, st.st_ino) == want:
                tmpfs = detached_tmpfs(pid)
                if not tmpfs:
                    print("no detached tmpfs among the descriptors of %d" % pid)
                else:
                    for p in tmpfs:
                        mark(fan, FAN_MARK_FILESYSTEM, FAN_OPEN_PERM, p)
                    state, hook = "wait-copy", pid
            elif state == "wait-copy" and pid == hook and os.path.basename(target) == name:
                if libc.renameat2(AT_FDCWD, os.path.join(dirp, name).encode(), AT_FDCWD,
                                  os.path.join(dirp, other).encode(), RENAME_EXCHANGE) != 0:
                    print("renameat2: %s" % os.strerror(ctypes.get_errno()))
                else:
                    state = "swapped"
            os.write(fan, struct.pack("iI", efd, FAN_ALLOW))
            os.close(efd)
            if state == "swapped":
                print("swapped %d" % hook)
                return 0
    print("timeout in state %s" % state)
    return 1


if __name__ == "__main__":
    sys.exit(main())
