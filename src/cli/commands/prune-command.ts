/**
 * `rig prune --keep N | --older-than DURATION`: remove old runs' journals on the controller (<state>/runs/<id>) and
 * on the hosts (/var/lib/rig/runs/<id>) — they hold pre-images of every file the runs replaced, private keys
 * included. Shown like a plan first (`--check` stops there: exit 2 when something would go), then done.
 */
import type { Command } from 'commander';
import { JournalStore, type RunMeta } from '../../changelog/journal-store.ts';
import { planPrune, type PruneDecision } from '../../changelog/plan-prune.ts';
import { hostsLeftToRollBack } from '../../changelog/rollback-target.ts';
import { describeRunStatus } from '../../changelog/run-liveness.ts';
import { jsonResult } from '../json-result.ts';
import { isRigError, UsageError } from '../../errors.ts';
import { hostBecomes } from '../../engine/become.ts';
import type { Plan } from '../../engine/plan-types.ts';
import { mapLimit } from '../../engine/gather-facts.ts';
import { buildPruneScript, parsePruneOutput } from '../../engine/prune-script.ts';
import type { Inventory } from '../../inventory/types.ts';
import { parseDuration } from '../../text/parse-duration.ts';
import { addRunOptions, createSession, loadInventoryOption, type CommonOptions } from '../common-options.ts';
import type { SetExitCode } from './index.ts';

interface PruneOptions extends CommonOptions {
  readonly keep?: string;
  readonly olderThan?: string;
  readonly check?: boolean;
  readonly force?: boolean;
}

interface HostOutcome { readonly host: string; readonly ok: boolean; readonly removed: readonly string[]; readonly error?: string }

const out = (s: string): void => { process.stdout.write(s.endsWith('\n') ? s : `${s}\n`); };

function renderDecisions(decisions: readonly PruneDecision[], stateDir: string): string {
  const gone = decisions.filter((d) => d.remove);
  const lines = [`prune: ${gone.length} of ${decisions.length} run${decisions.length === 1 ? '' : 's'} to remove (${stateDir}/runs on the controller, /var/lib/rig/runs on their hosts)`];
  for (const d of decisions) {
    const m = d.meta;
    lines.push(`  ${d.remove ? '-' : '='} ${m.id} ${m.kind.padEnd(8)} ${m.status.padEnd(11)} ${m.hosts.join(',')}: ${d.remove ? '' : 'kept, '}${d.reason}`);
  }
  return lines.join('\n');
}

