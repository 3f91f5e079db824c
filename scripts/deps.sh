#!/bin/bash
# Install what building and testing oci-systemd-hook needs on Debian 12,
# only when something is missing (a fresh machine gets everything; a
# prepared one pays one dpkg query).
set -euo pipefail

PKGS=(
    # build
    autoconf automake make gcc g++ libc6-dev pkg-config libyajl-dev libtoml11-dev libmount-dev libselinux1-dev check xz-utils
    # tests
    runc crun jq debootstrap docker.io containerd valgrind util-linux procps iproute2 shellcheck python3 file strace inotify-tools
    # fuzzing
    clang libclang-rt-14-dev
)
# kubectl validates examples/kubernetes offline; any kubectl will do (a
# google-cloud-sdk one owns /usr/bin/kubectl on some hosts)
command -v kubectl >/dev/null || PKGS+=(kubernetes-client)
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "# installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
