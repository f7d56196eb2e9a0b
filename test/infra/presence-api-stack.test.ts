// Infra tests of the default stack: routes, authorizers, functions and layer, VPC, sweep, IAM scope, encryption.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CACHE_EVICTION_POLICY } from '../../lib/constructs/cache';
import { functionSizing } from '../../lib/constructs/presence-function';
import type { PresenceApiStack } from '../../lib/presence-api-stack';
import { webSocketThrottle } from '../../lib/websocket-throttle';
import {
  AUTHORIZER_FUNCTION,
  FUNCTION_NAMES,
  type FunctionName,
  REST_ROUTES,
  ROUTE_SELECTION_EXPRESSION,
  SWEEP_FUNCTION,
  WORKER_FUNCTION,
  WEBSOCKET_ROUTES,
} from '../../src/routes';
import { buildStack } from './stack-fixture';

type Resource = { Type: string; Properties: Record<string, any> };

let app: App;
let stack: PresenceApiStack;
let template: Template;
let resources: Record<string, Resource>;
const fnId = (name: FunctionName) => stack.getLogicalId(stack.functions[name].node.defaultChild as CfnFunction);
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const json = (value: unknown) => JSON.stringify(value);

beforeAll(() => {
  ({ app, stack, template } = buildStack());
  resources = template.toJSON().Resources;
}, 120_000);

describe('WebSocket API', () => {
  it('selects routes by the action field of the message body', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: ROUTE_SELECTION_EXPRESSION,
    });
  });

  it.each(WEBSOCKET_ROUTES.map((route) => [route.routeKey, route.functionName] as const))(
    'routes %s to the %s function',
    (routeKey, functionName) => {
      const [, route] = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === routeKey) ?? [];
      expect(route).toBeDefined();
      const integrationId = (route as Resource).Properties.Target['Fn::Join'][1][1].Ref as string;
      const integration = resources[integrationId] as Resource;
      expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(json(integration.Properties.IntegrationUri)).toContain(fnId(functionName));
    },
  );

  it('guards $connect, and only $connect, with the authorizer function as a REQUEST authorizer', () => {
    const authorizers = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] as [string, Resource];
    expect(authorizer.Properties.AuthorizerType).toBe('REQUEST');
    expect(json(authorizer.Properties.AuthorizerUri)).toContain(fnId(AUTHORIZER_FUNCTION));
    for (const [, route] of ofType('AWS::ApiGatewayV2::Route')) {
      if (route.Properties.RouteKey === '$connect') {
        expect(route.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
      } else {
        expect(route.Properties.AuthorizerId).toBeUndefined();
      }
    }
  });

  it('sets no identity source, so tokens in the query string or Sec-WebSocket-Protocol all reach the authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { IdentitySource: Match.absent() });
  });

  it('deploys a stage throttled for the expected clients (10,000 beating every 20 s), with access logs and no data tracing', () => {
    const expected = webSocketThrottle(10_000, 20);
    expect(expected).toEqual({ rateLimit: 2900, burstLimit: 5800 });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: expected.rateLimit,
        ThrottlingBurstLimit: expected.burstLimit,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
  });

  it('keeps query strings (where tokens travel) out of the access log format', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0] as [string, Resource];
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/querystring|header/i);
  });
});

