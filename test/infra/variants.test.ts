// Infra tests of the configurable parts: new VPC, cluster mode, Serverless, existing Redis, demo and Aurora databases.
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { PresenceApiStack } from '../../lib/presence-api-stack';
import { SWEEP_FUNCTION } from '../../src/routes';
import { buildStack } from './stack-fixture';

/** A new VPC (no VPC_* keys) is only valid with the demo database. */
const NEW_VPC_DEMO = {
  VPC_ID: '',
  VPC_AVAILABILITY_ZONES: '',
  VPC_PRIVATE_SUBNET_IDS: '',
  VPC_DATA_SUBNET_IDS: '',
  DB_MODE: 'demo',
};
const build = (overrides: Record<string, string>) => buildStack(overrides, { bundle: false, validate: false });
const sweepEnvironment = (stack: PresenceApiStack, template: Template): Record<string, unknown> => {
  const id = stack.getLogicalId(stack.functions[SWEEP_FUNCTION].node.defaultChild as CfnFunction);
  return template.toJSON().Resources[id].Properties.Environment.Variables;
};

describe('a new VPC with the demo database', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = build(NEW_VPC_DEMO));
  }, 60_000);

  it('creates a two-AZ VPC with a NAT gateway per AZ and flow logs of rejected traffic', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  it('places the functions in the private subnets with egress, the cache and the proxy in the isolated subnets', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    const subnetsTagged = (name: string) =>
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::EC2::Subnet' && JSON.stringify(r.Properties.Tags).includes(`"${name}"`))
        .map(([id]) => ({ Ref: id }));
    const functionSubnets = subnetsTagged('Private');
    const dataSubnets = subnetsTagged('Isolated');
    expect(functionSubnets).toHaveLength(2);
    expect(dataSubnets).toHaveLength(2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: functionSubnets, SecurityGroupIds: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: dataSubnets });
    template.hasResourceProperties('AWS::RDS::DBProxy', { VpcSubnetIds: dataSubnets });
  });
});

/** The CacheClusterId dimensions of every memory alarm, per alarm. */
const memoryAlarmNodes = (template: Template): unknown[][] =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .filter((alarm) => JSON.stringify(alarm).includes('DatabaseMemoryUsagePercentage'))
    .map((alarm) =>
      (alarm.Properties.Metrics as Array<{ MetricStat?: { Metric: { Dimensions: [{ Value: unknown }] } } }>)
        .filter((m) => m.MetricStat)
        .map((m) => m.MetricStat?.Metric.Dimensions[0].Value),
    );
const rgRef = (template: Template) => ({
  Ref: Object.keys(template.findResources('AWS::ElastiCache::ReplicationGroup'))[0],
});

describe('cluster-mode Redis', () => {
  it('runs a sharded replication group and tells the functions to use the cluster client', () => {
    const { stack, template } = build({ CACHE_CLUSTER_MODE: 'true', CACHE_SHARDS: '3', CACHE_REPLICAS_PER_SHARD: '2' });
    const [parameterGroupId] = Object.keys(template.findResources('AWS::ElastiCache::ParameterGroup'));
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'enabled',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      CacheParameterGroupName: { Ref: parameterGroupId },
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
    });
    const environment = sweepEnvironment(stack, template);
    expect(environment.REDIS_MODE).toBe('cluster');
    expect(JSON.stringify(environment.REDIS_URL)).toContain('ConfigurationEndPoint.Address');
  });

  it('uses a cluster-enabled noeviction parameter group and watches the memory of all 9 nodes', () => {
    const { template } = build({ CACHE_CLUSTER_MODE: 'true', CACHE_SHARDS: '3', CACHE_REPLICAS_PER_SHARD: '2' });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: { 'maxmemory-policy': 'noeviction', 'cluster-enabled': 'yes' },
    });
    const nodes = memoryAlarmNodes(template);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toHaveLength(9);
    expect(nodes[0]?.[0]).toEqual({ 'Fn::Join': ['', [rgRef(template), '-0001-001']] });
    expect(nodes[0]?.[8]).toEqual({ 'Fn::Join': ['', [rgRef(template), '-0003-003']] });
  });

  it('splits the memory watch into alarms of at most 10 nodes (the CloudWatch limit per expression)', () => {
    const { template } = build({ CACHE_CLUSTER_MODE: 'true', CACHE_SHARDS: '6', CACHE_REPLICAS_PER_SHARD: '2' });
    expect(memoryAlarmNodes(template).map((nodes) => nodes.length)).toEqual([10, 8]);
  });
});

