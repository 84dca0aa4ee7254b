import type { DatabasePool } from 'slonik';
import { loadReportData, type ReportQuery } from './queries.js';
import { renderReportPage, renderUserPage, userAnchor, type PageOptions } from './page.js';

export interface BuildOptions {
  since: Date;
  now?: Date;
  volume?: string | undefined;
  /** The per-user page of this user instead of the whole report. */
  user?: string | undefined;
  /** Users drawn on their own in each volume's stack (default 8); the first 4 are also shown in detail. */
  topUsers?: number;
  warnPercent: number;
  overPercent: number;
  /**
   * Where usernames link to. 'anchors' (a single file): to the user's section when the page has one.
   * 'paths' (served): to `/user/NAME` for everybody.
   */
  links: 'anchors' | 'paths';
  /** Query string kept on links (served pages keep `since` and `volume`). */
  linkQuery?: string;
}

export interface BuiltReport {
  /** One self-contained HTML document. */
  page: string;
  /** A user page was asked for a name nobody has (the page says so). */
  unknownUser: boolean;
}

/** Reads the database (read-only) and renders the whole page. */
export async function buildReport(pool: DatabasePool, options: BuildOptions): Promise<BuiltReport> {
  const topUsers = options.topUsers ?? 8;
  const detailUsers = Math.min(topUsers, 4);
  const query: ReportQuery = {
    since: options.since,
    now: options.now ?? new Date(),
    volume: options.volume,
    user: options.user,
    detailUsers: options.links === 'anchors' ? detailUsers : 0,
  };
  const data = await loadReportData(pool, query);
  const suffix = options.linkQuery ? `?${options.linkQuery}` : '';
  const pageOptions: PageOptions = {
    topUsers,
    warnPercent: options.warnPercent,
    overPercent: options.overPercent,
    userLink:
      options.links === 'paths'
        ? (username) => `/user/${encodeURIComponent(username)}${suffix}`
        : (username) => {
            if (!data.latest.has(username)) return null;
            const user = data.users.find((candidate) => candidate.username === username);
            return user ? `#${userAnchor(user)}` : null;
          },
  };
  if (options.user) {
    return {
      page: renderUserPage(data, options.user, options.links === 'paths' ? `/${suffix}` : null),
      unknownUser: !data.users.some((user) => user.username === options.user),
    };
  }
  return { page: renderReportPage(data, pageOptions), unknownUser: false };
}
