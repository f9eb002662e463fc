/**
 * Notices written to stderr while a command runs (a signal's "stopping after the steps in flight"). While the live
 * view draws on the terminal it takes them, so a notice lands above its redrawn area instead of under it (where
 * the next redraw would erase it and leave stale rows). No imports: main.ts loads it at startup.
 */
type NoticeWriter = (text: string) => void;
let writer: NoticeWriter | undefined;

/** The live view registers itself while it draws; `undefined` to stop. */
export function setNoticeWriter(w: NoticeWriter | undefined): void { writer = w; }

export function writeNotice(text: string): void {
  if (writer) writer(text);
  else process.stderr.write(text);
}
