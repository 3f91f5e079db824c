#!/usr/bin/env python3
"""Writes the seeds of fuzz/corpus/detect and fuzz/corpus/plan (their input
formats are described at the top of fuzz_detect.c and fuzz_plan.c).  The
plan seeds are the config seeds with a tail (id, host mode, annotations).

    python3 fuzz/make-seeds.py [fuzz/corpus]
"""
import hashlib
import os
import sys

corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")


def put(kind, data):
    d = os.path.join(corpus, kind)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def detect(flags, *segs):
    put("detect", bytes([flags]) + b"\0".join(s.encode() for s in segs))


ROOTFS = range(6)  # usrmerge classic busybox hostile odd limits
for v in ROOTFS:
    detect(v, "a/sbin/init", "p0/sbin/init", "p0/usr/sbin/init", "p0/usr/local/sbin/init")
    detect(v, "a/usr/sbin/init", "p2/etc/machine-id", "p0/run/lock", "p0/var/log/journal")
    detect(v, "a/usr/local/sbin/init", "p0/tmp", "p2/run", "p0/../../etc/./shadow")
    detect(v | 0x80, "ainit", "p0/proc/self/root/etc", "p0/loop", "p0/a")
detect(0, "a/bin/sh", "a-c", "aexec /sbin/init --log-level=debug")
detect(0, "a/bin/bash", "a-ec", "aFOO=1 exec /usr/sbin/init")
detect(2, "abusybox", "ash", "a-c", "aexec /sbin/init")
detect(0, "a/usr/bin/env", "a-i", "aA=b", "a/sbin/init")
detect(0, "a/lib/systemd/systemd", "a--system", "eoci-systemd-hook=disabled")
detect(1, "a/bin/true", "coci-systemd-hook=enabled", "soci-systemd-hook=disabled")
detect(1, "a/sbin/init", "coci-systemd-hook=maybe", "soci-systemd-hook=false")
detect(0, "a/sbin/init", "econtainer_uuid=0123456789abcdef0123456789abcdef",
       "eoci-systemd-hook=disabled", "eoci-systemd-hook=enabled")
detect(3, "a/sbin/init", "p0/long/sbin/init", "p0/dotdot/dotdot/etc/etc/etc/machine-id",
       "p0/empty-ish/fifo", "p2/fifo", "p0/lib/systemd/up", "p0/b")
detect(4, "a/sbin/init", "p0/sbin/init/", "p0/usr/sbin/init/x", "p0/run/file/shadow",
       "p0/run/lock/lock/lock", "p0/tmp/x")
detect(5, "a/sbin/init", "p0/c0", "p0/c1", "p0/c2", "p2/c39")
detect(0, "a")
detect(0)

# the unit tests' fixtures are seeds too
data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
for name in sorted(os.listdir(data)):
    for kind in ("state", "config"):
        if name.startswith(kind + "-") and name.endswith(".json"):
            with open(os.path.join(data, name), "rb") as f:
                body = f.read()
            with open(os.path.join(corpus, kind, "data-" + name), "wb") as f:
                f.write(body)

# plan: config seeds as they are, and with tails
ids = [b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       b"00000000000000000000000000000000deadbeef", b"my-container", b"x"]
for name in sorted(os.listdir(os.path.join(corpus, "config"))):
    with open(os.path.join(corpus, "config", name), "rb") as f:
        cfg = f.read()
    put("plan", cfg)
    if name not in ("runc-spec.json", "podman-systemd.json", "podman-userns-ro.json",
                    "data-config-podman.json"):
        continue
    for mode in range(4):
        flags = mode | (4 if mode == 2 else 0) | (8 if mode != 0 else 0)
        tail = bytes([flags]) + ids[mode]
        if mode == 3:
            tail += b"\0oci-systemd-hook=enabled\0oci-systemd-hook.cgroup=none"
        put("plan", cfg + b"\0" + tail)

# hostile documents (SECURITY-NOTES §4, items 14-22) as seeds
STATE = ('{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,'
         '"bundle":"%s","annotations":{%s}}')


def state(name, id_="c1", pid="4242", bundle="/run/b", ann='"a":"b"'):
    body = STATE % (id_, pid, bundle, ann)
    with open(os.path.join(corpus, "state", "hostile-" + name), "wb") as f:
        f.write(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)


for i, pid in enumerate(['"123"', "1.5", "0", "-1", "9223372036854775808", "1e3", "4194305", "1",
                         "4194304", "null", "[]", "-0", "00012"]):
    state("pid-%d" % i, pid=pid)
