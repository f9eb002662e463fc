import { styleText } from 'node:util';
import { redactText } from '../core/secret.ts';
import type { RigError } from '../errors.ts';
import type { LayoutPlay, RunEvent } from '../engine/run-events.ts';
import { describeChange } from './render-plan.ts';
import { describeApplyCount } from './reporter.ts';

/**
 * The state of one host in the live view. `pending`: waiting for its batch; `running`: gathering or applying;
 * `ok`: done; `failed`: failed or unreachable, with the error; `stopped`: interrupted mid-play; `skipped`: not run
 * (with the reason), or nothing to change. A row is final once nothing more can happen to it.
 */
export type RowMark = 'pending' | 'running' | 'ok' | 'failed' | 'stopped' | 'skipped';

export interface ViewRow {
  readonly host: string;
  mark: RowMark;
  text: string;
  /** A failure whose error has not arrived yet (host-apply-done precedes host-failed): not final. */
  awaitingError: boolean;
  steps: number;
  changes: number;
  done: number;
  /** Health gates checked after its batch: the row stays open (running) until they end. */
  gates?: number;
}

export interface ViewBatch { readonly rows: ViewRow[]; started: boolean; note?: string }

export interface ViewSection {
  readonly kind: 'gather' | 'play';
  readonly title: string;
  readonly play: number;
  readonly batches: readonly ViewBatch[];
  /** No more events will change it (a later phase started, or the view was flushed). */
  closed: boolean;
}

/** A group of lines that is written once for good when it and everything above it are final. */
export interface ViewBlock { readonly lines: readonly string[]; readonly final: boolean }

const MARKS: Record<RowMark, { readonly symbol: string; readonly style: Parameters<typeof styleText>[0] }> = {
  pending: { symbol: '·', style: 'dim' },
  running: { symbol: '▸', style: 'cyan' },
  ok: { symbol: '✔', style: 'green' },
  failed: { symbol: '✖', style: 'red' },
  stopped: { symbol: '■', style: 'yellow' },
  skipped: { symbol: '–', style: 'yellow' },
};

const isFinal = (r: ViewRow): boolean => r.mark !== 'pending' && r.mark !== 'running' && !r.awaitingError;

function describeError(e: RigError | { readonly code: string; readonly message: string }): string {
  return `[${e.code}] ${e.message}${'hint' in e && e.hint ? ` (hint: ${e.hint})` : ''}`;
}

/**
 * What the live view shows, built only from run events (src/engine/run-events.ts): per phase, per play, per batch,
 * one row per host with its real state. Pure: `applyEvent` then `blocks`; the terminal writer is live-view.ts.
 * A new event kind needs a case here (the switch is exhaustive): map it to a row state or a batch note.
 */
export class LiveViewModel {
  readonly sections: ViewSection[] = [];
  /** The section (by play index) a host is currently applying in. */
  readonly #current = new Map<string, number>();

