/**
 * A bench fleet: one fleet (N ≤ 200, the fleet's /24 limit) or several fleets with consecutive ids (one bridge and
 * subnet each) joined into one inventory, ssh_config and known_hosts, so the scaling line reaches 1,000 hosts on one
 * machine. Host names stay unique: a joined fleet's hosts are named `f<id>-<name>`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, MAX_FLEET_SIZE, upFleet, type Fleet, type SeedMode } from '../test/fleet/fleet-lib.ts';

export interface BenchHost {
  readonly name: string;
  readonly ip: string;
  readonly role: 'master' | 'worker';
  /** The fleet it belongs to and its name there (for execInHost). */
  readonly fleet: Fleet;
  readonly fleetName: string;
}

export interface BenchFleet {
  readonly hosts: readonly BenchHost[];
  readonly fleets: readonly Fleet[];
  readonly inventoryPath: string;
  readonly sshConfigPath: string;
}

/** Sizes of the fleets making up N hosts: as few as the /24 limit allows, as even as possible. */
export function splitFleetSizes(n: number): number[] {
  const count = Math.ceil(n / MAX_FLEET_SIZE);
  return Array.from({ length: count }, (_, i) => Math.floor(n / count) + (i < n % count ? 1 : 0));
}

/**
 * The controller's ARP table must hold every host: Linux's default (gc_thresh3 = 1024 entries) overflows near 1,000
 * hosts ("neighbor table overflow" in dmesg) and the hosts beyond it never answer a SYN — a limit of the machine, not
 * of rig. Raised (never lowered) when a bench fleet is that large.
 */
const NEIGHBOUR_LIMITS: ReadonlyArray<[string, number]> = [['gc_thresh1', 4096], ['gc_thresh2', 8192], ['gc_thresh3', 16384]];

function raiseNeighbourLimits(hosts: number): void {
  if (hosts < 200) return;
  for (const [name, value] of NEIGHBOUR_LIMITS) {
    const file = `/proc/sys/net/ipv4/neigh/default/${name}`;
    if (Number(readFileSync(file, 'utf8')) < value) writeFileSync(file, `${value}\n`);
  }
}

/** Bring up N hosts as fleets `firstId`, `firstId + 1`, … (one after the other, so boot load does not pile up). */
export async function upBenchFleet(n: number, firstId: number, seed: SeedMode, workDir: string): Promise<BenchFleet> {
  const sizes = splitFleetSizes(n);
  raiseNeighbourLimits(n);
  const fleets: Fleet[] = [];
  try {
    for (const [i, size] of sizes.entries()) fleets.push(await upFleet({ size, id: firstId + i, seed, timeoutMs: 300_000 }));
  } catch (e) {
    await downBenchFleet(sizes.length, firstId);
    throw e;
  }
  if (fleets.length === 1) {
    const f = fleets[0]!;
    return { fleets, inventoryPath: f.inventoryPath, sshConfigPath: f.sshConfigPath, hosts: f.hosts.map((h) => ({ name: h.name, ip: h.ip, role: h.role, fleet: f, fleetName: h.name })) };
  }
  const hosts = fleets.flatMap((f, fi) => f.hosts.map((h): BenchHost => ({
    name: `f${f.id}-${h.name}`, ip: h.ip, role: fi === 0 && h.role === 'master' ? 'master' : 'worker', fleet: f, fleetName: h.name,
  })));
  mkdirSync(workDir, { recursive: true });
  const knownHosts = join(workDir, 'known_hosts');
  const keyOf = new Map<string, string>();
  for (const f of fleets) {
    for (const l of readFileSync(f.knownHostsPath, 'utf8').split('\n').filter(Boolean)) {
      const [names, ...key] = l.split(' ');
      keyOf.set(names!.split(',')[1]!, key.join(' '));
    }
  }
  writeFileSync(knownHosts, hosts.map((h) => `${h.name},${h.ip} ${keyOf.get(h.ip)}\n`).join(''));
  const sshConfigPath = join(workDir, 'ssh_config');
  writeFileSync(sshConfigPath, `${hosts.map((h) => `Host ${h.name}\n  HostName ${h.ip}\n  IdentityFile ${h.fleet.privateKeyPath}\n`).join('')}
Host *
  User root
  IdentitiesOnly yes
  UserKnownHostsFile ${knownHosts}
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
`);
  const inventoryPath = join(workDir, 'inventory.yaml');
  const group = (role: BenchHost['role']): string => hosts.filter((h) => h.role === role)
    .map((h) => `        ${h.name}: { ansible_host: ${h.ip}, ansible_user: root, ansible_ssh_private_key_file: ${JSON.stringify(h.fleet.privateKeyPath)} }\n`).join('');
  writeFileSync(inventoryPath, `all:\n  children:\n    masters:\n      hosts:\n${group('master')}    workers:\n      hosts:\n${group('worker')}`);
  return { fleets, hosts, inventoryPath, sshConfigPath };
}

/** Tear down `count` fleets from `firstId` (safe when some are not up). */
export async function downBenchFleet(count: number, firstId: number): Promise<void> {
  for (let i = 0; i < count; i++) await downFleet({ id: firstId + i });
}
