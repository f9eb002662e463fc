/** Is the prebuilt CLI (dist/rig.mjs) present and not older than any file of src/? */
export function isBuiltCliFresh(root: string): boolean;
