import type { TaskContext } from '../modules/module.ts';

/**
 * What a gate checks. Each kind is polled (like the `wait` module) until it passes or its timeout ends.
 * - `apiserver`: GET `/readyz` of a kube-apiserver, or `/healthz` where `/readyz` is not served (old apiservers), over a
 *   URL with a CA and a client certificate, or through a kubeconfig (from the controller only); passes on HTTP 200.
 * - `agent`: a node agent (kubelet, kube-proxy) reaches the apiserver: its last request logged since the gate started
 *   answered 200 (stand-in log lines `<ISO time> GET <url> status=<code>`), to a URL starting with `server` when given;
 *   or its health endpoint `healthUrl` answers 200. On the host only.
 * - `tcp`: a TCP connection to `host:port` opens (`open: true`, the default) or is refused/times out (`open: false`).
 * - `command`: the argv exits 0.
 */
export type GateCheck =
  | {
    readonly kind: 'apiserver';
    /** Base URL, e.g. `https://10.0.0.1:6443`. Give `url` or `kubeconfig`. */
    readonly url?: string;
    /** A kubeconfig file (controller path): its first cluster's server and CA, its first user's client certificate. */
    readonly kubeconfig?: string;
    readonly caFile?: string;
    readonly clientCert?: string;
    readonly clientKey?: string;
    /** @default 'auto' (/readyz, then /healthz when /readyz answers 404) */
    readonly path?: 'auto' | '/readyz' | '/healthz';
  }
  | {
    readonly kind: 'agent';
    /** The agent's name, for messages (`kubelet`). */
    readonly service: string;
    /** Its log. @default `/var/log/<service>.log` (unless healthUrl is given) */
    readonly log?: string;
    /** Or its health endpoint (e.g. `http://127.0.0.1:10248/healthz`). */
    readonly healthUrl?: string;
    /** The agent's requests must go to a URL starting with this (e.g. the secure port). @default any URL */
    readonly server?: string;
  }
  | {
    readonly kind: 'tcp';
    readonly host: string;
    readonly port: number;
    /** true: the port accepts connections; false: it must not. @default true */
    readonly open?: boolean;
  }
  | { readonly kind: 'command'; readonly argv: readonly string[] };

/** A health gate of a play: checked for each host of each batch that changed, after its changes and handlers. */
export interface GateProps {
  /** Shown in the plan, progress, recap and journal. */
  readonly name: string;
  readonly check: GateCheck;
  /** Where the probe runs: on the batch's host, or on the controller. @default 'host' */
  readonly from?: 'host' | 'controller';
  /** Give up after this long (then the batch is reverted unless --no-revert). @default 60 */
  readonly timeoutSeconds?: number;
  /** Longest pause between two attempts, seconds: the first attempt runs at once, then pauses of 0.1 s doubling up to this. @default 1 */
  readonly intervalSeconds?: number;
  /**
   * The check that verifies a revert (the host as before the run): `false` to skip it. @default the same check
   * (for an `agent` gate with `server`: the agent reaches the apiserver at any URL, as the old configuration does)
   */
  readonly afterRevert?: GateCheck | false;
}

/** Gate props, or a function of the host's context (variables, inventory) like task props. */
export type GateInput = GateProps | ((ctx: TaskContext) => GateProps);

/** A gate resolved for one host: plain data in the plan (`HostPlayPlan.gates`) and the journal. */
export interface PlannedGate {
  /** `g<play>.<n>`, unique per host within the run. */
  readonly id: string;
  readonly name: string;
  readonly from: 'host' | 'controller';
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
  readonly check: GateCheck;
  /** null: the revert is not verified by this gate. */
  readonly afterRevert: GateCheck | null;
}

/** One gate evaluation: passed or not, how many attempts, how long (controller clock), the last output when failing. */
export interface GateResult {
  readonly gate: string;
  readonly name: string;
  readonly host: string;
  readonly play: number;
  readonly batch: number;
  /** `apply`: after the batch's changes; `revert`: verifying the revert of a failed batch. */
  readonly phase: 'apply' | 'revert';
  readonly from: 'host' | 'controller';
  /** What was checked (describeGateCheck: the afterRevert check in the `revert` phase). */
  readonly check: string;
  readonly passed: boolean;
  readonly attempts: number;
  readonly ms: number;
  readonly startedAt: string;
  /** Last output of a failing probe (masked). */
  readonly detail?: string;
}

/** One line describing a gate's check, for the plan and messages. */
export function describeGateCheck(c: GateCheck): string {
  switch (c.kind) {
    case 'apiserver': return `apiserver ${c.url ?? `from kubeconfig ${c.kubeconfig}`} ${c.path && c.path !== 'auto' ? c.path : '/readyz (or /healthz)'} answers 200${c.clientCert || c.kubeconfig ? ' with a client certificate' : ''}`;
    case 'agent': return c.healthUrl ? `${c.service} health ${c.healthUrl} answers 200` : `${c.service} reaches ${c.server ? c.server : 'the apiserver'} (${c.log ?? `/var/log/${c.service}.log`})`;
    case 'tcp': return `tcp ${c.host}:${c.port} ${c.open === false ? 'refuses connections' : 'accepts connections'}`;
    case 'command': return `command ${c.argv.join(' ')} exits 0`;
  }
}
