/**
 * HTML built only through {@link html}: every interpolated value is escaped unless it is already {@link SafeHtml}
 * (made by this module, or an SVG string from the chart renderer, which escapes its own text). Usernames,
 * directory names and failure reasons come from the database and are hostile.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const replacements: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (character) => replacements[character]!);
}

type Value = SafeHtml | string | number | null | undefined | false | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new SafeHtml(out);
}

/** Trusted markup (chart SVG from the renderer, the page's own CSS). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** An href built from a trusted prefix and an untrusted part, percent-encoded. */
export function hrefWith(prefix: string, part: string): string {
  return prefix + encodeURIComponent(part);
}
