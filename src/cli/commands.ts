/** The CLI's commands: what `main` dispatches and `usage.ts` documents, one list. */
export const COMMANDS = ['collect', 'jobs', 'show', 'compare', 'runs', 'validate', 'db'] as const;

export type Command = (typeof COMMANDS)[number];

export function isCommand(name: string | undefined): name is Command {
  return (COMMANDS as readonly (string | undefined)[]).includes(name);
}

/** Whether the arguments ask for help: `--help` or `-h` anywhere before a `--`. */
export function asksForHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
