// The Postgres FriendDirectory: privacy lists normalized to hosts as they are loaded, user info keyed safely.
import { PostgresFriendDirectory } from '../../src/layer/adapters/postgres/friend-directory';
import { createTestSchema, seedSocialGraph } from '../support/stores';

type Db = Awaited<ReturnType<typeof createTestSchema>>;
let db: Db;
let directory: PostgresFriendDirectory;

beforeAll(async () => {
  db = await createTestSchema();
  directory = new PostgresFriendDirectory(async () => db.pool, 1500);
  await seedSocialGraph(
    db.pool,
    [
      {
        id: 'ann',
        shareMode: 'default_none',
        allow: [
          'docs.google.com',
          'https://user:pw@Docs.Google.com:8443/d/1?x#y',
          'bücher.de',
          'xn--bcher-kva.de',
          '*.GitHub.com.',
          'not a host',
          '*',
          '',
        ],
        deny: ['ignored-in-default-none.example'],
      },
      {
        id: 'ben',
        shareMode: 'default_all',
        deny: ['BÜCHER.de', 'https://www.facebook.com/me', '.bad', 'localhost:3000'],
      },
      { id: 'cid', shareMode: 'default_none', allow: ['*', 'exa mple.com', '-x.com'] },
      { id: '__proto__', shareMode: 'default_all' },
      { id: 'constructor', shareMode: 'default_all' },
    ],
    [
      ['ann', '__proto__', true],
      ['constructor', 'ann', true],
    ],
  );
  // A list written by another client may hold NULL elements.
  await db.pool.query(
    `UPDATE user_table SET domain_deny_array = array_append(domain_deny_array, NULL) WHERE user_id = 'ben'`,
  );
});
afterAll(async () => {
  await db.drop();
});

describe('PostgresFriendDirectory', () => {
  it('normalizes the list of the share mode to hosts: Unicode and punycode, URLs, *., case, duplicates', async () => {
    const contexts = await directory.loadContexts(['ann', 'ben']);

    expect(contexts.get('ann')?.settings).toEqual({
      shareMode: 'default_none',
      domains: ['docs.google.com', 'xn--bcher-kva.de', 'github.com'],
    });
    expect(contexts.get('ben')?.settings).toEqual({
      shareMode: 'default_all',
      domains: ['xn--bcher-kva.de', 'www.facebook.com', 'localhost'],
    });
  });

  it('drops entries that are not host names, so an allow list of only those shares nothing', async () => {
    const contexts = await directory.loadContexts(['cid', 'nobody']);

    expect(contexts.get('cid')?.settings).toEqual({ shareMode: 'default_none', domains: [] });
    expect(contexts.get('nobody')?.settings).toEqual({ shareMode: 'default_none', domains: [] });
  });

  it('keys user info by id in a Map: __proto__ and constructor are ordinary ids', async () => {
    const ann = (await directory.loadContexts(['ann'])).get('ann');

    expect(ann?.friendIds).toEqual(['__proto__', 'constructor']);
    expect([...(ann?.info.keys() ?? [])].sort()).toEqual(['__proto__', 'ann', 'constructor']);
    expect(ann?.info.get('__proto__')).toMatchObject({ user_id: '__proto__' });
    expect(ann?.info.get('constructor')).toMatchObject({ user_id: 'constructor' });
    const strangerInfo = (await directory.loadContexts(['ben'])).get('ben')?.info;
    expect(strangerInfo?.has('constructor')).toBe(false);
  });
});
