/**
 * A JASMIN account name as it may appear in a path and a workflow id: lower-case POSIX (a letter or underscore,
 * then letters, digits, underscores or hyphens), at most 32 characters. Anything else (spaces, "..", a leading
 * "-", control characters, upper case) is refused wherever a username enters xfc.
 */
export const usernamePattern = /^[a-z_][a-z0-9_-]{0,31}$/;

export function isValidUsername(name: string): boolean {
  return usernamePattern.test(name);
}

/** Why `name` is not a valid username, in words, or undefined when it is valid. */
export function usernameProblem(name: string): string | undefined {
  if (name === '') return 'empty';
  if (name.length > 32) return 'longer than 32 characters';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains control characters';
  if (/\s/.test(name)) return 'contains spaces';
  if (name.includes('/') || name === '.' || name === '..') return 'is a path, not a name';
  if (name.startsWith('-')) return 'starts with "-"';
  if (/[A-Z]/.test(name)) return 'contains upper-case letters';
  if (!usernamePattern.test(name)) return 'is not a POSIX account name (a-z, 0-9, "_" and "-", starting with a letter)';
  return undefined;
}
