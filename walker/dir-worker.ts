import type { BigIntStats, Dirent, Stats } from 'node:fs';
import type {
  BigDirectory,
  DirRef,
  ErrorSample,
  LinkedFile,
  RecordBatch,
  RecordExtra,
  Sum,
  Task,
  TaskResult,
  WorkerConfig,
} from './protocol.js';

/**
 * A walk worker thread: lists directories and lstats their entries, and returns per-directory aggregates (never
 * per-file rows). It runs from its own source text (see walkerWorkerSource), so that the same code starts fast
 * from the TypeScript sources and from the compiled build; therefore everything it uses is defined inside this
 * function, and it imports only types.
 *
 * Two ways to call the kernel, chosen by measuring: synchronous calls in a tight loop are cheapest when a
 * metadata request takes microseconds (local disk, warm cache); when requests take longer (a network filesystem,
 * a cold cache) the worker switches to asynchronous calls with many in flight on libuv's thread pool, and runs
 * several tasks at once.
 *
 * Safety: a directory is opened with O_DIRECTORY|O_NOFOLLOW and must be the very inode its parent's lstat saw
 * (dev+ino); it is listed through /proc/self/fd/<fd>, so a directory swapped for a symlink is never entered.
 * Entries are lstat'ed by full path while it is short (measured: much cheaper than /proc/self/fd/<fd>/<name>),
 * and the directory's path is checked again afterwards; beyond PATH_MAX they go through /proc/self/fd/<fd>/.
 */
