#!/usr/bin/python3
"""A small CRI client that drives containerd the way kubelet does, for
tests/e2e/test-cri.sh.

The pod comes from examples/k8s/pod-systemd.yaml and the runtime handler
from examples/k8s/runtimeclass.yaml (runtimeClassName -> handler), so the
examples are what is tested. What kubelet would do with the YAML, this does:
metadata.uid is a fresh UUID, env fieldRefs (metadata.uid/name/namespace) are
resolved, shareProcessNamespace picks the pid namespace mode,
terminationGracePeriodSeconds is the StopContainer timeout. One deviation,
for a test machine without CNI: the pod uses the host network (NODE), and so
no hostname.

  cri_client.py describe POD_YAML RUNTIMECLASS_YAML
      prints the request plan derived from the YAML as JSON
  cri_client.py run --socket S --gen DIR --pod Y --runtimeclass Y
                    --expect boot|noboot [--handler H] [--hook PATH]
                    [--cgroup-parent P] [--workdir DIR]
      runs the pod; prints one line per check: "ok<TAB>msg" or
      "not ok<TAB>msg" (and "# msg" notes); cleans up what it created.
      Exit status 0 unless the client itself broke.

The gRPC stubs come from runtime_v1_min.proto, compiled by the test into
--gen (grpc_tools.protoc).
"""
import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import grpc
import yaml

HOOK_TMPFS = ["/run", "/run/lock", "/tmp", "/var/log/journal"]


def note(msg):
    print("# " + msg, flush=True)


def check(cond, msg):
    print(("ok" if cond else "not ok") + "\t" + msg, flush=True)
    return cond


def signum(name):
    """SIGRTMIN+3, RTMIN+3, 37 -> 37; SIGTERM -> 15."""
    s = str(name).strip().upper()
    if s.isdigit():
        return int(s)
    if s.startswith("SIG"):
        s = s[3:]
    for base, val in (("RTMIN", signal.SIGRTMIN), ("RTMAX", signal.SIGRTMAX)):
        if s.startswith(base):
            off = s[len(base):]
            return int(val) + (int(off) if off else 0)
    return int(getattr(signal, "SIG" + s))


# ---------------------------------------------------------------- the YAML

def describe(pod_yaml, rc_yaml):
    with open(pod_yaml) as f:
        pod = yaml.safe_load(f)
    with open(rc_yaml) as f:
        rcs = [d for d in yaml.safe_load_all(f) if d]
    if pod.get("kind") != "Pod":
        raise SystemExit("%s: not a Pod" % pod_yaml)
    spec = pod["spec"]
    rc_name = spec.get("runtimeClassName")
    rc = [r for r in rcs if r.get("kind") == "RuntimeClass" and r["metadata"]["name"] == rc_name]
    if len(rc) != 1:
        raise SystemExit("runtimeClassName %r: no such RuntimeClass in %s" % (rc_name, rc_yaml))
    if len(spec["containers"]) != 1:
        raise SystemExit("%s: one container expected" % pod_yaml)
    c = spec["containers"][0]
    stop = (c.get("lifecycle") or {}).get("stopSignal")
    if stop is not None and (spec.get("os") or {}).get("name") != "linux":
        raise SystemExit("%s: lifecycle.stopSignal needs spec.os.name (linux)" % pod_yaml)
    env = []
    for e in c.get("env", []):
        if "value" in e:
            env.append({"name": e["name"], "value": str(e["value"])})
        else:
            path = e["valueFrom"]["fieldRef"]["fieldPath"]
            if path not in ("metadata.uid", "metadata.name", "metadata.namespace"):
                raise SystemExit("env %s: fieldRef %s not supported here" % (e["name"], path))
            env.append({"name": e["name"], "fieldRef": path})
    return {
        "name": pod["metadata"]["name"],
        "namespace": pod["metadata"].get("namespace", "default"),
        "runtimeClassName": rc_name,
        "handler": rc[0]["handler"],
        "pid": "POD" if spec.get("shareProcessNamespace") else "CONTAINER",
        "grace": int(spec.get("terminationGracePeriodSeconds", 30)),
        "container": c["name"],
        "image": c["image"],
        "command": c.get("command", []),
        "args": c.get("args", []),
        "env": env,
        "stopSignal": stop,
    }


# ---------------------------------------------------------------- the flow

