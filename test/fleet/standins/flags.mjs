// Shared by the stand-in Kubernetes daemons (plain Node, no dependencies: they run inside fleet hosts).
// Reads `/etc/default/<name>` the way a sysv init script + the real daemon do: the `NAME_OPTS="..."` assignment is
// unquoted like sh would, the value is split on whitespace (as `$NAME_OPTS` unquoted on the daemon's command line),
// then each word is a flag: `--k=v`, `--k v`, or a bare `--k` (true).
import { appendFileSync, readFileSync } from 'node:fs';

/** Append one line to a log file; never throws (a stand-in must not die because /var/log is odd). */
export function appendLog(path, text) {
  try { appendFileSync(path, `${new Date().toISOString()} ${String(text).replace(/\s*\n\s*/g, ' ')}\n`); } catch { /* ignore */ }
}

/** The shell value of `name=...` in `text` (last assignment wins), or undefined. Handles '...', "..." (which may span
 *  lines, as in sh), backslash escapes and bare words. */
export function readShellAssignment(text, name) {
  let found;
  const re = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== name) continue;
    const { value, end } = unquoteShellWord(text, re.lastIndex);
    found = value;
    re.lastIndex = end;
  }
  return found;
}

function unquoteShellWord(s, start) {
  let out = '';
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && s[i + 1] === '\n') i += 2;
        else if (s[i] === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) { out += s[i + 1]; i += 2; } else { out += s[i]; i++; }
      }
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      out += s.slice(i + 1, end === -1 ? s.length : end);
      i = end === -1 ? s.length : end + 1;
    } else if (c === '\\' && i + 1 < s.length) { if (s[i + 1] !== '\n') out += s[i + 1]; i += 2; }
    else if (c === ' ' || c === '\t' || c === '\n' || c === ';') break;
    else { out += c; i++; }
  }
  return { value: out, end: i };
}

/** Split a flag string into `{ flags: Map<name, value>, problems: string[] }`. Names are without the dashes. */
export function parseFlags(words) {
  const flags = new Map();
  const problems = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const m = /^--?([A-Za-z0-9][A-Za-z0-9_-]*)(?:=(.*))?$/.exec(w);
    if (!m) { problems.push(`ignoring argument ${JSON.stringify(w)} (not a flag)`); continue; }
    if (m[2] !== undefined) flags.set(m[1], m[2]);
    else if (i + 1 < words.length && !words[i + 1].startsWith('-')) flags.set(m[1], words[++i]);
    else flags.set(m[1], 'true');
  }
  return { flags, problems };
}

/** Read `/etc/default/<daemon>` and parse variable `optsVar`. Never throws: problems are returned. */
export function readDaemonFlags(daemon, optsVar) {
  const path = `/etc/default/${daemon}`;
  let text = '';
  const problems = [];
  try { text = readFileSync(path, 'utf8'); } catch (e) { problems.push(`cannot read ${path}: ${e.message}`); }
  const value = readShellAssignment(text, optsVar);
  if (value === undefined && text) problems.push(`${path} does not set ${optsVar}`);
  const words = (value ?? '').split(/\s+/).filter(Boolean);
  const parsed = parseFlags(words);
  return { flags: parsed.flags, problems: [...problems, ...parsed.problems], words };
}

/** Read a file for TLS options; returns `{ value }` or `{ error }`. */
export function readPem(path, what) {
  try { return { value: readFileSync(path) }; } catch (e) { return { error: `cannot read ${what} ${path}: ${e.code ?? e.message}` }; }
}
