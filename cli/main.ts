import type { CommandModule } from 'yargs';
import { xfcVersion } from '../lib/common/version.js';
import { commandCatalog } from './commands/index.js';
import { exitQuietlyOnClosedPipes } from './output.js';
import { reportError } from './report-error.js';
import { ExitCode, UserError } from '../lib/common/errors.js';

/** What every exit status means; shown by `xfc --help` and in the README. */
export const exitStatusHelp =
  'Exit status: 0 success; 1 failure (something could not be done, a scan failed, a check failed); 2 bad usage or ' +
  'configuration; 3 incomplete (a partial scan, pending database migrations). Shell completion: ' +
  '`xfc completion >> ~/.bashrc` (bash or zsh).';

/** The `xfc` command line: one module per command under cli/commands, each short and delegating. */
export async function main(argv: string[]): Promise<void> {
  // `xfc scan DIR` in its plain forms starts walking without loading yargs (~150 ms of CPU): scans are timed
  // against du. Everything else, and any scan command line that is not plain, goes through yargs below.
  if (argv[0] === 'scan') {
    const { quickScanArgs, runScan } = await import('./commands/scan.js');
    const args = quickScanArgs(argv.slice(1));
    if (args !== null) return runScan(args);
  }
  const { default: yargs } = await import('yargs');
  const cli = yargs(argv)
    .scriptName('xfc')
    .usage('$0 <command> [options]\n\nMeasures how much of the XFC scratch disk each user holds, and for how long.')
    .strict()
    .demandCommand(1, 'Name a command; `xfc --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(xfcVersion())
    .completion('completion', 'Print a bash/zsh completion script (xfc completion >> ~/.bashrc)')
    .epilogue(exitStatusHelp)
    .wrap(Math.min(120, process.stdout.columns || 120))
    .fail((message, err, instance) => {
      if (err) throw err;
      instance.showHelp('error');
      throw new UserError(`${message}`, ExitCode.usage);
    });
  // Only the command being run is loaded; the others are listed by name for --help and suggestions.
  // Completion (`--get-yargs-completions`) needs every command's options, so it loads them all.
  const completing = argv.includes('--get-yargs-completions');
  const requested = argv.find((arg) => !arg.startsWith('-'));
  for (const entry of commandCatalog) {
    if (completing || entry.name === requested) cli.command((await entry.load()) as CommandModule);
    else cli.command({ command: entry.usage, describe: entry.describe, handler: () => undefined });
  }
  await cli.parseAsync();
}

exitQuietlyOnClosedPipes();
// What yargs' hideBin does for a plain `node main.js …` (no Electron here): the arguments after the script.
main(process.argv.slice(2)).catch(async (err: unknown) => {
  process.exitCode = await reportError(err);
});
