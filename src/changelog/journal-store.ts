import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, existsSync, chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { JournalError } from '../errors.ts';
import type { Plan } from '../engine/plan-types.ts';
import type { GateResult } from '../gates/gate-types.ts';
import type { Change } from '../core/change.ts';
import { containsSecret, redactDeep } from '../core/secret.ts';

/** Default controller-side state directory (journals, retry file), relative to the working directory. */
export const DEFAULT_STATE_DIR = '.rig';

export type RunKind = 'apply' | 'rollback';
/** `interrupted`: stopped by SIGINT/SIGTERM (`rig apply` again finishes it, `rig rollback RUN` undoes it). */
export type RunStatus = 'running' | 'ok' | 'failed' | 'interrupted';

export interface RunMeta {
  readonly id: string;
  readonly kind: RunKind;
  readonly playbook: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly status: RunStatus;
  readonly hosts: readonly string[];
  /** Per host: changed step count, failed flag, unreachable flag. */
  readonly recap?: Readonly<Record<string, HostRecap>>;
  /** For a rollback: the run it undid. */
  readonly rollbackOf?: string;
  readonly pid: number;
  /** Host name of the controller that ran it (with `pid`: is the run still alive?). */
  readonly controller?: string;
  /** Interrupted by a second signal: stopped at once, host scripts in flight were abandoned. */
  readonly forced?: boolean;
}

export interface HostRecap {
  readonly ok: number;
  readonly changed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly unreachable: boolean;
  readonly error?: string;
  /** Plays of the host never started: why (src/engine/not-run-reason.ts). A rollback is not finished on such a host. */
  readonly notRun?: string;
}

/** Journal events, appended (and fsynced) as the run goes. */
export type JournalEvent =
  | { readonly t: 'intent'; readonly host: string; readonly play: number; readonly steps: readonly string[]; readonly at: string }
  | { readonly t: 'step'; readonly host: string; readonly id: string; readonly status: 'done' | 'failed' | 'restored'; readonly after?: string; readonly message?: string }
  | { readonly t: 'host-end'; readonly host: string; readonly play: number; readonly status: 'ok' | 'failed' | 'drift' | 'unreachable' | 'locked' | 'interrupted'; readonly message?: string }
  /** A health gate's result (src/gates/), with its timing. */
  | ({ readonly t: 'gate' } & GateResult)
  /** The automatic revert of a batch whose gate failed: the rollback run that did it, hosts not reverted. */
  | { readonly t: 'revert'; readonly play: number; readonly batch: number; readonly hosts: readonly string[]; readonly rollbackRun?: string; readonly failed: Readonly<Record<string, string>>; readonly verified?: boolean }
  /**
   * A batch of a play started / ended (every host of it finished or failed): the order in which the run went
   * through its hosts, which rollback follows in reverse (src/changelog/rollback-order.ts). Journals written before
   * these events existed have none: their rollback undoes every host at once.
   */
  | { readonly t: 'batch'; readonly phase: 'start' | 'end'; readonly play: number; readonly batch: number; readonly hosts: readonly string[]; readonly at: string };

