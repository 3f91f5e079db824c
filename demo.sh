#!/bin/bash
# The main job, end to end, as root on Debian 12:
#   sudo ./demo.sh
# Builds the hook (installing build dependencies when missing), bootstraps a
# Debian 12 systemd image once (cached), boots it with runc and the hook at
# createRuntime, shows `systemctl is-system-running` and the hook's mounts,
# and stops it with SIGRTMIN+3.  Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh
scripts/build.sh
export HOOK=$PWD/oci-systemd-hook
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
e2e_init

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. image: Debian 12 (bookworm) with systemd, debootstrapped once into $OSH_CACHE"
e2e_image bookworm >/dev/null

b=$E2E_TMP/demo
e2e_bundle "$b" bookworm stage=createRuntime uuid=7A6F3C51-0B1E-4E8C-9C3A-5D2F1E0A9B77
say "2. what the hook will do (oci-systemd-hook explain $b)"
"$HOOK" explain "$b"

say "3. runc run -d with the hook registered at createRuntime"
name=$(jq -r .hostname "$b/config.json")
e2e_start runc "$b" "$name"
state=$(e2e_wait_running runc "$name")
echo "systemctl is-system-running: $state"
echo "failed units: $(e2e_failed_units runc "$name")"

say "4. inside the container"
e2e_exec runc "$name" sh -c '
  echo "PID 1: $(cat /proc/1/comm)   machine-id: $(cat /etc/machine-id)"
  echo "container manager: $(cat /run/host/container-manager)"
  echo "mounts made by the hook:"
  findmnt -rn -o TARGET,FSTYPE,OPTIONS | grep -E "^/(run|run/lock|tmp|var/log/journal|sys/fs/cgroup) " | sed "s/^/  /"
  echo "systemd cgroup tree:"; ls -d /sys/fs/cgroup/*.scope /sys/fs/cgroup/*.slice | sed "s/^/  /"'

say "5. stop with SIGRTMIN+3 (signal 37)"
echo "stopped in $(e2e_stop runc "$name") s"
[[ $state == running ]] && say "systemd reached 'running' under runc with oci-systemd-hook." || exit 1
