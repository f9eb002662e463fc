import { BECOME_MARKER, SUDO_PROMPT } from './become-command.ts';

const SUDO_OWN_PROMPT = /\[sudo\] password for [^\n:]*: ?/g;

export type BecomeAction =
  | { readonly kind: 'none' }
  /** sudo prompted: write the password (once) and a newline on stdin. */
  | { readonly kind: 'password'; readonly password: string }
  /** sudo let the wrapper run: send the script. */
  | { readonly kind: 'run' }
  /** sudo prompted again after the password (or prompted with no password to give): stop. */
  | { readonly kind: 'refused' };

/**
 * Watches the stderr of a become round trip (`sudo … sh -c 'echo MARKER >&2; exec sh -s'`) until sudo has let the
 * wrapper run. Pure: fed the whole stderr so far, answers what to do next.
 */
export class BecomeGate {
  #prompts = 0;
  #ran = false;
  #answered = 0;
  constructor(private readonly password: string | undefined) {}

  /** BECOME_MARKER was seen: sudo ran the wrapper. */
  get ran(): boolean { return this.#ran; }
  /** sudo asked for a password at least once. */
  get prompted(): boolean { return this.#prompts > 0; }

  feed(stderrSoFar: string): BecomeAction {
    if (this.#ran) return { kind: 'none' };
    const head = stderrSoFar.split(BECOME_MARKER)[0]!;
    // rig's prompt, or sudo's own when sudoers sets passprompt_override (else rig would never answer: a hang).
    this.#prompts = head.split(SUDO_PROMPT).length - 1 + (head.match(SUDO_OWN_PROMPT) ?? []).length;
    if (stderrSoFar.includes(BECOME_MARKER)) { this.#ran = true; return { kind: 'run' }; }
    if (this.#prompts > this.#answered) {
      if (this.password === undefined || this.#answered > 0) return { kind: 'refused' };
      this.#answered++;
      return { kind: 'password', password: this.password };
    }
    return { kind: 'none' };
  }

  /** stderr without sudo's prompts and the wrapper's marker line. */
  strip(stderr: string): string {
    return stderr.replaceAll(SUDO_PROMPT, '').replace(SUDO_OWN_PROMPT, '').replace(`${BECOME_MARKER}\n`, '');
  }
}