/** Sortable run id: UTC timestamp + random suffix, e.g. 20261123T011502Z-3f9a. */
/** Runs in the order they started (startedAt, ms), then by id: ids carry whole seconds and a random suffix. */
export function compareRunStart(a: RunMeta, b: RunMeta): number {
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function newRunId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${ts}-${randomBytes(2).toString('hex')}`;
}

function writeFileDurable(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try { writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data); fsyncSync(fd); } finally { closeSync(fd); }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * Strip secret contents (and every pre-image) from a plan before it is stored as readable JSON. A file whose new
 * content holds a registered secret (a secret-named variable rendered into a template, say) is stored as a secret
 * file (content dropped, `secret: true`): `rig show` runs in another process, where that secret is not known, and
 * shows such a file without its content. Every other string is masked (redactDeep).
 */
export function redactPlanForStorage(plan: Plan): Plan {
  const holdsSecret = (c: Change): boolean => c.kind === 'write-file' && (c.secret || containsSecret(Buffer.from(c.content, 'base64').toString('utf8')));
  // Every string is masked but a file's base64 content (checked above as text; masking base64 could corrupt it).
  const store = (c: Change): Change => {
    if (c.kind !== 'write-file') return redactDeep(c);
    return holdsSecret(c) ? { ...redactDeep({ ...c, content: '' }), secret: true } : { ...redactDeep({ ...c, content: '' }), content: c.content };
  };
  return {
    ...redactDeep({ ...plan, hosts: [] }),
    hosts: plan.hosts.map((h) => ({
      ...redactDeep({ ...h, plays: [] }),
      plays: h.plays.map((p) => ({
        ...redactDeep({ ...p, steps: [] }),
        steps: p.steps.map(({ preImage: _pre, change, ...s }) => ({ ...redactDeep(s), change: store(change) })),
      })),
    })),
  };
}

/** One run's journal on the controller: `<stateDir>/runs/<id>/{run.json,plan.json,events.jsonl,pre/<host>/<step>}`. */
export class RunJournal {
  readonly dir: string;
  #meta: RunMeta;

  constructor(readonly stateDir: string, meta: RunMeta) {
    this.dir = join(stateDir, 'runs', meta.id);
    this.#meta = meta;
  }

  get meta(): RunMeta { return this.#meta; }

  /** Create the run directory and write run.json + the plan (secrets stripped), before anything is applied. */
  begin(plan: Plan): void {
    mkdirSync(join(this.dir, 'pre'), { recursive: true, mode: 0o700 });
    chmodSync(this.stateDir, 0o700);
    writeFileDurable(join(this.dir, 'plan.json'), JSON.stringify(redactPlanForStorage(plan), null, 1));
    this.writeMeta(this.#meta);
  }

  writeMeta(meta: RunMeta): void {
    this.#meta = meta;
    writeFileDurable(join(this.dir, 'run.json'), JSON.stringify(redactDeep(meta), null, 1));
  }

  /** Store a pre-image (0600 in a 0700 directory) before the change that overwrites it is sent. */
  savePreImage(host: string, stepId: string, content: Buffer): void {
    const dir = join(this.dir, 'pre', encodeURIComponent(host));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileDurable(join(dir, stepId), content, 0o600);
  }

  append(event: JournalEvent): void {
    const fd = openSync(join(this.dir, 'events.jsonl'), 'a', 0o600);
    // No secret is stored in clear: a failed step's output (a validate printing a key) is masked here.
    try { writeSync(fd, JSON.stringify(redactDeep(event)) + '\n'); fsyncSync(fd); } finally { closeSync(fd); }
  }
}

export interface LoadedRun {
  readonly meta: RunMeta;
  readonly plan: Plan;
  readonly events: readonly JournalEvent[];
  readonly dir: string;
  preImage(host: string, stepId: string): Buffer | undefined;
}

export class JournalStore {
  constructor(readonly stateDir: string = DEFAULT_STATE_DIR) {}

  create(meta: Omit<RunMeta, 'status' | 'startedAt' | 'pid' | 'controller'>): RunJournal {
    mkdirSync(join(this.stateDir, 'runs'), { recursive: true, mode: 0o700 });
    return new RunJournal(this.stateDir, { ...meta, status: 'running', startedAt: new Date().toISOString(), pid: process.pid, controller: hostname() });
  }

  listRuns(): RunMeta[] {
    const dir = join(this.stateDir, 'runs');
    if (!existsSync(dir)) return [];
    const out: RunMeta[] = [];
    for (const id of readdirSync(dir).sort()) {
      try { out.push(JSON.parse(readFileSync(join(dir, id, 'run.json'), 'utf8')) as RunMeta); } catch { /* incomplete run dir */ }
    }
    // In the order the runs started: ids carry whole seconds and a random suffix, so two runs started in the same
    // second (an apply and its rollback from a script) would otherwise be ordered by chance.
    return out.sort(compareRunStart);
  }

  /** Remove a run's controller journal (`rig prune`): its plan, events and pre-images. */
  removeRun(id: string): void {
    if (!/^\d{8}T\d{6}Z-[0-9a-f]+$/.test(id)) throw new JournalError(`not a run id: ${JSON.stringify(id)}`);
    rmSync(join(this.stateDir, 'runs', id), { recursive: true, force: true });
  }

  load(id?: string): LoadedRun {
    const runs = this.listRuns();
    const meta = id ? runs.find((r) => r.id === id || r.id.startsWith(id)) : [...runs].reverse().find((r) => r.kind === 'apply' || r.kind === 'rollback');
    if (!meta) {
      throw new JournalError(id ? `no run ${id} in ${this.stateDir}` : `no runs recorded in ${this.stateDir}`, {
        hint: 'list runs with `rig log`; use --state-dir if the journal is elsewhere',
      });
    }
    const dir = join(this.stateDir, 'runs', meta.id);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
    let events: JournalEvent[] = [];
    try {
      events = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).flatMap((l) => {
        try { return [JSON.parse(l) as JournalEvent]; } catch { return []; } // a torn last line after a crash
      });
    } catch { /* no events: nothing was sent */ }
    return {
      meta, plan, events, dir,
      preImage: (host, stepId) => {
        const p = join(dir, 'pre', encodeURIComponent(host), stepId);
        return existsSync(p) ? readFileSync(p) : undefined;
      },
    };
  }
}
