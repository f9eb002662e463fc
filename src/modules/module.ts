import type { Change } from '../core/change.ts';
import type { FactRequest, HostFacts } from '../facts/fact-request.ts';
import type { Host, Inventory } from '../inventory/types.ts';

/** What a module sees while planning one task on one host. */
export interface TaskContext {
  readonly host: Host;
  /** Variables: inventory (merged, Ansible precedence) < playbook vars < play vars < extra vars (-e). */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Human task path for messages, e.g. `play "masters" › task 3 "set apiserver flags"`. */
  readonly taskPath: string;
  /** Project root: `templates/` and relative `src` files are resolved against it. */
  readonly projectRoot: string;
  /** The whole inventory (like Ansible's `groups` / `hostvars`), e.g. to find the master's address. */
  readonly inventory?: Inventory;
}

/** Changes to make, or why nothing is needed. */
export type PlanResult =
  | { readonly changes: readonly Change[] }
  | {
    readonly noop: string;
    /**
     * A decision the operator should see in `rig plan` without -v (e.g. "this node's plugin supports the version:
     * left alone"), rather than the routine "already as wanted". @default false
     */
    readonly notable?: boolean;
  };

/**
 * A module plans, never executes: `facts` says what it must read on the host, `plan` turns facts into Changes.
 * Both are pure (no I/O on hosts; `plan` may read controller-side files such as templates and the PKI directory).
 * Errors are thrown as RigError subclasses; the engine adds host and task to them.
 */
export interface Module<P> {
  readonly name: string;
  /** Every problem with the props, each prefixed with its prop path (`mode: must be an octal string`). */
  validate(props: P): string[];
  facts(props: P, ctx: TaskContext): FactRequest[];
  plan(props: P, facts: HostFacts, ctx: TaskContext): PlanResult;
}

/** Options common to every task, like Ansible's task keywords. */
export interface TaskOptions {
  /** Shown in plan, progress and recap. @default the module name and its main prop */
  readonly name?: string;
  /** Skip the task on hosts where this returns false. Sees merged vars, host and gathered OS facts. */
  readonly when?: (ctx: WhenContext) => boolean;
  /** Handler names to notify when this task changes something. */
  readonly notify?: string | readonly string[];
  /** Run with sudo. @default the play's / host's become */
  readonly become?: boolean;
  /** Tags for `--tags`/`--skip-tags` (Ansible's rules; `always` and `never` are special). @default [] */
  readonly tags?: readonly string[];
}

export interface WhenContext extends TaskContext {
  readonly facts: Pick<HostFacts, 'os'>;
}

/** Props may depend on the host: give a function of the context. */
export type PropsInput<P> = P | ((ctx: TaskContext) => P);

export interface Task<P = any> extends TaskOptions {
  readonly module: Module<P>;
  readonly props: PropsInput<P>;
}

/** Build a task factory for a module: `file({ path, content }, { name, notify })`. */
export function defineModule<P>(module: Module<P>): ((props: PropsInput<P>, options?: TaskOptions) => Task<P>) & { readonly module: Module<P> } {
  const factory = (props: PropsInput<P>, options: TaskOptions = {}): Task<P> => ({ ...options, module, props });
  return Object.assign(factory, { module });
}

/** Resolve props for a host. */
export function resolveProps<P>(input: PropsInput<P>, ctx: TaskContext): P {
  return typeof input === 'function' ? (input as (c: TaskContext) => P)(ctx) : input;
}
