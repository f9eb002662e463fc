/** SSH handshakes allowed in flight at once in a run. @default 32 */
export const DEFAULT_MAX_HANDSHAKES = 32;

/**
 * Limits how many SSH handshakes are in flight at once, across every connector of a run (the connections themselves
 * stay open; only the handshake waits for a slot). A host's ConnectTimeout counts from the start of its own
 * handshake, not from the start of the run: with 200 handshakes started together, the hosts' sshd processes (or a
 * bastion's, or a small controller's CPU) serve them all at once and every one of them finishes late, so some hit the
 * timeout although nothing is wrong. Like OpenSSH's MaxStartups on the server side.
 */
export class HandshakeGate {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number = DEFAULT_MAX_HANDSHAKES) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`handshake limit ${limit}: expected a positive integer`);
  }

  /** Run `handshake` when a slot is free; the slot is released when it settles. */
  async run<T>(handshake: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await handshake();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.#active--;
    }
  }

  /** Handshakes in flight now. */
  get active(): number { return this.#active; }
}