  applyEvent(e: RunEvent): void {
    switch (e.kind) {
      case 'phase':
        this.closeAll();
        if (e.phase === 'gather') this.openGather(e.hosts);
        else this.openPlays(e.plays ?? [], e.phase);
        return;
      case 'host-gathered':
        this.setGatherRow(e.host, 'ok', `facts gathered (${e.ms} ms)`);
        return;
      case 'host-unreachable':
      case 'host-failed': {
        const what = e.kind === 'host-unreachable' ? 'unreachable' : 'failed';
        if (this.setGatherRow(e.host, 'failed', `${what}: ${describeError(e.error)}`)) return;
        const row = this.applyRow(e.host);
        if (!row) return;
        const at = row.done < row.steps ? ` at step ${row.done + 1}/${row.steps}` : '';
        row.mark = 'failed';
        row.text = `${what}${at}, ${row.done} of ${row.steps} steps done: ${describeError(e.error)}`;
        row.awaitingError = false;
        return;
      }
      case 'batch-start': {
        const batch = this.playSection(e.play)?.batches[e.batch];
        if (batch) batch.started = true;
        return;
      }
      case 'host-apply-start': {
        this.#current.set(e.host, e.play);
        const row = this.applyRow(e.host);
        if (!row) return;
        row.mark = 'running';
        row.steps = e.steps;
        row.changes = e.changes;
        row.done = 0;
        row.text = `applying ${describeApplyCount(e.changes, e.steps)}: 0/${e.steps} steps done`;
        return;
      }
      case 'step-done': {
        const row = this.applyRow(e.host);
        if (!row) return;
        row.done++;
        row.text = `applying ${describeApplyCount(row.changes, row.steps)}: ${row.done}/${row.steps} steps done (last: ${describeChange(e.step.change)})`;
        return;
      }
      case 'host-apply-done': {
        const row = this.applyRow(e.host);
        if (!row) return;
        const changes = `${e.changed} change${e.changed === 1 ? '' : 's'}`;
        if (e.status === 'ok') {
          row.mark = row.gates ? 'running' : 'ok';
          row.text = `done: ${changes}${row.steps > row.changes ? `, ${row.steps - row.changes} wait${row.steps - row.changes === 1 ? '' : 's'}` : ''}${row.gates ? '; gates next' : ''}`;
        } else if (e.status === 'interrupted') {
          row.mark = 'stopped';
          row.text = `interrupted after step ${row.done}/${row.steps} (${changes} made): a stop was requested`;
        } else {
          row.mark = 'failed';
          row.text = `${e.status} after step ${row.done}/${row.steps} (${changes} made)`;
          row.awaitingError = true;
        }
        return;
      }
      // Health gates (src/gates/): a gated row stays open after its apply; the gates' end makes it final. The check
      // after a revert happens in the rollback's own section; its outcome is in the recap.
      case 'gates-start':
        if (e.phase !== 'apply') return;
        this.noteBatch(e.play, e.batch, 'checking health gates…');
        for (const h of e.hosts) this.editRow(e.play, h, (row) => { row.text = row.text.replace(/; gates next$/, '; checking gates…'); });
        return;
      case 'gate-done':
        return;
      case 'gates-done': {
        if (e.phase !== 'apply') return;
        const failed = e.results.filter((r) => !r.passed);
        this.noteBatch(e.play, e.batch, failed.length ? `health gate failed: "${failed[0]!.name}" on ${failed[0]!.host}` : 'health gates passed');
        for (const h of new Set(e.results.map((r) => r.host))) {
          const mine = e.results.filter((r) => r.host === h);
          const bad = mine.find((r) => !r.passed);
          this.editRow(e.play, h, (row) => {
            const done = row.text.replace(/; (checking gates…|gates next)$/, '');
            row.mark = bad ? 'failed' : 'ok';
            row.text = bad ? `${done}; gate "${bad.name}" failed: ${bad.detail ?? ''}` : `${done}; ${mine.length} gate${mine.length === 1 ? '' : 's'} passed`;
          });
        }
        return;
      }
      case 'batch-revert':
        this.noteBatch(e.play, e.batch, `health gate failed: reverting ${e.hosts.join(', ')}`);
        return;
      case 'host-not-run':
        this.setRow(e.play, e.host, 'skipped', `not run: ${e.reason.message}`);
        return;
      default: {
        const unknown: never = e;
        void unknown;
      }
    }
  }

  /** A note on a batch's header line (e.g. a health gate's state): shown while the batch is on screen. */
  noteBatch(play: number, batch: number, note: string): void {
    const b = this.playSection(play)?.batches[batch];
    if (b) b.note = note;
  }

  /** Set a host's row in a play (for an event kind about one host that is not an apply step). */
  setRow(play: number, host: string, mark: RowMark, text: string): void {
    const row = this.playSection(play)?.batches.flatMap((b) => b.rows).find((r) => r.host === host);
    if (!row) return;
    row.mark = mark;
    row.text = text;
  }

  private editRow(play: number, host: string, edit: (row: ViewRow) => void): void {
    const row = this.playSection(play)?.batches.flatMap((b) => b.rows).find((r) => r.host === host);
    if (row) edit(row);
  }

