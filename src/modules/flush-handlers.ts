import { defineModule, type Task } from './module.ts';

/**
 * `flushHandlers()`: a marker task that runs the handlers notified so far here, instead of at the end of the play
 * (Ansible's `meta: flush_handlers`), e.g. to restart a daemon before a later task waits for it. It takes no props.
 *
 * @plan Nothing of its own (a no-op `handlers flushed`, shown with `-v`); the handlers it runs appear as their own
 * steps at this point of the plan, on hosts where a notifying task changed something.
 *
 * @rollback Nothing of its own; the handlers it ran are re-run like any others once the files are back.
 *
 * @example
 * flushHandlers()
 */
const flushHandlersModule = defineModule<Record<string, never>>({
  name: 'flush-handlers',
  validate: () => [],
  facts: () => [],
  plan: () => ({ noop: 'handlers flushed' }),
});

export function flushHandlers(): Task {
  return flushHandlersModule({}, { name: 'flush handlers' });
}

export const FLUSH_HANDLERS = 'flush-handlers';
