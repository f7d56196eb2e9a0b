// One presence Lambda function: holds the defaults once and binds the resources a handler uses (grant + env together).
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Connections, ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, type ILayerVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { type FunctionName, SWEEP_FUNCTION, WORKER_FUNCTION } from '../../src/routes';
import type { AuthSettings, RuntimeSettings } from '../deploy-config';
import { wildcardResourceFinding } from '../nag-findings';
import { LAYER_MODULE_NAME } from './shared-layer';

/** Lambda timeout and memory of one function. */
export interface FunctionSizing {
  readonly timeout: Duration;
  readonly memorySize: number;
}

/**
 * Explicit timeout and memory per function. WebSocket and REST integrations give up after 29 s, so the
 * request-path functions stay well below; the sweep's entry is for the default 55 s window (see {@link functionSizing}).
 */
export const FUNCTION_SIZING: Readonly<Record<FunctionName, FunctionSizing>> = {
  authorizer: { timeout: Duration.seconds(10), memorySize: 512 },
  connect: { timeout: Duration.seconds(15), memorySize: 512 },
  heartbeat: { timeout: Duration.seconds(6), memorySize: 256 },
  'update-presence': { timeout: Duration.seconds(15), memorySize: 512 },
  close: { timeout: Duration.seconds(15), memorySize: 512 },
  'get-presence': { timeout: Duration.seconds(10), memorySize: 512 },
  'get-user-presence': { timeout: Duration.seconds(10), memorySize: 512 },
  'get-group-presence': { timeout: Duration.seconds(10), memorySize: 512 },
  timeout: { timeout: Duration.seconds(70), memorySize: 1024 },
  subscribe: { timeout: Duration.seconds(6), memorySize: 256 },
  // Each message is one sweep pass or delivery run over up to 16 shards; the queue's visibility timeout exceeds it.
  worker: { timeout: Duration.seconds(60), memorySize: 1024 },
  'get-usage': { timeout: Duration.seconds(10), memorySize: 256 },
};

/**
 * Sizing of one function; the sweep's timeout follows its window plus head room for the last pass and a cold start, and
 * the worker's memory is WORKER_MEMORY_MB when given.
 */
export function functionSizing(
  name: FunctionName,
  runtime: Pick<RuntimeSettings, 'SWEEP_WINDOW_SECONDS'>,
  workers: { readonly memoryMb?: number } = {},
): FunctionSizing {
  const sizing = FUNCTION_SIZING[name];
  if (name === SWEEP_FUNCTION) return { ...sizing, timeout: Duration.seconds(runtime.SWEEP_WINDOW_SECONDS + 15) };
  if (name === WORKER_FUNCTION && workers.memoryMb !== undefined) return { ...sizing, memorySize: workers.memoryMb };
  return sizing;
}

/** Where a function runs inside the VPC. */
export interface FunctionPlacement {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroup: ISecurityGroup;
}

/** A Redis endpoint as a function sees it (implemented by the cache construct). */
export interface RedisBinding {
  readonly url: string;
  readonly mode: 'standalone' | 'cluster';
  readonly keyPrefix: string;
  /** Secret whose string is the AUTH token; the runtime reads it through REDIS_AUTH_SECRET_ARN. */
  readonly authSecret: ISecret | undefined;
  readonly connections: Connections;
}

/** A Postgres endpoint as a function sees it (implemented by the database construct). */
export interface DatabaseBinding {
  /** RDS Proxy endpoint. */
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  /** JSON secret with `username` / `password`. */
  readonly secret: ISecret;
  readonly connections: Connections;
}

/** The `@connections` management API of one WebSocket stage (implemented by the WebSocket API construct). */
export interface ConnectionsApiBinding {
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
  readonly connectionsEndpoint: string;
  /** ARNs of the `@connections` operations the functions may call (POST to send, DELETE to close). */
  readonly managementArns: readonly string[];
}

/** Properties of {@link PresenceFunction}. */
export interface PresenceFunctionProps {
  /** Which handler: `src/functions/<functionName>/handler.ts`. */
  readonly functionName: FunctionName;
  /** The `src` directory holding `functions/`. */
  readonly sourceDir: string;
  readonly tsconfig: string;
  readonly layer: ILayerVersion;
  readonly sizing: FunctionSizing;
  readonly logRetention: RetentionDays;
  /** Settings every function gets (ALLOWED_ORIGINS, tunables, log level). */
  readonly settings: RuntimeSettings & { readonly ALLOWED_ORIGINS: string };
  /** VPC placement; omitted for functions that reach nothing inside the VPC (the authorizer). */
  readonly placement?: FunctionPlacement;
}

/**
 * A presence handler on Node.js 22 / arm64 with the shared layer, X-Ray tracing, its own log group with retention,
 * and a tiny esbuild bundle (local esbuild, never Docker) that imports the shared code from the layer.
 */
export class PresenceFunction extends NodejsFunction {
  /** The handler's name from the route table. */
  readonly presenceName: FunctionName;