export function dirWorkerMain(): void {
  const fs = process.getBuiltinModule('node:fs');
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  if (!parentPort) throw new Error('dirWorkerMain must run in a worker thread');
  const port = parentPort;
  const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = fs.constants;
  const OPEN_DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
  const MAX_SAFE = Number.MAX_SAFE_INTEGER;
  const DAY_MS = 86_400_000;
  /** Longest path the kernel takes, in bytes (PATH_MAX counts the terminating NUL). */
  const PATH_MAX = 4095;
  const NAME_MAX = 255;
  const MAX_SAMPLES = 20;
  /** lstats timed before deciding whether this filesystem is slow. */
  const PROBE = 16;
  /** How often the probe runs again: often while calls are fast (cheap), rarely while they are slow (it blocks). */
  const REPROBE_FAST_MS = 1000;
  const REPROBE_SLOW_MS = 10_000;
  const NO_THROW = { throwIfNoEntry: false } as const;
  /** A byte string with a byte ≥ 0x80 is not the same text in UTF-8: such paths go to the kernel as bytes. */
  const nonAscii = /[\x80-\xff]/;

  let config!: WorkerConfig;
  let nowMs = 0;
  let useMtime = false;
  let excluded = new Set<string>();
  let mode: 'sync' | 'async' = 'sync';
  let lastProbe = -Infinity;
  let running = 0;
  let stopping = false;

  type ErrorKindName = 'unreadable' | 'vanished' | 'otherDevice' | 'otherErrors';

  /** A path for the kernel: the byte string itself when it is ASCII (cheapest), else its bytes. */
  const sysPath = (path: string): string | Buffer => (nonAscii.test(path) ? Buffer.from(path, 'latin1') : path);
  const dirPathOf = (rel: string): string => (rel === '' ? config.root : `${config.root}/${rel}`);
  const childRel = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);
  const codeOf = (err: unknown): string => {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code.slice(0, 40) : 'EUNKNOWN';
  };
  const kindOfOpenError = (code: string): ErrorKindName =>
    code === 'EACCES' || code === 'EPERM'
      ? 'unreadable'
      : code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP'
        ? 'vanished'
        : 'otherErrors';

  /** An exact sum: a number while it stays below 2^53, then a bigint. */
  class Acc {
    n = 0;
    b = 0n;
    add(x: number): void {
      const s = this.n + x;
      if (s > MAX_SAFE) {
        this.b += BigInt(this.n);
        this.n = x;
      } else {
        this.n = s;
      }
    }
    addBig(x: bigint): void {
      this.b += x;
    }
    value(): Sum {
      return this.b === 0n ? this.n : this.b + BigInt(this.n);
    }
  }

  /** Aggregates of one directory (or one chunk of it). */
  class RecordBuilder {
    entries = 0;
    files = 0;
    directories = 0;
    symlinks = 0;
    others = 0;
    readonly bytes = new Acc();
    readonly allocated = new Acc();
    readonly byteDays = new Acc();
    readonly histFiles = [0, 0, 0, 0, 0];
    readonly histBytes = [new Acc(), new Acc(), new Acc(), new Acc(), new Acc()];
    unreadable = 0;
    vanished = 0;
    otherDevice = 0;
    otherErrors = 0;
    readonly samples: ErrorSample[] = [];
    readonly links: LinkedFile[] = [];
    readonly subdirs: DirRef[] = [];
    /** Set when the directory turned out not to be traversable: the remaining entries are skipped. */
    stopped = false;

    constructor(
      readonly dir: DirRef,
      readonly first: boolean,
    ) {
      if (first && dir.rel === '') {
        this.entries++; // the root itself, counted with its first record
        this.directories++;
      }
    }

    error(kind: ErrorKindName, rel: string, code: string): void {
      this[kind]++;
      if (this.samples.length < MAX_SAMPLES) this.samples.push({ kind, rel, code });
    }

    /** An lstat that failed. */
    failed(name: string, code: string): void {
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') {
        this.error('vanished', childRel(this.dir.rel, name), code);
      } else if (code === 'EACCES' || code === 'EPERM') {
        // Listable but not searchable (r without x): the directory is unreadable, counted once where it starts.
        if (this.first && !this.stopped) this.error('unreadable', this.dir.rel, code);
        this.stopped = true;
      } else {
        this.error('otherErrors', childRel(this.dir.rel, name), code);
      }
    }

    add(name: string, s: Stats, path: string | Buffer): void {
      this.entries++;
      const type = s.mode & S_IFMT;
      if (type === S_IFREG) {
        let size: Sum = s.size;
        let allocated: Sum = s.blocks * 512;
        let inoHi = Math.floor(s.ino / 4294967296);
        let inoLo = s.ino % 4294967296;
        if (size > MAX_SAFE || allocated > MAX_SAFE || (s.nlink > 1 && s.ino > MAX_SAFE)) {
          // Rare: figures beyond 2^53 are only exact from a bigint lstat.
          let exact: BigIntStats | undefined;
          try {
            exact = fs.lstatSync(path, { bigint: true, throwIfNoEntry: false });
          } catch (err) {
            this.failed(name, codeOf(err));
            return;
          }
          if (exact === undefined) return this.failed(name, 'ENOENT');
          size = exact.size <= BigInt(MAX_SAFE) ? Number(exact.size) : exact.size;
          const alloc = exact.blocks * 512n;
          allocated = alloc <= BigInt(MAX_SAFE) ? Number(alloc) : alloc;
          inoHi = Number(exact.ino >> 32n);
          inoLo = Number(exact.ino & 0xffffffffn);
        }
        const t = useMtime ? s.mtimeMs : s.ctimeMs;
        const days = t >= nowMs ? 0 : Math.floor((nowMs - t) / DAY_MS);
        if (s.nlink > 1) {
          this.links.push({ dev: s.dev, inoHi, inoLo, nlink: s.nlink, size, allocated, days });
          return;
        }
        this.files++;
        const bucket = days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : days <= 120 ? 3 : 4;
        this.histFiles[bucket]!++;
        if (typeof size === 'number') {
          this.bytes.add(size);
          this.histBytes[bucket]!.add(size);
          const product = size * (days + 1);
          if (product > MAX_SAFE) this.byteDays.addBig(BigInt(size) * BigInt(days + 1));
          else this.byteDays.add(product);
        } else {
          this.bytes.addBig(size);
          this.histBytes[bucket]!.addBig(size);
          this.byteDays.addBig(size * BigInt(days + 1));
        }
        if (typeof allocated === 'number') this.allocated.add(allocated);
        else this.allocated.addBig(allocated);
      } else if (type === S_IFDIR) {
        this.directories++;
        if (s.dev !== config.rootDev) {
          this.error('otherDevice', childRel(this.dir.rel, name), 'EXDEV');
        } else if (!excluded.has(name)) {
          this.subdirs.push({ rel: childRel(this.dir.rel, name), dev: s.dev, ino: s.ino });
        }
      } else if (type === S_IFLNK) {
        this.symlinks++;
      } else {
        this.others++;
      }
    }

    /** Appends this record to a batch, in the order of protocol.ts's Field (5–7 and 13–17 are the sums). */
    writeTo(batch: BatchWriter, after: string | null): void {
      const index = batch.count++;
      const n = batch.numbers;
      const big: Array<[number, bigint]> = [];
      const sum = (field: number, acc: Acc): void => {
        const value = acc.value();
        if (typeof value === 'number') {
          n.push(value);
        } else {
          n.push(NaN);
          big.push([field, value]);
        }
      };
      n.push(this.entries, this.files, this.directories, this.symlinks, this.others);
      sum(5, this.bytes);
      sum(6, this.allocated);
      sum(7, this.byteDays);
      n.push(...this.histFiles);
      this.histBytes.forEach((acc, k) => sum(13 + k, acc));
      n.push(this.unreadable, this.vanished, this.otherDevice, this.otherErrors);
      batch.rels.push(this.dir.rel);
      if (after !== null) batch.afters.push([index, after]);
      if (this.samples.length > 0 || this.links.length > 0 || big.length > 0) {
        batch.extras.push({ index, samples: this.samples, links: this.links, big });
      }
    }
  }

  /** Records of one task, packed as RecordBatch (see protocol.ts; the field order is Field's). */
  class BatchWriter {
    count = 0;
    readonly numbers: number[] = [];
    readonly rels: string[] = [];
    readonly afters: Array<[number, string]> = [];
    readonly extras: RecordExtra[] = [];

    done(): RecordBatch {
      return {
        count: this.count,
        numbers: Float64Array.from(this.numbers),
        rels: this.rels.join('\0'),
        afters: this.afters,
        extras: this.extras,
      };
    }
  }

  /** A record that only carries a directory-level error. */
  function errorRecord(dir: DirRef, kind: ErrorKindName, code: string, first: boolean): RecordBuilder {
    const builder = new RecordBuilder(dir, first);
    builder.error(kind, dir.rel, code);
    return builder;
  }

  // ---- system calls, synchronous or asynchronous -----------------------------------------------------------

  const promised = <T>(start: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));

  interface Calls {
    open(path: string | Buffer, flags: number): number | Promise<number>;
    fstat(fd: number): Stats | Promise<Stats>;
    lstat(path: string | Buffer): Stats | undefined | Promise<Stats | undefined>;
    readdir(path: string | Buffer): string[] | Promise<string[]>;
    readdirTyped(path: string | Buffer): Dirent[] | Promise<Dirent[]>;
  }
  const syncCalls: Calls = {
    open: (path, flags) => fs.openSync(path, flags),
    fstat: (fd) => fs.fstatSync(fd),
    lstat: (path) => fs.lstatSync(path, NO_THROW),
    readdir: (path) => fs.readdirSync(path, { encoding: 'latin1' }),
    readdirTyped: (path) => fs.readdirSync(path, { encoding: 'latin1', withFileTypes: true }),
  };
  const asyncCalls: Calls = {
    open: (path, flags) => promised<number>((done) => fs.open(path, flags, done)),
    fstat: (fd) => promised<Stats>((done) => fs.fstat(fd, done)),
    lstat: (path) =>
      new Promise((resolve, reject) =>
        fs.lstat(path, (err, stats) =>
          err ? (err.code === 'ENOENT' ? resolve(undefined) : reject(err)) : resolve(stats),
        ),
      ),
    readdir: (path) => promised<string[]>((done) => fs.readdir(path, { encoding: 'latin1' }, done)),
    readdirTyped: (path) =>
      promised<Dirent[]>((done) => fs.readdir(path, { encoding: 'latin1', withFileTypes: true }, done)),
  };
  const calls = (): Calls => (mode === 'sync' ? syncCalls : asyncCalls);
  const closeQuietly = (fd: number): void => {
    try {
      fs.closeSync(fd); // close(2) does not wait on the filesystem
    } catch {
      // nothing useful to do
    }
  };

  /**
   * Opens a directory whose path may exceed PATH_MAX: the longest prefix that fits is opened by path, and the
   * rest is reached through /proc/self/fd/<fd>/ in steps. Only the final open refuses a symlink; the caller
   * checks the final directory's identity, so a swapped component in between cannot lead anywhere else.
   */
  async function openLong(rel: string, c: Calls): Promise<number> {
    let fd = -1;
    let prefix = `${config.root}/`;
    let segment = '';
    try {
      for (const component of rel.split('/')) {
        const candidate = segment === '' ? component : `${segment}/${component}`;
        if (prefix.length + candidate.length > PATH_MAX) {
          const next = await c.open(sysPath(prefix + segment), O_RDONLY | O_DIRECTORY);
          if (fd >= 0) closeQuietly(fd);
          fd = next;
          prefix = `/proc/self/fd/${fd}/`;
          segment = component;
        } else {
          segment = candidate;
        }
      }
      return await c.open(sysPath(prefix + segment), OPEN_DIR);
    } finally {
      if (fd >= 0) closeQuietly(fd);
    }
  }

  interface OpenDir {
    /** Open descriptor of a directory too deep for paths, or -1 when it is reached by its path. */
    fd: number;
    /** Where the directory is listed and its entries lstat'ed: its path, or /proc/self/fd/<fd>. */
    base: string;
  }

  /**
   * Gets ready to read `dir`, which must be the directory its parent's lstat saw (dev+ino). A short path is used
   * as is, and checked after use (see stillThere): measured, this is much cheaper than going through a
   * descriptor. A path beyond PATH_MAX is opened in steps and used through /proc/self/fd/<fd>, which pins the
   * directory. An error becomes a directory-level error record.
   */
  async function openDir(dir: DirRef, first: boolean): Promise<OpenDir | RecordBuilder> {
    const path = dirPathOf(dir.rel);
    if (path.length + 1 + NAME_MAX <= PATH_MAX) return { fd: -1, base: path };
    const c = calls();
    let fd: number;
    try {
      fd = await openLong(dir.rel, c);
    } catch (err) {
      const code = codeOf(err);
      return errorRecord(dir, kindOfOpenError(code), code, first);
    }
    try {
      const st = await c.fstat(fd);
      if (st.dev !== dir.dev || st.ino !== dir.ino) {
        closeQuietly(fd);
        return errorRecord(dir, 'vanished', 'ECHANGED', first);
      }
    } catch (err) {
      closeQuietly(fd);
      return errorRecord(dir, 'otherErrors', codeOf(err), first);
    }
    return { fd, base: `/proc/self/fd/${fd}` };
  }

  const closeDir = (open: OpenDir): void => {
    if (open.fd >= 0) closeQuietly(open.fd);
  };

  /** The names of a directory, sorted bytewise (the order every walk of the same tree follows). */
  async function listDir(open: OpenDir): Promise<string[]> {
    const names = await calls().readdir(sysPath(open.base));
    for (let i = 1; i < names.length; i++) {
      if ((names[i - 1] as string) >= (names[i] as string)) {
        names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        break;
      }
    }
    return names;
  }

  /**
   * After reading a directory by its path: does the path still lead to the directory its parent saw, and not
   * through a symlink? If not (it was swapped while we read), what we read is void. Together with the parent's
   * lstat just before, this confines the walk to the tree: a subdirectory found through a swapped path would
   * fail this check for its own parent first.
   */
  async function stillThere(dir: DirRef, open: OpenDir): Promise<boolean> {
    if (open.fd >= 0) return true;
    try {
      const st = await calls().lstat(sysPath(open.base));
      return st !== undefined && st.isDirectory() && st.dev === dir.dev && st.ino === dir.ino;
    } catch {
      return false;
    }
  }

  // ---- lstat of a directory's entries ------------------------------------------------------------------------

  let inFlight = 0;
  const queue: Array<() => void> = [];
  let queueHead = 0;
  function submit(op: () => void): void {
    if (inFlight < config.maxInFlight) {
      inFlight++;
      op();
    } else {
      queue.push(op);
    }
  }
  function release(): void {
    inFlight--;
    if (queueHead < queue.length) {
      const op = queue[queueHead] as () => void;
      queue[queueHead++] = noop;
      if (queueHead > 1024 && queueHead * 2 > queue.length) {
        queue.splice(0, queueHead);
        queueHead = 0;
      }
      inFlight++;
      op();
    }
  }
  const noop = (): void => {};

  /** Times of the lstats of the current probe, in ms; the median decides (robust to a preempted thread). */
  const probeTimes = new Float64Array(PROBE);
  let probed = 0;

  /** The verdict changed: tell the main thread at once, so it sends this worker more (or fewer) tasks. */
  function setMode(next: 'sync' | 'async'): void {
    if (next === mode) return;
    mode = next;
    if (!stopping) port.postMessage({ kind: 'mode', mode } satisfies TaskResult);
  }

  /**
   * lstats names[from..to) synchronously; returns where it stopped: `to`, or earlier when the probe (PROBE
   * lstats timed one by one) shows a slow filesystem and the rest should go asynchronous.
   */
  function statSync(
    b: RecordBuilder,
    open: OpenDir,
    names: string[],
    from: number,
    to: number,
    probe: boolean,
  ): number {
    const prefix = `${open.base}/`;
    const prefixAscii = !nonAscii.test(prefix);
    let probing = probe;
    for (let i = from; i < to; i++) {
      if (b.stopped) return to;
      const name = names[i] as string;
      const path = prefix + name;
      const arg = prefixAscii && !nonAscii.test(name) ? path : Buffer.from(path, 'latin1');
      const started = probing ? performance.now() : 0;
      let s: Stats | undefined;
      try {
        s = fs.lstatSync(arg, NO_THROW);
      } catch (err) {
        b.failed(name, codeOf(err));
        continue;
      }
      if (s === undefined) b.failed(name, 'ENOENT');
      else b.add(name, s, arg);
      if (probing) {
        probeTimes[probed++] = performance.now() - started;
        if (probed === PROBE) {
          probed = 0;
          probing = false;
          lastProbe = performance.now();
          const medianUs = (probeTimes.sort()[PROBE >> 1] as number) * 1000;
          setMode(medianUs > config.slowOpUs ? 'async' : 'sync');
          if (mode === 'async') return i + 1;
        }
      }
    }
    return to;
  }

  /** lstats names[from..to) with up to maxInFlight requests in flight; accounts them in name order. */
  function statAsync(b: RecordBuilder, open: OpenDir, names: string[], from: number, to: number): Promise<void> {
    const count = to - from;
    if (count <= 0) return Promise.resolve();
    const prefix = `${open.base}/`;
    const prefixAscii = !nonAscii.test(prefix);
    const results: Array<Stats | string> = new Array<Stats | string>(count);
    const args: Array<string | Buffer> = new Array<string | Buffer>(count);
    return new Promise<void>((resolve) => {
      let pending = count;
      const finish = (): void => {
        for (let k = 0; k < count; k++) {
          const result = results[k] as Stats | string;
          const name = names[from + k] as string;
          if (b.stopped) break;
          if (typeof result === 'string') b.failed(name, result);
          else b.add(name, result, args[k] as string | Buffer);
        }
        resolve();
      };
      for (let k = 0; k < count; k++) {
        const name = names[from + k] as string;
        const path = prefix + name;
        const arg = prefixAscii && !nonAscii.test(name) ? path : Buffer.from(path, 'latin1');
        args[k] = arg;
        submit(() =>
          fs.lstat(arg, (err, stats) => {
            release();
            results[k] = err ? codeOf(err) : stats;
            if (--pending === 0) finish();
          }),
        );
      }
    });
  }

  /**
   * lstats names[from..to) of an open directory into `b`: synchronously on a fast filesystem, asynchronously on
   * a slow one, probing now and then which it is (unless a mode is forced).
   */
  async function statNames(b: RecordBuilder, open: OpenDir, names: string[], from: number, to: number): Promise<void> {
    const probeDue =
      config.mode === undefined &&
      performance.now() - lastProbe > (mode === 'async' ? REPROBE_SLOW_MS : REPROBE_FAST_MS);
    let next = from;
    if (mode === 'sync' || probeDue) {
      // While slow, the probe alone runs synchronously (it blocks this thread's other tasks for PROBE lstats).
      const end = mode === 'async' ? Math.min(to, from + PROBE - probed) : to;
      next = statSync(b, open, names, from, end, probeDue);
      if (next === end && mode === 'sync' && end < to) next = statSync(b, open, names, end, to, false);
    }
    if (next < to) await statAsync(b, open, names, next, to);
  }

  // ---- tasks ---------------------------------------------------------------------------------------------

  async function visit(
    dir: DirRef,
    names: string[] | null,
    first: boolean,
    last: boolean,
  ): Promise<{ record: RecordBuilder; after: string | null } | { big: BigDirectory } | { error: RecordBuilder }> {
    const open = await openDir(dir, first);
    if (!('fd' in open)) return { error: open };
    try {
      let list = names;
      if (list === null) {
        try {
          list = await listDir(open);
        } catch (err) {
          const code = codeOf(err);
          return { error: errorRecord(dir, kindOfOpenError(code), code, first) };
        }
        if (list.length > config.bigDirectory) return { big: { dir, chunks: chunkNames(list, 0) } };
      }
      const builder = new RecordBuilder(dir, first);
      await statNames(builder, open, list, 0, list.length);
      if (!(await stillThere(dir, open))) return { error: errorRecord(dir, 'vanished', 'ECHANGED', first) };
      return { record: builder, after: last ? null : (list[list.length - 1] ?? null) };
    } finally {
      closeDir(open);
    }
  }

  function chunkNames(names: string[], from: number): string[] {
    const chunks: string[] = [];
    for (let i = from; i < names.length; i += config.chunkSize) {
      chunks.push(names.slice(i, i + config.chunkSize).join('/'));
    }
    return chunks;
  }

  async function runWalk(task: Extract<Task, { kind: 'walk' }>): Promise<TaskResult> {
    const started = performance.now();
    const records = new BatchWriter();
    const stack: Array<{ dirs: DirRef[]; i: number }> = [{ dirs: task.dirs, i: 0 }];
    let entries = 0;
    let big: BigDirectory | null = null;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { dirs: DirRef[]; i: number };
      if (top.i >= top.dirs.length) {
        stack.pop();
        continue;
      }
      if (records.count > 0 && (entries >= task.budgetEntries || performance.now() - started >= task.budgetMs)) break;
      const dir = top.dirs[top.i++] as DirRef;
      const result = await visit(dir, null, true, true);
      if ('error' in result) {
        result.error.writeTo(records, null);
        entries++;
      } else if ('big' in result) {
        big = result.big;
        break;
      } else {
        result.record.writeTo(records, result.after);
        entries += result.record.entries + 1;
        if (result.record.subdirs.length > 0) stack.push({ dirs: result.record.subdirs, i: 0 });
      }
    }
    const rest: DirRef[][] = [];
    for (let k = stack.length - 1; k >= 0; k--) {
      const frame = stack[k] as { dirs: DirRef[]; i: number };
      if (frame.i < frame.dirs.length) rest.push(frame.dirs.slice(frame.i));
    }
    return { kind: 'walk', id: task.id, records: records.done(), big, rest };
  }

  async function runChunk(task: Extract<Task, { kind: 'chunk' }>): Promise<TaskResult> {
    const names = task.names.split('/');
    const result = await visit(task.dir, names, task.first, task.last);
    const records = new BatchWriter();
    const after = task.last ? null : (names[names.length - 1] ?? null);
    const record = 'record' in result ? result.record : 'error' in result ? result.error : null;
    (record ?? errorRecord(task.dir, 'otherErrors', 'EINTERNAL', task.first)).writeTo(records, after);
    return { kind: 'chunk', id: task.id, records: records.done(), subdirs: record?.subdirs ?? [] };
  }

  /**
   * Rebuilds what remains after a checkpoint's cursor by listing the cursor's directory and its ancestors again
   * (subdirectories are found from d_type, lstat'ed only when they are, or may be, directories).
   */
  async function runFrontier(task: Extract<Task, { kind: 'frontier' }>): Promise<TaskResult> {
    const c = calls();
    const components = task.rel === '' ? [] : task.rel.split('/');
    const records = new BatchWriter();
    const ancestors: DirRef[][] = [];
    let remainder: BigDirectory | null = null;
    let subdirs: DirRef[] = [];
    let dir: DirRef = { rel: '', dev: config.rootDev, ino: config.rootIno };
    for (let depth = 0; depth <= components.length; depth++) {
      const isCursorDir = depth === components.length;
      const open = await openDir(dir, false);
      if (!('fd' in open)) {
        open.writeTo(records, null);
        break;
      }
      let next: DirRef | null = null;
      try {
        const entries = (await c.readdirTyped(sysPath(open.base))).sort((a, b) =>
          a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
        );
        const bound = isCursorDir ? task.after : (components[depth] as string);
        const found: DirRef[] = [];
        for (const entry of entries) {
          const name = entry.name;
          const wanted = isCursorDir ? bound === null || name <= bound : name >= (bound as string);
          if (!wanted || excluded.has(name)) continue;
          if (!entry.isDirectory() && !isUnknown(entry)) continue;
          const s = await c.lstat(sysPath(`${open.base}/${name}`));
          if (s === undefined || !s.isDirectory() || s.dev !== config.rootDev) continue;
          const ref = { rel: childRel(dir.rel, name), dev: s.dev, ino: s.ino };
          if (!isCursorDir && name === bound) next = ref;
          else found.push(ref);
        }
        if (isCursorDir) {
          subdirs = found;
          if (task.after !== null) {
            const after = task.after;
            const rest = entries.map((entry) => entry.name).filter((name) => name > after);
            if (rest.length > 0) remainder = { dir, chunks: chunkNames(rest, 0) };
          }
        } else {
          ancestors.unshift(found);
        }
      } catch (err) {
        errorRecord(dir, 'vanished', codeOf(err), false).writeTo(records, null);
        break;
      } finally {
        closeDir(open);
      }
      if (isCursorDir) break;
      if (next === null) {
        // The cursor's path is gone: what came after it at this level still needs walking.
        const gone = { ...dir, rel: childRel(dir.rel, components[depth] as string) };
        errorRecord(gone, 'vanished', 'ENOENT', false).writeTo(records, null);
        break;
      }
      dir = next;
    }
    return { kind: 'frontier', id: task.id, records: records.done(), remainder, subdirs, ancestors };
  }

  /** d_type DT_UNKNOWN (some filesystems do not fill it in): only an lstat tells. */
  function isUnknown(entry: Dirent): boolean {
    return !(
      entry.isFile() ||
      entry.isDirectory() ||
      entry.isSymbolicLink() ||
      entry.isFIFO() ||
      entry.isSocket() ||
      entry.isCharacterDevice() ||
      entry.isBlockDevice()
    );
  }

  async function run(task: Task): Promise<TaskResult> {
    switch (task.kind) {
      case 'walk':
        return runWalk(task);
      case 'chunk':
        return runChunk(task);
      case 'frontier':
        return runFrontier(task);
    }
  }

  port.on('message', (message: { config: WorkerConfig } | { stop: true } | Task) => {
    if ('config' in message) {
      config = message.config;
      nowMs = config.nowMs;
      useMtime = config.ageBasis === 'mtime';
      excluded = new Set(config.exclude);
      // A thread may serve several walks one after another (walker/thread-pool.ts): each starts unprobed.
      mode = config.mode ?? 'sync';
      lastProbe = -Infinity;
      probed = 0;
      return;
    }
    if ('stop' in message) {
      // Finish what runs (so no directory fd leaks), then let the thread end.
      stopping = true;
      if (running === 0) port.close();
      return;
    }
    running++;
    run(message)
      .then(
        (result) => {
          if (stopping) return;
          const numbers = 'records' in result ? result.records.numbers : null;
          port.postMessage(result, numbers ? [numbers.buffer as ArrayBuffer] : []);
        },
        (err: unknown) => {
          if (stopping) return;
          port.postMessage({
            kind: 'error',
            id: message.id,
            message: err instanceof Error ? (err.stack ?? err.message) : String(err),
          } satisfies TaskResult);
        },
      )
      .finally(() => {
        running--;
        if (stopping && running === 0) port.close();
      });
  });
}

/** The worker's source text, runnable with `new Worker(source, { eval: true })`. */
export function walkerWorkerSource(): string {
  // Transpilers may wrap functions in a `__name(fn, "name")` helper (esbuild's keepNames); it only sets names.
  return `"use strict";\nvar __name = (fn) => fn;\n(${dirWorkerMain.toString()})();\n`;
}
