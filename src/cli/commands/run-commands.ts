import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { JournalStore, newRunId } from '../../changelog/journal-store.ts';
import { PlanFileError, UsageError } from '../../errors.ts';
import { mapLimit } from '../../engine/gather-facts.ts';
import { hostBecomes } from '../../engine/become.ts';
import { releaseHostLock } from '../../engine/release-host-lock.ts';
import { PLAN_FORMAT, type Plan } from '../../engine/plan-types.ts';
import { applyRun, planRun, type ApplyRunResult, type Session } from '../../engine/run-playbook.ts';
import type { Inventory } from '../../inventory/types.ts';
import { loadPlaybook } from '../../playbook/load-playbook.ts';
import { addRunOptions, createSession, loadInventoryOption, parseExtraVars, useColor, type CommonOptions } from '../common-options.ts';
import { planToJson, renderPlan } from '../render-plan.ts';
import { LiveView } from '../live-view.ts';
import { collectStats, createPlainReporter, renderRecap, renderStats, type Reporter } from '../reporter.ts';
import type { SetExitCode } from './index.ts';
import type { StopSignal } from '../../engine/stop-signal.ts';
import { renderInterrupted } from '../render-interrupt.ts';
import { renderGateSummary } from '../render-gates.ts';
import { renderPendingLeft } from '../render-pending-left.ts';
import { INTERRUPTED_EXIT_CODE } from '../interrupted-exit-code.ts';
import { redactText } from '../../core/secret.ts';
import { jsonResult, planFailureError, type JsonError } from '../json-result.ts';
import { planExitCode } from '../exit-codes.ts';
import { isSavedPlanFile } from '../is-saved-plan-file.ts';
import { askConfirmation, describeConfirmation, wantsConfirmation } from '../confirm-apply.ts';
import { parseTagList, renderTaskList, selectTasks, type TagSelection } from '../../playbook/select-tags.ts';
import { listPlayHosts } from '../../engine/list-play-hosts.ts';

export interface PlanCommandOptions extends CommonOptions {
  readonly out?: string; readonly verbose?: boolean;
  /** --tags / --skip-tags (repeatable, comma-separated), --list-tasks (plan). */
  readonly tags?: string[]; readonly skipTags?: string[]; readonly listTasks?: boolean; readonly listHosts?: boolean;
}

const collectList = (v: string, prev: string[] = []): string[] => [...prev, v];
function addTagOptions(cmd: Command): Command {
  return cmd
    .option('-t, --tags <tags>', 'only tasks with these tags (comma-separated, repeatable; `always` tasks too, `never` tasks only by name)', collectList)
    .option('--skip-tags <tags>', 'leave out tasks with these tags (comma-separated, repeatable)', collectList);
}
const tagSelection = (opts: PlanCommandOptions): TagSelection => {
  const tags = parseTagList(opts.tags);
  const skipTags = parseTagList(opts.skipTags);
  return { ...(tags ? { tags } : {}), ...(skipTags ? { skipTags } : {}) };
};
interface ApplyCommandOptions extends PlanCommandOptions { readonly force?: boolean; readonly yes?: boolean; readonly forceHandlers?: boolean; readonly revert?: boolean }

const out = (s: string): void => { process.stdout.write(s.endsWith('\n') ? s : s + '\n'); };
const err = (s: string): void => { process.stderr.write(s); };


/** The live view on a TTY (src/cli/live-view.ts), plain lines on stderr otherwise, nothing with --json. */
export function reporterFor(opts: CommonOptions): Reporter {
  if (opts.json) return { onEvent: () => undefined, flush: async () => undefined };
  if (process.stdout.isTTY && process.stderr.isTTY && !process.env['CI']) return new LiveView({ out: process.stderr, color: useColor(opts) });
  return createPlainReporter(err);
}

