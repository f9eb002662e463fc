import { redactText } from '../core/secret.ts';
import type { ApplyScriptHooks } from '../engine/handler-script.ts';
import { buildGateEpilogue, GATE_SINCE_LINE, GATES_START_RECORD, parseGateLine } from './gate-host-script.ts';
import { describeGateCheck, type GateResult, type PlannedGate } from './gate-types.ts';

/** Added to the longest gate's timeout and interval: its last probe and its report. */
export const GATE_SLACK_SECONDS = 30;

/**
 * A host's host-side gates of one play, carried by its apply script (issue 22: a gate that passes adds no round trip
 * beyond its own polling). The script polls them right after that host's changes, handlers and waits succeeded; the
 * results come back on the same stdout as the steps' records, timed on the controller from the `GS` record.
 * Controller-side gates, and every gate of a host whose script did not carry them, are checked after the batch
 * (src/gates/gate-batch.ts).
 */
export interface FoldedHostGates {
  /** Shell run at the end of the apply script (ApplyScriptHooks.epilogue). */
  readonly epilogue: string;
  /** How long the gates may poll on the host, seconds (the apply script's time limit grows by it). */
  readonly seconds: number;
  /** Every stdout line of the apply script. */
  readonly take: (line: string) => void;
  /** The results so far; a gate the script never reported on is failed, saying so. */
  readonly results: () => GateResult[];
}

export interface FoldHostGatesOptions {
  readonly host: string;
  readonly play: number;
  readonly batch: number;
  readonly gates: readonly PlannedGate[];
}

/** The fold of a host's host-side gates, or undefined when the play has none there. */
export function foldHostGates(o: FoldHostGatesOptions): FoldedHostGates | undefined {
  const onHost = o.gates.filter((g) => g.from === 'host');
  if (!onHost.length) return undefined;
  const byId = new Map(onHost.map((g) => [g.id, g]));
  const got = new Map<string, GateResult>();
  let t0: number | undefined;
  let startedAt = '';
  const base = (g: PlannedGate) => ({
    gate: g.id, name: g.name, host: o.host, play: o.play, batch: o.batch, phase: 'apply' as const, from: g.from, check: describeGateCheck(g.check), startedAt,
  });
  return {
    epilogue: buildGateEpilogue(onHost.map((g) => ({ id: g.id, check: g.check, timeoutSeconds: g.timeoutSeconds, intervalSeconds: g.intervalSeconds }))),
    seconds: Math.max(...onHost.map((g) => g.timeoutSeconds + g.intervalSeconds)) + GATE_SLACK_SECONDS,
    take: (line) => {
      if (line === GATES_START_RECORD) { t0 = Date.now(); startedAt = new Date(t0).toISOString(); return; }
      const p = line.startsWith('G ') ? parseGateLine(line) : undefined;
      const g = p ? byId.get(p.id) : undefined;
      if (!p || !g || got.has(g.id)) return;
      got.set(g.id, { ...base(g), passed: p.passed, attempts: p.attempts, ms: Date.now() - (t0 ?? Date.now()), ...(p.output ? { detail: redactText(p.output) } : {}) });
    },
    results: () => onHost.map((g) => got.get(g.id) ?? {
      ...base(g), startedAt: startedAt || new Date().toISOString(), passed: false, attempts: 0, ms: t0 === undefined ? 0 : Date.now() - t0,
      detail: 'the apply script ended before this gate reported',
    }),
  };
}

/** The host's apply hooks with the gates' start time in their prologue and the gates' polling at the end of their epilogue. */
export function withGateEpilogue(hooks: ApplyScriptHooks | undefined, fold: FoldedHostGates | undefined): ApplyScriptHooks | undefined {
  if (!fold) return hooks;
  return { ...hooks, prologue: [hooks?.prologue, GATE_SINCE_LINE].filter(Boolean).join('\n'), epilogue: [hooks?.epilogue, fold.epilogue].filter(Boolean).join('\n') };
}