  /** No more events for what is shown (the view is flushed). */
  closeAll(): void {
    for (const s of this.sections) s.closed = true;
  }

  /** Blocks to draw, in order: each section's title, then its hosts (gather) or its batches (play). */
  blocks(color: boolean, width: number): ViewBlock[] {
    const paint = (style: Parameters<typeof styleText>[0], t: string): string => (color ? styleText(style, t, { validateStream: false }) : t);
    const out: ViewBlock[] = [];
    for (const s of this.sections) {
      out.push({ lines: [paint('bold', s.title)], final: true });
      const w = Math.min(width, Math.max(4, ...s.batches.flatMap((b) => b.rows.map((r) => r.host.length))));
      const line = (r: ViewRow, indent: string): string => {
        const m = MARKS[r.mark];
        return redactText(`${indent}${paint(m.style, m.symbol)} ${r.host.padEnd(w)}  ${r.mark === 'failed' ? paint('red', r.text) : r.text}`);
      };
      if (s.kind === 'gather') {
        // Rows of a gather can still change (planning fails after facts came back): final when the phase ends.
        for (const r of s.batches[0]?.rows ?? []) out.push({ lines: [line(r, '  ')], final: s.closed && isFinal(r) });
        continue;
      }
      const many = s.batches.length > 1;
      for (const [i, b] of s.batches.entries()) {
        const head = many ? [`  batch ${i + 1}/${s.batches.length}${b.note ? `  ${b.note}` : ''}`] : [];
        out.push({ lines: [...head, ...b.rows.map((r) => line(r, many ? '    ' : '  '))], final: b.rows.every(isFinal) });
      }
    }
    return out;
  }

  private openGather(hosts: readonly string[]): void {
    const rows = hosts.map((host): ViewRow => ({ host, mark: 'running', text: 'gathering facts…', awaitingError: false, steps: 0, changes: 0, done: 0 }));
    this.sections.push({ kind: 'gather', title: `gathering facts on ${hosts.length} host${hosts.length === 1 ? '' : 's'}`, play: -1, batches: [{ rows, started: true }], closed: false });
  }

  private openPlays(plays: readonly LayoutPlay[], phase: string): void {
    this.#current.clear();
    for (const p of plays) {
      const n = p.batches.length;
      const title = `${phase} play ${p.play + 1} "${p.name}"${n > 1 ? `: ${n} batches, maxFailPercentage ${p.maxFailPercentage}%` : ''}`;
      const batches = p.batches.map((b): ViewBatch => ({
        started: false,
        rows: b.map((h): ViewRow => ({
          host: h.host, steps: h.steps, changes: h.changes, done: 0, awaitingError: false, ...(h.gates ? { gates: h.gates } : {}),
          ...(h.skip ? { mark: 'skipped', text: `not run: ${h.skip}` }
            : h.steps ? { mark: 'pending', text: `pending: ${describeApplyCount(h.changes, h.steps)}` }
              : { mark: 'skipped', text: 'nothing to change' }),
        })),
      }));
      this.sections.push({ kind: 'play', title, play: p.play, batches, closed: false });
    }
  }

  private setGatherRow(host: string, mark: RowMark, text: string): boolean {
    const s = this.sections.at(-1);
    if (s?.kind !== 'gather') return false;
    const row = s.batches[0]?.rows.find((r) => r.host === host);
    if (!row) return false;
    row.mark = mark;
    row.text = text;
    return true;
  }

  private playSection(play: number): ViewSection | undefined {
    for (let i = this.sections.length - 1; i >= 0; i--) {
      const s = this.sections[i]!;
      if (s.kind === 'gather') return undefined;
      if (s.play === play) return s;
    }
    return undefined;
  }

  private applyRow(host: string): ViewRow | undefined {
    const play = this.#current.get(host);
    if (play === undefined) return undefined;
    return this.playSection(play)?.batches.flatMap((b) => b.rows).find((r) => r.host === host);
  }
}
