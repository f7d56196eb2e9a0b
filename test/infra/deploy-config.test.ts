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

  it('runs at most 10 workers at once by default, and takes WORKER_MAX_CONCURRENCY from 2 to 1000', () => {
    expect(parseDeployConfig(BASE_ENV).workers).toEqual({ maxConcurrency: 10, memoryMb: 1024 });
    expect(parseDeployConfig({ ...BASE_ENV, WORKER_MAX_CONCURRENCY: '2' }).workers.maxConcurrency).toBe(2);
    expect(() => parseDeployConfig({ ...BASE_ENV, WORKER_MAX_CONCURRENCY: '1' })).toThrow(
      /WORKER_MAX_CONCURRENCY: must be at least 2 \(the smallest maximum concurrency of an SQS event source\)/,
    );
    expect(() => parseDeployConfig({ ...BASE_ENV, WORKER_MAX_CONCURRENCY: '1001' })).toThrow(
      /WORKER_MAX_CONCURRENCY: must be at most 1000/,
    );
  });

  it('sizes the worker from WORKER_MEMORY_MB, 1024 to 10240 MB', () => {
    expect(parseDeployConfig({ ...BASE_ENV, WORKER_MEMORY_MB: '3538' }).workers.memoryMb).toBe(3538);
    expect(() => parseDeployConfig({ ...BASE_ENV, WORKER_MEMORY_MB: '10241' })).toThrow(
      /WORKER_MEMORY_MB: must be at most 10240 \(the largest Lambda memory size\)/,
    );
  });

  it("hands DELIVERY_MAX_CALLS_PER_SECOND to the functions, and refuses one above API Gateway's account limit", () => {
    expect(parseDeployConfig(BASE_ENV).runtime.DELIVERY_MAX_CALLS_PER_SECOND).toBe(5000);
    expect(
      parseDeployConfig({ ...BASE_ENV, DELIVERY_MAX_CALLS_PER_SECOND: '8000' }).runtime.DELIVERY_MAX_CALLS_PER_SECOND,
    ).toBe(8000);
    expect(() => parseDeployConfig({ ...BASE_ENV, DELIVERY_MAX_CALLS_PER_SECOND: '20000' })).toThrow(
      /DELIVERY_MAX_CALLS_PER_SECOND: must be at most 10000: API Gateway's account-wide limit/,
    );
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

describe('WebSocket stage throttle from EXPECTED_PEAK_CONNECTIONS', () => {
  const throttle = (env: Record<string, string>) => parseDeployConfig({ ...BASE_ENV, ...env }).throttling.webSocket;

  it('sizes the stage for 10,000 clients beating every 20 s by default', () => {
    expect(throttle({})).toEqual({ rateLimit: 2900, burstLimit: 5800, source: 'computed' });
    expect(parseDeployConfig(BASE_ENV).throttling.expectedPeakConnections).toBe(10_000);
  });

  it('gives 20,000 clients room above their heartbeats (the default 1,000/s they would saturate)', () => {
    const { rateLimit, burstLimit } = throttle({ EXPECTED_PEAK_CONNECTIONS: '20000' });
    expect(rateLimit).toBe(4200);
    expect(burstLimit).toBe(8400);
    // 20,000 heartbeats every 20 s plus one update a minute each, doubled, is far above 1,000/s.
    expect(rateLimit).toBeGreaterThan(2 * 20_000 * (1 / 20 + 1 / 60));
  });

  it('follows the heartbeat interval of the clients (PageNow beats once a minute)', () => {
    expect(throttle({ EXPECTED_PEAK_CONNECTIONS: '20000', WS_HEARTBEAT_SECONDS: '60' }).rateLimit).toBe(2900);
  });

  it('takes WS_THROTTLE_RATE / WS_THROTTLE_BURST as explicit overrides', () => {
    expect(throttle({ WS_THROTTLE_RATE: '5000', WS_THROTTLE_BURST: '7000' })).toEqual({
      rateLimit: 5000,
      burstLimit: 7000,
      source: 'override',
    });
    expect(throttle({ WS_THROTTLE_RATE: '5000' })).toEqual({ rateLimit: 5000, burstLimit: 10_000, source: 'override' });
  });

  it('refuses an override below the heartbeat load of the expected clients, naming the key and the load', () => {
    expect(() => throttle({ EXPECTED_PEAK_CONNECTIONS: '20000', WS_THROTTLE_RATE: '1000' })).toThrow(
      /WS_THROTTLE_RATE: 1000\/s is below the steady load .* \(1334\/s\)/,
    );
  });

  it.each([['0'], ['-5'], ['many'], ['1.5']])('refuses EXPECTED_PEAK_CONNECTIONS=%s', (value) => {
    expect(() => throttle({ EXPECTED_PEAK_CONNECTIONS: value })).toThrow(/EXPECTED_PEAK_CONNECTIONS/);
  });
});

describe('cache and alarm keys', () => {
  it('alarms at 80% memory by default and accepts 1-99', () => {
    const cache = parseDeployConfig(BASE_ENV).cache;
    expect(cache).toMatchObject({ kind: 'replication-group', memoryAlarmPercent: 80 });
    expect(() => parseDeployConfig({ ...BASE_ENV, CACHE_MEMORY_ALARM_PERCENT: '100' })).toThrow(
      /CACHE_MEMORY_ALARM_PERCENT: must be a percentage from 1 to 99/,
    );
  });

  it('takes a Serverless storage maximum only with CACHE_MODE=serverless', () => {
    expect(
      parseDeployConfig({ ...BASE_ENV, CACHE_MODE: 'serverless', CACHE_SERVERLESS_MAX_STORAGE_GB: '10' }).cache,
    ).toMatchObject({ kind: 'serverless', maxStorageGb: 10 });
    expect(parseDeployConfig({ ...BASE_ENV, CACHE_MODE: 'serverless' }).cache).toMatchObject({
      maxStorageGb: undefined,
    });
    expect(() => parseDeployConfig({ ...BASE_ENV, CACHE_SERVERLESS_MAX_STORAGE_GB: '10' })).toThrow(
      /CACHE_SERVERLESS_MAX_STORAGE_GB: only applies to CACHE_MODE=serverless/,
    );
    expect(() =>
      parseDeployConfig({ ...BASE_ENV, CACHE_MODE: 'serverless', CACHE_SERVERLESS_MAX_STORAGE_GB: '6000' }),
    ).toThrow(/CACHE_SERVERLESS_MAX_STORAGE_GB: must be at most 5000/);
  });

  it('refuses a Redis OSS version older than 7 (the scripts need #!lua so a full cache refuses them up front)', () => {
    for (const version of ['5.0.6', '6.2']) {
      expect(() => parseDeployConfig({ ...BASE_ENV, CACHE_ENGINE: 'redis', CACHE_ENGINE_VERSION: version })).toThrow(
        /CACHE_ENGINE_VERSION: must be Redis OSS 7 or newer/,
      );
    }
  });

  it('checks the alarm topic ARN and email', () => {
    expect(parseDeployConfig({ ...BASE_ENV, ALARM_EMAIL: 'oncall@example.com' }).alarms).toEqual({
      topicArn: undefined,
      email: 'oncall@example.com',
    });
    expect(() => parseDeployConfig({ ...BASE_ENV, ALARM_TOPIC_ARN: 'arn:aws:sqs:us-east-1:123456789012:q' })).toThrow(
      /ALARM_TOPIC_ARN: must be an SNS topic ARN/,
    );
    expect(() => parseDeployConfig({ ...BASE_ENV, ALARM_EMAIL: 'oncall' })).toThrow(
      /ALARM_EMAIL: must be an email address/,
    );
  });

  it('takes an https webhook with an optional Authorization secret, and refuses a secret without a webhook', () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:presence/webhook-AbCdEf';
    expect(parseDeployConfig(BASE_ENV).webhook).toBeUndefined();
    expect(parseDeployConfig({ ...BASE_ENV, WEBHOOK_URL: 'https://hooks.example.com/p' }).webhook).toEqual({
      url: 'https://hooks.example.com/p',
      authSecretArn: undefined,
    });
    expect(
      parseDeployConfig({ ...BASE_ENV, WEBHOOK_URL: 'https://hooks.example.com/p', WEBHOOK_AUTH_SECRET_ARN: secret })
        .webhook,
    ).toEqual({ url: 'https://hooks.example.com/p', authSecretArn: secret });
    expect(() => parseDeployConfig({ ...BASE_ENV, WEBHOOK_URL: 'http://hooks.example.com/p' })).toThrow(
      /WEBHOOK_URL: must be an https:\/\/ URL/,
    );
    expect(() => parseDeployConfig({ ...BASE_ENV, WEBHOOK_AUTH_SECRET_ARN: secret })).toThrow(
      /WEBHOOK_AUTH_SECRET_ARN: only applies with WEBHOOK_URL/,
    );
  });

  it('hands the usage retention and the admin group to the functions', () => {
    expect(parseDeployConfig(BASE_ENV).runtime).toMatchObject({
      USAGE_RETENTION_DAYS: 90,
      ADMIN_GROUP: 'presence-admin',
    });
    expect(parseDeployConfig({ ...BASE_ENV, USAGE_RETENTION_DAYS: '30', ADMIN_GROUP: 'ops' }).runtime).toMatchObject({
      USAGE_RETENTION_DAYS: 30,
      ADMIN_GROUP: 'ops',
    });
    expect(() => parseDeployConfig({ ...BASE_ENV, USAGE_RETENTION_DAYS: '0' })).toThrow(/USAGE_RETENTION_DAYS/);
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
