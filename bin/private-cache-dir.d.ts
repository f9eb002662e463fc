/**
 * `<rig's per-user cache>/<sub>`, resolved and private to this user (created when missing), or undefined when any
 * directory or symlink on the way could be changed by another user (see bin/private-cache-dir.js).
 */
export function privateCacheDir(sub: string, env?: NodeJS.ProcessEnv): string | undefined;
