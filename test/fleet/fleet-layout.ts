/**
 * Names and addresses of a fleet, a pure function of its id and size (so parallel fleets never collide):
 * - bridge `rigbr<id>`, subnet `10.213.<id>.0/24`, controller `10.213.<id>.1` on the bridge;
 * - host i (1-based) is `10.213.<id>.<10+i>`, named `master1` for i = 1 and `worker<i-1>` for the rest;
 * - its network namespace is `rig<id>-<name>`, its veth's controller end `rv<id>h<i>` (the host end is `eth0`).
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Largest fleet: host addresses stay below .250 (tests use .250 as a never-answering address). */
export const MAX_FLEET_SIZE = 200;
/** Largest fleet id: the third octet of its subnet (10.213.<id>.0/24). */
export const MAX_FLEET_ID = 250;

/** The project root (two levels above this file). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface HostLayout {
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly netns: string;
  readonly veth: string;
  readonly role: 'master' | 'worker';
}

export interface FleetLayout {
  readonly id: number;
  readonly bridge: string;
  readonly subnet: string;
  readonly controllerIp: string;
  readonly netnsPrefix: string;
  readonly hosts: readonly HostLayout[];
}

/** Default state directory: `<project>/.fleet` for id 1, `<project>/.fleet-<id>` otherwise. */
export function defaultFleetDir(id: number): string {
  return join(PROJECT_ROOT, id === 1 ? '.fleet' : `.fleet-${id}`);
}

/** Host name of the 1-based host index: `master1`, then `worker1`, `worker2`, … */
export function nameHost(index: number): string {
  return index === 1 ? 'master1' : `worker${index - 1}`;
}

export function layoutFleet(id: number, size: number): FleetLayout {
  const base = `10.213.${id}`;
  const netnsPrefix = `rig${id}-`;
  const hosts = Array.from({ length: size }, (_, k): HostLayout => {
    const index = k + 1;
    const name = nameHost(index);
    return { index, name, ip: `${base}.${10 + index}`, netns: `${netnsPrefix}${name}`, veth: `rv${id}h${index}`, role: index === 1 ? 'master' : 'worker' };
  });
  return { id, bridge: `rigbr${id}`, subnet: `${base}.0/24`, controllerIp: `${base}.1`, netnsPrefix, hosts };
}
