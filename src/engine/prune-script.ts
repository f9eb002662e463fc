import { InternalError } from '../errors.ts';
import { quoteShell } from '../text/shell-quote.ts';
import { HOST_STATE_DIR } from './apply-script.ts';

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]+$/;

/**
 * Host-side part of `rig prune`: remove the journal directories of the given runs (/var/lib/rig/runs/<id>, root's
 * own 0700 tree: no other user can plant anything in it). Prints `P id` (removed), `A id` (absent), `F id` (could
 * not remove), then `Z ok`. Run ids are checked against the id format before they reach the script.
 */
export function buildPruneScript(runIds: readonly string[], stateDir = HOST_STATE_DIR): string {
  for (const id of runIds) if (!RUN_ID.test(id)) throw new InternalError(`not a run id: ${JSON.stringify(id)}`);
  return [
    'set -u',
    `rig_runs=${quoteShell(`${stateDir}/runs`)}`,
    `for rig_id in ${runIds.map(quoteShell).join(' ')}; do`,
    '  rig_d="$rig_runs/$rig_id"',
    '  if [ -d "$rig_d" ] && [ ! -L "$rig_d" ]; then rm -rf -- "$rig_d" && echo "P $rig_id" || echo "F $rig_id"; else echo "A $rig_id"; fi',
    'done',
    "echo 'Z ok'",
    '',
  ].join('\n');
}

export interface PruneScriptResult {
  readonly removed: readonly string[];
  readonly absent: readonly string[];
  readonly failed: readonly string[];
  /** The script ran to its end. */
  readonly complete: boolean;
}

export function parsePruneOutput(stdout: string): PruneScriptResult {
  const lines = stdout.split('\n');
  const ids = (tag: string) => lines.filter((l) => l.startsWith(`${tag} `)).map((l) => l.slice(2));
  return { removed: ids('P'), absent: ids('A'), failed: ids('F'), complete: lines.includes('Z ok') };
}
