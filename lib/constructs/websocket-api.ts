// The WebSocket API: routes from the route table, the REQUEST authorizer on $connect, a throttled, logged stage.
import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnAuthorizer,
  CfnStage,
  LogGroupLogDestination,
  WebSocketApi,
  WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUTHORIZER_FUNCTION, type FunctionName, ROUTE_SELECTION_EXPRESSION, WEBSOCKET_ROUTES } from '../../src/routes';
import { WEBSOCKET_THROTTLE_MODEL } from '../websocket-throttle';
import type { ConnectionsApiBinding } from './presence-function';
import { throttledRequestsAlarm } from './throttle-alarm';

/** Properties of {@link PresenceWebSocketApi}. */
export interface PresenceWebSocketApiProps {
  /** Every function of the route table, by name. */
  readonly functions: Readonly<Record<FunctionName, IFunction>>;
  readonly stageName: string;
  /** Default route throttle of the stage (sized from EXPECTED_PEAK_CONNECTIONS, see lib/websocket-throttle.ts). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
}

/**
 * The WebSocket API clients keep open. Routes and the functions behind them come from `src/routes.ts`; the
 * `authorizer` function guards `$connect` (the only route API Gateway lets an authorizer guard) and its context
 * is passed to every later message of the connection.
 */
export class PresenceWebSocketApi extends Construct implements ConnectionsApiBinding {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
  readonly url: string;
  readonly connectionsEndpoint: string;
  readonly managementArns: readonly string[];
  /** Throttled messages, and client errors (throttling included) as a share of messages. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: PresenceWebSocketApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.api = new WebSocketApi(this, 'Api', {
      apiName: `${stack.stackName}-websocket`,
      description: 'Presence API: heartbeat / update-presence messages, presence notifications',
      routeSelectionExpression: ROUTE_SELECTION_EXPRESSION,
    });

    const authorizer = new WebSocketLambdaAuthorizer('Authorizer', props.functions[AUTHORIZER_FUNCTION], {
      // Placeholder removed below: see removeIdentitySource.
      identitySource: [],
    });
    const integrations = new Map<FunctionName, WebSocketLambdaIntegration>();
    for (const route of WEBSOCKET_ROUTES) {
      if (route.authorized && route.routeKey !== '$connect') {
        throw new Error(`WebSocket route ${route.routeKey}: API Gateway only runs authorizers on $connect`);
      }
      let integration = integrations.get(route.functionName);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(
          `${route.functionName}Integration`,
          props.functions[route.functionName],
        );
        integrations.set(route.functionName, integration);
      }
      const created = this.api.addRoute(route.routeKey, { integration, ...(route.authorized ? { authorizer } : {}) });
      if (!route.authorized) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'API Gateway WebSocket APIs only accept an authorizer on $connect; this route runs on a connection already authorized there, and the handler reads the caller from the $connect authorizer context.',
        });
      }
    }
    removeIdentitySource(this);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // No query string or headers: tokens travel there and must never reach the logs.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTimeEpoch',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            connectionId: '$context.connectionId',
            status: '$context.status',
            userId: '$context.authorizer.userId',
            integrationLatency: '$context.integrationLatency',
            error: '$context.error.message',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const cfnStage = this.stage.node.defaultChild as CfnStage;
    cfnStage.addPropertyOverride('DefaultRouteSettings.LoggingLevel', 'ERROR');
    cfnStage.addPropertyOverride('DefaultRouteSettings.DataTraceEnabled', false);

    if (props.throttle.rateLimit > WEBSOCKET_THROTTLE_MODEL.accountRequestsPerSecond) {
      Annotations.of(this.stage).addWarningV2(
        '@presence/websocket-throttle-above-account-limit',
        `The WebSocket stage throttle (${props.throttle.rateLimit}/s) is above API Gateway's default account limit of ${WEBSOCKET_THROTTLE_MODEL.accountRequestsPerSecond} requests/s shared by all APIs: request a quota increase before the load arrives (docs/deployment.md).`,
      );
    }
    this.alarms = [
      throttledRequestsAlarm(this, 'ThrottledAlarm', {
        accessLogs,
        metricName: 'WebSocketThrottledRequests',
        description: `WebSocket messages were throttled (status 429) in 2 of 3 minutes: throttled heartbeats let healthy sockets time out. Raise EXPECTED_PEAK_CONNECTIONS (stage limit now ${props.throttle.rateLimit}/s, burst ${props.throttle.burstLimit}) or the account limit.`,
      }),
      this.clientErrorAlarm(props.stageName),
    ];

    const host = `${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.url = `wss://${host}/${props.stageName}`;
    this.connectionsEndpoint = `https://${host}/${props.stageName}`;
    this.managementArns = ['POST', 'DELETE'].map((verb) =>
      stack.formatArn({
        service: 'execute-api',
        resource: this.api.apiId,
        resourceName: `${props.stageName}/${verb}/@connections/*`,
      }),
    );
  }

  /**
   * ClientError (4XX answered by API Gateway before the integration runs: throttled messages, refused upgrades) as a
   * share of MessageCount, above 1% in 3 of 5 minutes. The built-in backstop of the access-log throttle count.
   */
  private clientErrorAlarm(stageName: string): Alarm {
    const metric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: this.api.apiId, Stage: stageName },
        statistic: 'Sum',
        period: Duration.minutes(1),
      });
    return new Alarm(this, 'ClientErrorAlarm', {
      alarmDescription:
        'Over 1% of WebSocket messages were answered 4XX by API Gateway itself (throttling, refused connects) in 3 of 5 minutes.',
      metric: new MathExpression({
        expression: '100 * FILL(errors, 0) / FILL(messages, 1)',
        usingMetrics: { errors: metric('ClientError'), messages: metric('MessageCount') },
        label: 'ClientError % of MessageCount',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * Drops IdentitySource from the $connect authorizer. API Gateway refuses a request before calling the authorizer
 * when any identity source is missing, but the token may arrive as query parameter `Authorization` or `token`, or
 * in `Sec-WebSocket-Protocol`, so no single source is always present. For WebSocket REQUEST authorizers the
 * property is optional (no result caching there), and without it every $connect reaches the authorizer, which
 * answers 401 itself when no token is found. CDK's WebSocketLambdaAuthorizer always writes the property, hence the
 * override.
 */
function removeIdentitySource(scope: Construct): void {
  for (const child of scope.node.findAll()) {
    if (child instanceof CfnAuthorizer) child.addPropertyDeletionOverride('IdentitySource');
  }
}
