// Configuration parsing: defaults, derived values, and failures that name the key.
import { isOriginAllowed, parseAuthConfig, parseCoreConfig } from '../../src/layer/shared/config';
import { ConfigError } from '../../src/layer/shared/errors';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  DATABASE_URL: 'postgres://u@h/test',
  ALLOWED_ORIGINS: 'http://a.test, chrome-extension://x',
};

it('applies the contract defaults and freezes the result', () => {
  const config = parseCoreConfig(base);
  expect(config).toMatchObject({
    timeoutMs: 90_000,
    graceMs: 10_000,
    retentionSeconds: 30 * 86_400,
    friendCacheSeconds: 60,
    sweepWindowMs: 0,
    usageRetentionDays: 90,
    adminGroup: 'presence-admin',
  });
  expect(config.allowedOrigins).toEqual(['http://a.test', 'chrome-extension://x']);
  expect(Object.isFrozen(config)).toBe(true);
});

it.each([
  [{ ...base, REDIS_URL: undefined }, /REDIS_URL/],
  [{ ...base, REDIS_URL: 'http://x' }, /REDIS_URL/],
  [{ ...base, DATABASE_URL: undefined }, /DATABASE_URL/],
  [{ ...base, ALLOWED_ORIGINS: undefined }, /ALLOWED_ORIGINS/],
  [{ ...base, GRACE_SECONDS: '-1' }, /GRACE_SECONDS/],
  [{ ...base, REDIS_MODE: 'sentinel' }, /REDIS_MODE/],
  [{ ...base, REDIS_KEY_PREFIX: 'a{b}' }, /REDIS_KEY_PREFIX/],
  [{ ...base, USAGE_RETENTION_DAYS: '0' }, /USAGE_RETENTION_DAYS must be an integer of at least 1/],
])('fails naming the key: %#', (env, key) => {
  expect(() => parseCoreConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
  expect(() => parseCoreConfig(env as NodeJS.ProcessEnv)).toThrow(key);
});

it.each([
  [{ FRIEND_CACHE_SECONDS: '0' }, 'FRIEND_CACHE_SECONDS must be an integer of at least 1, got "0"'],
  [{ FRIEND_CACHE_SECONDS: 'soon' }, 'FRIEND_CACHE_SECONDS must be an integer of at least 1, got "soon"'],
  [{ PRESENCE_TIMEOUT_SECONDS: '1.5' }, 'PRESENCE_TIMEOUT_SECONDS must be an integer of at least 1, got "1.5"'],
  [{ GRACE_SECONDS: '-1' }, 'GRACE_SECONDS must be an integer of at least 0, got "-1"'],
  [{ REDIS_MODE: 'sentinel' }, 'REDIS_MODE must be one of standalone, cluster, got "sentinel"'],
  [{ REDIS_URL: undefined }, 'REDIS_URL is required (a redis:// or rediss:// URL)'],
  [{ ALLOWED_ORIGINS: undefined }, 'ALLOWED_ORIGINS is required (comma-separated origins, or * for any)'],
  [{ DATABASE_URL: undefined }, 'DATABASE_URL is required (or DATABASE_SECRET_ARN with DATABASE_HOST)'],
  [
    { CONNECTIONS_ENDPOINT: 'not a url' },
    'CONNECTIONS_ENDPOINT must be an absolute URL (https://...), got "not a url"',
  ],
])('says what is wrong with the key, not "Invalid input": %j', (overrides, message) => {
  expect(() => parseCoreConfig({ ...base, ...overrides } as NodeJS.ProcessEnv)).toThrow(
    `Invalid configuration: ${message}`,
  );
});

it('never echoes the value of a URL key, which may hold a password', () => {
  expect(() => parseCoreConfig({ ...base, REDIS_URL: 'http://user:s3cret@cache:6379' })).toThrow(
    /^Invalid configuration: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/,
  );
});

it('names every bad key of the token verifier', () => {
  expect(() =>
    parseAuthConfig({ JWT_AUDIENCE: 'client', JWT_TOKEN_USE: 'both', COGNITO_USER_POOL_ID: 'pool' }),
  ).toThrow(
    'Invalid configuration: JWT_TOKEN_USE must be one of id, access, any, got "both"; COGNITO_USER_POOL_ID must look like us-east-1_AbCdEf123, got "pool"',
  );
  expect(() => parseAuthConfig({})).toThrow('JWT_AUDIENCE is required');
});

it('accepts a Secrets Manager database instead of a URL', () => {
  const config = parseCoreConfig({
    ...base,
    DATABASE_URL: undefined,
    DATABASE_SECRET_ARN: 'arn:x',
    DATABASE_HOST: 'proxy',
    DATABASE_SSL: 'true',
  });
  expect(config.database).toEqual({
    kind: 'secret',
    secretArn: 'arn:x',
    host: 'proxy',
    port: 5432,
    name: undefined,
    ssl: true,
  });
});

it('derives the Cognito issuer and JWKS URI from the pool id', () => {
  expect(parseAuthConfig({ COGNITO_USER_POOL_ID: 'eu-west-1_AbC123', JWT_AUDIENCE: 'client' })).toMatchObject({
    issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
    jwksUri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json',
    tokenUse: 'any',
  });
  expect(() => parseAuthConfig({ JWT_AUDIENCE: 'client' })).toThrow(/JWT_ISSUER/);
});

it('checks origins: listed ones, * for any, and none for non-browser clients', () => {
  expect(isOriginAllowed(['http://a.test'], 'http://a.test')).toBe(true);
  expect(isOriginAllowed(['http://a.test'], 'http://b.test')).toBe(false);
  expect(isOriginAllowed(['*'], 'http://b.test')).toBe(true);
  expect(isOriginAllowed(['http://a.test'], undefined)).toBe(true);
});

it('treats empty values as unset', () => {
  expect(
    parseCoreConfig({ ...base, REDIS_AUTH_SECRET_ARN: '', GRACE_SECONDS: '' }).redis.authSecretArn,
  ).toBeUndefined();
  expect(parseCoreConfig({ ...base, GRACE_SECONDS: '' }).graceMs).toBe(10_000);
  expect(() => parseCoreConfig({ ...base, REDIS_URL: '' })).toThrow(/REDIS_URL/);
});
