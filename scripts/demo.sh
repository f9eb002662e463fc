#!/usr/bin/env bash
# The newcomer demo, run as root on a fresh Debian 12 machine from the project root: installs what is needed, brings
# up a 4-host fleet of real SSH servers on this machine (network + mount namespaces), and shows each host answering
# over SSH with strict host-key checking, then plans, applies, re-plans and rolls back playbooks/secure-cluster.ts. The fleet stays up; `npm run fleet -- down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [[ ! -x node_modules/.bin/tsx ]]; then
  echo "demo: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo
echo "== bringing up the fleet: 1 master + 3 workers (and rig.yaml pointing rig at it)"
npm run --silent fleet -- up 4

echo
echo "== every host answers over SSH (ssh -F .fleet/ssh_config <host> ...)"
for host in $(awk '/^Host / && $2 != "*" {print $2}' .fleet/ssh_config); do
  ssh -F .fleet/ssh_config "$host" 'printf "%-9s %-15s kubelet: %s\n" "$(hostname)" "$(hostname -I | cut -d" " -f1)" "$(service kubelet status)"'
done

echo
echo "== the seeded master: the kube-apiserver stand-in on its insecure port"
ssh -F .fleet/ssh_config master1 'curl -s http://127.0.0.1:8080/version | head -4'

RIG=(node bin/rig.js)   # = npx rig; inventory, ssh_config, state and PKI dirs come from rig.yaml
set +e
echo
echo "== rig config: where each setting comes from"
"${RIG[@]}" config | sed -n '1,9p'
echo
echo "== rig plan: what secure-cluster would change (exit 2 = changes pending)"
"${RIG[@]}" plan playbooks/secure-cluster.ts; echo "exit $?"
echo
echo "== rig apply: CA + certificates, basic auth, flag edits, rolling restarts, TLS waits"
"${RIG[@]}" apply -y playbooks/secure-cluster.ts || { echo "demo: apply failed" >&2; exit 1; }
echo
echo "== a worker's kubelet now talks TLS to the master:"
sleep 3
ssh -F .fleet/ssh_config worker1 'tail -n 2 /var/log/kubelet.log'
echo
echo "== rig plan again: converged (exit 0)"
"${RIG[@]}" plan playbooks/secure-cluster.ts | tail -n 1; echo "exit ${PIPESTATUS[0]}"
echo
echo "== rig rollback: the run undone in its own order (plays reversed, workers batch by batch), every file back byte for byte, services restarted"
"${RIG[@]}" rollback -y | sed -n '/^Order/,$p' || { echo "demo: rollback failed" >&2; exit 1; }
sleep 3
ssh -F .fleet/ssh_config worker1 'tail -n 1 /var/log/kubelet.log'
"${RIG[@]}" log
set -e
echo
echo "Inventory: .fleet/inventory.yaml    Try: ssh -F .fleet/ssh_config worker1    Tear down: npm run fleet -- down"
