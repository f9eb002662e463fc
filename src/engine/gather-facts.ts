import { randomBytes } from 'node:crypto';
import type { Connector, ExecResult } from '../connectors/connector.ts';
import { InterruptedError, isRigError, LockedError, RigError, TimeoutError, UnreachableError, UnreadableError } from '../errors.ts';
import type { FactRequest } from '../facts/fact-request.ts';
import { buildGatherScript } from '../facts/gather-script.ts';
import type { MemoryHostFacts } from '../facts/host-facts.ts';
import { mergeFactRequests, parseGatherOutput } from '../facts/parse-gather-output.ts';
import { HOST_STATE_DIR, buildReleaseScript, gatherLockScript, type LockSpec } from './apply-script.ts';
import { isHolderAlive } from '../changelog/run-liveness.ts';
import { parsePendingRecords, pendingGatherScript, type PendingRecord } from './pending-handlers.ts';

/** Run `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export type GatherOutcome =
  | {
    readonly ok: true; readonly facts: MemoryHostFacts; readonly ms: number; readonly pending?: readonly PendingRecord[];
    /**
     * With `hold`: the gather's shell still waits on the host. Send it the run's next script for the host (the
     * lock's release when nothing is to change there: no new channel, no new shell) or nothing; resolves true when
     * that script exited 0. Call it exactly once.
     */
    readonly finish?: (more?: string) => Promise<boolean>;
  }
  | { readonly ok: false; readonly error: RigError; readonly unreachable: boolean };

/** How long a host's gather may take once connected, seconds, unless RIG_GATHER_TIMEOUT says otherwise. */
export const GATHER_LIMIT_SECONDS = 300;

/** The gather's time limit in seconds: RIG_GATHER_TIMEOUT when it is a positive number, else GATHER_LIMIT_SECONDS. */
export function gatherLimitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.RIG_GATHER_TIMEOUT);
  return env.RIG_GATHER_TIMEOUT && Number.isFinite(v) && v > 0 ? v : GATHER_LIMIT_SECONDS;
}

export interface GatherLimits {
  /** A stop (the operator's Ctrl-C): the gather in flight is abandoned, the host fails as interrupted. */
  readonly signal?: AbortSignal;
  /** @default gatherLimitSeconds() */
  readonly seconds?: number;
}

/**
 * Connect (if needed) and gather every fact in ONE round trip; when `lock` is given, the same script takes the
 * host's lock after reading the facts. The gather has a time limit (a host that answers keepalives but whose script
 * blocks — a FIFO planted where a file was, a hung mount, a status script that never returns — fails with TIMEOUT
 * naming the host instead of holding the run for ever) and stops on `limits.signal`.
 */
export async function gatherHostFacts(connector: Connector, requests: readonly FactRequest[], lock?: { runId: string; spec: LockSpec }, become?: boolean, pendingOf?: string, hold = false, limits: GatherLimits = {}): Promise<GatherOutcome> {
  const first = await gatherOnce(connector, requests, lock, become, pendingOf, hold, limits);
  // --break-lock: judge the holder on the controller; break only that holder's lock (one more round trip).
  if (first.ok || !lock?.spec.breakStale || !(first.error instanceof LockedError) || first.heldBy === undefined) return first;
  const holder = parseLockOwner(first.heldBy);
  if (isHolderAlive(holder) === true && !lock.spec.breakLive) {
    return {
      ok: false, unreachable: false,
      error: new LockedError(`refusing to break the lock: ${describeHolder(holder)} holds it and its process is alive on this controller`, {
        host: connector.host.name,
        hint: 'wait for that run to finish (or stop it with Ctrl-C); --break-lock --force breaks it anyway, and then the two runs can overwrite each other\'s changes',
      }),
    };
  }
  return gatherOnce(connector, requests, { ...lock, spec: { ...lock.spec, breakOwner: first.heldBy } }, become, pendingOf, hold, limits);
}

/**
 * The last line of a held gather's output (parse-gather-output.ts), where its shell waits: `E done <random tag>`, new
 * for every gather. A fixed line could be printed by the host before the script even runs (a `.bashrc` echoing it):
 * the controller took that for the end, while the script went on and took the lock.
 */
const gatherEndTag = (): string => randomBytes(12).toString('hex');

