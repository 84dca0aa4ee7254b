import type { DbId } from '../../db/ids.js';
import type { Discovery } from './discover.js';

/**
 * What a backfill will do, decided from what is on disk and what is in the database, without side effects.
 *
 * Rules: a user directory whose name is not yet in xfc_control_user becomes a user on that volume; an existing user
 * is never changed, only compared (recorded on another volume, recorded twice, another cache_path, no directory);
 * a new name with directories on two volumes is not created, because choosing one is a person's decision.
 *
 * Volumes: each usable volume is registered once, with the filesystem's size. `allocated_bytes` follows Django's
 * allocation bookkeeping as the production rows show it (vol7: one user, 40 TiB; vol5: two users left, 120 TiB):
 * it grows by the hard quota of every user placed on the volume and is never recomputed, since it also counts
 * allocations of users no longer listed. So a new volume starts at the sum of the hard quotas of the users created
 * on it, and an existing one grows by the hard quotas of the users added. `used_bytes` is the sum of the users'
 * `total_used` (0 for new users), which Django's find_free_cache_disk subtracts from size_bytes.
 */

export interface DiskRow {
  id: DbId;
  mountpoint: string;
  sizeBytes: bigint;
}

export interface UserRow {
  id: DbId;
  name: string;
  diskId: DbId;
  cachePath: string;
}

export interface DatabaseState {
  disks: DiskRow[];
  users: UserRow[];
}

export interface BackfillSettings {
  temporalQuota: bigint;
  hardQuota: bigint;
  /** notify for new users that have an address (users without one always get notify off). */
  notify: boolean;
  emails: Map<string, string>;
}

export type VolumeAction = 'register' | 'registered' | 'excluded' | 'unusable';

export interface PlannedVolume {
  name: string;
  mountpoint: string;
  action: VolumeAction;
  /** The row, when already registered. */
  diskId: DbId | null;
  sizeBytes: bigint | null;
  problem?: string;
  /** A remark about the registered row, e.g. a size that differs from the filesystem's. */
  note?: string;
  found: number;
  create: number;
  present: number;
  skipped: number;
  /** Added to allocated_bytes (for a new volume: its initial value). */
  allocate: bigint;
}

export interface PlannedUser {
  username: string;
  volume: string;
  mountpoint: string;
  cachePath: string;
  email: string;
  notify: boolean;
}

export interface Conflict {
  username: string;
  volumes: string[];
  message: string;
}

export interface Difference {
  username: string;
  message: string;
}

export interface BackfillPlan {
  volumes: PlannedVolume[];
  create: PlannedUser[];
  present: Array<{ username: string; volume: string }>;
  conflicts: Conflict[];
  differences: Difference[];
  /** New users without an address: notify off. */
  withoutEmail: string[];
  /** Registered volumes under the root that were not found there. */
  missingVolumes: string[];
}

const trimSlashes = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, '') : path);

