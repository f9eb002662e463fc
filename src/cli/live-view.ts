import { LiveViewModel } from './live-view-model.ts';
import type { Reporter } from './reporter.ts';
import type { RunEvent } from '../engine/run-events.ts';
import { setNoticeWriter } from './terminal-notice.ts';

export interface LiveViewOptions {
  /** A terminal (its `columns` and `rows` bound the live area). */
  readonly out: NodeJS.WriteStream;
  readonly color: boolean;
}

/**
 * The live view on a terminal: one row per host with its real state, play by play and batch by batch
 * (live-view-model.ts). Blocks that are final (and everything above them) are written once and scroll away like
 * ordinary output; the rest is redrawn in place below them. `flush()` writes everything as it stands, so what
 * follows (the plan, the recap) is printed after a truthful final frame — a row never turns ✔ unless its host
 * really finished.
 *
 * An own renderer rather than listr2: listr2 models a row as a task whose promise resolves (✔) or rejects (✖); a
 * host that never ran, waits for its batch, or failed after its play's script returned has no honest place there,
 * and ending a phase resolved every row still open (the green `✔ worker2: apply…` of issue 20). Here the rows are
 * plain data derived from the events, unit-tested without a terminal.
 */
export class LiveView implements Reporter {
  readonly #model = new LiveViewModel();
  readonly #o: LiveViewOptions;
  /** Blocks written for good. */
  #committed = 0;
  /** Lines of the live area now on screen (redrawn in place). */
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  readonly #notice = (text: string): void => this.draw(false, text);

  constructor(o: LiveViewOptions) { this.#o = o; }

  readonly onEvent = (e: RunEvent): void => {
    // While the view draws, notices go above its live area.
    setNoticeWriter(this.#notice);
    this.#model.applyEvent(e);
    // Events come in bursts (a batch of hosts reporting steps): draw once per burst.
    this.#timer ??= setTimeout(() => { this.#timer = undefined; this.draw(false); }, 50);
  };

  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#model.closeAll();
    this.draw(true);
    setNoticeWriter(undefined);
  }

  /** Redraw; `notice` (a signal's message) is written for good above the live area. */
  private draw(all: boolean, notice = ''): void {
    const columns = Math.max(20, this.#o.out.columns || 80);
    const rows = Math.max(5, this.#o.out.rows || 24);
    const blocks = this.#model.blocks(this.#o.color, 24);
    // Up to the start of the live area, erase it: CPL (cursor to the start of the line n up), ED (erase below).
    let s = this.#drawn ? `\x1b[${this.#drawn}F\x1b[J` : '';
    s += notice;
    while (this.#committed < blocks.length && (all || blocks[this.#committed]!.final)) {
      for (const line of blocks[this.#committed]!.lines) s += `${line}\n`;
      this.#committed++;
    }
    let live = blocks.slice(this.#committed).flatMap((b) => b.lines);
    // A line that wrapped, or a live area taller than the screen, could not be redrawn in place.
    if (live.length > rows - 1) live = [...live.slice(0, rows - 2), `  … ${live.length - (rows - 2)} more lines`];
    for (const line of live) s += `${truncate(line, columns - 1)}\n`;
    this.#drawn = live.length;
    if (s) this.#o.out.write(s);
  }
}

/** Cut a line to `width` visible characters (ANSI colour sequences do not count), resetting colours if cut. */
export function truncate(line: string, width: number): string {
  let visible = 0;
  let i = 0;
  while (i < line.length) {
    if (line[i] === '\x1b') {
      const m = /^\x1b\[[0-9;]*m/.exec(line.slice(i));
      if (m) { i += m[0].length; continue; }
    }
    const cp = line.codePointAt(i)!;
    if (visible === width) return `${line.slice(0, i - 1)}…\x1b[0m`;
    visible++;
    i += cp > 0xffff ? 2 : 1;
  }
  return line;
}