async function gatherOnce(connector: Connector, requests: readonly FactRequest[], lock?: { runId: string; spec: LockSpec }, become?: boolean, pendingOf?: string, hold = false, limits: GatherLimits = {}): Promise<GatherOutcome & { readonly heldBy?: string }> {
  const t0 = Date.now();
  const host = connector.host.name;
  // Until the facts are in (the marker of a held gather, or the script's end): the time limit and the stop.
  const abort = new AbortController();
  const seconds = limits.seconds ?? gatherLimitSeconds();
  let timer: NodeJS.Timeout | undefined; // from the connection on (connecting has its own timeout and queue)
  const onStop = (): void => abort.abort(new InterruptedError('interrupted while gathering facts: nothing was changed on this host', { host }));
  if (limits.signal?.aborted) onStop();
  limits.signal?.addEventListener('abort', onStop, { once: true });
  const factsIn = (): void => { clearTimeout(timer); limits.signal?.removeEventListener('abort', onStop); };
  // A held gather's shell: `send` while it waits, else (it ended, or never started) a script needs a round trip of its own.
  let send: ((more?: string) => void) | undefined;
  let full: Promise<ExecResult> | undefined;
  const finish = async (more?: string): Promise<boolean> => {
    const s = send;
    send = undefined;
    try {
      if (s) { s(more); return (await full!).exitCode === 0; }
      return more ? (await connector.runScript(more, become === undefined ? {} : { become })).exitCode === 0 : true;
    } catch { return false; }
  };
  let handedOver = false;
  try {
    await connector.connect();
    abort.signal.throwIfAborted();
    timer = setTimeout(() => abort.abort(new TimeoutError(`fact gathering did not finish within ${seconds} s`, {
      host, hint: 'something on the host blocks a read: a FIFO or device where a file was expected, a hung mount, a service status script that never returns; RIG_GATHER_TIMEOUT=SECONDS allows a slower host more time',
    })), seconds * 1000);
    const merged = mergeFactRequests(requests);
    // The playbook's pending handlers (pending-handlers.ts) are read in the same round trip.
    const epilogue = [pendingOf !== undefined ? pendingGatherScript(pendingOf) : '', lock ? gatherLockScript(lock.runId, lock.spec) : ''].filter(Boolean).join('\n');
    const endTag = hold ? gatherEndTag() : '';
    const script = buildGatherScript(merged, epilogue, endTag);
    let res: { readonly stdout: Buffer; readonly stderr: string };
    if (hold) {
      let marked!: (o: { stdout: Buffer; stderr: string }) => void;
      const atMarker = new Promise<{ stdout: Buffer; stderr: string }>((resolve) => { marked = resolve; });
      full = connector.runScript(script, { ...(become === undefined ? {} : { become }), signal: abort.signal, hold: { marker: `E done ${endTag}`, onMarker: (o, s) => { factsIn(); send = s; marked(o); } } });
      full.catch(() => undefined);
      res = await Promise.race([atMarker, full]);
    } else res = await connector.runScript(script, { ...(become === undefined ? {} : { become }), signal: abort.signal });
    factsIn();
    const stdout = res.stdout.toString();
    let facts: MemoryHostFacts | undefined;
    let parseError: unknown;
    try { facts = parseGatherOutput(merged, stdout, host, res.stderr); } catch (e) { parseError = e; }
    if (lock) {
      const denied = /^L denied (\S*)$/m.exec(stdout);
      // A path the login user cannot read names the path and the fix; it says more than "cannot take the lock".
      if (denied && parseError instanceof UnreadableError) throw parseError;
      if (denied) {
        return {
          ok: false, unreachable: false,
          error: new LockedError(`cannot take the lock in ${HOST_STATE_DIR}/lock as user ${denied[1]}: rig keeps its lock and journal in ${HOST_STATE_DIR}, writable by root only`, {
            host, hint: 'log in as root, or become root with sudo: ansible_become: true for the host, or become: true on the play',
          }),
        };
      }
      const m = /^L held ?(\S*)$/m.exec(stdout);
      if (m) {
        const owner = Buffer.from(m[1] ?? '', 'base64').toString();
        return { ok: false, unreachable: false, error: describeLock(host, owner), heldBy: owner };
      }
      if (!/^L ok$/m.test(stdout)) {
        return { ok: false, unreachable: false, error: new LockedError(`could not take the lock in /var/lib/rig/lock: ${res.stderr.trim().slice(0, 300)}`, { host }) };
      }
      // The script took the lock after reading the facts; a host that fails here is not applied, so it lets go.
      // As the same user as the gather: a become host's lock is root's, and a release as the login user fails silently.
      if (parseError !== undefined) await finish(buildReleaseScript(lock.runId));
    }
    if (parseError !== undefined || !facts) throw parseError;
    handedOver = hold;
    return { ok: true, facts, ms: Date.now() - t0, ...(pendingOf !== undefined ? { pending: parsePendingRecords(stdout) } : {}), ...(hold ? { finish } : {}) };
  } catch (e) {
    const error = isRigError(e) ? e : new UnreachableError(String((e as Error)?.message ?? e), { host });
    if (!error.where.host) Object.assign(error, { where: { ...error.where, host } });
    return { ok: false, error, unreachable: error instanceof UnreachableError || error.code === 'HOST_KEY' };
  } finally {
    factsIn();
    if (!handedOver) void finish(); // a held shell nobody will use: let it exit
  }
}

/** Turn a lock owner record into a LockedError naming the run, and whether it looks stale. */
interface LockOwner { readonly runId?: string; readonly controller?: string; readonly pid?: number; readonly startedAt?: string }

function parseLockOwner(ownerJson: string): LockOwner {
  try { return JSON.parse(ownerJson) as LockOwner; } catch { return {}; }
}

function describeHolder(owner: LockOwner): string {
  return `run ${owner.runId ?? '?'} (pid ${owner.pid ?? '?'} on ${owner.controller ?? '?'}, since ${owner.startedAt ?? '?'})`;
}

export function describeLock(host: string, ownerJson: string): LockedError {
  const owner = parseLockOwner(ownerJson);
  const stale = owner.controller !== undefined && isHolderAlive(owner) === false;
  const who = describeHolder(owner);
  return new LockedError(stale ? `stale lock: ${who} holds the lock but its process is gone` : `locked by ${who}`, {
    host,
    hint: stale ? 'the run that took the lock died; clear it with --break-lock (and if `rig log` lists that run, it had started changing hosts: consider `rig rollback` of it)'
      : 'wait for that run to finish; if it is dead, re-run with --break-lock',
  });
}