/** Save a plan with everything needed to apply it (contents included): 0600, it may hold secrets. */
function savePlan(plan: Plan, file: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(plan, null, 1), { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function preparePlanInput(playbookFile: string, opts: PlanCommandOptions): Promise<{ inventory: Inventory; input: Parameters<typeof planRun>[0] }> {
  const inventory = await loadInventoryOption(opts);
  const playbook = selectTasks(await loadPlaybook(playbookFile), tagSelection(opts));
  return {
    inventory,
    input: {
      inventory, playbook, projectRoot: opts.projectRoot ?? process.cwd(), extraVars: parseExtraVars(opts.extraVars),
      ...(opts.limit ? { limit: opts.limit } : {}),
    },
  };
}

function writeRetry(stateDir: string, result: ApplyRunResult): void {
  // Every host the run did not finish: failed, unreachable, interrupted, and never started (not run).
  const failed = result.outcomes.filter((o) => o.status === 'failed' || o.status === 'unreachable' || o.status === 'interrupted' || o.status === 'not-run').map((o) => o.host);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, 'retry');
  if (failed.length) writeFileSync(file, failed.join('\n') + '\n');
  else if (existsSync(file)) writeFileSync(file, '');
}

function finishOutput(opts: CommonOptions, session: Session, t0: number, json: Record<string, unknown>, human: string[]): void {
  const stats = collectStats(session);
  if (opts.json) {
    jsonResult.write({ ...json, ...(opts.stats ? { stats } : {}) });
    return;
  }
  for (const h of human) if (h) out(h);
  if (opts.stats) out(renderStats(stats, Date.now() - t0));
}

export function register(program: Command, setExitCode: SetExitCode, stop: StopSignal): void {
  addTagOptions(addRunOptions(program.command('plan')
    .description('dry run: gather facts, show per host what would change as unified diffs (exit 0 none, 2 changes, 1 error, 3/4 a host unreachable: docs/json.md)')
    .argument('<playbook>', 'playbook file (playbooks/*.ts)')
    .option('-o, --out <file>', 'save the plan (JSON, 0600: it holds file contents) for `rig apply FILE`')
    .option('-v, --verbose', 'show unchanged and skipped tasks too')
    .option('--list-tasks', 'list the plays and the tasks --tags/--skip-tags select, with their tags; contact no host')
    .option('--list-hosts', 'list the hosts of each play (its pattern, then --limit); contact no host')))
    .action(async (playbookFile: string, opts: PlanCommandOptions) => {
      if (opts.listTasks || opts.listHosts) {
        const loaded = await loadPlaybook(playbookFile);
        const hosts = opts.listHosts ? listPlayHosts(await loadInventoryOption(opts), loaded, opts.limit) : undefined;
        // masked like every other output: a task name or a play pattern may be built from a secret
        out(redactText(renderTaskList(loaded, tagSelection(opts), { ...(hosts ? { hosts } : {}), tasks: opts.listTasks === true })));
        return;
      }
      const t0 = Date.now();
      const { input } = await preparePlanInput(playbookFile, opts);
      const reporter = reporterFor(opts);
      const session = createSession(opts, reporter.onEvent);
      try {
        const planned = (await planRun(input, session)).plan;
        const selection = tagSelection(opts);
        const plan: Plan = selection.tags || selection.skipTags ? { ...planned, tags: selection } : planned;
        await reporter.flush();
        if (opts.out) savePlan(plan, opts.out);
        const code = planExitCode(plan);
        const error = planFailureError(plan);
        finishOutput(opts, session, t0, { command: 'plan', exitCode: code, ...(error ? { error } : {}), plan: planToJson(plan, false) },
          [renderPlan(plan, { color: useColor(opts), verbose: opts.verbose === true })]);
        setExitCode(code);
      } finally {
        await reporter.flush(); // an error thrown mid-run: the view ends before the error is printed
        await session.close();
      }
    });

  addTagOptions(addRunOptions(program.command('apply')
    .description('plan, then apply and journal the changes (or apply a saved plan exactly); exit 1 if any host failed')
    .argument('<playbook-or-plan>', 'playbook file, or a plan saved by `rig plan --out`')
    .option('-v, --verbose', 'show unchanged and skipped tasks too')
    .option('--force', 'with --break-lock: break the lock even if its holder is alive on this controller')
    .option('-y, --yes', 'do not ask for confirmation (asked only when stdin and stdout are a terminal)')
    .option('--force-handlers', 'run the handlers notified on a host even when a later task fails there (like Ansible\'s; rig.yaml force_handlers)')
    .option('--no-revert', 'when a health gate fails, stop and leave the batch as it is (default: revert the batch from the journal)')))
    .action(async (target: string, opts: ApplyCommandOptions) => {
      stop.enableGraceful();
      const t0 = Date.now();
      const color = useColor(opts);
      const store = new JournalStore(opts.stateDir);
      const reporter = reporterFor(opts);
      const session = createSession(opts, reporter.onEvent);
      try {
        let plan: Plan;
        let runId: string;
        let locked: ReadonlySet<string>;
        let inventory: Inventory;
        if (isSavedPlanFile(target)) {
          plan = readSavedPlan(target);
          inventory = await loadInventoryOption({ ...opts, inventory: opts.inventory?.length ? opts.inventory : [...plan.inventory] });
          runId = newRunId();
          locked = new Set();
        } else {
          const prepared = await preparePlanInput(target, opts);
          inventory = prepared.inventory;
          // A first Ctrl-C while facts are gathered abandons the gathers in flight (nothing is changed yet).
          const gatherStop = new AbortController();
          const unStop = stop.onRequest(() => gatherStop.abort());
          const r = await planRun(prepared.input, session, { lock: true, breakLock: opts.breakLock === true, ...(opts.force ? { force: true } : {}), signal: gatherStop.signal }).finally(unStop);
          await reporter.flush();
          plan = r.plan; runId = r.runId; locked = r.locked;
          if (stop.requested) {
            const released = await releaseLocks(session, inventory, locked, runId, r.plan);
            const msg = `interrupted before anything was applied: nothing changed, ${released}`;
            finishOutput(opts, session, t0, { command: 'apply', runId, exitCode: INTERRUPTED_EXIT_CODE, interrupted: true, error: { code: 'INTERRUPTED', message: msg, where: {} } }, [msg]);
            setExitCode(INTERRUPTED_EXIT_CODE);
            return;
          }
          const broken = plan.hosts.filter((h) => h.error);
          if (broken.length) {
            // Bad input: change nothing anywhere.
            await releaseLocks(session, inventory, locked, runId, r.plan);
            if (!opts.json) out(renderPlan(plan, { color }));
            const msg = `nothing applied: planning failed on ${broken.map((h) => h.host).join(', ')}`;
            finishOutput(opts, session, t0, { command: 'apply', runId, exitCode: 1, error: { ...planFailureError(plan)!, message: msg }, plan: planToJson(plan, false) }, [msg]);
            setExitCode(1);
            return;
          }
        }
        if (!opts.json) out(renderPlan(plan, { color, verbose: opts.verbose === true }));
        if (!(await confirmOrRelease(opts, plan, stop, () => releaseLocks(session, inventory, locked, runId, plan), { command: 'apply', runId, color }))) {
          setExitCode(1);
          return;
        }
        const hosts = new Map(plan.hosts.map((h) => [h.host, inventory.getHost(h.host)]));
        const result = await applyRun(plan, session, { runId, kind: 'apply', store, locked, hosts, stop, revert: opts.revert !== false, ...(opts.forceHandlers ? { forceHandlers: true } : {}) });
        await reporter.flush();
        writeRetry(opts.stateDir, result);
        const code = result.interrupted ? INTERRUPTED_EXIT_CODE : result.failed ? 1 : 0;
        finishOutput(opts, session, t0, {
          command: 'apply', runId, exitCode: code, ...(result.interrupted ? { interrupted: true } : {}), ...runFailureError(result), plan: planToJson(plan, false),
          hosts: result.outcomes.map(hostResultJson),
          ...(result.gates ? { gates: result.gates } : {}),
        }, [renderRecap(result, color), renderGateSummary(result.gates, runId, color), ...[renderPendingLeft(plan, result)].filter(Boolean), result.interrupted
          ? renderInterrupted(plan, result, `rig apply ${target} (the same options)`)
          : `run ${runId} journaled in ${store.stateDir}; undo with: rig rollback ${runId}`]);
        setExitCode(code);
      } finally {
        await reporter.flush(); // an error thrown mid-run: the view ends before the error is printed
        await session.close();
      }
    });
}

/** One host of a `--json` apply/rollback result: status, recap (its `notRun` says why plays never started), error. */
export function hostResultJson(o: ApplyRunResult['outcomes'][number]): Record<string, unknown> {
  return { host: o.host, status: o.status, recap: o.recap, ...(o.error ? { error: { code: o.error.code, message: o.error.message } } : {}), ...(o.notRun ? { notRun: { plays: o.notRun.plays, cause: o.notRun.reason.cause, message: o.notRun.reason.message } } : {}) };
}

/** `{ error }` for a `--json` result of an apply or rollback that did not finish on every host, else `{}`. */
export function runFailureError(result: ApplyRunResult): { error?: JsonError } {
  const bad = result.outcomes.filter((o) => o.status === 'failed' || o.status === 'unreachable' || o.status === 'interrupted' || o.status === 'not-run');
  if (!bad.length && !result.failed && !result.interrupted) return {};
  const code = result.interrupted ? 'INTERRUPTED' : bad.length && bad.every((o) => o.status === 'unreachable') ? 'UNREACHABLE' : 'HOSTS_FAILED';
  const what = bad.map((o) => `${o.host} ${o.status}${o.error ? ` [${o.error.code}]` : o.notRun ? ` (${o.notRun.reason.cause})` : ''}`).join(', ');
  return { error: { code, message: `${bad.length} host${bad.length === 1 ? '' : 's'} did not finish${what ? `: ${what}` : ''}`, where: bad[0] ? { host: bad[0].host } : {}, hint: 'each host\'s own error is in hosts[].error; retry them with --limit @<state-dir>/retry' } };
}

/**
 * The confirmation before apply/rollback changes anything (only on a terminal, see confirm-apply.ts). With --json the
 * plan (not shown on stdout, which holds only the JSON result) and the question go to stderr. On any answer but
 * `yes`: the locks are released, "not applied" is said (with --json: the one JSON object, error NOT_CONFIRMED), false
 * is returned (exit 1), nothing changed.
 */
export async function confirmOrRelease(opts: { readonly yes?: boolean; readonly json?: boolean }, plan: Plan, stop: StopSignal, release: () => Promise<string>, result: { readonly command: 'apply' | 'rollback'; readonly runId: string; readonly color: boolean }): Promise<boolean> {
  const question = describeConfirmation(plan, result.command === 'rollback' ? 'Roll back' : 'Apply');
  if (!question || !wantsConfirmation(opts)) return true;
  if (opts.json) process.stderr.write(`${renderPlan(plan, { color: result.color })}\n`);
  const yes = await askConfirmation(question, process.stdin, opts.json ? process.stderr : process.stdout);
  if (yes && !stop.requested) return true;
  const message = `not applied: nothing changed, ${await release()}`;
  process.stderr.write(`${message}\n`);
  if (opts.json) {
    const error: JsonError = { code: 'NOT_CONFIRMED', message, where: {}, hint: 'answer `yes` to the question, or pass --yes (-y) to apply without asking' };
    jsonResult.write({ command: result.command, runId: result.runId, exitCode: 1, error, plan: planToJson(plan, false) });
  }
  return false;
}

/**
 * Release the locks this run took, as the user that took them (the host's become in `plan`). Returns what to say:
 * "locks released", or which hosts still hold this run's lock and why (a host gone silent), never a false "released".
 */
export async function releaseLocks(session: Session, inventory: Inventory, locked: ReadonlySet<string>, runId: string, plan: Plan): Promise<string> {
  const kept: string[] = [];
  await mapLimit([...locked], session.forks, async (name) => {
    const host = inventory.getHost(name);
    const become = hostBecomes(plan.plays, host, plan.hosts.find((h) => h.host === name));
    const problem = await releaseHostLock(session.connector(host), runId, become);
    if (problem !== undefined) kept.push(`${name} (${problem})`);
  });
  if (!kept.length) return 'locks released';
  return `locks released except on ${kept.sort().join(', ')}: the next run there finds this run's lock stale; --break-lock clears it`;
}

/** Load a saved plan; refuse another format or a plan made from a different version of its playbook. */
export function readSavedPlan(file: string): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  } catch (e) {
    throw new PlanFileError(`cannot read saved plan: ${(e as Error).message}`, { file, hint: 'save a plan with `rig plan PLAYBOOK --out FILE`' });
  }
  if (plan?.format !== PLAN_FORMAT) throw new PlanFileError(`not a rig plan (format ${JSON.stringify(plan?.format)}, expected ${PLAN_FORMAT})`, { file });
  if (existsSync(plan.playbook.path)) {
    const now = createHash('sha256').update(readFileSync(plan.playbook.path)).digest('hex');
    if (now !== plan.playbook.sha256) {
      throw new PlanFileError(`the plan was made from another version of ${plan.playbook.path}`, { file, hint: 'run `rig plan` again and apply the new plan' });
    }
  }
  if (plan.hosts.some((h) => h.error || h.unreachable)) {
    throw new PlanFileError('the saved plan has hosts that failed or were unreachable at plan time', { file, hint: 'fix them and plan again' });
  }
  return plan;
}

export { UsageError };
