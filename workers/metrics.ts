import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the walk activities report. */
export interface ScanMetrics {
  recordChunk(chunk: { files: number; seconds: number }): void;
}

/** What the control activities report. */
export interface ControlMetrics {
  recordScanResult(result: {
    status: 'complete' | 'partial' | 'failed';
    errors: Record<string, number>;
    /** Why a scan failed (e.g. out-of-range, walk-failed). */
    reason?: string;
  }): void;
}

/** xfc's own Prometheus metrics (the Temporal SDK runtime exposes its metrics on a port of its own). */
export class XfcMetrics implements ScanMetrics, ControlMetrics {
  readonly registry = new Registry();
  private readonly walkedFiles = new Counter({
    name: 'xfc_walk_files_total',
    help: 'Regular files accounted by walk activities on this worker.',
    registers: [this.registry],
  });
  private readonly walkSeconds = new Counter({
    name: 'xfc_walk_seconds_total',
    help: 'Time spent walking (sum over chunks).',
    registers: [this.registry],
  });
  private readonly filesPerSecond = new Gauge({
    name: 'xfc_walk_files_per_second',
    help: 'Files per second of the most recent walk chunk.',
    registers: [this.registry],
  });
  private readonly chunks = new Counter({
    name: 'xfc_walk_chunks_total',
    help: 'Walk chunks completed (each ends in a checkpoint or a finished scan).',
    registers: [this.registry],
  });
  private readonly scans = new Counter({
    name: 'xfc_scans_total',
    help: 'Scan results recorded, by status.',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly failedScans = new Counter({
    name: 'xfc_scans_failed_total',
    help: 'Scans recorded as failed, by reason (out-of-range, clock-ahead, unwritable, walk-failed, work-dir-…).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly scanErrors = new Counter({
    name: 'xfc_scan_errors_total',
    help: 'Entries a scan could not account, by kind (unreadable, vanished, otherDevice, otherErrors).',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'xfc_process_' });
  }

  recordChunk({ files, seconds }: { files: number; seconds: number }): void {
    this.chunks.inc();
    this.walkedFiles.inc(Math.max(0, files));
    this.walkSeconds.inc(seconds);
    if (seconds > 0) this.filesPerSecond.set(files / seconds);
  }

  recordScanResult({
    status,
    errors,
    reason,
  }: {
    status: 'complete' | 'partial' | 'failed';
    errors: Record<string, number>;
    reason?: string;
  }): void {
    this.scans.inc({ status });
    if (status === 'failed') this.failedScans.inc({ reason: reason ?? 'unknown' });
    for (const [kind, count] of Object.entries(errors)) if (count > 0) this.scanErrors.inc({ kind }, count);
  }

  /** Serves /metrics on `port` (0 = don't). */
  async serve(port: number): Promise<Server | undefined> {
    if (port === 0) return undefined;
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end('Not found: metrics are at /metrics\n');
        return;
      }
      this.registry
        .metrics()
        .then((body) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(body))
        .catch((err: unknown) => response.writeHead(500).end(String(err)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, resolve);
    });
    return server;
  }
}
