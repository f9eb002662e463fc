import type { Change } from '../core/change.ts';
import { TimeoutError } from '../errors.ts';

/** Time limit of a step that only touches the file system (write, chmod, mkdir, link, capability), seconds. */
export const FILE_STEP_LIMIT_SECONDS = 120;
/** Time limit of a step that runs a program (command, service action, package manager), seconds. */
export const PROGRAM_STEP_LIMIT_SECONDS = 600;
/** Time limit of a script's prologue (lock, drift check, intent and pre-images) and of the gap between steps, seconds. */
export const PROLOGUE_LIMIT_SECONDS = 120;
/** Added to a wait's own timeout: the wait's last probe and its report. */
export const WAIT_SLACK_SECONDS = 30;

/** How long one step may take on the host before the controller gives up on it (waits: their timeout + slack). */
export function stepTimeLimitSeconds(c: Change): number {
  switch (c.kind) {
    case 'wait': return Math.max(1, Math.floor(c.timeoutSeconds)) + Math.max(0.1, c.intervalSeconds) + WAIT_SLACK_SECONDS;
    case 'run-command': case 'service': case 'package': return PROGRAM_STEP_LIMIT_SECONDS;
    default: return FILE_STEP_LIMIT_SECONDS;
  }
}

/** How long a whole apply script may take: its prologue plus every step's limit. */
export function scriptTimeLimitSeconds(changes: readonly Change[]): number {
  return changes.reduce((sum, c) => sum + stepTimeLimitSeconds(c), PROLOGUE_LIMIT_SECONDS);
}

export interface ScriptWatchdogOptions {
  readonly host: string;
  /** Steps of the script in order, with their ids. */
  readonly steps: ReadonlyArray<{ readonly id: string; readonly change: Change }>;
  /** Called once when a limit is exceeded. */
  readonly onTimeout: (e: TimeoutError) => void;
  /** Scale every limit (tests). @default 1 */
  readonly scale?: number;
  /** Health gates polled at the end of the script (`GS` record, src/gates/fold-host-gates.ts): their limit, seconds. */
  readonly gateSeconds?: number;
}

/**
 * Watches an apply script's records as they arrive: `B <id>` starts the step's limit, `D <id>` starts the gap
 * limit; the whole script also has its own limit. Fires `onTimeout` once; `stop()` when the script ended.
 */
export class ScriptWatchdog {
  #timer?: NodeJS.Timeout;
  readonly #total: NodeJS.Timeout;
  #partial = '';
  #fired = false;
  readonly #limits: Map<string, { readonly seconds: number; readonly what: string }>;

  constructor(private readonly o: ScriptWatchdogOptions) {
    this.#limits = new Map(o.steps.map((s) => [s.id, { seconds: stepTimeLimitSeconds(s.change), what: `step ${s.id} (${s.change.kind})` }]));
    const total = scriptTimeLimitSeconds(o.steps.map((s) => s.change)) + (o.gateSeconds ?? 0);
    this.#total = setTimeout(() => this.fire(`the apply script did not finish within its limit of ${total} s`), this.ms(total));
    this.arm(PROLOGUE_LIMIT_SECONDS, 'the apply script\'s prologue (lock, drift check, journal)');
  }

  private ms(seconds: number): number { return Math.round(seconds * 1000 * (this.o.scale ?? 1)); }

  private arm(seconds: number, what: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.fire(`${what} did not finish within its limit of ${seconds} s`), this.ms(seconds));
  }

  private fire(message: string): void {
    if (this.#fired) return;
    this.#fired = true;
    this.stop();
    this.o.onTimeout(new TimeoutError(message, {
      host: this.o.host, hint: 'the host may still be running it: check it, then `rig apply` again or `rig rollback` the run',
    }));
  }

  /** Feed stdout as it arrives. */
  feed(chunk: Buffer): void {
    const text = this.#partial + chunk.toString();
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      const [rec, id] = line.split(' ');
      if (rec === 'B' && id) {
        const l = this.#limits.get(id);
        if (l) this.arm(l.seconds, l.what);
      } else if (rec === 'D' && id) {
        this.arm(PROLOGUE_LIMIT_SECONDS, `the gap after step ${id}`);
      } else if (rec === 'GS' && this.o.gateSeconds) {
        this.arm(this.o.gateSeconds, 'the health gates at the end of the apply script');
      }
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#total);
  }
}
