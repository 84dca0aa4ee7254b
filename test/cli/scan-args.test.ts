import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import yargs, { type CommandModule } from 'yargs';
import { quickScanArgs, scanCommand, type ScanArgs } from '../../cli/commands/scan.js';

/** What the scan command's handler reads, from yargs' parse of `scan …` with the command's own builder. */
async function yargsScanArgs(argv: string[]): Promise<ScanArgs | Error> {
  let parsed: ScanArgs | undefined;
  const command: CommandModule<object, ScanArgs> = {
    ...scanCommand,
    handler: (args) => {
      parsed = args;
    },
  };
  try {
    await yargs(['scan', ...argv])
      .command(command)
      .strict()
      .demandCommand(1)
      .help()
      .version(false)
      .exitProcess(false)
      .fail((message, err) => {
        throw err ?? new Error(message);
      })
      .parseAsync();
  } catch (err) {
    return err as Error;
  }
  if (parsed === undefined) return new Error('no handler ran (help or version)');
  const { path, json, username, now, checkpoint, threads, exclude } = parsed;
  const picked: ScanArgs = { path, json };
  if (username !== undefined) picked.username = username;
  if (now !== undefined) picked.now = now;
  if (parsed['age-basis'] !== undefined) picked['age-basis'] = parsed['age-basis'];
  if (checkpoint !== undefined) picked.checkpoint = checkpoint;
  if (threads !== undefined) picked.threads = threads;
  if (exclude !== undefined) picked.exclude = exclude;
  return picked;
}

// Command lines `quickScanArgs` must parse itself, exactly as yargs does.
const plain: string[][] = [
  ['/tmp/x'],
  ['--json', '/tmp/x'],
  ['/tmp/x', '--json'],
  ['relative/dir', '--username', 'alice'],
  ['--username=alice', '/tmp/x'],
  ['--username', '123', '/tmp/x'],
  ['--now', '2026-01-15T12:00:00Z', '--age-basis', 'mtime', '/tmp/x'],
  ['--age-basis=ctime', '/tmp/x'],
  ['--checkpoint', '/tmp/a.ckpt', '--json', '/tmp/x'],
  ['--threads', '0', '/tmp/x'],
  ['--threads=64', '/tmp/x'],
  ['--threads', '2048', '/tmp/x'],
  ['--exclude', '.snapshot', '/tmp/x'],
  ['--exclude', '.snapshot', '--exclude', 'tmp', '/tmp/x'],
  ['--exclude', '', '/tmp/x'],
  ['--exclude=', '/tmp/x'],
  ['--exclude', '/tmp/y', '/tmp/x'],
  ['--now', 'yesterday', '/tmp/x'],
  ['/tmp/with space/and=equals'],
  ['--username', 'a b', '/tmp/x'],
];

// Command lines it leaves to yargs (help, errors, forms it does not know).
const leftToYargs: string[][] = [
  [],
  ['--help', '/tmp/x'],
  ['-h'],
  ['--version'],
  ['/tmp/x', '/tmp/y'],
  ['--jsn', '/tmp/x'],
  ['--no-json', '/tmp/x'],
  ['--json=false', '/tmp/x'],
  ['--ageBasis', 'mtime', '/tmp/x'],
  ['--age-basis', 'atime', '/tmp/x'],
  ['--threads', 'many', '/tmp/x'],
  ['--threads', '1e3', '/tmp/x'],
  ['--threads', '-1', '/tmp/x'],
  ['--now', '/tmp/x'],
  ['--now', 'a', '--now', 'b', '/tmp/x'],
  ['--username', '--json', '/tmp/x'],
  ['--', '/tmp/x'],
  ['-j', '/tmp/x'],
  [''],
];

describe('xfc scan without yargs (quickScanArgs)', () => {
  for (const argv of plain) {
    it(`parses ${JSON.stringify(argv)} as yargs does`, async () => {
      const quick = quickScanArgs(argv);
      assert.notEqual(quick, null, 'a plain command line is parsed without yargs');
      assert.deepEqual(quick, await yargsScanArgs(argv));
    });
  }
  for (const argv of leftToYargs) {
    it(`leaves ${JSON.stringify(argv)} to yargs`, () => {
      assert.equal(quickScanArgs(argv), null);
    });
  }
});
