// Infra tests of the configurable parts: new VPC, cluster mode, Serverless, existing Redis, demo and Aurora databases.
import { Match, type Template } from 'aws-cdk-lib/assertions';
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

describe('cluster-mode Redis', () => {
  it('runs a sharded replication group and tells the functions to use the cluster client', () => {
    const { stack, template } = build({ CACHE_CLUSTER_MODE: 'true', CACHE_SHARDS: '3', CACHE_REPLICAS_PER_SHARD: '2' });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'enabled',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      CacheParameterGroupName: 'default.valkey8.cluster.on',
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
    });
    const environment = sweepEnvironment(stack, template);
    expect(environment.REDIS_MODE).toBe('cluster');
    expect(JSON.stringify(environment.REDIS_URL)).toContain('ConfigurationEndPoint.Address');
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
