// cdk-nag AwsSolutions checks on every stack variant: no unacknowledged finding, and every acknowledgement has a reason.
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { PresenceApiStack } from '../../lib/presence-api-stack';
import { buildStack } from './stack-fixture';

const VARIANTS: Record<string, Record<string, string>> = {
  'default (existing VPC, Valkey replication group, existing Postgres instance)': {},
  'cluster-mode Redis, existing Aurora cluster with a KMS-encrypted secret': {
    CACHE_ENGINE: 'redis',
    CACHE_CLUSTER_MODE: 'true',
    CACHE_SHARDS: '2',
    DB_MODE: 'existing-cluster',
    DB_SECRET_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
  },
  'new VPC, ElastiCache Serverless and the demo database': {
    VPC_ID: '',
    VPC_AVAILABILITY_ZONES: '',
    VPC_PRIVATE_SUBNET_IDS: '',
    VPC_DATA_SUBNET_IDS: '',
    CACHE_MODE: 'serverless',
    DB_MODE: 'demo',
  },
  'new VPC, replication group, demo database': {
    VPC_ID: '',
    VPC_AVAILABILITY_ZONES: '',
    VPC_PRIVATE_SUBNET_IDS: '',
    VPC_DATA_SUBNET_IDS: '',
    DB_MODE: 'demo',
  },
  'existing Redis endpoint, multiple origins, alarm topic': {
    CACHE_MODE: 'existing',
    CACHE_EXISTING_URL: 'rediss://master.presence.abc123.use1.cache.amazonaws.com:6379',
    CACHE_EXISTING_AUTH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:redis/auth-AbCdEf',
    CACHE_EXISTING_SECURITY_GROUP_ID: 'sg-0fedcba9876543210',
    ALLOWED_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop,https://presence.example.com',
    ALARM_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ops',
    API_GATEWAY_CLOUDWATCH_ROLE: 'false',
  },
  'webhook with a generated Authorization secret': { WEBHOOK_URL: 'https://hooks.example.com/presence' },
  "webhook with the operator's Authorization secret": {
    WEBHOOK_URL: 'https://hooks.example.com/presence',
    WEBHOOK_AUTH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:presence/webhook-AbCdEf',
  },
};

function acknowledgements(root: IConstruct): Array<{ id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id, reason })),
        ),
    );
}

describe.each(Object.entries(VARIANTS))('cdk-nag AwsSolutions on %s', (_variant, overrides) => {
  let stack: PresenceApiStack;
  beforeAll(() => {
    ({ stack } = buildStack(overrides, { bundle: false, validate: false }));
  }, 120_000);

  it('reports no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledgement a concrete reason', () => {
    const acknowledged = acknowledgements(stack).filter(({ id }) => id.includes('AwsSolutions-'));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledged) {
      expect({ id, concrete: reason.length > 60 }).toEqual({ id, concrete: true });
    }
  });
});
