// The presence store: a Multi-AZ ElastiCache (Valkey/Redis) replication group with TLS + AUTH, Serverless, or existing.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Connections, Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import {
  CfnParameterGroup,
  CfnReplicationGroup,
  CfnServerlessCache,
  CfnSubnetGroup,
} from 'aws-cdk-lib/aws-elasticache';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CacheConfig } from '../deploy-config';
import { stackScopedName } from '../physical-name';
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

/** The eviction policy of every node the stack creates: live presence keys carry TTLs and must never be evicted. */
export const CACHE_EVICTION_POLICY = 'noeviction';

/** CloudWatch alarms compare at most 10 metrics in one expression. */
const METRICS_PER_ALARM = 10;

/**
 * Redis for presence state. By default a replication group (primary + replica per shard, automatic failover,
 * Multi-AZ), encrypted at rest, TLS required in transit, AUTH token generated into Secrets Manager and handed to
 * CloudFormation as a dynamic reference (never in the template or in an environment variable).
 *
 * Memory: the default `volatile-lru` policy would evict keys with a TTL first, which is exactly the live presence
 * state (connections, rolled-up state, friends' views), so users would silently drop offline or lose their choices.
 * The replication group gets its own parameter group with `maxmemory-policy noeviction` (a full cache refuses
 * writes instead, which the handlers answer with 503 / `unavailable`), and an alarm watches memory well before that.
 * ElastiCache Serverless has no eviction policy: it scales storage up to an optional maximum and only evicts (TTL keys
 * first) at that maximum, so the stack sets none unless CACHE_SERVERLESS_MAX_STORAGE_GB asks for it, and then alarms
 * below it. An existing endpoint is the operator's to configure (docs/deployment.md).
 */
export class PresenceCache extends Construct implements RedisBinding {
  readonly url: string;
  readonly mode: 'standalone' | 'cluster';
  readonly keyPrefix: string;
  readonly authSecret: ISecret | undefined;
  readonly connections: Connections;
  /** The memory (or storage) alarms of the cache; none for an existing endpoint. */
  readonly alarms: readonly Alarm[];

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
      this.alarms = [];
      return;
    }

    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: network.vpc,
      description: 'Presence cache: Redis port from the presence functions only',
      allowAllOutbound: false,
    });
    const subnetIds = network.vpc.selectSubnets(network.dataSubnets).subnetIds;

    if (config.kind === 'serverless') {
      // CloudFormation requires the name; it is unique per account and region, so it derives from the stack.
      const name = stackScopedName(this, 'presence', { maxLength: 40, lowercase: true });
      const cache = new CfnServerlessCache(this, 'ServerlessCache', {
        serverlessCacheName: name,
        engine: config.engine,
        majorEngineVersion: config.majorEngineVersion,
        description: 'Presence API store',
        securityGroupIds: [securityGroup.securityGroupId],
        subnetIds,
        snapshotRetentionLimit: 1,
        ...(config.maxStorageGb === undefined
          ? {}
          : { cacheUsageLimits: { dataStorage: { maximum: config.maxStorageGb, unit: 'GB' } } }),
      });
      // Serverless metrics carry the cache name in the `clusterId` dimension.
      this.alarms =
        config.maxStorageGb === undefined
          ? []
          : [
              new Alarm(this, 'StorageAlarm', {
                alarmDescription: `Presence cache data above ${config.memoryAlarmPercent}% of its ${config.maxStorageGb} GB maximum: at the maximum ElastiCache Serverless evicts keys with a TTL (live presence). Raise CACHE_SERVERLESS_MAX_STORAGE_GB.`,
                metric: new Metric({
                  namespace: 'AWS/ElastiCache',
                  metricName: 'BytesUsedForCache',
                  dimensionsMap: { clusterId: cache.ref },
                  statistic: 'Maximum',
                  period: Duration.minutes(1),
                }),
                threshold: (config.maxStorageGb * 1e9 * config.memoryAlarmPercent) / 100,
                evaluationPeriods: 5,
                datapointsToAlarm: 3,
                comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                treatMissingData: TreatMissingData.MISSING,
              }),
            ];
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
    const parameterGroup = new CfnParameterGroup(this, 'ParameterGroup', {
      cacheParameterGroupFamily: parameterGroupFamily(config.engine, config.engineVersion),
      description: 'Presence API store: never evict (live presence keys carry TTLs)',
      properties: {
        'maxmemory-policy': CACHE_EVICTION_POLICY,
        ...(config.clusterMode ? { 'cluster-enabled': 'yes' } : {}),
      },
    });
    const group = new CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'Presence API store',
      engine: config.engine,
      engineVersion: config.engineVersion,
      cacheNodeType: config.nodeType,
      cacheParameterGroupName: parameterGroup.ref,
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
    this.alarms = memoryAlarms(this, memberClusterIds(group.ref, config), config.memoryAlarmPercent);
  }
}

/**
 * The parameter group family of an engine version: `valkey7`, `valkey8`, ... for Valkey; `redis7` for Redis OSS 7.x
 * and `redis6.x` for 6.x (the config refuses older Redis).
 */
function parameterGroupFamily(engine: 'valkey' | 'redis', version: string): string {
  const major = Number(version.split('.')[0]);
  if (engine === 'valkey') return `valkey${major}`;
  return major === 6 ? 'redis6.x' : `redis${major}`;
}

/**
 * The ids of the group's member clusters (one per node), as ElastiCache names them and CloudWatch reports them in
 * `CacheClusterId`: `<group>-001`, `<group>-002`, ... without cluster mode; `<group>-0001-001`, ... with it.
 */
function memberClusterIds(
  groupId: string,
  config: { readonly clusterMode: boolean; readonly shards: number; readonly replicasPerShard: number },
): string[] {
  const nodes = Array.from({ length: 1 + config.replicasPerShard }, (_, i) => String(i + 1).padStart(3, '0'));
  if (!config.clusterMode) return nodes.map((node) => `${groupId}-${node}`);
  return Array.from({ length: config.shards }, (_, s) => String(s + 1).padStart(4, '0')).flatMap((shard) =>
    nodes.map((node) => `${groupId}-${shard}-${node}`),
  );
}

/**
 * Alarms when any node's DatabaseMemoryUsagePercentage (used memory as a share of maxmemory) stays above `percent`:
 * the highest node of every group of up to 10 nodes, one alarm per group (usually one in all).
 */
function memoryAlarms(scope: Construct, clusterIds: readonly string[], percent: number): Alarm[] {
  const alarms: Alarm[] = [];
  for (let start = 0; start < clusterIds.length; start += METRICS_PER_ALARM) {
    const chunk = clusterIds.slice(start, start + METRICS_PER_ALARM);
    const usingMetrics = Object.fromEntries(
      chunk.map((id, i) => [
        `m${i}`,
        new Metric({
          namespace: 'AWS/ElastiCache',
          metricName: 'DatabaseMemoryUsagePercentage',
          dimensionsMap: { CacheClusterId: id },
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
      ]),
    );
    const index = start / METRICS_PER_ALARM;
    alarms.push(
      new Alarm(scope, index === 0 ? 'MemoryAlarm' : `MemoryAlarm${index + 1}`, {
        alarmDescription: `A presence cache node uses more than ${percent}% of its memory. With noeviction a full node refuses writes (presence updates fail with 503): scale the node type or add shards (docs/deployment.md, cache sizing).`,
        metric: new MathExpression({
          expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
          usingMetrics,
          label: 'highest node DatabaseMemoryUsagePercentage',
          period: Duration.minutes(1),
        }),
        threshold: percent,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.MISSING,
      }),
    );
  }
  return alarms;
}
