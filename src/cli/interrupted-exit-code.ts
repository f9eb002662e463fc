/** Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;
