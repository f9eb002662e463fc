/**
 * The one POSIX quoting helper. Every value interpolated into a shell script goes through `quoteShell`;
 * scripts are otherwise built from constant text. Never concatenate raw values into a command.
 */
export function quoteShell(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote each element of an argv and join with spaces: a safe command line. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteShell).join(' ');
}
