import type { GateCheck } from './gate-types.ts';

/**
 * Probes as argv run on a host (constant scripts, values as positional parameters — never spliced into shell text).
 * Each prints one line saying what it saw and exits 0 when the gate passes.
 */
const APISERVER = String.raw`u=\${1%/}; p=$2; shift 2
if [ "$p" = auto ]; then
  c=$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' "$@" "$u/readyz") || exit 1
  if [ "$c" != 404 ]; then echo "GET $u/readyz: HTTP $c"; [ "$c" = 200 ]; exit; fi
  p=/healthz
fi
c=$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' "$@" "$u$p") || exit 1
echo "GET $u$p: HTTP $c"; [ "$c" = 200 ]`.replace(/\\\$/g, '$');

/** The agent's last request logged since the gate started ($RIG_GATE_SINCE, ISO ms) answered 200 (at `server`). */
const AGENT_LOG = String.raw`log=$1; server=$2
[ -r "$log" ] || { echo "cannot read $log"; exit 1; }
tail -n 400 "$log" | awk -v since="$RIG_GATE_SINCE" -v server="$server" '
  $2 == "starting" || $2 == "stopping" { last = ""; next }
  $2 == "GET" { last = $0 }
  END {
    if (last == "") { print "no request logged since the agent (re)started"; exit 1 }
    split(last, f, " ")
    if (substr(f[1], 1, 23) < since) { print "no request logged since the gate started (last: " last ")"; exit 1 }
    if (server != "" && index(f[3], server) != 1) { print "last request not to " server ": " last; exit 1 }
    if (f[4] != "status=200") { print "last request failed: " last; exit 1 }
    print last
  }'`;

const HTTP_200 = `c=$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' "$1") || exit 1; echo "GET $1: HTTP $c"; [ "$c" = 200 ]`;

const TCP = String.raw`command -v bash >/dev/null || { echo 'bash is needed for a tcp gate on the host'; exit 2; }
if timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; then st=open; else st=closed; fi
echo "$1:$2 $st"; [ "$st" = "$3" ]`;

/** The argv that probes `check` once on a host. */
export function hostProbeArgv(check: GateCheck): string[] {
  switch (check.kind) {
    case 'apiserver': {
      const tls = [...(check.caFile ? ['--cacert', check.caFile] : []), ...(check.clientCert ? ['--cert', check.clientCert] : []), ...(check.clientKey ? ['--key', check.clientKey] : [])];
      return ['sh', '-c', APISERVER, 'sh', check.url ?? '', check.path ?? 'auto', ...tls];
    }
    case 'agent':
      if (check.healthUrl) return ['sh', '-c', HTTP_200, 'sh', check.healthUrl];
      return ['sh', '-c', AGENT_LOG, 'sh', check.log ?? `/var/log/${check.service}.log`, check.server ?? ''];
    case 'tcp': return ['sh', '-c', TCP, 'sh', check.host, String(check.port), check.open === false ? 'closed' : 'open'];
    case 'command': return [...check.argv];
  }
}
