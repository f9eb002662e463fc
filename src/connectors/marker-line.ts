/**
 * Whether stdout, as received so far, ends with a whole line equal to `marker`: a held script prints its marker last
 * and then waits for more input, so the marker is at the end of the output when it matters.
 */
export function endsWithMarkerLine(chunks: readonly Buffer[], marker: string): boolean {
  const line = Buffer.from(`\n${marker}\n`);
  let tail = Buffer.alloc(0);
  for (let i = chunks.length - 1; i >= 0 && tail.length < line.length; i--) tail = Buffer.concat([chunks[i]!, tail]);
  if (tail.length >= line.length) return tail.subarray(tail.length - line.length).equals(line);
  return Buffer.concat([Buffer.from('\n'), tail]).equals(line); // the whole output is the marker line
}
