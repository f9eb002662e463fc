import type { GateInput } from '../gates/gate-types.ts';
import type { Task } from '../modules/module.ts';
import type { PlayOption } from './play-options.ts';

export { fromVar } from './play-options.ts';

/** Nested lists are allowed so that task groups from `tasks/` can be spread or inserted as arrays. */
export type TaskList = ReadonlyArray<Task | TaskList>;

export interface PlayDefinition {
  /** @default the hosts pattern */
  readonly name?: string;
  /** Ansible host pattern: `masters`, `workers`, `all:!masters`. */
  readonly hosts: string;
  /**
   * Rolling batches like Ansible: a number, a percentage ('30%'), or a list of them; or computed from variables:
   * `fromVar('worker_serial', '50%')` or `({ vars }) => ...` (src/playbook/play-options.ts: evaluated with each
   * host's vars, inventory and -e included; must give one value for the play). @default all hosts at once
   */
  readonly serial?: PlayOption<number | string | ReadonlyArray<number | string>>;
  /** Abort the play when more than this percentage of a batch failed (a value, fromVar or a function, like serial). @default 0 (any failure stops the play) */
  readonly maxFailPercentage?: PlayOption<number>;
  /**
   * Run the handlers notified so far on a host even when a later task fails there, as Ansible's force_handlers
   * (also `rig apply --force-handlers`). A value, fromVar or a function, like serial. @default false
   */
  readonly forceHandlers?: PlayOption<boolean>;
  /** Play variables (override inventory vars). */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Run tasks with sudo (a value, fromVar or a function, like serial). @default host's ansible_become */
  readonly become?: PlayOption<boolean>;
  /**
   * Variables whose names look secret (password, token, secret, key, … — the rule `rig inventory` masks by) but whose
   * values may be shown in this play's diffs and errors. @default [] (every such value is masked)
   */
  readonly publicVars?: readonly string[];
  /** Tags every task of the play inherits (src/playbook/select-tags.ts). @default [] */
  readonly tags?: readonly string[];
  readonly tasks: TaskList;
  /** Handlers: tasks with a `name`, run once per host at the end of the play (or at flushHandlers) if notified. */
  readonly handlers?: readonly Task[];
  /**
   * Health gates (src/gates/gate-types.ts): after each batch's changes and handlers, every gate is polled for each
   * host of the batch that changed until it passes or times out. A failed gate reverts that batch from the journal
   * (unless `--no-revert`) and stops the run. A host with nothing to change evaluates no gate. @default []
   */
  readonly gates?: readonly GateInput[];
}

export interface PlaybookDefinition {
  readonly name: string;
  /** Playbook-wide variables (below play vars). */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Secret-looking variable names whose values may be shown, in every play (see PlayDefinition.publicVars). @default [] */
  readonly publicVars?: readonly string[];
  readonly plays: readonly PlayDefinition[];
}

export interface Playbook extends PlaybookDefinition {
  /** Marker so the loader can check the default export. */
  readonly __rigPlaybook: true;
}

export function definePlaybook(definition: PlaybookDefinition): Playbook {
  return { ...definition, __rigPlaybook: true };
}
