// The Postgres GroupDirectory (and the groups in the FriendDirectory's contexts), directly and through PgBouncer in
// transaction pooling mode: one query per batch, members in joining order up to the cap, unknown groups absent.
import { PostgresFriendDirectory } from '../../src/layer/adapters/postgres/friend-directory';
import { PostgresGroupDirectory } from '../../src/layer/adapters/postgres/group-directory';
import type { TestDatabase } from '../support/stores';
import { createPooledTestDatabase, createTestSchema, seedSocialGraph } from '../support/stores';

describe.each([
  ['directly', () => createTestSchema()],
  ['through PgBouncer (transaction mode)', () => createPooledTestDatabase()],
])('%s', (_label, create) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await create();
    await seedSocialGraph(db.pool, [{ id: 'ann' }, { id: 'ben' }, { id: 'cy' }], []);
    await db.pool.query(`INSERT INTO group_table (group_id, name) VALUES ('g1', 'One'), ('g2', 'Two')`);
    // joining order differs from id order; 'ghost' has no user_table row
    await db.pool.query(
      `INSERT INTO group_member_table (group_id, user_id, joined_at) VALUES
         ('g1', 'cy', now() - interval '3 hours'), ('g1', 'ann', now() - interval '2 hours'),
         ('g1', 'ghost', now() - interval '1 hour'), ('g1', 'ben', now()), ('g2', 'ann', now())`,
    );
  });
  afterAll(async () => {
    await db.drop();
  });

  it('loads groups in one query, members in joining order up to the cap, unknown ids absent', async () => {
    const directory = new PostgresGroupDirectory(async () => db.pool, 1500, 3);

    const groups = await directory.loadGroups(['g1', 'g2', 'nope']);

    expect(directory.queries).toBe(1);
    expect([...groups.keys()].sort()).toEqual(['g1', 'g2']);
    expect(groups.get('g1')).toMatchObject({ groupId: 'g1', name: 'One', memberIds: ['cy', 'ann', 'ghost'] });
    expect(groups.get('g1')?.info.get('ann')).toEqual({
      user_id: 'ann',
      first_name: 'Ann',
      last_name: 'Test',
      profile_image_extension: null,
    });
    expect(groups.get('g1')?.info.get('ghost')).toEqual({
      user_id: 'ghost',
      first_name: null,
      last_name: null,
      profile_image_extension: null,
    });
    expect(groups.get('g2')?.memberIds).toEqual(['ann']);
  });

  it('puts the groups of each user in their context, in the same single query', async () => {
    const directory = new PostgresFriendDirectory(async () => db.pool, 1500);

    const contexts = await directory.loadContexts(['ann', 'ben', 'nobody']);

    expect(directory.queries).toBe(1);
    expect(contexts.get('ann')?.groupIds).toEqual(['g1', 'g2']);
    expect(contexts.get('ben')?.groupIds).toEqual(['g1']);
    expect(contexts.get('nobody')?.groupIds).toEqual([]);
  });
});
