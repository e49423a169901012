/** The CLI's commands: what `main` dispatches and `usage.ts` documents, one list. */
export const COMMANDS = ['collect', 'jobs', 'show', 'compare', 'runs', 'validate', 'db'] as const;

export type Command = (typeof COMMANDS)[number];

export function isCommand(name: string | undefined): name is Command {
  return (COMMANDS as readonly (string | undefined)[]).includes(name);
}
