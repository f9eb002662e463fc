import { redactText } from '../core/secret.ts';
import type { RunEvent } from '../engine/run-events.ts';
import { describeChange } from './render-plan.ts';
import { describeApplyCount } from './reporter.ts';

interface HostTask {
  title: string;
  output?: string;
  resolve: () => void;
  reject: (e: Error) => void;
  set?: (title: string, output?: string) => void;
  finished?: boolean;
}

/**
 * Live progress on a TTY with listr2: one line per host, updated as facts are gathered and steps applied.
 * One Listr per phase (gather, apply, rollback) so that the plan printed between phases is not overdrawn.
 * `flush()` ends the current phase's display.
 */
export class ListrReporter {
  #hosts = new Map<string, HostTask>();
  #running: Promise<unknown> | undefined;
  /** listr2 loads when the reporter is created (TTY runs only), not at every startup. */
  readonly #listr = import('listr2');


  readonly onEvent = (e: RunEvent): void => {
    switch (e.kind) {
      case 'phase':
        void this.startPhase(e.phase, e.hosts);
        break;
      case 'host-gathered': this.update(e.host, `${e.host}: facts gathered in ${e.ms} ms`, undefined, true); break;
      case 'host-unreachable': this.fail(e.host, `${e.host}: unreachable: ${e.error.message}`); break;
      case 'host-failed': this.fail(e.host, `${e.host}: failed: ${e.error.message}`); break;
      case 'batch-start': break;
      case 'host-apply-start': this.update(e.host, `${e.host}: applying ${describeApplyCount(e.changes, e.steps)} (play ${e.play + 1})`); break;
      case 'step-done': this.update(e.host, undefined, describeChange(e.step.change)); break;
      case 'host-apply-done': this.update(e.host, `${e.host}: play ${e.play + 1} done, ${e.changed} change${e.changed === 1 ? '' : 's'}`, undefined, true); break;
      // Gates run after the batch's hosts finished; their results are in the recap (the rollback phase shows a revert).
      case 'gates-start': case 'gate-done': case 'batch-revert': break;
    }
  };

  private async startPhase(phase: string, names: readonly string[]): Promise<void> {
    await this.flush();
    const { Listr } = await this.#listr;
    this.#hosts = new Map();
    const tasks = names.map((name) => {
      const h: HostTask = { title: `${name}: ${phase}…`, resolve: () => undefined, reject: () => undefined };
      const done = new Promise<void>((resolve, reject) => { h.resolve = resolve; h.reject = reject; });
      this.#hosts.set(name, h);
      return {
        title: h.title,
        task: async (_ctx: unknown, task: { title: string; output: string }) => {
          h.set = (title, output) => {
            if (title) task.title = redactText(title);
            if (output) task.output = redactText(output);
          };
          await done;
        },
      };
    });
    const list = new Listr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } });
    this.#running = list.run().catch(() => undefined);
  }

  private update(host: string, title?: string, output?: string, finish = false): void {
    const h = this.#hosts.get(host);
    // A host finished in this display (its play done) may come back in a later play: the list may be over by then.
    if (!h || h.finished) return;
    h.set?.(title ?? '', output);
    if (finish) { h.finished = true; h.resolve(); }
  }

  private fail(host: string, title: string): void {
    const h = this.#hosts.get(host);
    if (!h) return;
    h.reject(new Error(redactText(title)));
  }

  /** Finish the current display: hosts still pending are marked done. */
  async flush(): Promise<void> {
    for (const h of this.#hosts.values()) h.resolve();
    if (this.#running) await this.#running;
    this.#running = undefined;
  }
}
