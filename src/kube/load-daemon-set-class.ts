/**
 * kubernetes-models' DaemonSet class (with ajv and the Kubernetes API schemas), which validates the DaemonSet that
 * src/kube/kong-host-ports.ts writes. From source it is imported with this module. The prebuilt CLI never runs this
 * file: scripts/build-cli.mjs puts in its place a loader that requires one bundled CommonJS copy on first use
 * (dist/kube-daemon-set.cjs): as the package's ~100 ES modules it costs ≈ 70 ms of CPU, which every start of the CLI
 * that validates no Kong manifest (`rig plan` of any playbook imports 'rig') never needs (issue 21).
 */
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';

export function loadDaemonSetClass(): typeof DaemonSet {
  return DaemonSet;
}
