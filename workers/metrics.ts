import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FleetHealth } from '../db/fleet-health.js';
import type { ControlMetrics, NotifyMetrics, ScanMetrics } from '../activities/metrics.js';

/** Where the gauges computed from the database and the broker come from (the control worker only). */
export interface OutcomeSources {
  fleetHealth(): Promise<FleetHealth>;
  /** Messages waiting in xfc.dead. */
  deadLetters(): Promise<number>;
  /** A snapshot is reused for this long: a scrape every 15 s costs one small query, not one per gauge. */
  maxAgeMs: number;
}

/** The thresholds of the "not scanned within" gauge, in days. */
export const unscannedWithinDays = [1, 2, 7, 30];

/** xfc's own Prometheus metrics (the Temporal SDK runtime exposes its metrics on a port of its own). */
export class XfcMetrics implements ScanMetrics, ControlMetrics, NotifyMetrics {
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
  private readonly scanErrors = new Counter({
    name: 'xfc_scan_errors_total',
    help: 'Entries a scan could not account, by kind (unreadable, vanished, otherDevice, otherMount, otherErrors).',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  private readonly scanFailures = new Counter({
    name: 'xfc_scan_failures_total',
    help: 'Failed scans applied, by reason (unknown-user, work-dir-missing, walk-failed, …).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly scanDuration = new Histogram({
    name: 'xfc_scan_duration_seconds',
    help: 'Time from the start to the end of a complete or partial scan (all its walk chunks).',
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 86400],
    registers: [this.registry],
  });
  private readonly emails = new Counter({
    name: 'xfc_emails_total',
    help: 'Notification emails by outcome: sent, failed (an attempt that will be retried), rejected (for good), suppressed.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private outcomes: OutcomeSources | undefined;
  private snapshot: { at: number; health: FleetHealth; deadLetters: number | null } | undefined;
  private pending: Promise<void> | undefined;

  constructor() {
    // The standard process_* and nodejs_* names, unprefixed: dashboards and alerts for Node services expect them.
    collectDefaultMetrics({ register: this.registry });
    for (const outcome of ['sent', 'failed', 'rejected', 'suppressed']) this.emails.inc({ outcome }, 0);
    this.defineOutcomeGauges();
  }

  /** Computes the fleet gauges from these sources on scrape (the control worker calls this). */
  attachOutcomeSources(sources: OutcomeSources): void {
    this.outcomes = sources;
  }

  private async refresh(): Promise<void> {
    const sources = this.outcomes;
    if (!sources) return;
    if (this.snapshot && Date.now() - this.snapshot.at < sources.maxAgeMs) return;
    this.pending ??= (async () => {
      try {
        const [health, deadLetters] = await Promise.all([
          sources.fleetHealth(),
          sources.deadLetters().catch(() => null),
        ]);
        this.snapshot = { at: Date.now(), health, deadLetters };
      } catch {
        // PostgreSQL unreachable: the gauges keep their last values (or stay absent) and the other metrics are
        // still served; the database alerts and `xfc doctor` say why.
      } finally {
        this.pending = undefined;
      }
    })();
    await this.pending;
  }

  private defineOutcomeGauges(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the gauge as this
    const metrics = this;
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      set: (gauge: Gauge, health: FleetHealth, deadLetters: number | null) => void,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          await metrics.refresh();
          this.reset();
          const snapshot = metrics.snapshot;
          if (snapshot) set(this, snapshot.health, snapshot.deadLetters);
        },
      });
    };
    gauge('xfc_users', 'Registered users.', [], (g, h) => g.set(h.users));
    gauge('xfc_users_never_scanned', 'Registered users never scanned.', [], (g, h) => g.set(h.neverScanned));
    gauge(
      'xfc_users_not_scanned',
      'Users whose last scan is older than within_days days (never-scanned users included).',
      ['within_days'],
      (g, h) => {
        for (const entry of h.notScannedWithin) g.set({ within_days: String(entry.days) }, entry.users);
      },
    );
    gauge(
      'xfc_oldest_scan_timestamp_seconds',
      'The oldest last scan among scanned users (Unix time); absent when nobody has been scanned.',
      [],
      (g, h) => {
        if (h.oldestScan) g.set(h.oldestScan.getTime() / 1000);
      },
    );
    gauge(
      'xfc_users_over_quota',
      'Users at or over a quota (XFC_NOTIFY_OVER_PERCENT), by quota (hard, temporal).',
      ['quota'],
      (g, h) => {
        g.set({ quota: 'hard' }, h.overQuota.hard);
        g.set({ quota: 'temporal' }, h.overQuota.temporal);
      },
    );
    gauge(
      'xfc_users_near_quota',
      'Users from XFC_NOTIFY_WARN_PERCENT up to the over level of a quota, by quota.',
      ['quota'],
      (g, h) => {
        g.set({ quota: 'hard' }, h.nearQuota.hard);
        g.set({ quota: 'temporal' }, h.nearQuota.temporal);
      },
    );
    gauge(
      'xfc_last_sweep_timestamp_seconds',
      'When the sweep last ran (Unix time; 0 when it never has). Alert on time() minus this.',
      [],
      (g, h) => g.set(h.lastSweep ? h.lastSweep.getTime() / 1000 : 0),
    );
    gauge('xfc_dead_letters', 'Messages waiting in the xfc.dead queue.', [], (g, _h, dead) => {
      if (dead !== null) g.set(dead);
    });
    gauge('xfc_volume_capacity_bytes', 'Size of each volume (Django cachedisk size_bytes).', ['volume'], (g, h) => {
      for (const volume of h.volumes) g.set({ volume: volume.volume }, volume.capacityBytes);
    });
    gauge('xfc_volume_used_bytes', 'Sum of the last measured hard usage of the volume’s users.', ['volume'], (g, h) => {
      for (const volume of h.volumes) g.set({ volume: volume.volume }, volume.usedBytes);
    });
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
  }: {
    status: 'complete' | 'partial' | 'failed';
    errors: Record<string, number>;
  }): void {
    this.scans.inc({ status });
    for (const [kind, count] of Object.entries(errors)) if (count > 0) this.scanErrors.inc({ kind }, count);
  }

  recordScanFailure(reason: string): void {
    this.scanFailures.inc({ reason });
  }

  recordScanDuration(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.scanDuration.observe(seconds);
  }

  recordEmail(outcome: 'sent' | 'failed' | 'rejected' | 'suppressed'): void {
    this.emails.inc({ outcome });
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
