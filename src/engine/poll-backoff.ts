/** The first pause of a polling loop (seconds): then doubled each attempt up to the loop's interval. */
export const FIRST_POLL_PAUSE_SECONDS = 0.1;

/**
 * Pauses between the attempts of a host-side polling loop (a `wait` step, a health gate): the first attempt at once,
 * then 0.1 s, doubling, until the interval, which every later pause keeps — e.g. interval 1: `0.1 0.2 0.4 0.8 1`.
 * A check that passes a moment after a restart costs a fraction of a second instead of a whole interval; a check that
 * keeps failing polls at its interval as before. The shell loop takes the words in turn and keeps the last
 * (`rig_pause` in the apply prelude).
 */
export function pollPauses(intervalSeconds: number): string {
  return pollPauseList(intervalSeconds).join(' ');
}

/** The same pauses as numbers (seconds); the last one repeats. */
export function pollPauseList(intervalSeconds: number): number[] {
  const interval = Math.max(FIRST_POLL_PAUSE_SECONDS, intervalSeconds);
  const out: number[] = [];
  for (let p = FIRST_POLL_PAUSE_SECONDS; p < interval; p *= 2) out.push(Number(p.toFixed(1)));
  out.push(Math.round(interval * 1000) / 1000);
  return out;
}

/**
 * Shell: sleep the next pause of `$rig_pz` (a list from pollPauses), dropping it unless it is the last. Constant text.
 * The variable is the caller's (each gate loop runs in its own subshell, so each has its own list).
 */
export const PAUSE_FUNCTION = String.raw`rig_pause() { rig_pd=\${rig_pz%% *}; case $rig_pz in *' '*) rig_pz=\${rig_pz#* } ;; esac; sleep "$rig_pd"; }`.replace(/\\\$/g, '$');