describe('REST API', () => {
  it.each(REST_ROUTES.map((route) => [route.method, route.path, route.functionName] as const))(
    '%s %s goes to %s behind the Lambda REQUEST authorizer',
    (method, path, functionName) => {
      // Walk the path from the root: a path part such as `presence` may appear under several parents.
      let resourceId: string | undefined;
      for (const pathPart of path.split('/').slice(1)) {
        const parent = resourceId;
        [resourceId] =
          ofType('AWS::ApiGateway::Resource').find(
            ([, resource]) =>
              resource.Properties.PathPart === pathPart &&
              (parent === undefined
                ? resource.Properties.ParentId.Ref === undefined
                : resource.Properties.ParentId.Ref === parent),
          ) ?? [];
        expect(resourceId).toBeDefined();
      }
      const [, methodResource] =
        ofType('AWS::ApiGateway::Method').find(
          ([, m]) => m.Properties.HttpMethod === method && m.Properties.ResourceId.Ref === resourceId,
        ) ?? [];
      expect(methodResource).toBeDefined();
      const props = (methodResource as Resource).Properties;
      expect(props.AuthorizationType).toBe('CUSTOM');
      expect(props.AuthorizerId).toEqual({ Ref: ofType('AWS::ApiGateway::Authorizer')[0]?.[0] });
      expect(props.Integration.Type).toBe('AWS_PROXY');
      expect(json(props.Integration.Uri)).toContain(fnId(functionName));
    },
  );

  it('uses the authorizer function on the Authorization header, without caching decisions', () => {
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
    });
    const [, authorizer] = ofType('AWS::ApiGateway::Authorizer')[0] as [string, Resource];
    expect(json(authorizer.Properties.AuthorizerUri)).toContain(fnId(AUTHORIZER_FUNCTION));
  });

  it('validates the userId path parameter', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.path.userId': true },
      RequestValidatorId: Match.anyValue(),
    });
  });

  it('serves GET /groups/{groupId}/presence with a required groupId, behind the authorizer', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
      RequestParameters: { 'method.request.path.groupId': true },
      RequestValidatorId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'groups' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{groupId}' });
  });

  it('answers CORS preflights for the configured origin only', () => {
    const preflights = ofType('AWS::ApiGateway::Method').filter(([, m]) => m.Properties.HttpMethod === 'OPTIONS');
    expect(preflights).toHaveLength(new Set(REST_ROUTES.map((route) => route.path)).size);
    for (const [, preflight] of preflights) {
      const headers = preflight.Properties.Integration.IntegrationResponses[0].ResponseParameters;
      expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe(
        "'chrome-extension://abcdefghijklmnopabcdefghijklmnop'",
      );
    }
  });

  it('throttles the stage, writes access logs and traces', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ThrottlingRateLimit: 200,
          ThrottlingBurstLimit: 400,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it('answers unknown paths with 404 and a JSON message', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
      ResponseTemplates: { 'application/json': '{"message":"Not Found"}' },
    });
  });
});

describe('functions and the shared layer', () => {
  it('deploys exactly one function per handler of the route table, plus the mark-fresh custom resource provider', () => {
    // The one function that is not a handler: aws-cdk-lib's AwsCustomResource provider (one per stack), which
    // invokes the sweep once with {"markFresh":true} when the stack is created.
    template.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length + 1);
    const handlers = new Set(FUNCTION_NAMES.map(fnId));
    const others = ofType('AWS::Lambda::Function').filter(([id]) => !handlers.has(id));
    expect(others.map(([id]) => id)).toEqual([expect.stringMatching(/^AWS679f53fac002430cb0da5b7982bd2287/)]);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
  });

  it.each([...FUNCTION_NAMES])('%s runs Node.js 22 on arm64 with the shared layer, its sizing and tracing', (name) => {
    const fn = resources[fnId(name)] as Resource;
    const sizing = functionSizing(name, { SWEEP_WINDOW_SECONDS: 55 });
    const [layerId] = ofType('AWS::Lambda::LayerVersion')[0] as [string, Resource];
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: sizing.timeout.toSeconds(),
      MemorySize: sizing.memorySize,
      Layers: [{ Ref: layerId }],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
    });
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
    expect((resources[logGroupId] as Resource).Properties.RetentionInDays).toBe(30);
  });

  it('gives the sweep a timeout covering its 55 s window', () => {
    const fn = resources[fnId(SWEEP_FUNCTION)] as Resource;
    expect(fn.Properties.Timeout).toBe(70);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      SWEEP_WINDOW_SECONDS: '55',
      SWEEP_INTERVAL_SECONDS: '10',
    });
  });

  it('bundles each function without the shared code, which the layer carries as @presence/layer', () => {
    const assembly = app.synth();
    const stackArtifact = assembly.getStackByName(stack.stackName);
    const assetDirs = readdirSync(assembly.directory).filter((entry) => entry.startsWith('asset.'));
    const layerDir = assetDirs.find((dir) => {
      try {
        return statSync(
          join(assembly.directory, dir, 'nodejs', 'node_modules', '@presence', 'layer', 'index.js'),
        ).isFile();
      } catch {
        return false;
      }
    });
    expect(layerDir).toBeDefined();
    const layerModule = join(assembly.directory, layerDir as string, 'nodejs', 'node_modules', '@presence', 'layer');
    expect(JSON.parse(readFileSync(join(layerModule, 'package.json'), 'utf8'))).toMatchObject({
      name: '@presence/layer',
      main: 'index.js',
    });
    expect(statSync(join(layerModule, 'index.js')).size).toBeGreaterThan(100_000);

    // The handlers' own bundles, found through their Code.S3Key (<asset hash>.zip); the custom resource provider's
    // code is aws-cdk-lib's and is no handler.
    const functionDirs = FUNCTION_NAMES.map((name) => {
      const key = (resources[fnId(name)] as Resource).Properties.Code.S3Key as string;
      return `asset.${key.replace(/\.zip$/, '')}`;
    });
    expect(new Set(functionDirs).size).toBe(FUNCTION_NAMES.length);
    for (const dir of functionDirs) {
      expect(assetDirs).toContain(dir);
      const code = readFileSync(join(assembly.directory, dir, 'index.js'), 'utf8');
      expect(code).toContain('require("@presence/layer")');
      expect(code.length).toBeLessThan(20_000);
    }
    expect(stackArtifact.template).toBeDefined();
  });

  it('places every function but the authorizer in the named private subnets with the function security group', () => {
    const [sgId] =
      ofType('AWS::EC2::SecurityGroup').find(([, sg]) => /functions/i.test(sg.Properties.GroupDescription)) ?? [];
    for (const name of FUNCTION_NAMES) {
      const vpcConfig = (resources[fnId(name)] as Resource).Properties.VpcConfig;
      if (name === AUTHORIZER_FUNCTION) {
        expect(vpcConfig).toBeUndefined();
      } else {
        expect(vpcConfig).toEqual({
          SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
          SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
        });
      }
    }
  });

  it('puts the cache and the proxy in the data subnets of the existing VPC', () => {
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
    });
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      VpcSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
    });
  });

  it('lets the functions out on HTTPS only, plus the Redis and proxy ports to their security groups', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Presence API functions'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 6380, ToPort: 6380 });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 5432, ToPort: 5432 });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380,
      SourceSecurityGroupId: Match.anyValue(),
    });
  });
});

