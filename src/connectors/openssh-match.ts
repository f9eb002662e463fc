/**
 * OpenSSH's match.c, shared by the ssh_config resolver and the known_hosts matcher: one implementation of the
 * wildcard rules both files follow.
 */

/** match.c match_pattern: `*` and `?` wildcards, case-sensitive, whole string (greedy with backtracking to the last `*`). */
export function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || (pattern[pi] !== '*' && pattern[pi] === s[si]))) { si++; pi++; }
    else if (pi < pattern.length && pattern[pi] === '*') { star = pi++; mark = si; }
    else if (star >= 0) { pi = star + 1; si = ++mark; }
    else return false;
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** match.c match_pattern_list: comma-separated patterns, `!` negates; 1 match, 0 none, -1 negated match. */
export function matchPatternList(s: string, list: string, lower: boolean): -1 | 0 | 1 {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    let sub = negated ? raw.slice(1) : raw;
    if (sub.length >= 1023) return 0;
    if (lower) sub = sub.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (matchPattern(s, sub)) { if (negated) return -1; positive = true; }
  }
  return positive ? 1 : 0;
}
