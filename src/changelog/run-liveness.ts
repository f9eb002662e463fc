import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { JournalEvent, RunMeta, RunStatus } from './journal-store.ts';

/** Clock ticks per second of /proc/<pid>/stat start times (USER_HZ: 100 on every Linux architecture rig runs on). */
const USER_HZ = 100;

function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch { return undefined; }
}

/** When the process `pid` started (ms since the epoch), from /proc; undefined where /proc cannot tell. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const boot = bootTimeMs();
    return boot === undefined ? undefined : boot + (Number(fields[19]) / USER_HZ) * 1000;
  } catch { return undefined; }
}

/**
 * Is the process that started a run (or took a lock) at `startedAt` still alive on this controller? A pid that
 * exists but whose process started after `startedAt` (plus a second of clock granularity) is a reused pid: dead.
 * Returns undefined when the holder is on another controller (this one cannot tell).
 */
export function isHolderAlive(holder: { readonly controller?: string; readonly pid?: number; readonly startedAt?: string }): boolean | undefined {
  if (holder.controller !== undefined && holder.controller !== hostname()) return undefined;
  if (typeof holder.pid !== 'number') return undefined;
  try { process.kill(holder.pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  const started = processStartMs(holder.pid);
  const since = holder.startedAt ? Date.parse(holder.startedAt) : NaN;
  if (started !== undefined && Number.isFinite(since) && started > since + 1000) return false;
  return true;
}

export interface RunStatusView {
  /** `died`: journaled as running, but its controller process is gone. */
  readonly status: RunStatus | 'died';
  /** For a died run: what it had done, from its events. */
  readonly diedState?: string;
}

/** The status to show for a run: a `running` run whose process is gone is `died`, with what it had done. */
export function describeRunStatus(meta: RunMeta, events: () => readonly JournalEvent[]): RunStatusView {
  if (meta.status !== 'running') return { status: meta.status };
  if (isHolderAlive(meta) !== false) return { status: 'running' };
  let evs: readonly JournalEvent[] = [];
  try { evs = events(); } catch { /* no events readable */ }
  const reached = new Set(evs.filter((e) => e.t === 'intent').map((e) => e.host));
  const ended = new Set(evs.filter((e) => e.t === 'host-end').map((e) => e.host));
  const done = evs.filter((e) => e.t === 'step' && e.status === 'done').length;
  const open = [...reached].filter((h) => !ended.has(h));
  return {
    status: 'died',
    diedState: `its controller process ${meta.pid} is gone: ${reached.size} of ${meta.hosts.length} host${meta.hosts.length === 1 ? '' : 's'} reached, ${done} step${done === 1 ? '' : 's'} done${open.length ? `, unfinished on ${open.join(', ')}` : ''}; \`rig rollback ${meta.id}\` undoes it`,
  };
}
