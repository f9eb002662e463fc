/**
 * Pods stuck in creation because of the CNI error (the last step of the repair, docs/cni-galaxy-repair.md): kubelet
 * keeps retrying a sandbox whose network setup failed; the pod stays `Pending` with its containers waiting in
 * `ContainerCreating`, and a `FailedCreatePodSandBox` event carries the plugin's message. Deleting such a pod lets its
 * controller create a new one, which gets the repaired config. Pure: the caller gives `kubectl get … -o json` output.
 */
import { CniError } from '../errors.ts';

/** Event messages that are the CNI failure (Galaxy's version error, and kubelet's generic CNI wording). */
export const CNI_ERROR_RE = /does not support config version|networkPlugin cni failed|failed to (?:set ?up|setup) network|plugin type="[^"]*" failed/;

export interface StuckPod { readonly namespace: string; readonly name: string; readonly message: string }

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const items = (text: string, what: string): Obj[] => {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new CniError(`kubectl get ${what} -o json printed no JSON: ${(e as Error).message}`); }
  if (!isObj(v) || !Array.isArray(v['items'])) throw new CniError(`kubectl get ${what} -o json: no "items" list`);
  return v['items'].filter(isObj);
};
const meta = (o: Obj): Obj => (isObj(o['metadata']) ? o['metadata'] : {});

/** Pods in ContainerCreating with a FailedCreatePodSandBox event whose message is the CNI error (sorted, unique). */
export function selectStuckPods(podsJson: string, eventsJson: string, errorRe: RegExp = CNI_ERROR_RE): StuckPod[] {
  const creating = new Set<string>();
  for (const p of items(podsJson, 'pods')) {
    const status = isObj(p['status']) ? p['status'] : {};
    const waiting = (Array.isArray(status['containerStatuses']) ? status['containerStatuses'] : []).filter(isObj)
      .some((c) => isObj(c['state']) && isObj(c['state']['waiting']) && c['state']['waiting']['reason'] === 'ContainerCreating');
    if (status['phase'] === 'Pending' && waiting) creating.add(`${String(meta(p)['namespace'] ?? 'default')}/${String(meta(p)['name'])}`);
  }
  const out = new Map<string, StuckPod>();
  for (const e of items(eventsJson, 'events')) {
    const obj = isObj(e['involvedObject']) ? e['involvedObject'] : {};
    const key = `${String(obj['namespace'] ?? 'default')}/${String(obj['name'])}`;
    const message = typeof e['message'] === 'string' ? e['message'] : '';
    if (obj['kind'] !== 'Pod' || e['reason'] !== 'FailedCreatePodSandBox' || !errorRe.test(message) || !creating.has(key) || out.has(key)) continue;
    out.set(key, { namespace: String(obj['namespace'] ?? 'default'), name: String(obj['name']), message });
  }
  return [...out.values()].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
