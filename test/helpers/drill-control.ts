/**
 * Controls for the fault-drill playbook's hold point (test/fixtures/playbooks/fault-drill.ts) and for a rig process
 * started in the background: shared by the silent-host and interrupt tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { execInHost, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT } from './run-rig.ts';

/** Every drill target with its mode, owner and sha256, and the count of rig temp files left: equal = byte for byte. */
export const DRILL_SNAPSHOT = String.raw`for p in /etc/rig-drill /etc/rig-drill/a.conf /etc/default/kube-proxy; do if [ -e "$p" ]; then printf '%s %s ' "$p" "$(stat -c '%a %U %G %F' "$p")"; [ -f "$p" ] && sha256sum < "$p" | cut -c1-64 || echo; else echo "$p absent"; fi; done; ls -a /etc/rig-drill /etc/default 2>/dev/null | grep -c rig-tmp`;

export const snapshotDrill = async (fleet: Fleet, host: string): Promise<string> => (await execInHost(fleet, host, ['sh', '-c', DRILL_SNAPSHOT])).stdout;

export async function hostHas(fleet: Fleet, host: string, path: string): Promise<boolean> {
  return (await execInHost(fleet, host, ['sh', '-c', '[ -e "$1" ] && echo yes', 'sh', path])).stdout.includes('yes');
}

/** Poll until `path` exists (or, with `absent`, is gone) on every host; throws after `timeoutMs`. */
export async function waitForPath(fleet: Fleet, hosts: readonly string[], path: string, opts: { absent?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const end = Date.now() + (opts.timeoutMs ?? 120_000);
  const pending = new Set(hosts);
  while (pending.size) {
    await Promise.all([...pending].map(async (h) => { if ((await hostHas(fleet, h, path)) !== (opts.absent === true)) pending.delete(h); }));
    if (!pending.size) return;
    if (Date.now() > end) throw new Error(`${path} ${opts.absent ? 'still exists' : 'never appeared'} on ${[...pending].join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const HOLD_FILE = '/var/tmp/rig-drill-hold';
export const waitForHold = (fleet: Fleet, hosts: readonly string[]): Promise<void> => waitForPath(fleet, hosts, HOLD_FILE);
export async function releaseHold(fleet: Fleet): Promise<void> {
  await Promise.all(fleet.hosts.map((h) => execInHost(fleet, h.name, ['rm', '-f', HOLD_FILE])));
}

export interface BackgroundRig {
  readonly child: ChildProcess;
  readonly exited: Promise<number>;
  output(): string;
}

/** Start `node bin/rig.js ARGS` in the background (non-TTY, no colors), collecting stdout+stderr. */
export function startRig(args: readonly string[]): BackgroundRig {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/rig.js'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number>((r) => child.on('close', (c, sig) => r(c ?? (sig ? 128 + constants.signals[sig] : -1))));
  return { child, exited, output: () => out };
}
