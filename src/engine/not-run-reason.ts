/**
 * Why a host's steps in a play never started. `aborted`: a batch failed beyond the play's maxFailPercentage, so
 * nothing after it ran; `interrupted`: a stop was requested (SIGINT/SIGTERM); `failed-earlier`: the host itself
 * failed or became unreachable in an earlier play.
 */
export interface NotRunReason {
  readonly cause: 'aborted' | 'interrupted' | 'failed-earlier';
  readonly message: string;
}

/** The reason given to every host after a batch failed beyond maxFailPercentage. */
export function describeAbort(play: { readonly index: number; readonly name: string; readonly maxFailPercentage: number }, batch: number, failed: number, size: number): NotRunReason {
  return {
    cause: 'aborted',
    message: `aborted: ${failed} of ${size} host${size === 1 ? '' : 's'} of play ${play.index + 1} "${play.name}" batch ${batch + 1} failed, above maxFailPercentage ${play.maxFailPercentage}%`,
  };
}

export const INTERRUPTED_REASON: NotRunReason = { cause: 'interrupted', message: 'interrupted: a stop was requested before it started' };

export function describeFailedEarlier(play: number, status: 'failed' | 'unreachable'): NotRunReason {
  return { cause: 'failed-earlier', message: `the host ${status === 'unreachable' ? 'became unreachable' : 'failed'}${play >= 0 ? ` in play ${play + 1}` : ''}` };
}
