import { PlaybookError } from '../errors.ts';
import type { Task } from '../modules/module.ts';
import { defaultTaskName, flattenTasks, type LoadedPlaybook } from './load-playbook.ts';

/** `--tags` / `--skip-tags`, as lists (comma-separated on the command line). */
export interface TagSelection {
  /** @default ['all'] */
  readonly tags?: readonly string[];
  readonly skipTags?: readonly string[];
}

/** Split repeatable comma-separated options: `--tags a,b --tags c` → [a, b, c]. */
export function parseTagList(values: readonly string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  return values.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
}

/**
 * Does a task with these tags (its own and its play's) run? Ansible's Taggable.evaluate_tags: `always` runs unless
 * skipped by name; `never` runs only when one of its tags is asked for by name; `all`, `tagged` and `untagged` select
 * by kind.
 */
export function taskSelected(taskTags: readonly string[], selection: TagSelection): boolean {
  const tags = new Set(taskTags.length ? taskTags : ['untagged']);
  const untagged = taskTags.length === 0;
  const only = new Set(selection.tags?.length ? selection.tags : ['all']);
  const skip = new Set(selection.skipTags ?? []);
  const meets = (s: Set<string>) => [...tags].some((t) => s.has(t));
  let run: boolean;
  if (tags.has('always')) run = true;
  else if (only.has('all') && !tags.has('never')) run = true;
  else if (meets(only)) run = true;
  else run = only.has('tagged') && !untagged && !tags.has('never');
  if (run && skip.size) {
    if (skip.has('all')) { if (!tags.has('always') || skip.has('always')) run = false; }
    else if (meets(skip)) run = false;
    else if (skip.has('tagged') && !untagged) run = false;
  }
  return run;
}

function checkTags(value: unknown, where: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || t === '')) {
    throw new PlaybookError(`${where}: tags must be a list of non-empty strings, got ${JSON.stringify(value)}`, { hint: "e.g. tags: ['certs', 'always']" });
  }
  return value as string[];
}

/** A task's tags: its play's and its own. */
export function effectiveTags(playTags: readonly string[], task: Task): string[] {
  return [...new Set([...playTags, ...(task.tags ?? [])])];
}

/** The playbook with only the selected tasks (handlers stay: they run when notified). Nothing selected: unchanged. */
export function selectTasks(loaded: LoadedPlaybook, selection: TagSelection): LoadedPlaybook {
  const pb = loaded.playbook;
  const plays = pb.plays.map((play, pi) => {
    const playTags = checkTags(play.tags, `play ${pi + 1}`);
    const tasks = flattenTasks(play.tasks).filter((t, ti) => taskSelected(effectiveTags(playTags, { ...t, tags: checkTags(t.tags, `play ${pi + 1} › task ${ti + 1}`) }), selection));
    return { ...play, tasks };
  });
  return { ...loaded, playbook: { ...pb, plays } };
}

/** What `--list-tasks` / `--list-hosts` print per play (as ansible-playbook does): its hosts after --limit, its tasks. */
export interface PlayListing {
  /** Per play (by index), the names of its hosts. @default not listed */
  readonly hosts?: ReadonlyArray<readonly string[]>;
  /** @default false */
  readonly tasks?: boolean;
}

/** `--list-tasks` / `--list-hosts`: each play, its hosts and its selected tasks with their tags, like ansible-playbook. */
export function renderTaskList(loaded: LoadedPlaybook, selection: TagSelection, listing: PlayListing = { tasks: true }): string {
  const selected = selectTasks(loaded, selection).playbook;
  const lines = [`playbook: ${loaded.path}`];
  selected.plays.forEach((play, pi) => {
    const playTags = checkTags(play.tags, `play ${pi + 1}`);
    lines.push('', `  play #${pi + 1} (${play.hosts}): ${play.name ?? play.hosts}\tTAGS: [${playTags.join(', ')}]`);
    const hosts = listing.hosts?.[pi];
    if (hosts) lines.push(`    pattern: ['${play.hosts}']`, `    hosts (${hosts.length}):`, ...hosts.map((h) => `      ${h}`));
    if (!listing.tasks) return;
    if (hosts) lines.push('');
    lines.push('    tasks:');
    for (const t of flattenTasks(play.tasks)) lines.push(`      ${t.name ?? defaultTaskName(t)}\tTAGS: [${effectiveTags(playTags, t).join(', ')}]`);
  });
  return lines.join('\n');
}
