import type { BatchReader, DirRecord, DirRef, Task } from './protocol.js';

/**
 * The walk's to-do list in walk order (preorder, children sorted bytewise). Workers fill it out of order — each
 * task turns a pending item into records plus the items it did not reach — while the main thread accounts
 * records strictly from the front. Items:
 *
 * - `dirs`: sibling directories whose subtrees are still to walk;
 * - `chunk`: a slice of a large directory's names still to lstat; its subdirectories land in its `slot`;
 * - `slot`: where a chunk's subdirectories go (they come after all chunks of their directory);
 * - `frontier`: the re-listing that rebuilds the rest of a walk resumed from a checkpoint;
 * - `running`: a task in a worker; `done`: records ready to account.
 */
export type Item =
  | { kind: 'dirs'; dirs: DirRef[]; next: number }
  | { kind: 'chunk'; dir: DirRef; names: string; first: boolean; last: boolean; slot: Node }
  | { kind: 'slot' }
  | { kind: 'frontier'; rel: string; after: string | null }
  | { kind: 'running'; taskId: number }
  | { kind: 'done'; records: BatchReader };

export interface Node {
  item: Item;
  prev: Node | null;
  next: Node | null;
}

export class WorkList {
  head: Node | null = null;
  tail: Node | null = null;
  /** Records in `done` items not yet accounted. */
  bufferedRecords = 0;

  get empty(): boolean {
    return this.head === null;
  }

  push(item: Item): Node {
    const node: Node = { item, prev: this.tail, next: null };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count(item, +1);
    return node;
  }

  /** Inserts items before `at`, in order; returns their nodes. */
  insertBefore(at: Node, items: Item[]): Node[] {
    return items.map((item) => {
      const node: Node = { item, prev: at.prev, next: at };
      if (at.prev) at.prev.next = node;
      else this.head = node;
      at.prev = node;
      this.count(item, +1);
      return node;
    });
  }

  /** Replaces `node` by `items` (possibly none). */
  replace(node: Node, items: Item[]): Node[] {
    const nodes = this.insertBefore(node, items);
    this.remove(node);
    return nodes;
  }

  /** Changes what a node holds in place. */
  set(node: Node, item: Item): void {
    this.count(node.item, -1);
    node.item = item;
    this.count(item, +1);
  }

  remove(node: Node): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
    this.count(node.item, -1);
  }

  /** Takes the next record to account from the front, or null if the front is not ready. */
  takeRecord(): DirRecord | null {
    for (;;) {
      const node = this.head;
      if (node === null) return null;
      const item = node.item;
      if (item.kind === 'done') {
        const record = item.records.read();
        if (record !== null) {
          this.bufferedRecords--;
          return record;
        }
        this.remove(node);
        continue;
      }
      if (item.kind === 'dirs' && item.next >= item.dirs.length) {
        this.remove(node);
        continue;
      }
      return null;
    }
  }

  private count(item: Item, sign: number): void {
    if (item.kind === 'done') this.bufferedRecords += sign * item.records.remaining;
  }
}

/** What a pending item becomes when dispatched: the task, and the item left in its place (if any). */
export function taskFor(
  item: Item,
  taskId: number,
  take: number,
  budget: { entries: number; ms: number },
): Task | null {
  switch (item.kind) {
    case 'dirs':
      return {
        kind: 'walk',
        id: taskId,
        dirs: item.dirs.slice(item.next, item.next + take),
        budgetEntries: budget.entries,
        budgetMs: budget.ms,
      };
    case 'chunk':
      return { kind: 'chunk', id: taskId, dir: item.dir, names: item.names, first: item.first, last: item.last };
    case 'frontier':
      return { kind: 'frontier', id: taskId, rel: item.rel, after: item.after };
    default:
      return null;
  }
}
