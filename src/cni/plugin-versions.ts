/**
 * The CNI spec's VERSION command as a gathered fact: `CNI_COMMAND=VERSION <bin>/<type>` prints
 * `{"cniVersion":…,"supportedVersions":[…]}`. Which plugins to ask is only known from the config files on the host, so
 * the fact is one fixed read-only script (no string built from host data): it collects the `"type": "…"` values of the
 * given config files (plus explicitly named types), runs VERSION once per type with that file on stdin, and prints
 * one line per type: `V <type> <exit code|missing> <base64 of stdout+stderr>`. The planner parses the files properly
 * and only trusts the answers of the types it finds there.
 */
import { CniError } from '../errors.ts';

/** A plugin type that may name a file in the plugin directory (what the script asks; others are never run). */
export const PLUGIN_TYPE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const VERSION_SCRIPT = `bin=$1; shift
seen=' '
for a in "$@"; do
  case $a in
    type:*) ts=\${a#type:}; in=/dev/null ;;
    *) [ -f "$a" ] || continue
       in=$a
       ts=$(tr '\\n\\r\\t' '   ' < "$a" | grep -o '"type"[[:space:]]*:[[:space:]]*"[A-Za-z0-9_.-]*"' | sed 's/.*"\\([A-Za-z0-9_.-]*\\)"$/\\1/') ;;
  esac
  for t in $ts; do
    case $t in .*|'') continue ;; esac
    case $seen in *" $t "*) continue ;; esac
    seen="$seen$t "
    if [ -f "$bin/$t" ] && [ -x "$bin/$t" ]; then
      out=$(CNI_COMMAND=VERSION CNI_PATH="$bin" timeout 20 "$bin/$t" < "$in" 2>&1); rc=$?
      printf 'V %s %s %s\\n' "$t" "$rc" "$(printf %s "$out" | base64 | tr -d '\\n')"
    else
      printf 'V %s missing -\\n' "$t"
    fi
  done
done
exit 0`;

/** Key of the VERSION fact for one directory and set of files. */
export const versionFactKey = (bin: string, sources: readonly string[]): string => `cni-version:${bin}:${sources.join(',')}`;

/**
 * argv of the fact: `sources` are config file paths on the host (absent ones are skipped) or `type:<name>` for a
 * plugin named by the operator (asked with an empty stdin).
 */
export function versionFactArgv(bin: string, sources: readonly string[]): string[] {
  return ['sh', '-c', VERSION_SCRIPT, 'rig-cni-version', bin, ...sources];
}

/** What one plugin said to VERSION. */
export type PluginVersionAnswer =
  | { readonly kind: 'ok'; readonly supportedVersions: readonly string[]; readonly cniVersion?: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly detail: string };

/** Parse the fact's stdout into type → answer. */
export function parseVersionFact(stdout: string): Map<string, PluginVersionAnswer> {
  const out = new Map<string, PluginVersionAnswer>();
  for (const line of stdout.split('\n')) {
    const m = /^V (\S+) (\S+) (\S+)$/.exec(line);
    if (!m) continue;
    const [, type, rc, b64] = m as unknown as [string, string, string, string];
    if (rc === 'missing') { out.set(type, { kind: 'missing' }); continue; }
    const text = b64 === '-' ? '' : Buffer.from(b64, 'base64').toString('utf8');
    out.set(type, parseVersionAnswer(text, Number(rc)));
  }
  return out;
}

const shorten = (s: string): string => { const t = s.trim().replace(/\s+/g, ' '); return t.length > 200 ? `${t.slice(0, 197)}…` : t || '(no output)'; };

/** One plugin's VERSION output and exit code → its answer. */
export function parseVersionAnswer(text: string, exitCode: number): PluginVersionAnswer {
  if (exitCode !== 0) return { kind: 'failed', detail: `exit ${exitCode}: ${shorten(text)}` };
  let v: unknown;
  try { v = JSON.parse(text); } catch { return { kind: 'failed', detail: `not JSON: ${shorten(text)}` }; }
  const sv = (v as { supportedVersions?: unknown })?.supportedVersions;
  if (!Array.isArray(sv) || sv.length === 0 || !sv.every((x) => typeof x === 'string' && isCniVersion(x))) {
    return { kind: 'failed', detail: `no supportedVersions list: ${shorten(text)}` };
  }
  const cv = (v as { cniVersion?: unknown }).cniVersion;
  return { kind: 'ok', supportedVersions: sv as string[], ...(typeof cv === 'string' ? { cniVersion: cv } : {}) };
}

/** `0.2.0`, `1.0.0`: the shape of a CNI spec version. */
export const isCniVersion = (v: unknown): v is string => typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v);

/** Compare two CNI versions numerically (0.10.0 > 0.9.0). */
export function compareCniVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i]! !== pb[i]!) return pa[i]! - pb[i]!;
  return 0;
}

/** The answer of `type`, or a CniError naming the plugin and directory when it did not answer. */
export function requireSupportedVersions(answers: ReadonlyMap<string, PluginVersionAnswer>, type: string, bin: string): readonly string[] {
  const a = answers.get(type);
  if (!a) throw new CniError(`plugin ${type} was not asked for its versions (its "type" was not found by the gather)`, { hint: 'write "type": "<name>" on one line of the config' });
  if (a.kind === 'missing') throw new CniError(`plugin ${type} is not in ${bin} (no executable ${bin}/${type})`, { hint: `install the plugin or set cni_bin_dir to where ${type} is` });
  if (a.kind === 'failed') throw new CniError(`plugin ${bin}/${type} does not answer CNI_COMMAND=VERSION: ${a.detail}`, { hint: 'check the plugin binary on the node; nothing was changed' });
  return a.supportedVersions;
}
