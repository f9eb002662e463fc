/** `<rig's per-user cache>/<sub>`, created private to this user, or undefined when it cannot be. */
export function privateCacheDir(sub: string, env?: NodeJS.ProcessEnv): string | undefined;
