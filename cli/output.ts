/**
 * Output conventions shared by every command: a reader that goes away (`xfc … | head -1`) ends xfc quietly, as it
 * would end `ls`, and JSON for scripts is printed one way.
 */

/** A closed pipe (EPIPE) on stdout or stderr ends the process quietly with status 0; other write errors are thrown. */
export function exitQuietlyOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

/** JSON for scripts: bigints as decimal strings, Dates as ISO 8601 UTC (Date.toJSON), two-space indented. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), 2));
}
