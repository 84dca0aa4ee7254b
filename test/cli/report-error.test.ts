import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportError } from '../../cli/report-error.js';
import { UserError } from '../../lib/common/errors.js';

/** What `xfc` prints when a command fails: one line for errors it has words for, a redacted record otherwise. */
describe('the CLI’s error report', () => {
  const capture = (isTTY: boolean): { lines: string[]; output: { write(line: string): void; isTTY: boolean } } => {
    const lines: string[] = [];
    return { lines, output: { write: (line) => lines.push(line), isTTY } };
  };
  const leaky = (): Error =>
    new Error('connect ECONNREFUSED while opening postgres://xfc:hunter2@db.example.org:5432/xfc');

  it('prints a UserError as one line and returns its exit status', async () => {
    const { lines, output } = capture(true);
    assert.equal(await reportError(new UserError('No such user: zed.'), output, {}), 1);
    assert.deepEqual(lines, ['xfc: No such user: zed.']);
  });

  it('writes an unexpected error as one JSON record, password redacted, where stderr is not a terminal', async () => {
    const { lines, output } = capture(false);
    assert.equal(await reportError(leaky(), output, {}), 1);
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]!) as { level: string; component: string; event: string; err: unknown };
    assert.equal(record.level, 'error');
    assert.equal(record.component, 'cli');
    assert.equal(record.event, 'unexpected error');
    assert.match(JSON.stringify(record.err), /db\.example\.org/);
    assert.doesNotMatch(lines[0]!, /hunter2/);
  });

  it('is readable on a terminal, still redacted; XFC_LOG_FORMAT=json asks for JSON there', async () => {
    const tty = capture(true);
    await reportError(leaky(), tty.output, {});
    assert.match(tty.lines[0]!, /^xfc: unexpected error: connect ECONNREFUSED/);
    assert.doesNotMatch(tty.lines.join('\n'), /hunter2/);
    const forced = capture(true);
    await reportError(leaky(), forced.output, { XFC_LOG_FORMAT: 'json' });
    assert.equal((JSON.parse(forced.lines[0]!) as { event: string }).event, 'unexpected error');
  });
});
