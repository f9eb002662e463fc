import type { GateInput, TaskContext } from 'rig';
import { readClusterVars } from './cluster-vars.ts';

/** Gate timeout: `gate_timeout_seconds` (inventory vars or -e). @default 60 */
function gateTimeout(ctx: TaskContext): number {
  const v = Number(ctx.vars['gate_timeout_seconds'] ?? 60);
  return Number.isFinite(v) && v > 0 ? v : 60;
}

/**
 * After the master's secure port is set up: it answers with client-certificate auth (the admin certificate). A revert
 * is verified by the insecure port answering on loopback, as before.
 */
export function masterGates(): GateInput[] {
  return [
    (ctx) => {
      const v = readClusterVars(ctx);
      return {
        name: 'secure port answers with client-certificate auth', timeoutSeconds: gateTimeout(ctx),
        check: { kind: 'apiserver', url: `https://${v.masterAddress}:${v.securePort}`, caFile: `${v.certDir}/ca.crt`, clientCert: `${v.certDir}/admin.crt`, clientKey: `${v.certDir}/admin.key` },
        afterRevert: { kind: 'apiserver', url: 'http://127.0.0.1:8080' },
      };
    },
  ];
}

/**
 * After the insecure port is closed: it answers on loopback (from the master) and not on the network (from the
 * controller). A revert is verified by the port answering on the network again.
 */
export function insecurePortGates(): GateInput[] {
  return [
    (ctx) => ({ name: 'insecure port answers on loopback', timeoutSeconds: gateTimeout(ctx), check: { kind: 'tcp', host: '127.0.0.1', port: 8080 } }),
    (ctx) => {
      const address = readClusterVars(ctx).masterAddress;
      return {
        name: 'insecure port closed to the network', from: 'controller', timeoutSeconds: gateTimeout(ctx),
        check: { kind: 'tcp', host: address, port: 8080, open: false }, afterRevert: { kind: 'tcp', host: address, port: 8080 },
      };
    },
  ];
}

/**
 * After each worker batch: that worker's kubelet and kube-proxy reach the secure port (their last request since the
 * gate started answered 200 at https://master:port). After a revert: they reach the apiserver again, the old way.
 */
export function workerGates(): GateInput[] {
  return (['kubelet', 'kube-proxy'] as const).map((service): GateInput => (ctx) => {
    const v = readClusterVars(ctx);
    return {
      name: `${service} reaches the secure port`, timeoutSeconds: gateTimeout(ctx),
      check: { kind: 'agent', service, server: `https://${v.masterAddress}:${v.securePort}` },
    };
  });
}