describe('parameter group family of the engine version', () => {
  it.each([
    [{ CACHE_ENGINE: 'valkey', CACHE_ENGINE_VERSION: '7.2' }, 'valkey7'],
    [{ CACHE_ENGINE: 'redis' }, 'redis7'],
  ])('%j -> %s', (overrides, family) => {
    const { template } = build(overrides);
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: family,
      Properties: { 'maxmemory-policy': 'noeviction' },
    });
  });
});

describe('ElastiCache Serverless', () => {
  it('creates a serverless cache reached over TLS in cluster mode', () => {
    const { stack, template } = build({ CACHE_MODE: 'serverless' });
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { Engine: 'valkey', MajorEngineVersion: '8' });
    const environment = sweepEnvironment(stack, template);
    expect(environment.REDIS_MODE).toBe('cluster');
    expect(JSON.stringify(environment.REDIS_URL)).toContain('rediss://');
    expect(environment.REDIS_AUTH_SECRET_ARN).toBeUndefined();
  });

  it('sets no data-storage maximum by default, since at the maximum Serverless evicts TTL keys (live presence)', () => {
    const { template } = build({ CACHE_MODE: 'serverless' });
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { CacheUsageLimits: Match.absent() });
    template.resourceCountIs('AWS::ElastiCache::ParameterGroup', 0);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('BytesUsedForCache');
  });

  it('with CACHE_SERVERLESS_MAX_STORAGE_GB, caps storage and alarms at 80% of the cap (BytesUsedForCache by clusterId)', () => {
    const { template } = build({ CACHE_MODE: 'serverless', CACHE_SERVERLESS_MAX_STORAGE_GB: '10' });
    const [cacheId] = Object.keys(template.findResources('AWS::ElastiCache::ServerlessCache'));
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      CacheUsageLimits: { DataStorage: { Maximum: 10, Unit: 'GB' } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ElastiCache',
      MetricName: 'BytesUsedForCache',
      Dimensions: [{ Name: 'clusterId', Value: { Ref: cacheId } }],
      Statistic: 'Maximum',
      Threshold: 8e9,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('an existing Redis endpoint', () => {
  it('creates no cache, passes the URL without credentials and the AUTH secret ARN, and opens its security group', () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:redis/auth-AbCdEf';
    const { stack, template } = build({
      CACHE_MODE: 'existing',
      CACHE_EXISTING_URL: 'rediss://master.presence.abc123.use1.cache.amazonaws.com:6379',
      CACHE_EXISTING_MODE: 'standalone',
      CACHE_EXISTING_AUTH_SECRET_ARN: secretArn,
      CACHE_EXISTING_SECURITY_GROUP_ID: 'sg-0fedcba9876543210',
    });
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
    // Its eviction policy is the operator's to set (docs/deployment.md); the stack creates no cache alarm for it.
    template.resourceCountIs('AWS::ElastiCache::ParameterGroup', 0);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('AWS/ElastiCache');
    expect(sweepEnvironment(stack, template)).toMatchObject({
      REDIS_URL: 'rediss://master.presence.abc123.use1.cache.amazonaws.com:6379',
      REDIS_AUTH_SECRET_ARN: secretArn,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0fedcba9876543210',
      FromPort: 6379,
      ToPort: 6379,
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: Match.arrayWith([secretArn]) },
        ]),
      },
    });
  });
});

describe('databases', () => {
  it('puts an existing Aurora cluster behind the proxy and lets the proxy into its security group', () => {
    const { template } = build({ DB_MODE: 'existing-cluster' });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: ['pagenow-db'] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      FromPort: 5432,
      SourceSecurityGroupId: Match.anyValue(),
    });
  });

  it('grants kms:Decrypt through Secrets Manager only when the secret uses a customer-managed key', () => {
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { template } = build({ DB_SECRET_KMS_KEY_ARN: keyArn });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Resource: keyArn,
            Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('creates a small encrypted demo instance with generated credentials when DB_MODE=demo', () => {
    const { template } = build(NEW_VPC_DEMO);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      DBInstanceClass: 'db.t4g.micro',
      StorageEncrypted: true,
      PubliclyAccessible: false,
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"presence_admin"}' }),
    });
  });
});

describe('alarm notifications', () => {
  it('uses an existing topic (ALARM_TOPIC_ARN) for every alarm and subscribes ALARM_EMAIL to it', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:ops';
    const { template } = build({ ALARM_TOPIC_ARN: topicArn, ALARM_EMAIL: 'oncall@example.com' });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
      expect(alarm.Properties.OKActions).toEqual([topicArn]);
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: topicArn,
    });
  });
});

describe('WebSocket throttling above the account limit', () => {
  it('warns at synth when the computed stage rate exceeds the 10,000 requests/s account default', () => {
    const { stack } = build({ EXPECTED_PEAK_CONNECTIONS: '100000' });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('above API Gateway.s default account limit'));
  });
});
