// Tests of the deploy configuration: defaults, validation messages naming the key, .env reading.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import {
  DEPLOY_CONFIG_KEYS,
  DeployConfigError,
  parseDeployConfig,
  readDeployEnvironment,
} from '../../lib/deploy-config';
import { tempDir } from '../support/temp-dirs';
import { BASE_ENV } from './stack-fixture';

describe('parseDeployConfig', () => {
  it('defaults to a Multi-AZ Valkey replication group and a 55 s sweep window', () => {
    const config = parseDeployConfig(BASE_ENV);
    expect(config.network).toMatchObject({ kind: 'existing', vpcId: 'vpc-0123456789abcdef0' });
    expect(config.cache).toMatchObject({
      kind: 'replication-group',
      engine: 'valkey',
      engineVersion: '8.0',
      clusterMode: false,
    });
    expect(config.runtime).toMatchObject({
      SWEEP_WINDOW_SECONDS: 55,
      SWEEP_INTERVAL_SECONDS: 10,
      PRESENCE_TIMEOUT_SECONDS: 90,
    });
    expect(config.stageName).toBe('prod');
    expect(Object.isFrozen(config.cache)).toBe(true);
  });

  it('keeps the deployed sweep window at 55 s whatever SWEEP_WINDOW_SECONDS the local stack uses', () => {
    expect(parseDeployConfig({ ...BASE_ENV, SWEEP_WINDOW_SECONDS: '0' }).runtime.SWEEP_WINDOW_SECONDS).toBe(55);
  });

  it('creates a two-AZ VPC with a NAT gateway per AZ when no VPC is named (demo database)', () => {
    const { VPC_ID: _id, VPC_AVAILABILITY_ZONES: _azs, VPC_PRIVATE_SUBNET_IDS: _private, ...rest } = BASE_ENV;
    expect(parseDeployConfig({ ...rest, DB_MODE: 'demo' }).network).toEqual({ kind: 'new', maxAzs: 2, natGateways: 2 });
  });

  it('needs the database VPC for an existing database, since RDS Proxy must live in it', () => {
    const { VPC_ID: _id, ...rest } = BASE_ENV;
    expect(() => parseDeployConfig(rest)).toThrow(/VPC_ID: required when DB_MODE=existing-instance/);
  });

  it('names every missing key at once', () => {
    expect(() => parseDeployConfig({})).toThrow(DeployConfigError);
    expect(() => parseDeployConfig({})).toThrow(/ALLOWED_ORIGINS.*JWT_AUDIENCE.*DB_MODE/s);
  });

  it('requires the existing database details unless DB_MODE=demo', () => {
    const { DB_SECRET_ARN: _omitted, ...rest } = BASE_ENV;
    expect(() => parseDeployConfig(rest)).toThrow(/DB_SECRET_ARN: required when DB_MODE=existing-instance/);
    expect(parseDeployConfig({ ...rest, DB_MODE: 'demo' }).database.kind).toBe('demo');
  });

  it('refuses a partial secret ARN, which IAM could not match', () => {
    expect(() =>
      parseDeployConfig({
        ...BASE_ENV,
        DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pagenow/db',
      }),
    ).toThrow(/DB_SECRET_ARN: must be the complete secret ARN/);
  });

  it('refuses a Redis URL carrying credentials', () => {
    expect(() =>
      parseDeployConfig({
        ...BASE_ENV,
        CACHE_MODE: 'existing',
        CACHE_EXISTING_URL: 'rediss://:secret@redis.example.com:6379',
      }),
    ).toThrow(/CACHE_EXISTING_URL/);
  });

  it('needs the availability zones and one private subnet per zone with an existing VPC', () => {
    const { VPC_AVAILABILITY_ZONES: _azs, ...withoutZones } = BASE_ENV;
    expect(() => parseDeployConfig(withoutZones)).toThrow(/VPC_AVAILABILITY_ZONES/);
    expect(() => parseDeployConfig({ ...BASE_ENV, VPC_PRIVATE_SUBNET_IDS: 'subnet-0aaaaaaaaaaaaaaa1' })).toThrow(
      /VPC_PRIVATE_SUBNET_IDS/,
    );
  });

  it('needs a JWT issuer or a Cognito user pool', () => {
    const { COGNITO_USER_POOL_ID: _omitted, ...rest } = BASE_ENV;
    expect(() => parseDeployConfig(rest)).toThrow(/COGNITO_USER_POOL_ID: required unless JWT_ISSUER is set/);
    expect(parseDeployConfig({ ...rest, JWT_ISSUER: 'https://issuer.example.com' }).auth.issuer).toBe(
      'https://issuer.example.com',
    );
  });

  it('refuses a log retention CloudWatch does not offer', () => {
    expect(() => parseDeployConfig({ ...BASE_ENV, LOG_RETENTION_DAYS: '31' })).toThrow(/LOG_RETENTION_DAYS/);
  });
});

describe('readDeployEnvironment', () => {
  it('reads ENV_FILE, and lets the process environment win over it', () => {
    const dir = tempDir('presence-deploy-');
    writeFileSync(join(dir, 'deploy.env'), 'STAGE_NAME=staging\nJWT_AUDIENCE=from-file\n# comment\n');
    const env = readDeployEnvironment({ ENV_FILE: 'deploy.env', JWT_AUDIENCE: 'from-shell' }, dir);
    expect(env).toMatchObject({ STAGE_NAME: 'staging', JWT_AUDIENCE: 'from-shell' });
  });

  it('works without a file', () => {
    const dir = tempDir('presence-deploy-');
    expect(readDeployEnvironment({ STAGE_NAME: 'x' }, dir)).toEqual({ STAGE_NAME: 'x' });
  });
});

describe('.env.deploy.example', () => {
  const example = readFileSync(join(__dirname, '..', '..', '.env.deploy.example'), 'utf8');

  it('documents every key the deploy configuration reads', () => {
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(DEPLOY_CONFIG_KEYS.filter((key) => !documented.has(key))).toEqual([]);
  });

  it('is a valid configuration as it stands', () => {
    expect(() => parseDeployConfig(parseEnv(example))).not.toThrow();
  });
});