export function register(program: Command, setExitCode: SetExitCode): void {
  addRunOptions(program.command('prune')
    .description('remove old runs on the controller and their hosts (never the last run of a host; a run not fully rolled back only with --force)')
    .option('--keep <n>', 'keep the N newest runs')
    .option('--older-than <duration>', 'remove runs started longer ago than this (30d, 12h, 2w…)')
    .option('--check', 'only show what would be removed (exit 2 if something would be)')
    .option('--force', 'also remove applies that are not fully rolled back (their undo goes with them)'))
    .action(async (opts: PruneOptions) => {
      if (opts.keep === undefined && opts.olderThan === undefined) throw new UsageError('rig prune needs --keep N or --older-than DURATION', { hint: 'e.g. rig prune --keep 20, or rig prune --older-than 30d --check' });
      const keep = opts.keep === undefined ? undefined : Number(opts.keep);
      if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0)) throw new UsageError(`--keep ${opts.keep}: expected a whole number ≥ 0`);
      const olderThanMs = opts.olderThan === undefined ? undefined : parseDuration(opts.olderThan, '--older-than');
      const store = new JournalStore(opts.stateDir);
      const metas = store.listRuns();
      const plans = new Map<string, Plan>();
      const views = metas.map((meta) => {
        const run = store.load(meta.id);
        plans.set(meta.id, run.plan);
        return {
          meta, running: describeRunStatus(meta, () => run.events).status === 'running',
          leftToRollBack: meta.kind === 'apply' ? hostsLeftToRollBack(metas, run) : [],
        };
      });
      const decisions = planPrune(views, {
        ...(keep !== undefined ? { keep } : {}), ...(olderThanMs !== undefined ? { olderThanMs, olderThanText: opts.olderThan! } : {}),
        now: Date.now(), force: opts.force === true,
      });
      const gone = decisions.filter((d) => d.remove);
      if (!opts.json) out(renderDecisions(decisions, opts.stateDir));
      const json = (extra: Record<string, unknown>, code: number): void => {
        if (opts.json) jsonResult.write({ command: 'prune', exitCode: code, runs: decisions.map((d) => ({ id: d.meta.id, kind: d.meta.kind, remove: d.remove, reason: d.reason })), ...extra });
      };
      if (opts.check || !gone.length) {
        const code = opts.check && gone.length ? 2 : 0;
        json({ check: opts.check === true }, code);
        if (!opts.json && !gone.length) out('nothing to prune');
        setExitCode(code);
        return;
      }
      // Hosts first: a run's controller journal goes only once every host of it has lost its copy, so a prune cut
      // short by an unreachable host is finished by running it again.
      const byHost = new Map<string, RunMeta[]>();
      for (const d of gone) for (const h of d.meta.hosts) byHost.set(h, [...(byHost.get(h) ?? []), d.meta]);
      const inventory = await loadInventoryOption({ ...opts, inventory: opts.inventory?.length ? opts.inventory : [...plans.get(gone[0]!.meta.id)!.inventory] });
      const session = createSession(opts);
      let outcomes: HostOutcome[];
      try {
        outcomes = await mapLimit([...byHost], session.forks, (entry) => pruneHost(session, inventory, (id) => plans.get(id)!, entry[0], entry[1]));
      } finally {
        await session.close();
      }
      const failedHosts = new Set(outcomes.filter((o) => !o.ok).map((o) => o.host));
      const removed: string[] = [];
      const keptHere: string[] = [];
      for (const d of gone) {
        if (d.meta.hosts.some((h) => failedHosts.has(h))) { keptHere.push(d.meta.id); continue; }
        store.removeRun(d.meta.id);
        removed.push(d.meta.id);
      }
      const code = failedHosts.size ? 1 : 0;
      if (opts.json) {
        json({ removed, keptOnController: keptHere, hosts: outcomes }, code);
      } else {
        for (const o of outcomes) out(o.ok ? `${o.host}: removed ${o.removed.length} run journal${o.removed.length === 1 ? '' : 's'}` : `${o.host}: ${o.error}`);
        out(`controller: removed ${removed.length} run${removed.length === 1 ? '' : 's'}${keptHere.length ? `; kept ${keptHere.join(', ')} (a host of it was not pruned: run rig prune again once it is back)` : ''}`);
      }
      setExitCode(code);
    });
}

async function pruneHost(session: ReturnType<typeof createSession>, inventory: Inventory, planOf: (id: string) => Plan, name: string, runs: readonly RunMeta[]): Promise<HostOutcome> {
  let host;
  try { host = inventory.getHost(name); } catch {
    return { host: name, ok: false, removed: [], error: 'not in the inventory: its copies are left (pass the inventory that has it with -i)' };
  }
  // As the runs reached the host (their plays' become).
  const become = runs.some((m) => { const plan = planOf(m.id); return hostBecomes(plan.plays, host, plan.hosts.find((h) => h.host === name)); });
  try {
    const res = await session.connector(host).runScript(buildPruneScript(runs.map((m) => m.id)), { become });
    const r = parsePruneOutput(res.stdout.toString());
    if (!r.complete || r.failed.length) {
      return { host: name, ok: false, removed: r.removed, error: `could not remove ${r.failed.join(', ') || 'the run journals'}: ${res.stderr.trim().slice(0, 300) || `exit ${res.exitCode}`}` };
    }
    return { host: name, ok: true, removed: r.removed };
  } catch (e) {
    return { host: name, ok: false, removed: [], error: `${isRigError(e) ? e.code : 'UNREACHABLE'}: ${(e as Error).message}` };
  }
}
