import { fileURLToPath } from 'node:url';

/**
 * How xfc was started, so that the commands it suggests can be pasted as they are: `xfc …` for the installed
 * command (bin/xfc.cjs running the compiled dist/), `npm run xfc -- …` from a clone's sources (tsx running .ts).
 */
export type Invocation = 'installed' | 'sources';

export function currentInvocation(): Invocation {
  return fileURLToPath(import.meta.url).endsWith('.ts') ? 'sources' : 'installed';
}

/**
 * The command line that runs `xfc <args>` the way this process was started: `xfc db migrate` or
 * `npm run xfc -- db migrate`; `dev` and `demo` have npm scripts of their own (`npm run dev`, `npm run demo -- --keep`).
 */
export function xfcCommand(args: string, invocation: Invocation = currentInvocation()): string {
  if (invocation === 'installed') return `xfc ${args}`;
  const [first, ...rest] = args.split(' ');
  if (first === 'dev' || first === 'demo') return `npm run ${first}${rest.length > 0 ? ` -- ${rest.join(' ')}` : ''}`;
  return `npm run xfc -- ${args}`;
}
