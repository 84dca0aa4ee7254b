import type { Argv } from 'yargs';
import { UsageError } from '../lib/common/errors.js';
import { usernameProblem } from '../lib/common/username.js';

/**
 * One way to name a user in every command: as a positional (`xfc users show alice`, `xfc notify preview alice`,
 * `xfc workflow status scan alice`) or with `--user alice`, whichever a person reaches for first.
 */
export interface UserArguments {
  username?: string;
  user?: string;
}

/** Adds the optional `[username]` positional and the `--user` option; the command's usage must end in `[username]`. */
export function userArgument<T>(yargs: Argv<T>, describe = 'username'): Argv<T & UserArguments> {
  return yargs
    .positional('username', { type: 'string', describe: `${describe} (or --user NAME)` })
    .option('user', { type: 'string', describe: `${describe} (or as a positional)` });
}

/**
 * The username given, checked; a usage error saying how to give it when it is missing or not a valid name. Given
 * both ways (or --user twice), the names must agree.
 */
export function requiredUser(args: object & { username?: unknown; user?: unknown }, command: string): string {
  const all = [args.username, ...(Array.isArray(args.user) ? (args.user as unknown[]) : [args.user])].filter(
    (name) => name !== undefined,
  );
  const distinct = [...new Set(all.map(String))];
  const given = distinct.length > 1 ? distinct : distinct[0];
  if (Array.isArray(given)) {
    throw new UsageError(
      `\`${command}\` takes one user; ${given.map((name) => JSON.stringify(name)).join(' and ')} were given.`,
    );
  }
  const name = given;
  if (name === undefined || name === '')
    throw new UsageError(`\`${command}\` needs a user: \`${command} NAME\` or --user NAME.`);
  const text = String(name);
  const problem = usernameProblem(text);
  if (problem) throw new UsageError(`${JSON.stringify(text)} is not a valid username: it ${problem}.`);
  return text;
}
