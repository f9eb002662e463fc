/**
 * rig's public entry point: `import { definePlaybook, file, template, flags, … } from 'rig'` in playbooks and task
 * groups, in this checkout (package self-reference through package.json `exports`) and in a team's own repository
 * that depends on rig. When rig loads a playbook, the specifier `rig` always resolves to the running rig's own copy of
 * this file (src/playbook/typescript-loader.ts), so the playbook and the engine share one instance of every module.
 */
export { definePlaybook, fromVar, type Playbook, type PlaybookDefinition, type PlayDefinition, type TaskList } from './playbook/types.ts';
export type { PlayOption, PlayOptionContext, VarReference } from './playbook/play-options.ts';
export * from './modules/index.ts';
export {
  defineModule, type Module, type PlanResult, type PropsInput, type Task, type TaskContext, type TaskOptions, type WhenContext,
} from './modules/module.ts';
export { secret, isSecret, type Secret } from './core/secret.ts';
export type { GateCheck, GateInput, GateProps } from './gates/gate-types.ts';
export * from './errors.ts';
export type { Host, Inventory } from './inventory/types.ts';
// Used by the shipped task groups (tasks/).
export { ACCOUNT_NAME } from './text/account-db.ts';
export type { CniPathProps } from './modules/cni-config-paths.ts';
export { transformKongManifest, type KongHostPortsResult } from './kube/kong-host-ports.ts';