state("id-nul", id_="a\\u0000b")
state("id-surrogate", id_="\\ud800")
state("id-slash", id_="../../etc")
state("id-newline", id_="a\\nb")
state("id-long", id_="x" * 1025)
state("bundle-relative", bundle="run/b")
state("bundle-dotdot", bundle="/run/../etc")
state("bundle-ctrl", bundle="/run/\\u001b[31m")
state("ann-nonstring", ann='"a":1')
state("ann-dup", ann='"a":"b","a":"c"')
state("ann-deep", ann='"a":' + "[" * 70 + "]" * 70)
with open(os.path.join(corpus, "state", "hostile-dup-pid"), "wb") as f:
    f.write(b'{"ociVersion":"1","id":"c","status":"creating","pid":5,"pid":6,"bundle":"/b"}')
with open(os.path.join(corpus, "state", "hostile-comment"), "wb") as f:
    f.write(b'{"ociVersion":"1",/* x */"id":"c","status":"creating","pid":5,"bundle":"/b"}')
with open(os.path.join(corpus, "state", "hostile-trailing"), "wb") as f:
    f.write(b'{"ociVersion":"1","id":"c","status":"creating","pid":5,"bundle":"/b"} {}')
with open(os.path.join(corpus, "state", "hostile-bad-utf8"), "wb") as f:
    f.write(b'{"ociVersion":"1","id":"c\xc0\xaf","status":"creating","pid":5,"bundle":"/b"}')
with open(os.path.join(corpus, "state", "hostile-raw-nul"), "wb") as f:
    f.write(b'{"ociVersion":"1","id":"c\x00","status":"creating","pid":5,"bundle":"/b"}')

CONFIG = '{"ociVersion":"1.0.2","root":{"path":"rootfs"%s},"process":{"args":%s,"env":%s}%s}'


def config(name, root="", args='["/sbin/init"]', env='["container_uuid=0123456789abcdef0123456789abcdef"]',
           rest=""):
    with open(os.path.join(corpus, "config", "hostile-" + name), "wb") as f:
        f.write((CONFIG % (root, args, env, rest)).encode())


config("args-mixed", args='["/sbin/init", 1, null]')
config("args-object", args='{"0":"/sbin/init"}')
config("root-empty", root=',"path":""')
config("root-readonly-str", root=',"readonly":"true"')
config("env-dup-uuid", env='["container_uuid=1","container_uuid=0123456789abcdef0123456789abcdef"]')
config("env-uuid-zero", env='["container_uuid=00000000-0000-0000-0000-000000000000"]')
config("env-uuid-traversal", env='["container_uuid=../../../etc"]')
config("mounts-not-objects", rest=',"mounts":["/run", 1]')
config("mounts-no-dest", rest=',"mounts":[{"type":"tmpfs"}]')
config("mounts-user-run", rest=',"mounts":[{"destination":"//run/./","type":"bind","source":"/x"},'
       '{"destination":"/etc/machine-id","type":"bind","source":"/y"}]')
config("idmap-huge", rest=',"linux":{"namespaces":[{"type":"user"}],"uidMappings":'
       '[{"containerID":0,"hostID":4294967296,"size":1}],"gidMappings":[]}')
config("idmap-negative", rest=',"linux":{"namespaces":[{"type":"user"}],"uidMappings":'
       '[{"containerID":0,"hostID":-1,"size":1}]}')
config("idmap-ok", rest=',"linux":{"namespaces":[{"type":"user"},{"type":"cgroup"}],"uidMappings":'
       '[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":'
       '[{"containerID":0,"hostID":100000,"size":65536}]}')
config("label-ctrl", rest=',"linux":{"mountLabel":"system_u:object_r:x:s0\\n"}')
config("depth-64", rest=',"x":' + "[" * 63 + "]" * 63)
config("depth-65", rest=',"x":' + "[" * 64 + "]" * 64)
config("annotations-enable", rest=',"annotations":{"oci-systemd-hook":"enabled",'
       '"oci-systemd-hook.cgroup":"bogus"}')
config("hooks-wrong-type", rest=',"hooks":[]')
config("hooks-present", rest=',"hooks":{"createRuntime":[{"path":"/usr/libexec/oci/hooks.d/oci-systemd-hook"},'
       '"junk",{"path":1}]}')
config("numbers", rest=',"n":[1e999,-0,0.1e-400,123456789012345678901234567890,-9223372036854775809]')
config("escapes", rest=',"s":"\\u00e9\\ud83d\\ude00\\/\\"\\\\\\b\\f\\n\\r\\t"')
