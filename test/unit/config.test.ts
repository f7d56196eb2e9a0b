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
])('fails naming the key: %#', (env, key) => {
  expect(() => parseCoreConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
  expect(() => parseCoreConfig(env as NodeJS.ProcessEnv)).toThrow(key);
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