describe('sweep schedule', () => {
  it('invokes the sweep every minute with a dead-letter queue for failed deliveries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(SWEEP_FUNCTION), 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('sends failed runs to the same queue without retrying (the next run is a minute away)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId(SWEEP_FUNCTION) },
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('alarms on the first dead-lettered run', () => {
    const [queueId] = ofType('AWS::SQS::Queue')[0] as [string, Resource];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });
});

describe('IAM', () => {
  const policies = () => ofType('AWS::IAM::Policy');
  const statements = () =>
    policies().flatMap(([, policy]) =>
      (policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>).map((statement) => ({
        policy,
        statement,
      })),
    );

  it('grants execute-api:ManageConnections only on this API stage @connections/* (POST, DELETE)', () => {
    const grants = statements().filter(({ statement }) => json(statement.Action).includes('execute-api:'));
    expect(grants.length).toBeGreaterThan(0);
    const [apiId] = ofType('AWS::ApiGatewayV2::Api')[0] as [string, Resource];
    for (const { statement } of grants) {
      expect(statement.Action).toBe('execute-api:ManageConnections');
      const arns = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(json);
      expect(arns).toHaveLength(2);
      for (const arn of arns) {
        expect(arn).toContain(`{"Ref":"${apiId}"}`);
        expect(arn).toMatch(/\/prod\/(POST|DELETE)\/@connections\/\*"/);
      }
    }
  });

  it('lets only the WebSocket handlers and the sweep manage connections', () => {
    const pushers = new Set<FunctionName>([
      ...WEBSOCKET_ROUTES.map((route) => route.functionName),
      SWEEP_FUNCTION,
      WORKER_FUNCTION,
    ]);
    for (const name of FUNCTION_NAMES) {
      const roleId = (resources[fnId(name)] as Resource).Properties.Role['Fn::GetAtt'][0] as string;
      const own = policies().filter(([, policy]) => json(policy.Properties.Roles).includes(roleId));
      expect(json(own).includes('execute-api:ManageConnections')).toBe(pushers.has(name));
    }
  });

  it('uses no wildcard actions', () => {
    for (const { statement } of statements()) {
      for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
    }
    for (const [, role] of ofType('AWS::IAM::Role')) {
      for (const inline of role.Properties.Policies ?? []) {
        for (const statement of inline.PolicyDocument.Statement) {
          for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
        }
      }
    }
  });

  it('grants secretsmanager:GetSecretValue (alone) on exactly the database and Redis AUTH secrets', () => {
    const grants = statements().filter(({ statement }) => json(statement.Action).includes('secretsmanager:'));
    const [tokenId] = ofType('AWS::SecretsManager::Secret')[0] as [string, Resource];
    const allowed = [
      json('arn:aws:secretsmanager:us-east-1:123456789012:secret:pagenow/db-AbCdEf'),
      json({ Ref: tokenId }),
    ];
    for (const { statement } of grants.filter(({ policy }) => !json(policy).includes('Proxy'))) {
      expect([statement.Action].flat()).toEqual(['secretsmanager:GetSecretValue']);
      for (const resource of [statement.Resource].flat()) expect(allowed).toContain(json(resource));
    }
  });
});

describe('data stores', () => {
  it('runs Redis as a Multi-AZ replication group, encrypted at rest and in transit, with AUTH from Secrets Manager', () => {
    const [tokenId] = ofType('AWS::SecretsManager::Secret')[0] as [string, Resource];
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: tokenId }, ':SecretString:::}}']] },
    });
  });

  it('reaches Postgres through an RDS Proxy that requires TLS, in the isolated subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [
        Match.objectLike({
          AuthScheme: 'SECRETS',
          SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pagenow/db-AbCdEf',
        }),
      ],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBInstanceIdentifiers: ['pagenow-db'] });
  });

  it('hands the functions secret ARNs and endpoints, never a secret value', () => {
    for (const name of FUNCTION_NAMES) {
      const variables = (resources[fnId(name)] as Resource).Properties.Environment.Variables as Record<string, unknown>;
      for (const [key, value] of Object.entries(variables)) {
        if (/SECRET|PASSWORD|AUTH_TOKEN|_TOKEN$/.test(key)) expect(key).toMatch(/_SECRET_ARN$/);
        expect(json(value)).not.toMatch(/resolve:secretsmanager|SecretString|password/i);
      }
      expect(variables.DATABASE_URL).toBeUndefined();
      if (name !== AUTHORIZER_FUNCTION) {
        expect(variables).toMatchObject({
          REDIS_MODE: 'standalone',
          REDIS_AUTH_SECRET_ARN: expect.anything(),
          DATABASE_SSL: 'true',
          DATABASE_PORT: '5432',
          DATABASE_NAME: 'pagenow',
        });
        expect(json(variables.REDIS_URL)).toMatch(/^\{"Fn::Join":\["",\["rediss:\/\//);
      }
    }
  });

  it('gives the token verifier settings to the authorizer only', () => {
    for (const name of FUNCTION_NAMES) {
      const variables = (resources[fnId(name)] as Resource).Properties.Environment.Variables as Record<string, unknown>;
      if (name === AUTHORIZER_FUNCTION) {
        expect(variables).toMatchObject({
          COGNITO_USER_POOL_ID: 'us-east-1_AbCdEf123',
          JWT_AUDIENCE: '1example23456789',
        });
        expect(variables.REDIS_URL).toBeUndefined();
      } else {
        expect(variables.JWT_AUDIENCE).toBeUndefined();
      }
    }
  });
});

describe('operating limits and alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm');

  it('never evicts live presence: a noeviction parameter group of the valkey8 family, used by the replication group', () => {
    const [groupId, group] = ofType('AWS::ElastiCache::ParameterGroup')[0] as [string, Resource];
    expect(ofType('AWS::ElastiCache::ParameterGroup')).toHaveLength(1);
    expect(group.Properties).toMatchObject({
      CacheParameterGroupFamily: 'valkey8',
      Properties: { 'maxmemory-policy': CACHE_EVICTION_POLICY },
    });
    expect(CACHE_EVICTION_POLICY).toBe('noeviction');
    expect(group.Properties.Properties['cluster-enabled']).toBeUndefined();
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { CacheParameterGroupName: { Ref: groupId } });
  });

  it('alarms when any cache node stays above 80% of its memory (DatabaseMemoryUsagePercentage)', () => {
    const [groupId] = ofType('AWS::ElastiCache::ReplicationGroup')[0] as [string, Resource];
    const memory = alarms().filter(([, alarm]) =>
      json(alarm.Properties.Metrics ?? '').includes('DatabaseMemoryUsagePercentage'),
    );
    expect(memory).toHaveLength(1);
    const [, alarm] = memory[0] as [string, Resource];
    expect(alarm.Properties).toMatchObject({ Threshold: 80, ComparisonOperator: 'GreaterThanThreshold' });
    const metrics = alarm.Properties.Metrics as Array<Record<string, any>>;
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('MAX([m0, m1])');
    const nodes = metrics
      .filter((m) => m.MetricStat)
      .map((m) => {
        expect(m.MetricStat.Metric).toMatchObject({
          Namespace: 'AWS/ElastiCache',
          MetricName: 'DatabaseMemoryUsagePercentage',
        });
        return m.MetricStat.Metric.Dimensions[0];
      });
    // The primary and its replica: member clusters <group>-001 and <group>-002.
    expect(nodes).toEqual(
      ['-001', '-002'].map((suffix) => ({
        Name: 'CacheClusterId',
        Value: { 'Fn::Join': ['', [{ Ref: groupId }, suffix]] },
      })),
    );
  });

  it.each([
    ['WebSocket', 'WebSocketThrottledRequests', 'WebSocketAccessLogs'],
    ['REST', 'RestThrottledRequests', 'RestAccessLogs'],
  ])(
    'counts throttled %s requests (status 429 in the access log) and alarms when they persist',
    (_api, metricName, logGroupPrefix) => {
      const [logGroupId] = ofType('AWS::Logs::LogGroup').find(([id]) => id.startsWith(logGroupPrefix)) ?? [];
      expect(logGroupId).toBeDefined();
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logGroupId },
        FilterPattern: '{ $.status = "429" }',
        MetricTransformations: [
          { MetricNamespace: 'PresenceApi/PresenceApiTest', MetricName: metricName, MetricValue: '1', DefaultValue: 0 },
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'PresenceApi/PresenceApiTest',
        MetricName: metricName,
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
      });
    },
  );

  it('alarms when over 1% of WebSocket messages get a 4XX from API Gateway itself (ClientError, throttling included)', () => {
    const [apiId] = ofType('AWS::ApiGatewayV2::Api')[0] as [string, Resource];
    const [, alarm] =
      alarms().find(([, a]) => json(a.Properties.Metrics ?? '').includes('"ClientError"')) ??
      ([] as unknown as [string, Resource]);
    expect(alarm).toBeDefined();
    expect(alarm.Properties.Threshold).toBe(1);
    for (const name of ['ClientError', 'MessageCount']) {
      const stat = (alarm.Properties.Metrics as Array<Record<string, any>>).find(
        (m) => m.MetricStat?.Metric.MetricName === name,
      );
      expect(stat?.MetricStat.Metric).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        Dimensions: [
          { Name: 'ApiId', Value: { Ref: apiId } },
          { Name: 'Stage', Value: 'prod' },
        ],
      });
    }
  });

  it('sends every alarm, in ALARM and back to OK, to one SNS topic it creates and outputs', () => {
    const [topicId, topic] = ofType('AWS::SNS::Topic')[0] as [string, Resource];
    expect(ofType('AWS::SNS::Topic')).toHaveLength(1);
    expect(topic.Properties.DisplayName).toBe('Presence API alarms');
    // Sweep (2), work queue (2), cache memory (1), WebSocket throttling and client errors (2), REST throttling (1),
    // delivery and sweep lag (2).
    expect(alarms()).toHaveLength(10);
    for (const [, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    expect((template.toJSON().Outputs as Record<string, { Value: unknown }>).AlarmTopicArn?.Value).toEqual({
      Ref: topicId,
    });
  });
});

describe('synthesis', () => {
  it('emits no unacknowledged warning or error annotation', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });
});

describe('outputs', () => {
  it('exports the WebSocket URL, the REST URL and the @connections endpoint', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(json(outputs.WebSocketUrl?.Value)).toMatch(/"wss:\/\/"/);
    expect(json(outputs.WebSocketUrl?.Value)).toContain('/prod');
    expect(json(outputs.RestApiUrl?.Value)).toContain('https://');
    expect(json(outputs.ConnectionsEndpoint?.Value)).toMatch(/"https:\/\/"/);
  });
});
