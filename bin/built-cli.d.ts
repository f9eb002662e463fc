/** Is the prebuilt CLI (dist/) present and built from the sources beside it (by date, else by content)? */
export function isBuiltCliFresh(root: string): boolean;
/** SHA-256 (hex) over the build's inputs: src/ and the files outside it that go into dist/. */
export function hashBuildInputs(root: string): string;
