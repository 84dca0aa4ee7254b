import { createServer, type Server } from 'node:http';
import type { DatabasePool } from 'slonik';
import { errorMessage } from '../common/errors.js';
import { parseSince } from './since.js';
import { buildReport } from './build.js';

export interface ReportServerOptions {
  host: string;
  port: number;
  /** History shown when the URL has no `since`. */
  defaultSince: string;
  warnPercent: number;
  overPercent: number;
  log?: (line: string) => void;
}

export interface ReportServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the report read-only: GET / (the whole report) and GET /user/NAME, with `?since=90d&volume=vol2`. Every
 * page is built in a READ ONLY transaction; nothing here writes. Builds run one at a time (a report reads the whole
 * history: concurrent reloads must not pile up on the database), and a page is reused for 30 s.
 */
export async function startReportServer(pool: DatabasePool, options: ReportServerOptions): Promise<ReportServer> {
  const cache = new Map<string, { at: number; body: string }>();
  let queue: Promise<unknown> = Promise.resolve();
  const build = (key: string, run: () => Promise<string>): Promise<string> => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < 30_000) return Promise.resolve(hit.body);
    const next = queue.then(run).then((body) => {
      cache.set(key, { at: Date.now(), body });
      if (cache.size > 200) cache.delete(cache.keys().next().value!);
      return body;
    });
    queue = next.catch(() => undefined);
    return next;
  };

  const server = createServer((request, response) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        'referrer-policy': 'no-referrer',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'The report is read-only: GET only.\n');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://report.invalid');
    if (url.pathname === '/healthz') {
      send(200, 'ok\n');
      return;
    }
    let user: string | undefined;
    if (url.pathname.startsWith('/user/')) {
      try {
        user = decodeURIComponent(url.pathname.slice('/user/'.length));
      } catch {
        send(400, 'Bad user name in the URL.\n');
        return;
      }
    } else if (url.pathname !== '/') {
      send(404, 'Not found: the report is at / and each user at /user/NAME.\n');
      return;
    }
    let since: Date;
    try {
      since = parseSince(url.searchParams.get('since') ?? options.defaultSince, new Date());
    } catch (err) {
      send(400, `${errorMessage(err)}\n`);
      return;
    }
    const volume = url.searchParams.get('volume') ?? undefined;
    const keep = new URLSearchParams();
    if (url.searchParams.has('since')) keep.set('since', url.searchParams.get('since')!);
    if (volume) keep.set('volume', volume);
    const key = `${user ?? ''}\n${keep.toString()}`;
    build(key, () =>
      buildReport(pool, {
        since,
        volume,
        user,
        links: 'paths',
        linkQuery: keep.toString(),
        warnPercent: options.warnPercent,
        overPercent: options.overPercent,
      }).then((built) => built.page),
    ).then(
      (body) => send(200, body, 'text/html; charset=utf-8'),
      (err: unknown) => {
        options.log?.(`report: ${errorMessage(err)}`);
        send(500, 'The report could not be built; the server log says why.\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
