#!/usr/bin/python3
"""containerd configs for tests/e2e/test-cri.sh, made from the example.

  mkconfig.py handlers EXAMPLE
      prints "NAME BASE_RUNTIME_SPEC" for each CRI runtime handler of the
      example config ("-" when it has no base_runtime_spec)

  mkconfig.py config3 EXAMPLE DIR BASE_SPEC SANDBOX_IMAGE PLAIN_HANDLER [WRITABLE]
      the same for containerd 2.x and a version 3 EXAMPLE (the CRI plugin
      split into io.containerd.cri.v1.runtime / .images /
      io.containerd.grpc.v1.cri; NRI disabled, as a private containerd
      must not claim the global /var/run/nri/nri.sock); with WRITABLE, also
      a handler of that name with containerd's own `cgroup_writable = true`
      and no base spec.

  mkconfig.py config EXAMPLE DIR BASE_SPEC SANDBOX_IMAGE PLAIN_HANDLER
      prints a full containerd config: the example's tables as they are,
      except that base_runtime_spec points at BASE_SPEC; every runtime gets
      the runc option Root=DIR/runc; PLAIN_HANDLER is added as a handler
      without a base spec (and made the default); root, state, sockets,
      the CNI directories and the opt plugin live under DIR.

The example is parsed with tomllib, so a stale or broken example fails here.
"""
import json
import re
import sys
import tomllib

CRI = "io.containerd.grpc.v1.cri"
CRI_RT = "io.containerd.cri.v1.runtime"
CRI_IMG = "io.containerd.cri.v1.images"


def runtimes3(cfg):
    if cfg.get("version") != 3:
        raise SystemExit("example: `version = 3` expected")
    try:
        rts = cfg["plugins"][CRI_RT]["containerd"]["runtimes"]
    except KeyError:
        raise SystemExit("example: no [plugins.'%s'.containerd.runtimes.*]" % CRI_RT)
    if not rts:
        raise SystemExit("example: no runtime handler")
    return rts


def config3(example, d, spec, sandbox, plain, writable=None):
    with open(example, "rb") as f:
        cfg = tomllib.load(f)
    rts = runtimes3(cfg)
    for name in (plain, writable):
        if name and name in rts:
            raise SystemExit("example already has a handler named %s" % name)
    for rt in rts.values():
        if "base_runtime_spec" in rt:
            rt["base_runtime_spec"] = spec
    rts[plain] = {"runtime_type": "io.containerd.runc.v2"}
    if writable:
        rts[writable] = {"runtime_type": "io.containerd.runc.v2", "cgroup_writable": True}
    for rt in rts.values():
        rt.setdefault("options", {})["Root"] = d + "/runc"
    private = {
        "version": 3,
        "root": d + "/root",
        "state": d + "/state",
        "disabled_plugins": ["io.containerd.nri.v1.nri"],
        "grpc": {"address": d + "/containerd.sock"},
        "ttrpc": {"address": d + "/containerd.sock.ttrpc"},
        "plugins": {
            CRI_RT: {
                "enable_selinux": False,
                "restrict_oom_score_adj": True,
                "disable_apparmor": True,
                "containerd": {"default_runtime_name": plain},
                "cni": {"bin_dirs": ["/usr/lib/cni"], "conf_dir": d + "/cni"},
            },
            CRI_IMG: {"snapshotter": "overlayfs", "pinned_images": {"sandbox": sandbox}},
            CRI: {"stream_server_address": "127.0.0.1", "stream_server_port": "0"},
        },
    }
    merge(cfg, private)
    return "\n".join(emit(cfg)).lstrip("\n")


def runtimes(cfg):
    if cfg.get("version") != 2:
        raise SystemExit("example: `version = 2` expected")
    try:
        rts = cfg["plugins"][CRI]["containerd"]["runtimes"]
    except KeyError:
        raise SystemExit("example: no [plugins.\"%s\".containerd.runtimes.*]" % CRI)
    if not rts:
        raise SystemExit("example: no runtime handler")
    return rts


def merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v
    return dst


BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k):
    return k if BARE.match(k) else json.dumps(k)


def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise SystemExit("cannot write %r as TOML" % (v,))


def emit(d, path=(), out=None):
    """A minimal TOML writer: scalars of a table, then its sub-tables."""
    out = [] if out is None else out
    scalars = [(k, v) for k, v in d.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in d.items() if isinstance(v, dict)]
    if path and (scalars or not tables):
        out.append("")
        out.append("[" + ".".join(key(p) for p in path) + "]")
    for k, v in scalars:
        out.append("%s = %s" % (key(k), value(v)))
    for k, v in tables:
        emit(v, path + (k,), out)
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "handlers":
        with open(argv[2], "rb") as f:
            cfg = tomllib.load(f)
        for name, rt in runtimes(cfg).items():
            print(name, rt.get("base_runtime_spec", "-"))
        return 0
    if len(argv) == 7 and argv[1] == "config":
        example, d, spec, sandbox, plain = argv[2:]
        with open(example, "rb") as f:
            cfg = tomllib.load(f)
        rts = runtimes(cfg)
        if plain in rts:
            raise SystemExit("example already has a handler named %s" % plain)
        for rt in rts.values():
            if "base_runtime_spec" in rt:
                rt["base_runtime_spec"] = spec
        rts[plain] = {"runtime_type": "io.containerd.runc.v2"}
        for rt in rts.values():
            rt.setdefault("options", {})["Root"] = d + "/runc"
        private = {
            "version": 2,
            "root": d + "/root",
            "state": d + "/state",
            "grpc": {"address": d + "/containerd.sock"},
            "ttrpc": {"address": d + "/containerd.sock.ttrpc"},
            "plugins": {
                "io.containerd.internal.v1.opt": {"path": d + "/opt"},
                CRI: {
                    "sandbox_image": sandbox,
                    "enable_selinux": False,
                    # this machine's root lacks CAP_SYS_RESOURCE: the -998
                    # CRI gives the sandbox fails in runc init ("can't get
                    # final child's PID from pipe: EOF")
                    "restrict_oom_score_adj": True,
                    "disable_apparmor": True,
                    "stream_server_address": "127.0.0.1",
                    "stream_server_port": "0",
                    "containerd": {"default_runtime_name": plain, "snapshotter": "overlayfs"},
                    # pods use the host network: no CNI config needed, but
                    # keep the plugin away from the host's directories
                    "cni": {"bin_dir": "/usr/lib/cni", "conf_dir": d + "/cni"},
                },
            },
        }
        merge(cfg, private)
        print("\n".join(emit(cfg)).lstrip("\n"))
        return 0
    if len(argv) in (7, 8) and argv[1] == "config3":
        print(config3(*argv[2:]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
