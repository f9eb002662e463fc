import { validateGate } from '../gates/plan-gates.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PlaybookError, ValidationError } from '../errors.ts';
import { FLUSH_HANDLERS } from '../modules/flush-handlers.ts';
import type { Task } from '../modules/module.ts';
import type { Playbook, PlayDefinition, TaskList } from './types.ts';
import { findBuiltRoot, prepareTypeScriptLoader } from './typescript-loader.ts';
import { importCompiledPlaybook } from './playbook-compile-cache.ts';
import { checkMaxFailPercentage, checkSerial, isDeferredOption } from './play-options.ts';
import { importEsm } from '../core/import-esm.ts';

export interface LoadedPlaybook {
  readonly path: string;
  readonly sha256: string;
  readonly playbook: Playbook;
}

/** Flatten nested task lists (task groups from tasks/ may be inserted as arrays). */
export function flattenTasks(list: TaskList): Task[] {
  const out: Task[] = [];
  for (const t of list) {
    if (Array.isArray(t)) out.push(...flattenTasks(t));
    else out.push(t as Task);
  }
  return out;
}

export function describeTask(playIndex: number, play: PlayDefinition, taskIndex: number, task: Task, handler = false): string {
  const name = task.name ?? defaultTaskName(task);
  return `play ${playIndex + 1} "${play.name ?? play.hosts}" › ${handler ? 'handler' : `task ${taskIndex + 1}`} "${name}"`;
}

export function defaultTaskName(task: Task): string {
  if (typeof task.props === 'function') return task.module.name;
  const p = task.props as Record<string, unknown>;
  const main = p?.['path'] ?? p?.['name'] ?? p?.['url'] ?? p?.['certPath'] ?? '';
  return `${task.module.name}${main ? ` ${String(main)}` : ''}`;
}

/** Load a playbook module (`.ts` files load through tsx, see typescript-loader.ts) and validate it. */
export async function loadPlaybook(file: string): Promise<LoadedPlaybook> {
  const path = resolve(file);
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (e) {
    throw new PlaybookError(`cannot read playbook: ${(e as Error).message}`, { file, hint: 'check the path; playbooks live in playbooks/' });
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importPlaybookModule(path);
  } catch (e) {
    const err = e as Error;
    const at = locateLoadError(err);
    throw new PlaybookError(`playbook failed to load: ${err.message}`, {
      file: at && at.file !== path ? relative(process.cwd(), at.file) || at.file : file, ...(at ? { line: at.line } : {}), cause: e,
      hint: 'run `npm run typecheck` to see type errors with their lines',
    });
  }
  const playbook = (mod['default'] ?? mod['playbook']) as Playbook | undefined;
  if (!playbook || playbook.__rigPlaybook !== true) {
    throw new PlaybookError('the module does not export a playbook', { file, hint: 'write `export default definePlaybook({ name, plays: [...] })`' });
  }
  validatePlaybook(playbook, file);
  return { path, sha256: createHash('sha256').update(text).digest('hex'), playbook };
}

/**
 * Where a playbook that failed to load went wrong: the first frame of the error's stack (source-mapped) in a file of
 * the user's — the playbook or a module it imports — never Node's internals (`node:internal/…:873`), a package in
 * node_modules, or rig itself. None (no line rather than a wrong one) when no frame is theirs, e.g. a missing package.
 */
