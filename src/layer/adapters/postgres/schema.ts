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
];

/** Demo users and friendships (both share modes, a pending request, a stranger). */
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
`;
