// The PageNow user-api tables the service reads (for local runs and tests; the service itself never writes them).

/** Ordered migrations: id and SQL. Applied by {@link migrate} in src/layer/adapters/postgres/migrate.ts. */
export const MIGRATIONS: readonly { readonly id: string; readonly sql: string }[] = [
  {
    id: '001_user_api_tables',
    sql: `
CREATE TABLE IF NOT EXISTS user_table (
  user_id                 VARCHAR(128) PRIMARY KEY,
  email                   VARCHAR(320),
  first_name              VARCHAR(128),
  last_name               VARCHAR(128),
  description             TEXT,
  share_mode              VARCHAR(16) NOT NULL DEFAULT 'default_none'
                          CHECK (share_mode IN ('default_none', 'default_all')),
  domain_allow_array      TEXT[] NOT NULL DEFAULT '{}',
  domain_deny_array       TEXT[] NOT NULL DEFAULT '{}',
  profile_image_extension VARCHAR(16),
  created_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS friendship_table (
  user_id1     VARCHAR(128) NOT NULL REFERENCES user_table (user_id) ON DELETE CASCADE,
  user_id2     VARCHAR(128) NOT NULL REFERENCES user_table (user_id) ON DELETE CASCADE,
  requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  accepted_at  TIMESTAMPTZ,
  PRIMARY KEY (user_id1, user_id2),
  CHECK (user_id1 <> user_id2)
);
CREATE INDEX IF NOT EXISTS friendship_table_user_id2_idx ON friendship_table (user_id2);
`,
  },
  {
    id: '002_group_tables',
    sql: `
CREATE TABLE IF NOT EXISTS group_table (
  group_id   TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS group_member_table (
  group_id  TEXT NOT NULL REFERENCES group_table (group_id) ON DELETE CASCADE,
  user_id   TEXT NOT NULL,
  joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
-- the groups of a user (their context) and the first GROUP_MAX_MEMBERS members of a group, in joining order
CREATE INDEX IF NOT EXISTS group_member_table_user_id_idx ON group_member_table (user_id);
CREATE INDEX IF NOT EXISTS group_member_table_joined_idx ON group_member_table (group_id, joined_at, user_id);
`,
  },
];

/** Demo users, friendships (both share modes, a pending request, a stranger) and groups (with members who are not friends). */
export const SEED_SQL = `
INSERT INTO user_table (user_id, first_name, last_name, share_mode, domain_allow_array, domain_deny_array) VALUES
  ('alice', 'Alice', 'Anders', 'default_all', '{}', '{facebook.com}'),
  ('bob',   'Bob',   'Brown',  'default_none', '{wikipedia.org,github.com}', '{}'),
  ('carol', 'Carol', 'Chen',   'default_all', '{}', '{}'),
  ('dave',  'Dave',  'Diaz',   'default_none', '{}', '{}'),
  ('erin',  'Erin',  'Evans',  'default_all', '{}', '{}')
ON CONFLICT (user_id) DO NOTHING;
INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at) VALUES
  ('alice', 'bob',   now(), now()),
  ('alice', 'carol', now(), now()),
  ('bob',   'carol', now(), now()),
  ('dave',  'alice', now(), now()),
  ('erin',  'alice', now(), NULL)
ON CONFLICT (user_id1, user_id2) DO NOTHING;
INSERT INTO group_table (group_id, name) VALUES
  ('raid-night', 'Raid night'),
  ('book-club',  'Book club')
ON CONFLICT (group_id) DO NOTHING;
INSERT INTO group_member_table (group_id, user_id) VALUES
  ('raid-night', 'alice'), ('raid-night', 'bob'), ('raid-night', 'dave'), ('raid-night', 'erin'),
  ('book-club',  'bob'),   ('book-club',  'carol'), ('book-club', 'erin')
ON CONFLICT (group_id, user_id) DO NOTHING;
`;
