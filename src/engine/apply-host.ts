import type { Connector } from '../connectors/connector.ts';
import { DriftError, InterruptedError, isRigError, LockedError, RemoteCommandError, RigError, UnreachableError } from '../errors.ts';
import type { RunJournal } from '../changelog/journal-store.ts';
import { buildApplyScript, HOST_STATE_DIR, type LockSpec } from './apply-script.ts';
import { ScriptWatchdog } from './step-time-limit.ts';
import { redactDeep } from '../core/secret.ts';
import { buildStopScript } from './stop-marker.ts';
import type { StopSignal } from './stop-signal.ts';
import { parseFileSignature } from './file-signature.ts';
import type { PlanStep } from './plan-types.ts';
import type { ApplyScriptHooks } from './handler-script.ts';
import type { RunEventListener } from './run-events.ts';

export interface HostApplyResult {
  readonly host: string;
  readonly status: 'ok' | 'failed' | 'drift' | 'unreachable' | 'locked' | 'interrupted';
  /** Step ids completed on the host. */
  readonly done: readonly string[];
  /** Interrupted: the step the script stopped before (it and the later ones did not run). */
  readonly stoppedBefore?: string;
  readonly error?: RigError;
}

export interface ApplyHostOptions {
  readonly connector: Connector;
  readonly runId: string;
  readonly play: number;
  readonly steps: readonly PlanStep[];
  readonly journal: RunJournal;
  readonly lock: LockSpec;
  /** Handler bookkeeping and epilogue for the script (src/engine/handler-script.ts). */
  readonly hooks?: ApplyScriptHooks;
  readonly onEvent?: RunEventListener;
  /** Run the script with sudo (src/engine/become.ts decides). @default false */
  readonly become?: boolean;
  /** On a stop request, the script is told to stop after its current step (src/engine/stop-marker.ts). */
  readonly stop?: StopSignal;
  /** Scale the step and script time limits (tests only). @default 1 */
  readonly timeLimitScale?: number;
  /** Every stdout line of the script, as it arrives (health gates carried by the script: src/gates/fold-host-gates.ts). */
  readonly onLine?: (line: string) => void;
  /** Seconds the script's epilogue may poll gates after its last step (added to the script's time limit). */
  readonly gateSeconds?: number;
}

/** What a step acts on, for messages and the host's intent record: its path, service, command, packages or wait. */
function pathOf(step: PlanStep | undefined): string {
  const c = step?.change;
  if (!c) return '?';
  switch (c.kind) {
    case 'run-command': return c.argv.join(' ');
    case 'service': return c.service;
    case 'package': return [...c.install, ...c.remove].join(' ');
    case 'wait': return c.description;
    default: return c.path;
  }
}

/**
 * Apply one play's steps on one host in ONE round trip. Write-ahead: pre-images and the intent are journaled on the
 * controller before the script is sent; the script journals them on the host before its first change.
 */
