import type { CommandModule } from 'yargs';
import { UserError } from '../../common/errors.js';

/** A placeholder for a command whose issue has not landed yet: listed in --help, says so when run. */
export function notYet(command: string, describe: string): CommandModule {
  return {
    command,
    describe,
    handler: () => {
      throw new UserError(`\`xfc ${command.split(' ')[0]}\` is not implemented yet.`);
    },
  };
}
