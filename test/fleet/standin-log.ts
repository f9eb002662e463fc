/**
 * Helpers for tests that watch the stand-in daemons' logs (/var/log/kubelet.log, kube-proxy.log, kube-apiserver.log)
 * inside fleet hosts. Files are read from the controller through `/proc/<host init>/root` (no SSH, no process).
 */
import { readFile } from 'node:fs/promises';
import { FleetError } from '../../src/errors.ts';
import { hostPath, type Fleet } from './fleet-lib.ts';

/** A file's text inside a host, or '' when it does not exist (yet). */
export async function readHostFile(fleet: Fleet, host: string, path: string): Promise<string> {
  try { return await readFile(hostPath(fleet, host, path), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Number of complete lines in a host's log (0 when missing): pass it as `sinceLine` to wait for new lines only. */
export async function countLogLines(fleet: Fleet, host: string, path: string): Promise<number> {
  return linesOf(await readHostFile(fleet, host, path)).length;
}

export interface WaitForLogOptions {
  /** Only lines after this many lines count (see countLogLines). @default 0 */
  readonly sinceLine?: number;
  /** Poll interval. @default 200 */
  readonly intervalMs?: number;
}

/** Wait until a line of `path` on `host` matches `pattern`; returns the line. Throws FleetError (with the last lines)
 *  after `timeoutMs`. */
export async function waitForLogLine(fleet: Fleet, host: string, path: string, pattern: RegExp, timeoutMs = 30_000,
  options: WaitForLogOptions = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lines: string[] = [];
  for (;;) {
    lines = linesOf(await readHostFile(fleet, host, path)).slice(options.sinceLine ?? 0);
    const hit = lines.find((l) => { pattern.lastIndex = 0; return pattern.test(l); });
    if (hit !== undefined) return hit;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
  throw new FleetError(`no line matching ${pattern} in ${path} within ${timeoutMs} ms; last lines:\n${lines.slice(-5).join('\n') || '(none)'}`,
    { host, file: path, hint: 'Check the service runs (`service NAME status` in the host) and its /etc/default flags.' });
}
