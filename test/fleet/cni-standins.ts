/**
 * CNI on fleet hosts (issue 17), additive: a test calls installCniStandins for the hosts it needs. The real plugins
 * of Debian's containernetworking-plugins (/usr/lib/cni) are linked into kubelet's default /opt/cni/bin, next to the
 * stand-in `galaxy-sdn` (test/fleet/standins/galaxy-sdn.mjs); `kubelet-sandbox NAME` (standins/kubelet-sandbox.mjs)
 * creates a pod sandbox the way kubelet's CNI code does.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execInHost, type Fleet } from './fleet-lib.ts';

const STANDINS = join(dirname(fileURLToPath(import.meta.url)), 'standins');
export const DEBIAN_CNI_DIR = '/usr/lib/cni';

export interface CniStandinOptions {
  /** What galaxy-sdn answers to VERSION. @default ['0.1.0', '0.2.0'] */
  readonly supportedVersions?: readonly string[];
}

/** Install the plugins, galaxy-sdn and kubelet-sandbox in a host; throws with the host's stderr when it fails. */
export async function installCniStandins(fleet: Fleet, host: string, options: CniStandinOptions = {}): Promise<void> {
  const files: Array<[string, string]> = [
    ['/opt/cni/bin/galaxy-sdn', readFileSync(join(STANDINS, 'galaxy-sdn.mjs'), 'utf8')],
    ['/usr/local/bin/kubelet-sandbox', readFileSync(join(STANDINS, 'kubelet-sandbox.mjs'), 'utf8')],
  ];
  const r0 = await execInHost(fleet, host, ['sh', '-c', 'set -e; mkdir -p /opt/cni/bin /etc/cni/net.d /etc/galaxy-sdn /run/netns; for p in "$1"/*; do ln -sf "$p" /opt/cni/bin/; done', 'sh', DEBIAN_CNI_DIR]);
  if (r0.exitCode !== 0) throw new Error(`${host}: linking the CNI plugins failed: ${r0.stderr}`);
  for (const [path, content] of files) {
    const r = await execInHost(fleet, host, ['sh', '-c', 'cat > "$1" && chmod 755 "$1"', 'sh', path], content);
    if (r.exitCode !== 0) throw new Error(`${host}: writing ${path} failed: ${r.stderr}`);
  }
  if (options.supportedVersions) {
    const r = await execInHost(fleet, host, ['sh', '-c', 'cat > /etc/galaxy-sdn/supported-versions'], JSON.stringify(options.supportedVersions));
    if (r.exitCode !== 0) throw new Error(`${host}: writing supported-versions failed: ${r.stderr}`);
  }
}

/** `kubelet-sandbox NAME` in a host: exit code and what it printed. */
export async function createPodSandbox(fleet: Fleet, host: string, name: string): Promise<{ ok: boolean; text: string }> {
  const r = await execInHost(fleet, host, ['kubelet-sandbox', name]);
  return { ok: r.exitCode === 0, text: (r.stdout + r.stderr).trim() };
}
