import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { backfillUsers } from '../../lib/backfill/index.js';
import { lookupLdapEmails, type LdapSettings } from '../../lib/backfill/ldap.js';
import { UserError } from '../../lib/common/errors.js';
import { TiB } from '../../lib/common/units.js';
import { migratedDatabase, type MigratedDatabase } from '../db/helpers.js';
import {
  account,
  organizationalUnit,
  slapdMissing,
  startTestLdap,
  testAdmin,
  testSuffix,
  type TestLdap,
} from '../support/ldap.js';
import { freePort } from '../support/ports.js';
import { spawnXfc } from '../support/processes.js';
import { makeTree } from './tree.js';

const missing = slapdMissing();

describe('addresses from LDAP (a real slapd)', { skip: missing }, () => {
  let ldap: TestLdap;
  let settings: LdapSettings;
  before(async () => {
    ldap = await startTestLdap();
    await ldap.add([
      organizationalUnit('People'),
      organizationalUnit('Guests'),
      account('alice', 'People', 'alice@example.org'),
      account('bob', 'People', 'bob@example.org'),
      account('carol', 'People', 'Carol <carol@example.org>'),
      account('dave', 'People', 'dave@example.org'),
      account('dave', 'Guests', 'dave@elsewhere.example'),
      account('erin', 'People'),
      account('frank', 'People', 'frank@ldap.example.org'),
      account('gina', 'People', ['gina@example.org', 'gina.alias@example.org']),
    ]);
    settings = { url: ldap.url, baseDn: testSuffix, userAttribute: 'uid', mailAttribute: 'mail' };
  });
  after(async () => {
    await ldap?.stop();
  });

  it('finds each name’s address; reports disagreeing entries and addresses that are not plain', async () => {
    const result = await lookupLdapEmails(settings, ['alice', 'bob', 'carol', 'dave', 'erin', 'gina', 'nobody']);
    assert.deepEqual([...result.emails].sort(), [
      ['alice', 'alice@example.org'],
      ['bob', 'bob@example.org'],
      ['gina', 'gina@example.org'],
    ]);
    assert.deepEqual(
      result.problems.sort((a, b) => a.username.localeCompare(b.username)),
      [
        { username: 'carol', problem: '"Carol <carol@example.org>" is not an email address' },
        { username: 'dave', problem: 'entries disagree: dave@elsewhere.example, dave@example.org' },
      ],
    );
  });

  it('passes names as filter values: a name with filter syntax matches nothing', async () => {
    const result = await lookupLdapEmails(settings, ['a*', '*', 'alice)(uid=*']);
    assert.equal(result.emails.size, 0);
    assert.deepEqual(result.problems, []);
  });

  it('asks in batches of 100 names: all 250 found', async () => {
    await ldap.add(Array.from({ length: 250 }, (_, i) => account(`user${i}`, 'People', `user${i}@example.org`)));
    const names = Array.from({ length: 250 }, (_, i) => `user${i}`);
    const result = await lookupLdapEmails(settings, names);
    assert.equal(result.emails.size, 250);
    assert.equal(result.emails.get('user249'), 'user249@example.org');
  });

  it('binds with a DN and password when given, and says what failed when the bind is refused', async () => {
    const bound = await lookupLdapEmails({ ...settings, bindDn: testAdmin.dn, password: testAdmin.password }, ['bob']);
    assert.equal(bound.emails.get('bob'), 'bob@example.org');
    await assert.rejects(
      lookupLdapEmails({ ...settings, bindDn: testAdmin.dn, password: 'wrong' }, ['bob']),
      (err: unknown) =>
        err instanceof UserError &&
        err.exitCode === 1 &&
        /LDAP lookup at ldap:\/\/127\.0\.0\.1:\d+ .*failed: .*Nothing was written/.test(err.message),
    );
  });

  it('fails at once with a clear error when no server answers', async () => {
    const started = Date.now();
    await assert.rejects(
      lookupLdapEmails({ ...settings, url: `ldap://127.0.0.1:${await freePort()}` }, ['bob']),
      (err: unknown) => err instanceof UserError && /ECONNREFUSED/.test(err.message),
    );
    assert.ok(Date.now() - started < 5_000);
  });

  describe('in xfc users backfill', () => {
    let t: MigratedDatabase;
    let tree: ReturnType<typeof makeTree>;
    before(async () => {
      t = await migratedDatabase();
      tree = makeTree();
    });
    after(async () => {
      await t.close();
      tree.remove();
    });

    it('xfc users backfill asks LDAP when XFC_LDAP_URL is set, not with --no-ldap, and --ldap needs it', async () => {
      const fresh = await migratedDatabase();
      try {
        const env = { XFC_DATABASE_URL: fresh.db.url, XFC_LDAP_URL: ldap.url, XFC_LDAP_BASE_DN: testSuffix };
        const args = ['users', 'backfill', '--root', tree.root, '--exclude', 'vol4', '--dry-run'];
        const asked = spawnXfc(args, env);
        assert.equal(await asked.exited, 1, asked.output()); // 1: dup has directories on two volumes
        assert.match(
          asked.output(),
          /Addresses from LDAP \(ldap:\/\/127\.0\.0\.1:\d+ dc=example,dc=org\): 2 of the users to create; not usable: carol \("Carol <carol@example\.org>" is not an email address\)/,
        );
        assert.match(asked.output(), /No email address, so notifications off \(2\): carol, erin/);

        const skipped = spawnXfc([...args, '--no-ldap'], env);
        assert.equal(await skipped.exited, 1, skipped.output());
        assert.doesNotMatch(skipped.output(), /LDAP/);
        assert.match(skipped.output(), /No email address, so notifications off \(4\)/);

        const unset = spawnXfc([...args, '--ldap'], { XFC_DATABASE_URL: fresh.db.url });
        assert.equal(await unset.exited, 2);
        assert.match(unset.output(), /--ldap needs XFC_LDAP_URL and XFC_LDAP_BASE_DN/);
      } finally {
        await fresh.close();
      }
    });

    it('the emails file wins, LDAP fills in the rest, and users without a usable address get notify off', async () => {
      // The tree's users: alice and bob (vol1), carol (vol2), erin (vol3); dup is on two volumes (not created).
      const report = await backfillUsers(t.pool, {
        root: tree.root,
        exclude: ['vol4'],
        temporalQuota: 300n * TiB,
        hardQuota: 40n * TiB,
        emails: new Map([['bob', 'bob@file.example.org']]),
        lookupEmails: { source: `${ldap.url} ${testSuffix}`, lookup: (names) => lookupLdapEmails(settings, names) },
        notify: true,
        dryRun: false,
      });
      const rows = await t.pool.any(
        sql.type(z.object({ name: z.string(), email: z.string(), notify: z.boolean() }))`
          SELECT name, email, notify FROM xfc_control_user ORDER BY name`,
      );
      assert.deepEqual(rows, [
        { name: 'alice', email: 'alice@example.org', notify: true },
        { name: 'bob', email: 'bob@file.example.org', notify: true },
        { name: 'carol', email: '', notify: false },
        { name: 'erin', email: '', notify: false },
      ]);
      assert.deepEqual(report.ldap, {
        source: `${ldap.url} ${testSuffix}`,
        addresses: 1,
        problems: [{ username: 'carol', problem: '"Carol <carol@example.org>" is not an email address' }],
      });
      assert.deepEqual(report.withoutEmail.sort(), ['carol', 'erin']);
    });
  });
});