  constructor(scope: Construct, id: string, props: PresenceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: join(props.sourceDir, 'functions', props.functionName, 'handler.ts'),
      handler: 'handler',
      description: `Presence API: ${props.functionName}`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.sizing.timeout,
      memorySize: props.sizing.memorySize,
      layers: [props.layer],
      tracing: Tracing.ACTIVE,
      logGroup,
      ...(props.placement
        ? {
            vpc: props.placement.vpc,
            vpcSubnets: props.placement.subnets,
            securityGroups: [props.placement.securityGroup],
          }
        : {}),
      environment: {
        ...Object.fromEntries(Object.entries(props.settings).map(([key, value]) => [key, String(value)])),
        POWERTOOLS_SERVICE_NAME: 'presence-api',
      },
      bundling: {
        target: 'node22',
        format: OutputFormat.CJS,
        minify: true,
        sourceMap: false,
        tsconfig: props.tsconfig,
        // Resolved at run time from the layer (/opt/nodejs/node_modules); never bundled into the function.
        externalModules: [LAYER_MODULE_NAME],
        forceDockerBundling: false,
        logLevel: LogLevel.ERROR,
      },
    });
    this.presenceName = props.functionName;
    const acknowledge = (ruleId: string, reason: string) => Validations.of(this).acknowledge({ id: ruleId, reason });
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWS-maintained policy granting only CreateLogGroup/CreateLogStream/PutLogEvents, the minimum for Lambda logging.',
    );
    if (props.placement) {
      acknowledge(
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'AWS-maintained policy with the EC2 network-interface actions Lambda needs to attach the function to the VPC; those actions do not support resource-level scoping.',
      );
    }
    acknowledge(
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so CDK grants them on *; no other action is granted on *.',
    );
    acknowledge(
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the service is built, bundled (esbuild target node22) and tested for; moving to a newer runtime is a deliberate change of the layer target and the function runtime together.',
    );
  }

  /** Lets the function use Redis: endpoint settings, network path to the cache, read access to the AUTH secret. */
  bindCache(cache: RedisBinding): this {
    this.addEnvironment('REDIS_URL', cache.url);
    this.addEnvironment('REDIS_MODE', cache.mode);
    this.addEnvironment('REDIS_KEY_PREFIX', cache.keyPrefix);
    if (cache.authSecret) {
      this.addEnvironment('REDIS_AUTH_SECRET_ARN', cache.authSecret.secretArn);
      this.grantSecretValue(cache.authSecret);
    }
    cache.connections.allowDefaultPortFrom(this, `Redis from ${this.presenceName}`);
    return this;
  }

  /** Lets the function read the friend directory through RDS Proxy with credentials from Secrets Manager. */
  bindDatabase(database: DatabaseBinding): this {
    this.addEnvironment('DATABASE_SECRET_ARN', database.secret.secretArn);
    this.addEnvironment('DATABASE_HOST', database.host);
    this.addEnvironment('DATABASE_PORT', String(database.port));
    this.addEnvironment('DATABASE_NAME', database.databaseName);
    this.addEnvironment('DATABASE_SSL', 'true');
    this.grantSecretValue(database.secret);
    database.connections.allowDefaultPortFrom(this, `Postgres (proxy) from ${this.presenceName}`);
    return this;
  }

  /** Lets the function send to and close WebSocket connections of exactly one API stage. */
  bindConnectionsApi(api: ConnectionsApiBinding): this {
    this.addEnvironment('CONNECTIONS_ENDPOINT', api.connectionsEndpoint);
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [...api.managementArns] }),
    );
    for (const arn of api.managementArns) {
      Validations.of(this).acknowledge({
        id: wildcardResourceFinding(this, arn),
        reason:
          'Connection ids are created at run time, so @connections access is granted for any connection of this one API stage (POST to send, DELETE to close), nothing wider.',
      });
    }
    return this;
  }

  /** Lets the function publish presence events to exactly one bus (the delivery module does, from the outbox). */
  bindEventBus(bus: IEventBus): this {
    this.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    bus.grantPutEventsTo(this);
    return this;
  }

  /** Lets the function write its embedded-format metrics under the stack's namespace (read by the dashboard). */
  bindMetrics(namespace: string): this {
    this.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', namespace);
    return this;
  }

  /** Gives the function the token verifier settings (the authorizer). */
  bindTokenVerifier(auth: AuthSettings): this {
    if (auth.cognitoUserPoolId) this.addEnvironment('COGNITO_USER_POOL_ID', auth.cognitoUserPoolId);
    if (auth.issuer) this.addEnvironment('JWT_ISSUER', auth.issuer);
    if (auth.jwksUri) this.addEnvironment('JWT_JWKS_URI', auth.jwksUri);
    this.addEnvironment('JWT_AUDIENCE', auth.audience);
    this.addEnvironment('JWT_TOKEN_USE', auth.tokenUse);
    return this;
  }

  /** Only GetSecretValue (no Describe/List); kms:Decrypt comes with a customer-managed key, scoped to Secrets Manager. */
  private grantSecretValue(secret: ISecret): void {
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    if (secret.encryptionKey) {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secret.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
  }
}
