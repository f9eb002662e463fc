import { UsageError } from '../errors.ts';

/**
 * Read one line from the terminal without echo (the password prompt of --ask-become-pass). Refuses when stdin is
 * not a terminal: a password is never read from a pipe behind the operator's back. Ctrl-C aborts (exit 130).
 */
export function promptHidden(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(new UsageError(`${prompt.replace(/:\s*$/, '')} needs a terminal (stdin is not a TTY)`, {
      hint: 'run rig on a terminal, or give ansible_become_password in the inventory or with -e',
    }));
  }
  // Echo off before the prompt shows: whatever is typed once the prompt is visible is never echoed.
  input.setRawMode(true);
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    input.resume();
    const done = (fn: () => void): void => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      fn();
    };
    const onData = (d: Buffer): void => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { done(() => resolve(text)); return; }
        if (ch === '\u0003') { done(() => reject(new UsageError('password prompt interrupted'))); return; }
        if (ch === '\u0004' && text === '') { done(() => resolve(text)); return; }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    input.on('data', onData);
  });
}
