import { quoteShell } from '../text/shell-quote.ts';

/**
 * How a running host script is told to stop after its current step, without giving up the one-round-trip apply:
 * the apply script tests for a stop marker, `<state>/runs/<run>/stop`, before each step (a `[ -e ]`, no round trip);
 * on an interrupt the controller creates that marker over the same SSH connection (a second channel, one short
 * round trip per host with a script in flight). The script then prints `I <next-step>`, journals
 * `interrupted before <id>`, releases the run's lock and exits 5. The marker lives in the run's root-only (0700)
 * journal directory, so no other user on the host can stop (or un-stop) a run.
 */
export const STOP_CHECK_FUNCTION = String.raw`rig_stopq() { [ -e "$RIG_RUN/stop" ] || return 0; printf 'I %s\n' "$1"; rig_jlog "interrupted before $1"; rig_unlock; exit 5; }`;

/** Exit status of an apply script that stopped at the marker. */
export const STOPPED_EXIT_CODE = 5;

/** Shell line that checks the marker before step `id` (inside an apply script). */
export function stopCheckLine(id: string): string {
  return `rig_stopq ${quoteShell(id)}`;
}

/** Script that creates the stop marker of `runId` under the host's state directory (HOST_STATE_DIR); prints `Z ok`. */
export function buildStopScript(runId: string, stateDir: string): string {
  return `umask 077\nmkdir -p -- ${quoteShell(`${stateDir}/runs/${runId}`)} && : > ${quoteShell(`${stateDir}/runs/${runId}/stop`)} && echo 'Z ok'\n`;
}
