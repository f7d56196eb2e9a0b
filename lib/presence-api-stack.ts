// The Presence API stack: composes the constructs (network, cache, database, layer, functions, APIs, sweep, alarms).
import { join } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  AUTHORIZER_FUNCTION,
  FUNCTION_NAMES,
  type FunctionName,
  SWEEP_FUNCTION,
  WEBSOCKET_ROUTES,
  WORKER_FUNCTION,
} from '../src/routes';
import { AlarmNotifications } from './constructs/alarm-notifications';
import { PresenceCache } from './constructs/cache';
import { PresenceDatabase } from './constructs/database';
import { MarkFresh } from './constructs/mark-fresh';
import { PresenceNetwork } from './constructs/network';
import { OperationsDashboard } from './constructs/operations-dashboard';
import { PresenceEvents } from './constructs/presence-events';
import { PresenceFunction, functionSizing } from './constructs/presence-function';
import { PresenceRestApi } from './constructs/rest-api';
import { SharedLayer } from './constructs/shared-layer';
import { SweepSchedule } from './constructs/sweep-schedule';
import { PresenceWebSocketApi } from './constructs/websocket-api';
import { WorkQueue } from './constructs/work-queue';
import type { DeployConfig } from './deploy-config';

/** The repository root: sources and tsconfig are found from here. */
const ROOT = join(__dirname, '..');

/** Properties of {@link PresenceApiStack}. */
export interface PresenceApiStackProps extends StackProps {
  readonly config: DeployConfig;
}

/** Everything `cdk deploy` creates for the Presence API. */
export class PresenceApiStack extends Stack {
  readonly functions: Readonly<Record<FunctionName, PresenceFunction>>;

