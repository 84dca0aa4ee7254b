/**
 * `xfc notify ...` on its own, for the CLI tests: the command module registered as cli/main.ts registers it, with
 * the same error printing and exit codes, but without loading every other command (and their dependencies).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { notifyCommand } from '../../cli/commands/notify.js';
import { ExitCode, UserError } from '../../lib/common/errors.js';

yargs(hideBin(process.argv))
  .scriptName('xfc')
  .strict()
  .command(notifyCommand)
  .demandCommand(1)
  .fail((message, err) => {
    throw err ?? new UserError(message, ExitCode.usage);
  })
  .parseAsync()
  .catch((err: unknown) => {
    if (!(err instanceof UserError)) throw err;
    console.error(`xfc: ${err.message}`);
    process.exitCode = err.exitCode;
  });
