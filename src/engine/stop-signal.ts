/**
 * A graceful stop, like Terraform's: the first request (SIGINT/SIGTERM, wired in src/cli/main.ts) makes the engine
 * start nothing new and ask every host script in flight to stop after its current step; a second request forces:
 * the listeners registered with `onForce` run synchronously (journal the run as interrupted) and the CLI exits at once.
 */
export class StopSignal {
  #requested = false;
  #graceful = false;
  #forced = false;
  readonly #onRequest = new Set<() => void>();
  readonly #onForce = new Set<() => void>();

  /** A command that changes hosts (apply, rollback) is running: the first signal stops gracefully, not at once. */
  get graceful(): boolean { return this.#graceful; }
  /** Called by apply and rollback before they take locks. */
  enableGraceful(): void { this.#graceful = true; }

  /** A stop was requested: start nothing new. */
  get requested(): boolean { return this.#requested; }
  /** A second stop was requested: the process is about to exit. */
  get forced(): boolean { return this.#forced; }

  /** First signal: call every request listener once. */
  request(): void {
    if (this.#requested) return;
    this.#requested = true;
    for (const f of [...this.#onRequest]) { try { f(); } catch { /* a listener must not stop the others */ } }
  }

  /**
   * Second signal: call every force listener (synchronous work only: the process exits right after). Returns how
   * many there were: none means no run was being journaled (a stop while facts were still being gathered).
   */
  force(): number {
    this.#requested = true;
    if (this.#forced) return 0;
    this.#forced = true;
    const listeners = [...this.#onForce];
    for (const f of listeners) { try { f(); } catch { /* keep going: we are exiting */ } }
    return listeners.length;
  }

  /** Run `f` when a stop is requested (at once if it already was). Returns a function that removes it. */
  onRequest(f: () => void): () => void {
    if (this.#requested) f();
    this.#onRequest.add(f);
    return () => { this.#onRequest.delete(f); };
  }

  /** Run `f` (synchronously) on a forced stop. Returns a function that removes it. */
  onForce(f: () => void): () => void {
    this.#onForce.add(f);
    return () => { this.#onForce.delete(f); };
  }
}
