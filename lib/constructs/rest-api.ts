// The REST API: GET routes from the route table behind the REQUEST authorizer, CORS for the configured origins only.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  CfnAccount,
  type CorsOptions,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  type Resource,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUTHORIZER_FUNCTION, type FunctionName, REST_ROUTES } from '../../src/routes';
import { throttledRequestsAlarm } from './throttle-alarm';

/** Properties of {@link PresenceRestApi}. */
export interface PresenceRestApiProps {
  /** Every function of the route table, by name. */
  readonly functions: Readonly<Record<FunctionName, IFunction>>;
  readonly stageName: string;
  readonly allowedOrigins: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** How long API Gateway caches an authorizer decision per Authorization header; 0 disables the cache. */
  readonly authorizerCacheTtl: Duration;
  readonly logRetention: RetentionDays;
  /**
   * Whether this API sets the account-wide API Gateway CloudWatch Logs role (needed once per account and region
   * for access and execution logs of every API Gateway API, including the WebSocket stage).
   */
  readonly manageCloudWatchRole: boolean;
}

/**
 * The REST API of presence reads. Every method uses the `authorizer` function as a REQUEST authorizer on the
 * `Authorization` header (REST clients always send it); the Lambda proxy integrations answer CORS themselves from
 * ALLOWED_ORIGINS, and preflight answers come from API Gateway for the same origins.
 */
export class PresenceRestApi extends Construct {
  readonly api: RestApi;
  /** Base URL of the stage, ending in `/`. */
  readonly url: string;
  /** The account-level API Gateway logging settings, when this API manages them; other stages must wait for it. */
  readonly loggingAccount: CfnAccount | undefined;
  /** Throttled requests (429) on the stage. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: PresenceRestApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-rest`,
      description: 'Presence API: GET /presence, GET /presence/{userId}',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: props.manageCloudWatchRole,
      ...(props.manageCloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
      },
    });
    this.loggingAccount = this.api.node.findAll().find((child): child is CfnAccount => child instanceof CfnAccount);
    if (props.manageCloudWatchRole) {
      const role = this.api.node.tryFindChild('CloudWatchRole');
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason:
            'The account-level API Gateway logging role needs exactly this AWS-maintained policy (it lets API Gateway create log groups and streams for any API); it is not attached to any function.',
        });
      }
    }
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL by default (about $6/month + per-request fees): every method requires a verified JWT, the stage is throttled, and a WAF can be associated with the stage ARN without changing this stack.',
    });

    const authorizer = new RequestAuthorizer(this, 'Authorizer', {
      handler: props.functions[AUTHORIZER_FUNCTION],
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: props.authorizerCacheTtl,
    });
    const validator = this.api.addRequestValidator('ParameterValidator', {
      validateRequestParameters: true,
      // No method has a body model, so body validation is a no-op that keeps the validator complete.
      validateRequestBody: true,
    });

    const cors: CorsOptions = {
      allowOrigins: [...props.allowedOrigins],
      allowMethods: ['GET', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type'],
      maxAge: Duration.hours(1),
    };
    const withCors = new Set<Resource>();
    for (const route of REST_ROUTES) {
      const resource = this.api.root.resourceForPath(route.path) as Resource;
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
      resource.addMethod(
        route.method,
        new LambdaIntegration(props.functions[route.functionName], { allowTestInvoke: false }),
        {
          ...(route.authorized ? { authorizer, authorizationType: AuthorizationType.CUSTOM } : {}),
          requestValidator: validator,
          requestParameters: Object.fromEntries(pathParameters.map((name) => [`method.request.path.${name}`, true])),
        },
      );
      if (!withCors.has(resource)) {
        const preflight = resource.addCorsPreflight(cors);
        Validations.of(preflight).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'CORS preflight (OPTIONS) must answer without credentials: browsers never send Authorization on a preflight. It is a mock integration that returns only CORS headers.',
        });
        Validations.of(preflight).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'CORS preflight (OPTIONS) cannot carry a Cognito token; the GET methods it precedes use the JWT-verifying Lambda authorizer.',
        });
        withCors.add(resource);
      }
    }
    for (const method of this.api.methods) {
      if (method.httpMethod !== 'OPTIONS') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'Authorized by the Lambda REQUEST authorizer, which verifies Cognito (or any OIDC issuer) JWTs with aws-jwt-verify; one authorizer serves both the WebSocket $connect route and REST, which a COGNITO_USER_POOLS authorizer cannot.',
        });
      }
    }

    // Errors API Gateway answers itself: JSON {"message"} bodies as the contract says, with CORS when unambiguous.
    const origin = corsOriginHeader(props.allowedOrigins);
    const headers = origin ? { 'Access-Control-Allow-Origin': origin } : undefined;
    this.api.addGatewayResponse('Unauthorized', {
      type: ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: headers,
    });
    this.api.addGatewayResponse('NotFound', {
      type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: { 'application/json': '{"message":"Not Found"}' },
      responseHeaders: headers,
    });
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, responseHeaders: headers });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, responseHeaders: headers });
    this.url = this.api.url;
    this.alarms = [
      throttledRequestsAlarm(this, 'ThrottledAlarm', {
        accessLogs,
        metricName: 'RestThrottledRequests',
        description: `REST requests were throttled (status 429) in 2 of 3 minutes (stage limit ${props.throttle.rateLimit}/s, burst ${props.throttle.burstLimit}): raise REST_THROTTLE_RATE / REST_THROTTLE_BURST or find the client that floods.`,
      }),
    ];
  }
}

/** The Access-Control-Allow-Origin value for gateway responses: only when one origin (or `*`) is configured. */
function corsOriginHeader(origins: readonly string[]): string | undefined {
  if (origins.includes('*')) return "'*'";
  return origins.length === 1 ? `'${origins[0]}'` : undefined;
}
