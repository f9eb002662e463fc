/**
 * Where a run's CPU goes, measured (not timed): the controller's side (the tool's process and its children, from
 * /usr/bin/time) and the hosts' side — every sshd of the fleet and all it ran for the run's sessions (handshakes,
 * login shells, the scripts), read from the sshd listeners' accumulated children's CPU time in /proc. On this
 * machine both sides share the same cores, so a run's wall time follows the sum.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { Fleet } from '../test/fleet/fleet-lib.ts';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** PIDs of the sshd listeners (the top sshd of each host) in the fleets' network namespaces. */
export function sshdListeners(fleets: readonly Fleet[]): number[] {
  const inodes = new Set<string>();
  for (const f of fleets) for (const h of f.hosts) {
    try { inodes.add(`net:[${statSync(`/run/netns/${h.netns}`).ino}]`); } catch { /* gone */ }
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!inodes.has(readlinkSync(`/proc/${entry}/ns/net`))) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('[listener]')) pids.push(Number(entry));
    } catch { /* exited */ }
  }
  return pids;
}

/**
 * CPU time (ms) the listeners and their reaped descendants have used so far: sample before and after a run (after
 * its connections closed, so their sessions were reaped) and subtract.
 */
export function sshdCpuMs(listeners: readonly number[]): number {
  let ticks = 0;
  for (const pid of listeners) {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      // fields 14–17 of stat (utime, stime, cutime, cstime) are 11–14 after the command name
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch { /* gone */ }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
