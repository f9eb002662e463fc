import { createInterface } from 'node:readline';
import { countChanges, type Plan } from '../engine/plan-types.ts';

/** `apply`/`rollback` ask before changing anything only when a person is there: stdin and stdout are terminals. */
export function wantsConfirmation(opts: { readonly yes?: boolean }, input: { readonly isTTY?: boolean } = process.stdin, output: { readonly isTTY?: boolean } = process.stdout): boolean {
  return opts.yes !== true && input.isTTY === true && output.isTTY === true;
}

/**
 * "Apply these 3 changes on 2 hosts? (yes/no) " ("Roll back …" for a rollback), or undefined when the plan changes
 * nothing (nothing to ask).
 */
export function describeConfirmation(plan: Plan, verb: 'Apply' | 'Roll back' = 'Apply'): string | undefined {
  const counts = plan.hosts.map((h) => countChanges(h)).filter((n) => n > 0);
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return undefined;
  return `${verb} ${n === 1 ? 'this 1 change' : `these ${n} changes`} on ${counts.length} host${counts.length === 1 ? '' : 's'}? (yes/no) `;
}

/**
 * Ask the question on the terminal; true only for the answer `yes` (Terraform's rule). Ctrl-C, Ctrl-D, an empty
 * line or anything else is a no.
 */
export function askConfirmation(question: string, input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: true });
  return new Promise((resolve) => {
    let answered = false;
    const finish = (yes: boolean): void => { if (answered) return; answered = true; rl.close(); resolve(yes); };
    rl.on('SIGINT', () => { output.write('\n'); finish(false); });
    rl.on('close', () => finish(false));
    rl.question(question, (answer) => finish(answer.trim() === 'yes'));
  });
}
