import { isDeepStrictEqual } from 'node:util';
import {
  applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, printParseErrorCode,
  type FormattingOptions, type Node, type ParseError as JsoncParseError,
} from 'jsonc-parser';
import { ParseError, ValidationError } from '../errors.ts';
import { lineAt } from './shell-word.ts';

/**
 * Format-preserving JSON edits (CNI configs and the like) with jsonc-parser: only the edited members change, the
 * rest of the text (key order, spacing, line endings) stays; new members are indented like the file (detected from
 * its first indented line: tabs or N spaces, default 2). Strict JSON: comments and trailing commas are errors.
 */
export type JsonPath = readonly (string | number)[];
export type JsonEdit = { readonly set: JsonPath; readonly value: unknown } | { readonly remove: JsonPath };

const HINT = 'fix the JSON (e.g. `python3 -m json.tool FILE` shows the first error) or remove the file and let rig create it';

/** Parse strict JSON into a jsonc-parser tree; ParseError quoting the line of the first error. */
export function parseJsonTree(text: string, file?: string): Node {
  const errors: JsoncParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first || !tree) {
    const at = first?.offset ?? 0;
    const l = lineAt(text, Math.min(at, text.length));
    throw new ParseError(`broken JSON (${first ? printParseErrorCode(first.error) : 'empty'}) at line ${l.line}: ${l.text}`, {
      ...(file ? { file } : {}), line: l.line, hint: HINT,
    });
  }
  return tree;
}

/** The file's indentation and line ending, for the members jsonc-parser inserts. */
export function detectJsonFormatting(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
}

/** A value that JSON can hold exactly (no undefined, functions, NaN, Infinity, class instances other than arrays). */
function jsonProblem(v: unknown, at: string): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${at}: ${v} cannot be written as JSON`;
  if (Array.isArray(v)) { for (const [i, x] of v.entries()) { const p = jsonProblem(x, `${at}[${i}]`); if (p) return p; } return undefined; }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) { const p = jsonProblem(x, `${at}.${k}`); if (p) return p; }
    return undefined;
  }
  return `${at}: a ${typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v} cannot be written as JSON`;
}

const showPath = (p: JsonPath): string => (p.length ? p.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('') : '(root)');

/**
 * Apply `edits` in order and return the new text (unchanged when every edit is already true). A `set` creates
 * missing parent objects; an array index may replace an element or append one (index = length). `remove` of an
 * absent member does nothing. ParseError for broken input, ValidationError for an edit that cannot apply.
 */
export function editJson(text: string, edits: readonly JsonEdit[], file?: string): string {
  const where = file ? { file } : {};
  const formattingOptions = detectJsonFormatting(text);
  let out = text;
  parseJsonTree(text, file);
  for (const e of edits) {
    const tree = parseJsonTree(out, file);
    const path = 'set' in e ? e.set : e.remove;
    const node = findNodeAtLocation(tree, [...path]);
    if (!('set' in e)) {
      if (!node || path.length === 0) continue;
      out = applyEdits(out, modify(out, [...path], undefined, { formattingOptions }));
      continue;
    }
    const problem = jsonProblem(e.value, showPath(path));
    if (problem) throw new ValidationError([problem], { ...where, hint: 'give plain JSON values (strings, finite numbers, booleans, null, arrays, objects)' });
    if (node && isDeepStrictEqual(getNodeValue(node), e.value)) continue;
    assertSettable(tree, path, where);
    if (node && path.length && (e.value === null || typeof e.value !== 'object')) {
      // A scalar replaces a value in place: nothing else on its line is touched.
      out = out.slice(0, node.offset) + JSON.stringify(e.value) + out.slice(node.offset + node.length);
      continue;
    }
    const appended = node ? undefined : appendToContainer(out, tree, path, e.value, formattingOptions);
    // Otherwise jsonc-parser writes the member with the file's indentation (and formats the lines it touches).
    out = appended ?? applyEdits(out, modify(out, [...path], e.value, { formattingOptions }));
  }
  if (out !== text) parseJsonTree(out, file);
  return out;
}

/** Every parent on the path must be an object (string key) or an array (index ≤ length), or be absent (created). */
function assertSettable(tree: Node, path: JsonPath, where: { file?: string }): void {
  for (let i = 0; i < path.length; i++) {
    const parent = findNodeAtLocation(tree, [...path.slice(0, i)]);
    const seg = path[i]!;
    const fail = (why: string): never => {
      throw new ValidationError([`${showPath(path)}: ${showPath(path.slice(0, i))} ${why}`], { ...where, hint: 'point the path at an object member or an array element that exists (or index = length to append)' });
    };
    if (!parent) {
      // Created from here on: an object for a name, a new array for an index (which must then be 0).
      if (typeof seg === 'number' && seg !== 0) fail(`does not exist: index ${seg} would be past the end of a new array`);
      continue;
    }
    if (parent.type === 'object' && typeof seg !== 'string') fail('is an object: use a member name, not an index');
    if (parent.type === 'array') {
      if (typeof seg !== 'number' || !Number.isInteger(seg) || seg < 0) fail('is an array: use an index');
      if ((seg as number) > (parent.children?.length ?? 0)) fail(`has ${parent.children?.length ?? 0} elements: index ${seg} is past the end`);
    }
    if (parent.type !== 'object' && parent.type !== 'array') fail(`is a ${parent.type}, not an object or array`);
  }
}

/**
 * A new member after the last one of an existing, non-empty object (or a new element at the end of an array),
 * written on its own line with the last member's indentation when members are one per line, else after `, `.
 * Nothing else in the file changes. Undefined when this shape does not apply (jsonc-parser then does it).
 */
function appendToContainer(text: string, tree: Node, path: JsonPath, value: unknown, f: FormattingOptions): string | undefined {
  const parent = findNodeAtLocation(tree, [...path.slice(0, -1)]);
  const seg = path[path.length - 1];
  const last = parent?.children?.[parent.children.length - 1];
  if (!parent || !last) return undefined;
  if (parent.type === 'array' ? seg !== parent.children!.length : parent.type !== 'object' || typeof seg !== 'string') return undefined;
  const lineStart = text.lastIndexOf('\n', last.offset - 1) + 1;
  const lead = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const ownLines = text.slice(parent.offset, last.offset).includes('\n') && lineStart + lead.length === last.offset;
  const eol = f.eol ?? '\n';
  const unit = f.insertSpaces ? ' '.repeat(f.tabSize ?? 2) : '\t';
  const body = ownLines ? JSON.stringify(value, null, unit).replace(/\n/g, eol + lead) : JSON.stringify(value);
  const member = parent.type === 'object' ? `${JSON.stringify(seg)}: ${body}` : body;
  const at = last.offset + last.length;
  return `${text.slice(0, at)},${ownLines ? eol + lead : ' '}${member}${text.slice(at)}`;
}
