import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { quoteShell } from '../../src/text/shell-quote.ts';
import { PROJECT_ROOT } from './run-rig.ts';

/**
 * A private tmux server (its own socket) for driving rig in a real terminal: each command runs in its own window
 * (a real pty), and the screen is read back with `capture-pane` (scrollback included). Used by the TTY e2e tests
 * (confirm prompt, live view).
 */
export class TmuxTerminal {
  readonly #socket: string;
  readonly #session: string;
  #windows = 0;

  /** `name`: a tag for the socket and session; `width`×`height`: the terminal size. */
  constructor(name: string, readonly width = 200, readonly height = 50) {
    this.#socket = `rig-${name}-${process.pid}`;
    this.#session = name;
    this.tmux('new-session', '-d', '-s', this.#session, '-x', String(width), '-y', String(height));
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
  }

  /**
   * Run `rig ARGS` (the checkout's bin/rig.js) in a fresh window in `cwd`, with NO_COLOR, without RIG_PROJECT_FILE
   * and CI (so a TTY run looks as an operator's), and `env` added. The window prints `EXIT=<code>` when rig ends.
   */
  startRig(args: readonly string[], o: { readonly cwd: string; readonly env?: Readonly<Record<string, string>> }): string {
    return this.startCommand([process.execPath, join(PROJECT_ROOT, 'bin', 'rig.js'), ...args], o);
  }

  /** Run any command (argv, e.g. `npx rig …` in a project of its own) as startRig runs rig. */
  startCommand(argv: readonly string[], o: { readonly cwd: string; readonly env?: Readonly<Record<string, string>> }): string {
    const name = `w${++this.#windows}`;
    const env = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const cmd = ['env', '-u', 'RIG_PROJECT_FILE', '-u', 'CI', 'NO_COLOR=1', ...env, ...argv].map(quoteShell).join(' ');
    this.tmux('new-window', '-d', '-t', `${this.#session}:`, '-n', name, '-c', o.cwd, `${cmd}; echo "EXIT=$?"; sleep 600`);
    return name;
  }

  /** The window's screen and scrollback, wrapped lines joined. */
  screen(window: string): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', `${this.#session}:${window}`);
  }

  /**
   * Poll until `pattern` is on the screen; the limit only bounds a hung run (no timing is asserted). Fails at once
   * when rig ended (`EXIT=`) without showing it.
   */
  async waitForScreen(window: string, pattern: RegExp, limitMs = 240_000): Promise<string> {
    for (const end = Date.now() + limitMs; Date.now() < end;) {
      const screen = this.screen(window);
      if (pattern.test(screen)) return screen;
      if (/^EXIT=\d+$/m.test(screen)) throw new Error(`rig ended without showing ${pattern} in window ${window}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${pattern} in window ${window}:\n${this.screen(window)}`);
  }

  /** Type `text` and Enter in the window. */
  answer(window: string, text: string): void {
    this.tmux('send-keys', '-t', `${this.#session}:${window}`, '-l', text);
    this.tmux('send-keys', '-t', `${this.#session}:${window}`, 'Enter');
  }

  kill(): void {
    try { this.tmux('kill-server'); } catch { /* not running */ }
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.#socket), { force: true });
  }
}
