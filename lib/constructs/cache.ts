// The presence store: a Multi-AZ ElastiCache (Valkey/Redis) replication group with TLS + AUTH, Serverless, or existing.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Connections, Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { CfnReplicationGroup, CfnServerlessCache, CfnSubnetGroup } from 'aws-cdk-lib/aws-elasticache';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CacheConfig } from '../deploy-config';
import type { PresenceNetwork } from './network';
import type { RedisBinding } from './presence-function';

/** Properties of {@link PresenceCache}. */
export interface PresenceCacheProps {
  readonly config: CacheConfig;
  readonly network: PresenceNetwork;
  /** REDIS_KEY_PREFIX: isolates deployments sharing one cache. */
  readonly keyPrefix: string;
  readonly logRetention: RetentionDays;
}

/**
 * Redis for presence state. By default a replication group (primary + replica per shard, automatic failover,
 * Multi-AZ), encrypted at rest, TLS required in transit, AUTH token generated into Secrets Manager and handed to
 * CloudFormation as a dynamic reference (never in the template or in an environment variable).
 */
export class PresenceCache extends Construct implements RedisBinding {
  readonly url: string;
  readonly mode: 'standalone' | 'cluster';
  readonly keyPrefix: string;
  readonly authSecret: ISecret | undefined;
  readonly connections: Connections;

  constructor(scope: Construct, id: string, props: PresenceCacheProps) {
    super(scope, id);
    const { config, network } = props;
    this.keyPrefix = props.keyPrefix;
    if (config.kind === 'existing') {
      const port = Number(new URL(config.url).port || 6379);
      this.url = config.url;
      this.mode = config.mode;
      this.authSecret = config.authSecretArn
        ? Secret.fromSecretCompleteArn(this, 'AuthToken', config.authSecretArn)
        : undefined;
      this.connections = config.securityGroupId
        ? new Connections({
            securityGroups: [SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', config.securityGroupId)],
            defaultPort: Port.tcp(port),
          })
        : new Connections({ peer: Peer.anyIpv4(), defaultPort: Port.tcp(port) });
      return;
    }

    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: network.vpc,
      description: 'Presence cache: Redis port from the presence functions only',
      allowAllOutbound: false,
    });
    const subnetIds = network.vpc.selectSubnets(network.dataSubnets).subnetIds;

    if (config.kind === 'serverless') {
      const stackName = Stack.of(this)
        .stackName.toLowerCase()
        .replace(/[^a-z0-9-]/g, '-');
      const cache = new CfnServerlessCache(this, 'ServerlessCache', {
        serverlessCacheName: `${stackName}-presence`.slice(0, 40),
        engine: config.engine,
        majorEngineVersion: config.majorEngineVersion,
        description: 'Presence API store',
        securityGroupIds: [securityGroup.securityGroupId],
        subnetIds,
        snapshotRetentionLimit: 1,
      });
      // Serverless always requires TLS and speaks the cluster protocol.
      this.url = `rediss://${cache.attrEndpointAddress}:${cache.attrEndpointPort}`;
      this.mode = 'cluster';
      this.authSecret = undefined;
      this.connections = new Connections({ securityGroups: [securityGroup], defaultPort: Port.tcp(6379) });
      return;
    }

    const subnetGroup = new CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'Presence cache subnets',
      subnetIds,
    });
    const authSecret = new Secret(this, 'AuthToken', {
      description: 'Presence cache AUTH token (the secret string is the token itself)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(authSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'ElastiCache AUTH tokens rotate through ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE then SET), which a Secrets Manager rotation function cannot do atomically with running clients; rotation is a documented manual runbook.',
    });
    const slowLog = new LogGroup(this, 'SlowLog', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const major = config.engineVersion.split('.')[0] as string;
    const group = new CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'Presence API store',
      engine: config.engine,
      engineVersion: config.engineVersion,
      cacheNodeType: config.nodeType,
      cacheParameterGroupName: `default.${config.engine}${major}${config.clusterMode ? '.cluster.on' : ''}`,
      port: config.port,
      ...(config.clusterMode
        ? { clusterMode: 'enabled', numNodeGroups: config.shards, replicasPerNodeGroup: config.replicasPerShard }
        : { clusterMode: 'disabled', numCacheClusters: 1 + config.replicasPerShard }),
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      authToken: authSecret.secretValue.unsafeUnwrap(),
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: 1,
      logDeliveryConfigurations: [
        {
          destinationType: 'cloudwatch-logs',
          logFormat: 'json',
          logType: 'slow-log',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
        },
      ],
    });
    const host = config.clusterMode ? group.attrConfigurationEndPointAddress : group.attrPrimaryEndPointAddress;
    this.url = `rediss://${host}:${config.port}`;
    this.mode = config.clusterMode ? 'cluster' : 'standalone';
    this.authSecret = authSecret;
    this.connections = new Connections({ securityGroups: [securityGroup], defaultPort: Port.tcp(config.port) });
  }
}
