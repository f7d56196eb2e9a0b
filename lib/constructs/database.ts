// The friend directory: an existing Postgres (instance or Aurora cluster), or a small demo instance, behind RDS Proxy.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Connections, InstanceClass, InstanceSize, InstanceType, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
  DatabaseInstance,
  DatabaseInstanceEngine,
  DatabaseProxy,
  PostgresEngineVersion,
  ProxyTarget,
} from 'aws-cdk-lib/aws-rds';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DatabaseConfig } from '../deploy-config';
import { stackScopedName } from '../physical-name';
import type { PresenceNetwork } from './network';
import type { DatabaseBinding } from './presence-function';

/** Properties of {@link PresenceDatabase}. */
export interface PresenceDatabaseProps {
  readonly config: DatabaseConfig;
  readonly network: PresenceNetwork;
}

/**
 * Postgres as the functions see it: an RDS Proxy endpoint (TLS required) in front of the database, authenticating
 * with the JSON `username`/`password` secret the functions also read. The proxy pools connections, so hundreds of
 * concurrent Lambda environments do not exhaust the database's connection limit.
 */
export class PresenceDatabase extends Construct implements DatabaseBinding {
  readonly host: string;
  readonly port = 5432;
  readonly databaseName: string;
  readonly secret: ISecret;
  readonly connections: Connections;
  readonly proxy: DatabaseProxy;

  constructor(scope: Construct, id: string, props: PresenceDatabaseProps) {
    super(scope, id);
    const { config, network } = props;
    this.databaseName = config.databaseName;

    let target: ProxyTarget;
    let databaseConnections: Connections;
    if (config.kind === 'demo') {
      const instance = new DatabaseInstance(this, 'DemoInstance', {
        engine: DatabaseInstanceEngine.postgres({ version: PostgresEngineVersion.VER_16 }),
        instanceType: InstanceType.of(InstanceClass.T4G, InstanceSize.MICRO),
        vpc: network.vpc,
        vpcSubnets: network.dataSubnets,
        credentials: Credentials.fromGeneratedSecret('presence_admin'),
        databaseName: config.databaseName,
        port: 5433,
        storageEncrypted: true,
        allocatedStorage: 20,
        maxAllocatedStorage: 50,
        multiAz: false,
        backupRetention: Duration.days(1),
        deletionProtection: false,
        iamAuthentication: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const acknowledge = (ruleId: string, reason: string) =>
        Validations.of(instance).acknowledge({ id: ruleId, reason });
      acknowledge(
        'AwsSolutions-RDS3',
        'Demo database (DB_MODE=demo): single-AZ keeps it cheap; production uses an existing Multi-AZ database.',
      );
      acknowledge(
        'AwsSolutions-RDS10',
        'Demo database (DB_MODE=demo) is meant to be torn down with the stack; production uses an existing database.',
      );
      acknowledge(
        'AwsSolutions-SMG4',
        'Demo database credentials are read by RDS Proxy and the functions at cold start; single-user rotation would need a rotation Lambda in the VPC, out of scope for a demo.',
      );
      this.secret = instance.secret as ISecret;
      target = ProxyTarget.fromInstance(instance);
      databaseConnections = instance.connections;
    } else {
      const databaseSecurityGroup = SecurityGroup.fromSecurityGroupId(
        this,
        'DatabaseSecurityGroup',
        config.securityGroupId,
      );
      this.secret = Secret.fromSecretAttributes(this, 'Credentials', {
        secretCompleteArn: config.secretArn,
        ...(config.secretKmsKeyArn
          ? { encryptionKey: Key.fromKeyArn(this, 'CredentialsKey', config.secretKmsKeyArn) }
          : {}),
      });
      if (config.kind === 'existing-instance') {
        const instance = DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
          instanceIdentifier: config.identifier,
          instanceEndpointAddress: config.endpoint,
          port: config.port,
          securityGroups: [databaseSecurityGroup],
          engine: DatabaseInstanceEngine.POSTGRES,
        });
        target = ProxyTarget.fromInstance(instance);
        databaseConnections = instance.connections;
      } else {
        const cluster = DatabaseCluster.fromDatabaseClusterAttributes(this, 'Cluster', {
          clusterIdentifier: config.identifier,
          clusterEndpointAddress: config.endpoint,
          port: config.port,
          securityGroups: [databaseSecurityGroup],
          engine: DatabaseClusterEngine.AURORA_POSTGRESQL,
        });
        target = ProxyTarget.fromCluster(cluster);
        databaseConnections = cluster.connections;
      }
    }

    const proxySecurityGroup = new SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: network.vpc,
      description: 'Presence RDS Proxy: Postgres from the presence functions, to the database only',
      allowAllOutbound: false,
    });
    this.proxy = new DatabaseProxy(this, 'Proxy', {
      // Proxy names are unique per account and region, and CloudFormation requires one: derive it from the stack.
      dbProxyName: stackScopedName(this, 'presence-proxy', { maxLength: 60 }),
      proxyTarget: target,
      secrets: [this.secret],
      vpc: network.vpc,
      vpcSubnets: network.dataSubnets,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      iamAuth: false,
      idleClientTimeout: Duration.minutes(15),
      maxConnectionsPercent: 50,
      debugLogging: false,
    });
    databaseConnections.allowDefaultPortFrom(proxySecurityGroup, 'RDS Proxy of the Presence API');
    this.host = this.proxy.endpoint;
    this.connections = new Connections({ securityGroups: [proxySecurityGroup], defaultPort: Port.tcp(this.port) });
  }
}