class Pod:
    def __init__(self, a, plan):
        sys.path.insert(0, a.gen)
        self.pb = importlib.import_module("runtime_v1_min_pb2")
        grpc_mod = importlib.import_module("runtime_v1_min_pb2_grpc")
        self.ch = grpc.insecure_channel("unix://" + a.socket)
        self.rt = grpc_mod.RuntimeServiceStub(self.ch)
        self.img = grpc_mod.ImageServiceStub(self.ch)
        self.a = a
        self.plan = plan
        self.uid = str(uuid.uuid4())
        self.sandbox = None
        self.cid = None

    def call(self, stub, method, req, timeout=30):
        return getattr(stub, method)(req, timeout=timeout)

    def exec_sync(self, cmd, timeout=5):
        r = self.call(self.rt, "ExecSync",
                      self.pb.ExecSyncRequest(container_id=self.cid, cmd=cmd, timeout=timeout),
                      timeout + 5)
        return r.exit_code, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def status(self, verbose=False):
        return self.call(self.rt, "ContainerStatus",
                         self.pb.ContainerStatusRequest(container_id=self.cid, verbose=verbose))

    def sandbox_config(self):
        pb, p = self.pb, self.plan
        ns = pb.NamespaceOption(network=pb.NODE, pid=getattr(pb, p["pid"]), ipc=pb.POD)
        return pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=p["name"], uid=self.uid, namespace=p["namespace"], attempt=0),
            hostname="",  # host network: no UTS namespace of its own
            log_directory=os.path.join(self.a.workdir, "pod-logs"),
            labels={"io.kubernetes.pod.name": p["name"]},
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=self.a.cgroup_parent,
                security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns)))

    def envs(self):
        vals = {"metadata.uid": self.uid, "metadata.name": self.plan["name"],
                "metadata.namespace": self.plan["namespace"]}
        return [self.pb.KeyValue(key=e["name"], value=e["value"] if "value" in e else vals[e["fieldRef"]])
                for e in self.plan["env"]]

    def container_config(self, mounts):
        pb, p = self.pb, self.plan
        ns = pb.NamespaceOption(network=pb.NODE, pid=getattr(pb, p["pid"]), ipc=pb.POD)
        return pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=p["container"], attempt=0),
            image=pb.ImageSpec(image=p["image"]),
            command=p["command"], args=p["args"], envs=self.envs(), mounts=mounts,
            log_path=p["container"] + "/0.log",
            linux=pb.LinuxContainerConfig(
                security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))

    def wait_running(self, timeout):
        pb = self.pb
        end = time.time() + timeout
        last = ""
        while True:
            st = self.status().status
            if st.state != pb.CONTAINER_RUNNING:
                return "gone:%s exit %d %s" % (pb.ContainerState.Name(st.state), st.exit_code, st.reason)
            try:
                _, out, _ = self.exec_sync(["systemctl", "is-system-running"])
                last = out.strip().split("\n")[0]
                if last in ("running", "degraded", "maintenance", "stopping"):
                    return last
            except grpc.RpcError as e:
                last = "exec: " + (e.details() or str(e.code()))
            if time.time() >= end:
                return "timeout:" + (last or "no answer")
            time.sleep(0.2)

    def cleanup(self):
        """Stop and remove what this pod created; False if a call failed."""
        pb = self.pb
        good = True
        if self.cid:
            for m, req in (("StopContainer", pb.StopContainerRequest(container_id=self.cid, timeout=0)),
                           ("RemoveContainer", pb.RemoveContainerRequest(container_id=self.cid))):
                try:
                    self.call(self.rt, m, req, 60)
                except grpc.RpcError as e:
                    note("cleanup %s: %s" % (m, e.details()))
                    good = False
        if self.sandbox:
            for m, req in (("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=self.sandbox)),
                           ("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=self.sandbox))):
                try:
                    self.call(self.rt, m, req, 60)
                except grpc.RpcError as e:
                    note("cleanup %s: %s" % (m, e.details()))
                    good = False
        return good


def image_stop_signal(pod):
    r = pod.call(pod.img, "ImageStatus",
                 pod.pb.ImageStatusRequest(image=pod.pb.ImageSpec(image=pod.plan["image"]), verbose=True))
    if not r.image.id:
        return None, None
    info = json.loads(r.info.get("info", "{}"))
    return r.image.id, ((info.get("imageSpec") or {}).get("config") or {}).get("StopSignal")


def spec_checks(pod, label):
    """The runtime spec containerd made (ContainerStatus verbose)."""
    info = json.loads(pod.status(verbose=True).info.get("info", "{}"))
    spec = info.get("runtimeSpec") or {}
    hooks = [h.get("path") for h in (spec.get("hooks") or {}).get("createRuntime", [])]
    nss = {n["type"]: n.get("path") for n in (spec.get("linux") or {}).get("namespaces", [])}
    mounts = [m["destination"] for m in spec.get("mounts", [])]
    return spec, hooks, nss, mounts


def run(a):
    plan = describe(a.pod, a.runtimeclass)
    handler = a.handler or plan["handler"]
    label = "%s (handler %s%s)" % (plan["name"], handler, ", emptyDir at /run" if a.emptydir_run else "")
    pod = Pod(a, plan)
    pb = pod.pb
    v = pod.call(pod.rt, "Version", pb.VersionRequest(version="v1"))
    note("%s %s, CRI %s" % (v.runtime_name, v.runtime_version, v.runtime_api_version))

    img_id, img_stop = image_stop_signal(pod)
    if not check(img_id is not None, "%s: image %s is known to the CRI" % (label, plan["image"])):
        return
    if plan["stopSignal"] is not None:
        # containerd 1.6 takes the image's StopSignal; the pod's must agree
        check(img_stop is not None and signum(img_stop) == signum(plan["stopSignal"]),
              "%s: the pod's lifecycle.stopSignal %s = the image's StopSignal %s"
              % (label, plan["stopSignal"], img_stop))

    # a projected-volume-like mount under /var/run, as kubelet makes for the
    # service account token (/var/run is a symlink to /run in the image)
    tokdir = os.path.join(a.workdir, "token-" + pod.uid[:8])
    os.makedirs(tokdir)
    with open(os.path.join(tokdir, "token"), "w") as f:
        f.write("v1\n")
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    mounts = [pb.Mount(container_path=sa, host_path=tokdir, readonly=True)]
    empty = None
    if a.emptydir_run:
        # an emptyDir with medium: Memory at /run, as kubelet makes it: a
        # tmpfs in the pod's volume directory, bind-mounted in
        empty = os.path.join(a.workdir, "pods", pod.uid, "volumes", "kubernetes.io~empty-dir", "run")
        os.makedirs(empty)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", empty], check=True)
        mounts.insert(0, pb.Mount(container_path="/run", host_path=empty))

    try:
        t0 = time.time()
        pod.sandbox = pod.call(pod.rt, "RunPodSandbox", pb.RunPodSandboxRequest(
            config=pod.sandbox_config(), runtime_handler=handler), 120).pod_sandbox_id
        sr = pod.call(pod.rt, "PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=pod.sandbox,
                                                                             verbose=True))
        sst = sr.status
        check(sst.state == pb.SANDBOX_READY and sst.runtime_handler == handler,
              "%s: RunPodSandbox: ready, handler %s (%.2f s)" % (label, sst.runtime_handler, time.time() - t0))
        sspec = json.loads(sr.info.get("info", "{}")).get("runtimeSpec") or {}
        shooks = [h.get("path") for h in (sspec.get("hooks") or {}).get("createRuntime", [])]
        note("sandbox spec: %s, createRuntime hooks %s" % ("present" if sspec else "absent", shooks))
        if a.hook in shooks:
            # base_runtime_spec applies to the sandbox too: the hook ran for
            # pause, found no systemd and left it alone
            check(sst.state == pb.SANDBOX_READY, "%s: the pause container ran the hook too and is ready" % label)
        pod.cid = pod.call(pod.rt, "CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=pod.sandbox, config=pod.container_config(mounts),
            sandbox_config=pod.sandbox_config()), 120).container_id
        spec, hooks, nss, smounts = spec_checks(pod, label)
        if a.expect == "boot":
            check(a.hook in hooks, "%s: the container's spec runs %s at createRuntime (from base_runtime_spec)"
                  % (label, a.hook))
            check("cgroup" in nss and nss["cgroup"] is None,
                  "%s: the spec has a cgroup namespace of its own (base_runtime_spec)" % label)
        else:
            check(not any(h and h.endswith("oci-systemd-hook") for h in hooks),
                  "%s: the container's spec has no oci-systemd-hook (got %s)" % (label, hooks))
        check(nss.get("pid", "x") is None if plan["pid"] == "CONTAINER" else bool(nss.get("pid")),
              "%s: pid namespace %s" % (label, plan["pid"]))
        if empty:
            check("/run" in smounts, "%s: the CRI spec mounts the emptyDir on /run" % label)
        else:
            check("/run" not in smounts, "%s: the CRI spec mounts nothing on /run" % label)

        t0 = time.time()
        pod.call(pod.rt, "StartContainer", pb.StartContainerRequest(container_id=pod.cid), 120)
        if a.expect == "noboot":
            st = pod.wait_running(10)
            check(st.startswith("gone:") or st.startswith("timeout:"),
                  "%s: without the hook systemd does not boot in 10 s (got %s)" % (label, st))
            return
        st = pod.wait_running(60)
        if not check(st == "running", "%s: reaches running in %.2f s after StartContainer (got %s)"
                     % (label, time.time() - t0, st)):
            if st.startswith("gone:"):
                return
        _, comm, _ = pod.exec_sync(["cat", "/proc/1/comm"])
        check(comm.strip() == "systemd", "%s: PID 1 is systemd, not pause (got %s)" % (label, comm.strip()))
        rc, out, _ = pod.exec_sync(["systemctl", "list-units", "--state=failed", "--plain",
                                    "--no-legend", "--no-pager"])
        failed = [l.split()[0] for l in out.splitlines() if l.strip()]
        check(rc == 0 and not failed, "%s: 0 failed units (got %s)" % (label, failed or rc))
        _, mi, _ = pod.exec_sync(["cat", "/proc/1/mountinfo"])
        tmpfs = set()
        for line in mi.splitlines():
            f = line.split()
            if "-" in f and f[f.index("-") + 1] == "tmpfs":
                tmpfs.add(f[4])
        got = [t for t in HOOK_TMPFS if t in tmpfs]
        check(got == HOOK_TMPFS, "%s: tmpfs on the hook's four targets (got %s)" % (label, " ".join(got)))
        if empty:
            with open(os.path.join(empty, "host", "container-manager")) as f:
                check(f.read().strip() == "oci-systemd-hook",
                      "%s: /run is the emptyDir (the host sees /run/host in it)" % label)
        _, cm, _ = pod.exec_sync(["cat", "/run/host/container-manager"])
        check(cm.strip() == "oci-systemd-hook",
              "%s: /run/host/container-manager says oci-systemd-hook (got %s)" % (label, cm.strip()))
        want = [e for e in pod.envs() if e.key == "container_uuid"]
        if want:
            _, mid, _ = pod.exec_sync(["cat", "/etc/machine-id"])
            want = want[0].value.replace("-", "").lower()
            check(mid.strip() == want, "%s: /etc/machine-id is the pod UID %s (got %s)"
                  % (label, want, mid.strip()))
        _, tok, _ = pod.exec_sync(["cat", sa + "/token"])
        check(tok.strip() == "v1", "%s: the token mount at %s is visible (got %s)" % (label, sa, tok.strip()))
        # kubelet rotates the token in place; the container must see it
        with open(os.path.join(tokdir, "token.new"), "w") as f:
            f.write("v2\n")
        os.rename(os.path.join(tokdir, "token.new"), os.path.join(tokdir, "token"))
        _, tok, _ = pod.exec_sync(["cat", sa + "/token"])
        check(tok.strip() == "v2", "%s: the token mount under /var/run stays live: a rotated token shows "
              "(got %s)" % (label, tok.strip()))

        t0 = time.time()
        pod.call(pod.rt, "StopContainer", pb.StopContainerRequest(container_id=pod.cid, timeout=plan["grace"]),
                 plan["grace"] + 30)
        secs = time.time() - t0
        check(secs < 5, "%s: StopContainer (timeout %d s, the image's StopSignal %s) takes < 5 s (%.2f s)"
              % (label, plan["grace"], img_stop, secs))
        s = pod.status().status
        check(s.state == pb.CONTAINER_EXITED and s.exit_code == 0,
              "%s: exited 0 (got %s %d %s)" % (label, pb.ContainerState.Name(s.state), s.exit_code, s.reason))
    finally:
        t0 = time.time()
        check(pod.cleanup(), "%s: StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox "
              "succeed (%.2f s)" % (label, time.time() - t0))
        if empty:
            subprocess.run(["umount", "-l", empty], check=False)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "describe":
        print(json.dumps(describe(sys.argv[2], sys.argv[3]), indent=2))
        return 0
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("cmd", choices=["run"])
    p.add_argument("--socket", required=True)
    p.add_argument("--gen", required=True)
    p.add_argument("--pod", required=True)
    p.add_argument("--runtimeclass", required=True)
    p.add_argument("--expect", choices=["boot", "noboot"], required=True)
    p.add_argument("--handler")
    p.add_argument("--emptydir-run", action="store_true")
    p.add_argument("--hook", default="/usr/libexec/oci/hooks.d/oci-systemd-hook")
    p.add_argument("--cgroup-parent", default="")
    p.add_argument("--workdir", required=True)
    run(p.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
