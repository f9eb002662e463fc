import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { quoteShell } from '../../src/text/shell-quote.ts';

/**
 * Real terminals for e2e tests: a private tmux server (its own socket), one window (a pty) per command line. The
 * window prints `EXIT=<code>` when its command ends and stays open so the screen can be read.
 */
export class TmuxTerminal {
  private readonly socket: string;
  private windows = 0;

  constructor(private readonly session: string) {
    this.socket = `rig-${session}-${process.pid}`;
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  open(): void {
    this.tmux('new-session', '-d', '-s', this.session, '-x', '200', '-y', '50');
  }

  /** Run `argv` (quoted with the one POSIX quoting helper) in a new window in `cwd`; returns the window's name. */
  start(argv: readonly string[], cwd: string): string {
    const name = `w${++this.windows}`;
    this.tmux('new-window', '-d', '-t', `${this.session}:`, '-n', name, '-c', cwd, `${argv.map(quoteShell).join(' ')}; echo "EXIT=$?"; sleep 600`);
    return name;
  }

  screen(name: string): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', `${this.session}:${name}`);
  }

  /** Polls until the text appears; the limit only bounds a hung run (no timing is asserted). */
  async waitFor(name: string, pattern: RegExp): Promise<string> {
    for (let i = 0; i < 1200; i++) {
      const screen = this.screen(name);
      if (pattern.test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${pattern} in window ${name}:\n${this.screen(name)}`);
  }

  /** Type a line (the text literally, then Enter). */
  answer(name: string, text: string): void {
    this.tmux('send-keys', '-t', `${this.session}:${name}`, '-l', text);
    this.tmux('send-keys', '-t', `${this.session}:${name}`, 'Enter');
  }

  close(): void {
    try { this.tmux('kill-server'); } catch { /* not started */ }
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}