function locateLoadError(err: Error): { readonly file: string; readonly line: number } | undefined {
  const rigRoot = rigInstallRoot();
  for (const m of (err.stack ?? '').matchAll(/(?:^|[\s(])(?:file:\/\/)?(\/[^\s()]+?):(\d+):\d+/gm)) {
    let file = m[1]!;
    try { file = decodeURIComponent(file); } catch { /* keep it as written */ }
    if (file.includes('/node_modules/') || (rigRoot !== undefined && ['src/', 'dist/', 'bin/', 'scripts/'].some((d) => file.startsWith(rigRoot + d)))) continue;
    return { file, line: Number(m[2]) };
  }
  return undefined;
}

/** The directory of the running rig (above bin/, holding its src/, dist/ and scripts/), from the entry script; undefined when unknown. */
function rigInstallRoot(): string | undefined {
  const entry = process.argv[1];
  if (!entry) return undefined;
  try { return `${dirname(dirname(realpathSync(entry)))}/`; } catch { return undefined; }
}

/** Prebuilt: from the compiled-playbook cache (no tsx at all); from source, or when the cache cannot serve: tsx. */
async function importPlaybookModule(path: string): Promise<Record<string, unknown>> {
  const rootUrl = findBuiltRoot(import.meta.url);
  const cached = rootUrl === undefined || process.env['RIG_PLAYBOOK_CACHE'] === 'off' ? undefined : await importCompiledPlaybook(path, rootUrl);
  if (cached !== undefined) return cached;
  await prepareTypeScriptLoader();
  return await importEsm(pathToFileURL(path).href);
}

/** Check every play and every task with static props; collect all problems and throw once. */
export function validatePlaybook(pb: Playbook, file: string): void {
  const problems: string[] = [];
  if (!pb.name || typeof pb.name !== 'string') problems.push('name: a playbook needs a name');
  if (!Array.isArray(pb.plays) || pb.plays.length === 0) problems.push('plays: a playbook needs at least one play');
  (pb.plays ?? []).forEach((play, pi) => {
    const where = `plays[${pi}]`;
    if (!play || typeof play.hosts !== 'string' || play.hosts.trim() === '') problems.push(`${where}.hosts: a host pattern is required`);
    // Options computed from variables are checked when the play's hosts are known (resolvePlayOptions).
    if (play.maxFailPercentage !== undefined && !isDeferredOption(play.maxFailPercentage)) problems.push(...checkMaxFailPercentage(play.maxFailPercentage, `${where}.maxFailPercentage`));
    if (play.serial !== undefined && !isDeferredOption(play.serial)) problems.push(...checkSerial(play.serial, `${where}.serial`));
    problems.push(...validateStaticGates(play.gates, where));
    const handlerNames = new Set<string>();
    (play.handlers ?? []).forEach((h, hi) => {
      if (!h || !h.module) { problems.push(`${where}.handlers[${hi}]: not a task`); return; }
      if (!h.name) problems.push(`${where}.handlers[${hi}]: a handler needs a name (tasks notify it by name)`);
      else handlerNames.add(h.name);
      problems.push(...validateTask(h, `${where}.handlers[${hi}] "${h.name ?? h.module.name}"`));
    });
    if (!Array.isArray(play.tasks)) { problems.push(`${where}.tasks: must be a list of tasks`); return; }
    // One script per host and play: a task cannot drop the sudo that the play or another task asks for.
    const all = [...flattenTasks(play.tasks), ...(play.handlers ?? [])].filter((t) => t && typeof t === 'object');
    if ((play.become === true || all.some((t) => t.become === true)) && all.some((t) => t.become === false)) {
      problems.push(`${where}: a task sets become: false but the play runs with sudo (play become, or another task's become: true); rig runs a play's tasks on a host in one script — move it to its own play`);
    }
    flattenTasks(play.tasks).forEach((t, ti) => {
      if (!t || typeof t !== 'object' || !t.module) { problems.push(`${where}.tasks[${ti}]: not a task (did you call the module factory?)`); return; }
      const label = `${where}.tasks[${ti}] "${t.name ?? defaultTaskName(t)}"`;
      problems.push(...validateTask(t, label));
      for (const n of notifyList(t)) {
        if (!handlerNames.has(n)) problems.push(`${label}.notify: no handler named "${n}" in this play (handlers: ${[...handlerNames].join(', ') || 'none'})`);
      }
    });
  });
  if (problems.length) throw new ValidationError(problems, { file, hint: 'fix the props named above; every problem is listed' });
}

/** Static gates are checked at load time (gates given as functions at plan time, per host). */
function validateStaticGates(gates: unknown, where: string): string[] {
  if (gates === undefined) return [];
  if (!Array.isArray(gates)) return [`${where}.gates: a list of gates`];
  return gates.flatMap((g, gi) => (typeof g === 'function' ? [] : validateGate(g).map((p) => `${where}.gates[${gi}]: ${p}`)));
}

function validateTask(t: Task, label: string): string[] {
  if (t.module.name === FLUSH_HANDLERS || typeof t.props === 'function') return [];
  return t.module.validate(t.props).map((p) => `${label}: ${p}`);
}

export function notifyList(t: Task): string[] {
  if (!t.notify) return [];
  return typeof t.notify === 'string' ? [t.notify] : [...t.notify];
}
