import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { freePort } from './ports.js';
import { errorMessage } from '../../lib/common/errors.js';

/** OpenLDAP's server, from Debian's `slapd` package (.ci/run installs it). */
export const slapdPath = process.env.XFC_TEST_SLAPD ?? '/usr/sbin/slapd';

/** Why the LDAP tests cannot run here, or undefined when they can. CI sets XFC_TEST_REQUIRE_SLAPD=1: no skipping. */
export function slapdMissing(): string | undefined {
  if (existsSync(slapdPath)) return undefined;
  const why = `${slapdPath} is not installed: apt-get install slapd (or set XFC_TEST_SLAPD)`;
  if (process.env.XFC_TEST_REQUIRE_SLAPD === '1') throw new Error(why);
  return why;
}

export const testSuffix = 'dc=example,dc=org';
export const testAdmin = { dn: `cn=admin,${testSuffix}`, password: 'test-admin-secret' };

export interface TestLdap {
  url: string;
  /** Adds entries as the directory's administrator. */
  add(entries: Array<{ dn: string; attributes: Record<string, string | string[]> }>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real OpenLDAP server for one test file: its own configuration, MDB database and port, the standard schemas
 * (posixAccount, inetOrgPerson), anonymous read as JASMIN's directory allows, and the base entry in place.
 */
export async function startTestLdap(): Promise<TestLdap> {
  const dir = mkdtempSync(join(tmpdir(), 'xfc-slapd-'));
  mkdirSync(join(dir, 'db'));
  const port = await freePort();
  const schemas = ['core', 'cosine', 'nis', 'inetorgperson'].map((name) => `include /etc/ldap/schema/${name}.schema`);
  writeFileSync(
    join(dir, 'slapd.conf'),
    [
      ...schemas,
      `pidfile ${join(dir, 'slapd.pid')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'database mdb',
      'maxsize 16777216',
      `suffix "${testSuffix}"`,
      `rootdn "${testAdmin.dn}"`,
      `rootpw ${testAdmin.password}`,
      `directory ${join(dir, 'db')}`,
      'access to * by * read',
      '',
    ].join('\n'),
  );
  const url = `ldap://127.0.0.1:${port}`;
  // -d 0: stay in the foreground (so the test owns the process) without debug output.
  const child: ChildProcess = spawn(slapdPath, ['-f', join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const add: TestLdap['add'] = async (entries) => {
    const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await client.bind(testAdmin.dn, testAdmin.password);
      for (const entry of entries) await client.add(entry.dn, entry.attributes);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await add([
        {
          dn: testSuffix,
          attributes: { objectClass: ['dcObject', 'organization'], dc: 'example', o: 'Example' },
        },
      ]);
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`slapd did not start: ${errorMessage(err)}\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, add, stop };
}

/** An account entry as JASMIN's directory holds one (posixAccount + inetOrgPerson). */
export function account(
  uid: string,
  ou: string,
  mail?: string | string[],
): { dn: string; attributes: Record<string, string | string[]> } {
  return {
    dn: `uid=${uid},ou=${ou},${testSuffix}`,
    attributes: {
      objectClass: ['inetOrgPerson', 'posixAccount'],
      uid,
      cn: uid,
      sn: uid,
      uidNumber: '10001',
      gidNumber: '10001',
      homeDirectory: `/home/users/${uid}`,
      ...(mail !== undefined && { mail }),
    },
  };
}

export function organizationalUnit(ou: string): { dn: string; attributes: Record<string, string | string[]> } {
  return { dn: `ou=${ou},${testSuffix}`, attributes: { objectClass: 'organizationalUnit', ou } };
}