  constructor(scope: Construct, id: string, props: PresenceApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    const sourceDir = join(ROOT, 'src');
    const tsconfig = join(ROOT, 'tsconfig.json');

    const network = new PresenceNetwork(this, 'Network', { config: config.network, logRetention });
    const cache = new PresenceCache(this, 'Cache', {
      config: config.cache,
      network,
      keyPrefix: config.redisKeyPrefix,
      logRetention,
    });
    const database = new PresenceDatabase(this, 'Database', { config: config.database, network });
    const layer = new SharedLayer(this, 'SharedLayer', {
      sourceDir: join(sourceDir, 'layer'),
      tsconfig,
      target: 'node22',
    });

    const functions = Object.fromEntries(
      FUNCTION_NAMES.map((name) => {
        const fn = new PresenceFunction(this, functionId(name), {
          functionName: name,
          sourceDir,
          tsconfig,
          layer: layer.layerVersion,
          sizing: functionSizing(name, config.runtime, config.workers),
          logRetention,
          settings: { ...config.runtime, ALLOWED_ORIGINS: config.allowedOrigins.join(',') },
          // The authorizer only verifies JWTs (JWKS over the internet): it stays out of the VPC.
          ...(name === AUTHORIZER_FUNCTION ? {} : { placement: network.functionPlacement }),
        });
        if (name === AUTHORIZER_FUNCTION) fn.bindTokenVerifier(config.auth);
        else fn.bindCache(cache).bindDatabase(database);
        return [name, fn];
      }),
    ) as Record<FunctionName, PresenceFunction>;
    this.functions = functions;

    const webSocket = new PresenceWebSocketApi(this, 'WebSocket', {
      functions,
      stageName: config.stageName,
      throttle: config.throttling.webSocket,
      logRetention,
    });
    const rest = new PresenceRestApi(this, 'Rest', {
      functions,
      stageName: config.stageName,
      allowedOrigins: config.allowedOrigins,
      throttle: config.throttling.rest,
      authorizerCacheTtl: Duration.seconds(config.restAuthorizerCacheSeconds),
      logRetention,
      manageCloudWatchRole: config.manageApiGatewayCloudWatchRole,
    });
    if (rest.loggingAccount) webSocket.stage.node.addDependency(rest.loggingAccount);

    // Who talks to clients over @connections: the WebSocket route handlers and the sweep (not the REST reads).
    const pushers = new Set<FunctionName>([
      ...WEBSOCKET_ROUTES.map((route) => route.functionName),
      SWEEP_FUNCTION,
      WORKER_FUNCTION,
    ]);
    for (const name of pushers) functions[name].bindConnectionsApi(webSocket);
    // The same functions publish presence events (from the outbox, with the deliveries).
    const events = new PresenceEvents(this, 'Events', { webhook: config.webhook });
    for (const name of pushers) functions[name].bindEventBus(events.bus);

    const sweep = new SweepSchedule(this, 'Sweep', { sweep: functions[SWEEP_FUNCTION] });
    // Sweep passes and deliveries fan out over the queue-driven workers; whoever delivers may hand work to them.
    const workQueue = new WorkQueue(this, 'WorkQueue', {
      worker: functions[WORKER_FUNCTION],
      maxConcurrency: config.workers.maxConcurrency,
    });
    for (const name of pushers) workQueue.bindProducer(functions[name]);
    new MarkFresh(this, 'MarkFresh', { sweep: functions[SWEEP_FUNCTION], after: [network, cache], logRetention });

    const notifications = new AlarmNotifications(this, 'Alarms', {
      topicArn: config.alarms.topicArn,
      email: config.alarms.email,
    });
    notifications.watch(...sweep.alarms, ...workQueue.alarms, ...cache.alarms, ...webSocket.alarms, ...rest.alarms, ...events.alarms);
    const dashboard = new OperationsDashboard(this, 'Operations', {
      alarms: [...sweep.alarms, ...workQueue.alarms, ...cache.alarms, ...webSocket.alarms, ...rest.alarms, ...events.alarms],
    });
    notifications.watch(...dashboard.alarms);
    for (const fn of Object.values(functions)) fn.bindMetrics(dashboard.namespace);

    new CfnOutput(this, 'WebSocketUrl', {
      value: webSocket.url,
      description: 'WebSocket URL for clients (token as ?Authorization=<jwt>)',
    });
    new CfnOutput(this, 'RestApiUrl', {
      value: rest.url,
      description: 'REST base URL: GET presence and presence/{userId}',
    });
    new CfnOutput(this, 'ConnectionsEndpoint', {
      value: webSocket.connectionsEndpoint,
      description: '@connections management endpoint',
    });
    new CfnOutput(this, 'FunctionSecurityGroupId', {
      value: network.functionSecurityGroup.securityGroupId,
      description: 'Security group of the in-VPC functions (allow it on an existing Redis or database)',
    });
    new CfnOutput(this, 'SweepDeadLetterQueueUrl', {
      value: sweep.deadLetterQueue.queueUrl,
      description: 'Failed sweep runs',
    });
    new CfnOutput(this, 'WorkQueueUrl', {
      value: workQueue.queue.queueUrl,
      description: 'Work messages (shards to sweep or deliver) of the queue-driven worker function',
    });
    new CfnOutput(this, 'WorkDeadLetterQueueUrl', {
      value: workQueue.deadLetterQueue.queueUrl,
      description: 'Work messages that failed 5 times (hints only: the work itself stays in Redis)',
    });
    new CfnOutput(this, 'EventBusName', {
      value: events.bus.eventBusName,
      description: 'EventBridge bus with every presence event (source presence-api, detail-type Presence Changed)',
    });
    if (events.deadLetterQueue) {
      new CfnOutput(this, 'WebhookDeadLetterQueueUrl', {
        value: events.deadLetterQueue.queueUrl,
        description: 'Presence events the webhook did not accept within 24 h',
      });
    }
    if (events.webhookSecret) {
      new CfnOutput(this, 'WebhookAuthSecretArn', {
        value: events.webhookSecret.secretArn,
        description: 'Secret sent as the Authorization header of every webhook POST (check it in your endpoint)',
      });
    }
    new CfnOutput(this, 'DashboardName', {
      value: dashboard.dashboard.dashboardName,
      description: 'CloudWatch dashboard: users online, connections, deliveries, lags',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: notifications.topic.topicArn,
      description: 'SNS topic every alarm notifies (subscribe your on-call tooling or set ALARM_EMAIL)',
    });
  }
}

/** Construct id of a function: `update-presence` -> `UpdatePresenceFunction` (stable logical ids for sam local). */
export function functionId(name: FunctionName): string {
  return `${name.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase())}Function`;
}
