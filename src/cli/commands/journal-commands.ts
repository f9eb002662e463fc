import type { Command } from 'commander';
import { prepareRollback, rollbackConflictError } from '../../changelog/rollback-batch.ts';
import { parseSerialOption } from '../../changelog/rollback-order.ts';
import { renderRollbackStopped } from '../render-rollback-stopped.ts';
import { renderRollbackOrder } from '../render-rollback-order.ts';
import { JournalStore } from '../../changelog/journal-store.ts';
import { changedHosts, pickRollbackTarget, undoneBy } from '../../changelog/rollback-target.ts';
import { redactDeep, redactText } from '../../core/secret.ts';
import { type PlanStep } from '../../engine/plan-types.ts';
import { applyRun } from '../../engine/run-playbook.ts';
import { addRunOptions, createSession, loadInventoryOption, useColor, type CommonOptions } from '../common-options.ts';
import { planToJson, renderPlan } from '../render-plan.ts';
import { collectStats, renderRecap, renderStats } from '../reporter.ts';
import { confirmOrRelease, hostResultJson, releaseLocks, reporterFor, runFailureError } from './run-commands.ts';
import type { SetExitCode } from './index.ts';
import type { StopSignal } from '../../engine/stop-signal.ts';
import { INTERRUPTED_EXIT_CODE } from '../interrupted-exit-code.ts';
import { jsonResult, planFailureError } from '../json-result.ts';
import { planExitCode } from '../exit-codes.ts';
import { renderInterrupted } from '../render-interrupt.ts';
import { describeRunStatus } from '../../changelog/run-liveness.ts';
import { renderJournalGates } from '../render-gates.ts';

interface RollbackOptions extends CommonOptions { readonly check?: boolean; readonly force?: boolean; readonly yes?: boolean; readonly serial?: string }

const out = (s: string): void => { process.stdout.write(s.endsWith('\n') ? s : s + '\n'); };

