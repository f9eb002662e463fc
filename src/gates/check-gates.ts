import type { Connector } from '../connectors/connector.ts';
import { redactText } from '../core/secret.ts';
import { mapLimit } from '../engine/gather-facts.ts';
import type { StopSignal } from '../engine/stop-signal.ts';
import { probeFromController } from './controller-gate-probe.ts';
import { buildGateScript, GATE_INTERRUPTED_OUTPUT, parseGateLine } from './gate-host-script.ts';
import { pollPauseList } from '../engine/poll-backoff.ts';
import { describeGateCheck, type GateCheck, type GateResult, type PlannedGate } from './gate-types.ts';

export interface GateTarget {
  readonly host: string;
  readonly connector: Connector;
  /** Run the host's probe script with sudo (as the play's apply script ran). */
  readonly become: boolean;
  readonly gates: readonly PlannedGate[];
}

export interface CheckGatesOptions {
  readonly play: number;
  readonly batch: number;
  /** `revert`: each gate's `afterRevert` check (gates without one are skipped). */
  readonly phase: 'apply' | 'revert';
  readonly forks: number;
  readonly onResult?: (r: GateResult) => void;
  /** A stop request (SIGINT/SIGTERM) ends the polling at once: the gates still pending fail as interrupted. */
  readonly stop?: StopSignal;
}

const INTERRUPTED = GATE_INTERRUPTED_OUTPUT;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll one controller-side gate like `wait`: attempt at once, then pause (pollPauses: 0.1 s doubling up to the interval), until it passes or the timeout ends. */
async function pollFromController(check: GateCheck, g: PlannedGate, stop?: StopSignal): Promise<{ passed: boolean; attempts: number; output: string }> {
  const end = Date.now() + g.timeoutSeconds * 1000;
  const pauses = pollPauseList(g.intervalSeconds);
  let attempts = 0;
  for (;;) {
    if (stop?.requested) return { passed: false, attempts, output: INTERRUPTED };
    attempts++;
    const r = await probeFromController(check);
    if (r.passed) return { passed: true, attempts, output: r.output };
    if (Date.now() >= end) return { passed: false, attempts, output: r.output };
    await sleep((pauses.length > 1 ? pauses.shift()! : pauses[0]!) * 1000);
  }
}

/**
 * Evaluate the gates of a batch's hosts, hosts in parallel. A host's host-side gates run in ONE script (one round
 * trip, their polling included); controller-side gates cost no round trip. Each result carries its timing.
 */
export async function checkGates(targets: readonly GateTarget[], o: CheckGatesOptions): Promise<GateResult[]> {
  const results: GateResult[] = [];
  const emit = (r: GateResult): void => { results.push(r); o.onResult?.(r); };
  await mapLimit([...targets], o.forks, async (t) => {
    const active = t.gates.flatMap((g) => {
      const check = o.phase === 'revert' ? g.afterRevert : g.check;
      return check ? [{ g, check }] : [];
    });
    if (!active.length) return;
    const startedAt = new Date().toISOString();
    const t0 = Date.now();
    const checkOf = new Map(active.map((a) => [a.g.id, describeGateCheck(a.check)]));
    const base = (g: PlannedGate) => ({ gate: g.id, name: g.name, host: t.host, play: o.play, batch: o.batch, phase: o.phase, from: g.from, check: checkOf.get(g.id)!, startedAt });
    const onHost = active.filter((a) => a.g.from === 'host');
    const onController = active.filter((a) => a.g.from === 'controller');
    const hostRun = async (): Promise<void> => {
      if (!onHost.length) return;
      const pending = new Map(onHost.map((a) => [a.g.id, a.g]));
      let partial = '';
      const take = (line: string): void => {
        const p = parseGateLine(line);
        const g = p ? pending.get(p.id) : undefined;
        if (!p || !g) return;
        pending.delete(p.id);
        emit({ ...base(g), passed: p.passed, attempts: p.attempts, ms: Date.now() - t0, ...(p.output ? { detail: redactText(p.output) } : {}) });
      };
      const longest = Math.max(...onHost.map((a) => a.g.timeoutSeconds + a.g.intervalSeconds));
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), (longest + 60) * 1000);
      const unStop = o.stop?.onRequest(() => abort.abort());
      let failure = '';
      try {
        const script = buildGateScript(onHost.map((a) => ({ id: a.g.id, check: a.check, timeoutSeconds: a.g.timeoutSeconds, intervalSeconds: a.g.intervalSeconds })));
        const res = await t.connector.runScript(script, {
          become: t.become, signal: abort.signal,
          onStdout: (d) => { const lines = (partial + d.toString()).split('\n'); partial = lines.pop() ?? ''; lines.forEach(take); },
        });
        if (partial) take(partial);
        if (pending.size) failure = `gate script ended early (exit ${res.exitCode}): ${res.stderr.trim().slice(-300) || 'no output'}`;
      } catch (e) {
        failure = o.stop?.requested ? INTERRUPTED : `gate script failed: ${(e as Error).message}`;
      } finally {
        clearTimeout(timer);
        unStop?.();
      }
      for (const g of pending.values()) emit({ ...base(g), passed: false, attempts: 0, ms: Date.now() - t0, detail: redactText(failure) });
    };
    const controllerRuns = onController.map(async (a) => {
      const r = await pollFromController(a.check, a.g, o.stop);
      emit({ ...base(a.g), passed: r.passed, attempts: r.attempts, ms: Date.now() - t0, ...(r.output ? { detail: redactText(r.output) } : {}) });
    });
    await Promise.all([hostRun(), ...controllerRuns]);
  });
  return results;
}
