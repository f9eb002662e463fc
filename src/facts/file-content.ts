import { FileTooLargeError, InternalError } from '../errors.ts';
import type { FileFact } from './fact-request.ts';
import { MAX_CONTENT_BYTES } from './gather-script.ts';

/**
 * The bytes of a gathered regular file. Every module that reads or edits a host file's content goes through here,
 * so a file whose content the gather did not transfer (larger than MAX_CONTENT_BYTES) is never mistaken for an empty
 * one: it is a FILE_TOO_LARGE error naming the file, raised at plan time before anything changes.
 */
export function getFileContent(fact: FileFact, path: string): Buffer {
  if (!fact.exists || fact.type !== 'file') throw new InternalError(`${path} is not a regular file; its content cannot be read`);
  if (fact.contentOmitted) {
    throw new FileTooLargeError(`${path} is too large to read (${fact.size} bytes; rig reads file contents up to ${MAX_CONTENT_BYTES} bytes)`, {
      file: path, hint: 'manage the whole file with the file or copy module (they compare by sha256), or shrink it',
    });
  }
  if (fact.content === undefined) {
    if (fact.size === 0) return Buffer.alloc(0);
    throw new InternalError(`content of ${path} was not gathered (the module did not request it in facts())`);
  }
  return fact.content;
}