export function planBackfill(discovery: Discovery, state: DatabaseState, settings: BackfillSettings): BackfillPlan {
  const diskByMountpoint = new Map(state.disks.map((disk) => [trimSlashes(disk.mountpoint), disk]));
  const diskById = new Map(state.disks.map((disk) => [disk.id, disk]));
  const usersByName = new Map<string, UserRow[]>();
  for (const user of [...state.users].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    usersByName.set(user.name, [...(usersByName.get(user.name) ?? []), user]);
  }

  const volumes = new Map<string, PlannedVolume>();
  for (const found of discovery.volumes) {
    const disk = diskByMountpoint.get(found.mountpoint);
    const action: VolumeAction = found.excluded
      ? 'excluded'
      : found.problem !== undefined
        ? 'unusable'
        : disk
          ? 'registered'
          : 'register';
    const note =
      action === 'registered' && disk && found.sizeBytes !== null && disk.sizeBytes !== found.sizeBytes
        ? `size_bytes ${disk.sizeBytes} kept; the filesystem reports ${found.sizeBytes}`
        : undefined;
    volumes.set(found.name, {
      name: found.name,
      mountpoint: found.mountpoint,
      action,
      diskId: disk?.id ?? null,
      sizeBytes: found.sizeBytes,
      ...(found.problem !== undefined ? { problem: found.problem } : {}),
      ...(note !== undefined ? { note } : {}),
      found: 0,
      create: 0,
      present: 0,
      skipped: 0,
      allocate: 0n,
    });
  }
  for (const skipped of discovery.skipped) {
    const volume = volumes.get(skipped.path.split('/')[0] ?? '');
    if (volume) volume.skipped += 1;
  }

  const directoriesByName = new Map<string, string[]>();
  for (const directory of discovery.directories) {
    directoriesByName.set(directory.username, [...(directoriesByName.get(directory.username) ?? []), directory.volume]);
    const volume = volumes.get(directory.volume);
    if (volume) volume.found += 1;
  }

  const plan: BackfillPlan = {
    volumes: [...volumes.values()],
    create: [],
    present: [],
    conflicts: [],
    differences: [],
    withoutEmail: [],
    missingVolumes: [],
  };
  const volumeOf = (diskId: DbId): string => diskById.get(diskId)?.mountpoint ?? `cache disk #${diskId}`;

  for (const username of [...directoriesByName.keys()].sort()) {
    const found = directoriesByName.get(username) ?? [];
    const existing = usersByName.get(username);
    if (existing && existing.length > 0) {
      const [user] = existing as [UserRow, ...UserRow[]];
      const recordedOn = trimSlashes(volumeOf(user.diskId));
      const recordedVolume = discovery.volumes.find((volume) => volume.mountpoint === recordedOn)?.name;
      plan.present.push({ username, volume: recordedVolume ?? recordedOn });
      for (const name of found) {
        const volume = volumes.get(name);
        if (volume) volume.present += 1;
      }
      if (existing.length > 1) {
        plan.differences.push({
          username,
          message: `recorded ${existing.length} times in xfc_control_user (ids ${existing.map((u) => u.id).join(', ')})`,
        });
      }
      if (recordedVolume === undefined || !found.includes(recordedVolume)) {
        plan.differences.push({
          username,
          message: `recorded on ${recordedVolume ?? recordedOn}, but the directory is on ${found.join(' and ')}`,
        });
      } else if (found.length > 1) {
        plan.differences.push({
          username,
          message: `has directories on ${found.join(' and ')}; recorded on ${recordedVolume}`,
        });
      }
      if (user.cachePath !== `user_cache/${username}`) {
        plan.differences.push({ username, message: `cache_path is ${JSON.stringify(user.cachePath)}` });
      }
      continue;
    }
    if (found.length > 1) {
      plan.conflicts.push({
        username,
        volumes: found,
        message:
          `directories on ${found.join(' and ')}: not created. Decide which is current, then run again with ` +
          `--exclude for the other volume(s) (users already registered are not affected).`,
      });
      continue;
    }
    const volume = volumes.get(found[0] ?? '');
    if (!volume) continue;
    const email = settings.emails.get(username) ?? '';
    if (email === '') plan.withoutEmail.push(username);
    plan.create.push({
      username,
      volume: volume.name,
      mountpoint: volume.mountpoint,
      cachePath: `user_cache/${username}`,
      email,
      notify: settings.notify && email !== '',
    });
    volume.create += 1;
    volume.allocate += settings.hardQuota;
  }

  // Registered users whose volume was searched but who have no directory there.
  const searched = new Map(
    plan.volumes.filter((v) => v.action === 'registered' || v.action === 'register').map((v) => [v.mountpoint, v.name]),
  );
  for (const user of state.users) {
    const volume = searched.get(trimSlashes(volumeOf(user.diskId)));
    if (volume !== undefined && !directoriesByName.has(user.name)) {
      plan.differences.push({
        username: user.name,
        message: `recorded on ${volume}, but no directory ${volume}/user_cache/${user.name} was found`,
      });
    }
  }
  plan.differences.sort((a, b) => a.username.localeCompare(b.username));

  const rootPrefix = `${discovery.root}/`;
  const discovered = new Set(discovery.volumes.map((volume) => volume.mountpoint));
  plan.missingVolumes = state.disks
    .map((disk) => trimSlashes(disk.mountpoint))
    .filter((mountpoint) => mountpoint.startsWith(rootPrefix) && !discovered.has(mountpoint))
    .sort();
  return plan;
}
