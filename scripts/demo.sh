#!/usr/bin/env bash
# The newcomer demo, run as root on a fresh Debian 12 machine from the project root: installs what is needed, brings
# up a 4-host fleet of real SSH servers on this machine (network + mount namespaces), and shows each host answering
# over SSH with strict host-key checking. The fleet stays up; `npm run fleet -- down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [[ ! -x node_modules/.bin/tsx ]]; then
  echo "demo: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo
echo "== bringing up the fleet: 1 master + 3 workers"
npm run --silent fleet -- up 4

echo
echo "== every host answers over SSH (ssh -F .fleet/ssh_config <host> ...)"
for host in $(awk '/^Host / && $2 != "*" {print $2}' .fleet/ssh_config); do
  ssh -F .fleet/ssh_config "$host" 'printf "%-9s %-15s kubelet: %s\n" "$(hostname)" "$(hostname -I | cut -d" " -f1)" "$(service kubelet status)"'
done

echo
echo "== the seeded master: the kube-apiserver stand-in on its insecure port"
ssh -F .fleet/ssh_config master1 'curl -s http://127.0.0.1:8080/version | head -4'
echo
echo "Inventory: .fleet/inventory.yaml    Try: ssh -F .fleet/ssh_config worker1    Tear down: npm run fleet -- down"