export function register(program: Command, setExitCode: SetExitCode, stop: StopSignal): void {
  addRunOptions(program.command('rollback')
    .description('undo a run (default: the last one): restore files byte for byte, remove created files, re-run its handlers')
    .argument('[run]', 'run id (or a unique prefix); see `rig log`')
    .option('--check', 'only show what the rollback would do (exit 2 if something would change)')
    .option('--force', 'restore files even if they changed since the run; with --break-lock, break a live run\'s lock too')
    .option('-y, --yes', 'do not ask for confirmation (asked only when stdin and stdout are a terminal)')
    .option('--serial <n>', 'undo each play in batches of this size (N, N% or a list) instead of the run\'s own batches'))
    .action(async (runArg: string | undefined, opts: RollbackOptions) => {
      if (!opts.check) stop.enableGraceful();
      const t0 = Date.now();
      const color = useColor(opts);
      const serial = opts.serial !== undefined ? parseSerialOption(opts.serial) : undefined;
      const store = new JournalStore(opts.stateDir);
      const run = runArg ? store.load(runArg) : pickRollbackTarget(store);
      const runs = store.listRuns();
      const inventory = await loadInventoryOption({ ...opts, inventory: opts.inventory?.length ? opts.inventory : [...run.plan.inventory] });
      const limited = opts.limit ? new Set(inventory.selectHosts(opts.limit).map((h) => h.name)) : undefined;
      // Only hosts the run reached (an intent was journaled) can need undoing.
      // A host that an earlier rollback of this run finished is left alone (a partial rollback is finished by
      // running the same rollback again: only what is left is touched).
      const candidates = changedHosts(run).filter((n) => !limited || limited.has(n));
      const finished = new Map(candidates.flatMap((n) => { const by = undoneBy(runs, run.meta.id, n); return by ? [[n, by.id] as const] : []; }));
      const names = candidates.filter((n) => !finished.has(n));
      if (!opts.json) {
        for (const [n, by] of finished) process.stderr.write(`${n}: already rolled back by ${by}, left alone\n`);
        if (finished.size && names.length) process.stderr.write(`rolling back what is left of run ${run.meta.id}: ${names.join(', ')}\n`);
      }
      if (!names.length) {
        const msg = candidates.length ? `run ${run.meta.id} is already rolled back on every host` : `run ${run.meta.id} changed nothing: nothing to roll back`;
        if (opts.json) jsonResult.write({ command: 'rollback', rollbackOf: run.meta.id, exitCode: 0, message: msg, alreadyRolledBack: Object.fromEntries(finished) });
        else out(msg);
        setExitCode(0);
        return;
      }
      const reporter = reporterFor(opts);
      const session = createSession(opts, reporter.onEvent);
      const hosts = new Map(names.map((n) => [n, inventory.getHost(n)]));
      try {
        // The run's plays in reverse, each in its batches last first (or --serial), then its waits.
        const prepared = await prepareRollback({
          run, hostNames: names, hosts, session, force: opts.force === true, lock: !opts.check, breakLock: opts.breakLock === true,
          earlierAttempts: runs.filter((r) => r.kind === 'rollback' && r.rollbackOf === run.meta.id).flatMap((r) => { try { return [store.load(r.id)]; } catch { return []; } }),
          ...(serial !== undefined ? { serial } : {}),
        });
        const { plan, runId, locked } = prepared;
        await reporter.flush();
        if (prepared.note && !opts.json) process.stderr.write(`note: ${prepared.note}\n`);
        if (prepared.conflicts.length) {
          await releaseLocks(session, inventory, locked, runId, plan);
          throw rollbackConflictError(run.meta.id, prepared.conflicts);
        }
        if (opts.check) {
          const code = planExitCode(plan);
          const error = planFailureError(plan);
          if (opts.json) jsonResult.write({ command: 'rollback', check: true, exitCode: code, ...(error ? { error } : {}), rollbackOf: run.meta.id, plan: planToJson(plan, false) });
          else out(`${renderPlan(plan, { color })}\n${renderRollbackOrder(plan, prepared.note)}`);
          setExitCode(code);
          return;
        }
        if (stop.requested) {
          const released = await releaseLocks(session, inventory, locked, runId, plan);
          const msg = `interrupted before anything was restored: nothing changed, ${released}`;
          if (opts.json) jsonResult.write({ command: 'rollback', rollbackOf: run.meta.id, exitCode: INTERRUPTED_EXIT_CODE, interrupted: true, error: { code: 'INTERRUPTED', message: msg, where: {} } });
          else out(msg);
          setExitCode(INTERRUPTED_EXIT_CODE);
          return;
        }
        if (!opts.json) out(`${renderPlan(plan, { color })}\n${renderRollbackOrder(plan, prepared.note)}`);
        if (!(await confirmOrRelease(opts, plan, stop, () => releaseLocks(session, inventory, locked, runId, plan), { command: 'rollback', runId, color }))) {
          setExitCode(1);
          return;
        }
        const result = await applyRun(plan, session, { runId, kind: 'rollback', store, locked, hosts, rollbackOf: run.meta.id, stop });
        await reporter.flush();
        const code = result.interrupted ? INTERRUPTED_EXIT_CODE : result.failed ? 1 : 0;
        const stats = collectStats(session);
        if (opts.json) {
          jsonResult.write({
            command: 'rollback', runId, rollbackOf: run.meta.id, exitCode: code, ...(prepared.note ? { note: prepared.note } : {}),
            ...(result.stoppedAt ? { stoppedAt: result.stoppedAt } : {}), ...(result.interrupted ? { interrupted: true } : {}), ...runFailureError(result), plan: planToJson(plan, false),
            hosts: result.outcomes.map(hostResultJson),
            ...(opts.stats ? { stats } : {}),
          });
        } else {
          out(renderRecap(result, color));
          if (result.stoppedAt) out(renderRollbackStopped(plan, result, run.meta.id));
          out(result.interrupted ? renderInterrupted(plan, result, `rig rollback ${run.meta.id} (again)`)
            : `rollback ${runId} of run ${run.meta.id} journaled; undo it with: rig rollback ${runId}`);
          if (opts.stats) out(renderStats(stats, Date.now() - t0));
        }
        setExitCode(code);
      } finally {
        await reporter.flush(); // an error thrown mid-run: the view ends before the error is printed
        await session.close();
      }
    });

  program.command('log')
    .description('list recorded runs (newest last)')
    .option('--state-dir <dir>', 'controller-side journal directory', '.rig')
    .option('--project <file>', 'project file (default: the nearest rig.yaml above the current directory)')
    .option('--json', 'machine-readable output')
    .action((opts: { stateDir: string; json?: boolean }) => {
      const store = new JournalStore(opts.stateDir);
      // A run whose controller process is gone is shown as died, never as running.
      const runs = store.listRuns().map((r) => ({ ...r, ...describeRunStatus(r, () => store.load(r.id).events) }));
      if (opts.json) { out(JSON.stringify(runs, null, 2)); return; }
      if (!runs.length) { out(`no runs recorded in ${opts.stateDir}`); return; }
      out('RUN                      KIND      STATUS      STARTED                   HOSTS  CHANGES  FAILED  NOT-RUN  PLAYBOOK');
      for (const r of runs) {
        const recap = Object.values(r.recap ?? {});
        // Changes made, as the plan and the recap count them (isChangeStep); FAILED and NOT-RUN count hosts.
        const changed = recap.reduce((n, x) => n + x.changed, 0);
        const failed = recap.filter((x) => x.failed > 0 || x.unreachable).length;
        const notRun = recap.filter((x) => x.notRun && !(x.failed > 0 || x.unreachable)).length;
        out(`${r.id.padEnd(24)} ${(r.kind + (r.rollbackOf ? '' : '')).padEnd(9)} ${r.status.padEnd(11)} ${r.startedAt.padEnd(25)} ${String(r.hosts.length).padStart(5)}  ${String(changed).padStart(7)}  ${String(failed).padStart(6)}  ${String(notRun).padStart(7)}  ${r.playbook}${r.rollbackOf ? ` (rollback of ${r.rollbackOf})` : ''}${r.diedState ? ` [${r.diedState}]` : ''}`);
      }
    });

  program.command('show')
    .description("print a run's changes as diffs (secrets masked) and what happened on each host")
    .argument('[run]', 'run id or prefix (default: the last run)')
    .option('--state-dir <dir>', 'controller-side journal directory', '.rig')
    .option('--project <file>', 'project file (default: the nearest rig.yaml above the current directory)')
    .option('--json', 'machine-readable output')
    .option('--no-color', 'disable colors')
    .action((runArg: string | undefined, opts: { stateDir: string; json?: boolean; color?: boolean }) => {
      const run = new JournalStore(opts.stateDir).load(runArg);
      // The journal's copies of pre-images; never a secret file's.
      const before = (host: string, step: PlanStep): Buffer | undefined => {
        const c = step.change;
        if ((c.kind === 'write-file' || c.kind === 'remove-path') && c.secret) return undefined;
        return run.preImage(host, step.id);
      };
      if (opts.json) {
        out(JSON.stringify(redactDeep({ meta: { ...run.meta, ...describeRunStatus(run.meta, () => run.events) }, plan: planToJson(run.plan, false, { before }), events: run.events }), null, 2));
        return;
      }
      const color = opts.color !== false && process.stdout.isTTY === true;
      const st = describeRunStatus(run.meta, () => run.events);
      out(`run ${run.meta.id} (${run.meta.kind}${run.meta.rollbackOf ? ` of ${run.meta.rollbackOf}` : ''}) ${st.status}${st.diedState ? ` [${st.diedState}]` : ''}, started ${run.meta.startedAt}, playbook ${run.meta.playbook}`);
      out(renderPlan(run.plan, { color, before }));
      for (const e of run.events) if (e.t === 'host-end' && e.status !== 'ok') out(redactText(`${e.host}: play ${e.play + 1} ${e.status}${e.message ? `: ${e.message}` : ''}`));
      for (const [host, r] of Object.entries(run.meta.recap ?? {})) if (r.notRun) out(redactText(`${host}: not run: ${r.notRun}`));
      const gates = renderJournalGates(run.events, color);
      if (gates) out(gates);
    });
}
