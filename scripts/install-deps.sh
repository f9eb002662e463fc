#!/usr/bin/env bash
# Install the Debian packages rig's fleet, tests, demo and benchmark need (run as root; safe to repeat).
set -euo pipefail

PACKAGES=(
  openssh-server openssh-client tini iproute2 util-linux    # the fleet: sshd, PID 1, netns/veth/bridge, nsenter/unshare
  nftables                                                 # tests: a host that stops hearing the controller (input dropped, output flowing)
  nginx libnginx-mod-http-lua                              # the audit proxy
  openssl                                                  # seed PKI and certificate checks in tests
  libcap2-bin                                              # setcap/getcap: the capability module, Kong host ports (setpriv: util-linux)
  ansible ansible-mitogen hyperfine                        # the benchmark against Ansible (plain and mitogen)
  logrotate curl procps psmisc sudo time                   # used inside fleet hosts and by tests (sudo: become), bench (time: peak RSS)
  tmux                                                     # a real terminal in tests: the apply/rollback confirmation prompt
  git ca-certificates                                      # `npm ci` and clones
  containernetworking-plugins                              # real CNI plugins (bridge, host-local) under /usr/lib/cni: issue 17's pod sandboxes
  runc busybox-static                                      # exec-as: real OCI containers on fleet workers
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (it uses apt-get)" >&2
  exit 1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
fi
if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "install-deps: Node.js >= 20 is needed at /usr/bin/node (this machine has $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