export async function applyHostSteps(o: ApplyHostOptions): Promise<HostApplyResult> {
  const host = o.connector.host.name;
  const byId = new Map(o.steps.map((s) => [s.id, s]));
  for (const s of o.steps) if (s.preImage !== undefined) o.journal.savePreImage(host, s.id, Buffer.from(s.preImage, 'base64'));
  const intent = { t: 'intent' as const, host, play: o.play, steps: o.steps.map((s) => s.id), at: new Date().toISOString() };
  o.journal.append(intent);
  const script = buildApplyScript({
    runId: o.runId, lock: o.lock, ...(o.hooks ? { hooks: o.hooks } : {}),
    steps: o.steps.map((s) => ({ id: s.id, change: s.change })),
    intentJson: JSON.stringify(redactDeep({ ...intent, steps: o.steps.map((s) => ({ id: s.id, kind: s.change.kind, path: pathOf(s), task: s.change.task })) })),
  });
  const done: string[] = [];
  const drift: string[] = [];
  let failure: RigError | undefined;
  let status: HostApplyResult['status'] = 'ok';
  let stoppedBefore: string | undefined;
  const record = (line: string): void => {
    o.onLine?.(line);
    const f = line.split(' ');
    switch (f[0]) {
      case 'D': {
        const id = f[1]!;
        done.push(id);
        const after = f.slice(2).join(' ');
        o.journal.append({ t: 'step', host, id, status: 'done', ...(after && after !== '-' ? { after } : {}) });
        const step = byId.get(id);
        if (step) o.onEvent?.({ kind: 'step-done', host, step });
        break;
      }
      case 'R':
        o.journal.append({ t: 'step', host, id: f[1]!, status: 'restored' });
        break;
      case 'X': {
        const id = f[1]!;
        const msg = Buffer.from(f[3] ?? '', 'base64').toString().trim();
        const step = byId.get(id);
        o.journal.append({ t: 'step', host, id, status: 'failed', message: msg.slice(0, 2000) });
        // The first failure is the host's error (forced handlers may run, and fail, after it).
        failure ??= new RemoteCommandError(`${step ? `${step.change.kind} ${pathOf(step)}` : 'apply'} failed (exit ${f[2]}): ${msg || 'no output'}`, {
          host, ...(step ? { task: step.change.task } : {}),
        });
        status = 'failed';
        break;
      }
      case 'V': {
        const step = byId.get(f[1]!);
        const now = parseFileSignature(f.slice(2).join(' '));
        drift.push(`${pathOf(step)} (${describeDrift(step, now)})`);
        break;
      }
      case 'L': {
        const owner = Buffer.from(f[2] ?? '', 'base64').toString();
        failure = new LockedError(`${f[1] === 'lost' ? 'the lock was lost' : 'locked by another run'}: ${owner}`, { host, hint: 'another rig run took the host; see `rig log`' });
        status = 'locked';
        break;
      }
      case 'I': {
        stoppedBefore = f[1];
        const step = stoppedBefore ? byId.get(stoppedBefore) : undefined;
        failure = new InterruptedError(`interrupted: stopped before ${step ? `${step.change.kind} ${pathOf(step)}` : `step ${stoppedBefore}`}`, {
          host, hint: '`rig apply` again to finish, or `rig rollback` the run to undo it',
        });
        status = 'interrupted';
        break;
      }
      default:
        break;
    }
  };
  // Records are handled as they arrive, so what a host reported before it went silent is journaled too.
  let partial = '';
  const feed = (d: Buffer): void => {
    watchdog.feed(d);
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) record(line);
  };
  // Per-step and per-script time limits from the plan (waits included); keepalives catch a silent connection.
  const abort = new AbortController();
  const watchdog = new ScriptWatchdog({
    host, steps: o.steps, onTimeout: (e) => abort.abort(e), ...(o.timeLimitScale ? { scale: o.timeLimitScale } : {}),
    ...(o.gateSeconds ? { gateSeconds: o.gateSeconds } : {}),
  });
  const become = { become: o.become === true };
  const unStop = o.stop?.onRequest(() => {
    o.connector.runScript(buildStopScript(o.runId, HOST_STATE_DIR), become).catch(() => undefined);
  });
  let res;
  try {
    res = await o.connector.runScript(script, { ...become, signal: abort.signal, onStdout: feed });
  } catch (e) {
    const error = isRigError(e) ? e : new UnreachableError(String((e as Error)?.message ?? e), { host });
    const lostStatus = error.code === 'TIMEOUT' ? 'failed' : 'unreachable';
    o.journal.append({ t: 'host-end', host, play: o.play, status: lostStatus, message: error.message });
    return { host, status: lostStatus, done, error };
  } finally {
    watchdog.stop();
    unStop?.();
  }
  if (partial) record(partial);
  const lines = res.stdout.toString().split('\n');
  if (drift.length) {
    failure = new DriftError(`host changed since the plan: ${drift.join(', ')}`, { host, hint: 'run `rig plan` again to see the current differences' });
    status = 'drift';
  }
  if (!failure && !lines.includes('Z ok')) {
    failure = new RemoteCommandError(`apply script ended early (exit ${res.exitCode}): ${res.stderr.trim().slice(-500) || 'no output'}`, { host });
    status = 'failed';
  }
  o.journal.append({ t: 'host-end', host, play: o.play, status, ...(failure ? { message: failure.message } : {}) });
  return { host, status, done, ...(stoppedBefore ? { stoppedBefore } : {}), ...(failure ? { error: failure } : {}) };
}

function describeDrift(step: PlanStep | undefined, now: ReturnType<typeof parseFileSignature>): string {
  if (step?.change.kind === 'set-capability') return `capabilities are no longer ${step.change.beforeCaps || 'none'}`;
  const before = step && 'before' in step.change ? step.change.before : undefined;
  if (!before) return 'changed';
  if (before.exists !== now.exists) return now.exists ? 'now exists' : 'now absent';
  if (before.sha256 !== now.sha256) return 'content changed';
  if (before.mode !== now.mode) return `mode ${before.mode} → ${now.mode}`;
  if (before.owner !== now.owner || before.group !== now.group) return `owner ${before.owner}:${before.group} → ${now.owner}:${now.group}`;
  return 'changed';
}
