// Infra tests of presence events (the bus, the optional webhook API destination) and of the operations dashboard,
// its alarms and the metrics namespace the functions write to.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { PresenceApiStack } from '../../lib/presence-api-stack';
import { FUNCTION_NAMES, type FunctionName, REST_ROUTES, WEBSOCKET_ROUTES } from '../../src/routes';
import { METRICS } from '../../src/layer/shared/metrics';
import { buildStack, logicalIdOf } from './stack-fixture';

type Resource = { Type: string; Properties: Record<string, any> };
const build = (overrides: Record<string, string> = {}) => buildStack(overrides, { bundle: false, validate: false });
const environmentOf = (stack: PresenceApiStack, template: Template, name: FunctionName): Record<string, unknown> => {
  const id = stack.getLogicalId(stack.functions[name].node.defaultChild as CfnFunction);
  return template.toJSON().Resources[id].Properties.Environment.Variables;
};
const policiesOf = (stack: PresenceApiStack, template: Template, name: FunctionName): string => {
  const role = stack.getLogicalId(stack.functions[name].role?.node.defaultChild as never);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  return JSON.stringify(
    Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${role}"`),
    ),
  );
};

describe('the default stack', () => {
  let stack: PresenceApiStack;
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = build());
  }, 120_000);

  it('creates one event bus named after the stack, with its name as an output', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'PresenceApiTest-presence' });
    const bus = logicalIdOf(template, 'AWS::Events::EventBus', 'PresenceApiTest-presence');
    template.hasOutput('EventBusName', { Value: { Ref: bus } });
  });

  it('lets exactly the functions that deliver publish to the bus, naming it in their environment', () => {
    const bus = logicalIdOf(template, 'AWS::Events::EventBus', 'PresenceApiTest-presence');
    const delivering = new Set<FunctionName>([...WEBSOCKET_ROUTES.map((r) => r.functionName), 'timeout', 'worker']);
    for (const name of FUNCTION_NAMES) {
      const env = environmentOf(stack, template, name);
      const policies = policiesOf(stack, template, name);
      if (delivering.has(name)) {
        expect({ name, bus: env.EVENT_BUS_NAME }).toEqual({ name, bus: { Ref: bus } });
        expect(policies).toContain('"events:PutEvents"');
        expect(policies).toContain(`"Fn::GetAtt":["${bus}","Arn"]`);
      } else {
        expect({ name, bus: env.EVENT_BUS_NAME }).toEqual({ name, bus: undefined });
        expect(policies).not.toContain('events:PutEvents');
      }
    }
  });

  it('creates no webhook without WEBHOOK_URL', () => {
    template.resourceCountIs('AWS::Events::Connection', 0);
    template.resourceCountIs('AWS::Events::ApiDestination', 0);
    template.resourceCountIs('AWS::Events::Rule', 1); // the sweep schedule only
  });

  it('serves GET /usage from its own function behind the authorizer', () => {
    expect(REST_ROUTES).toContainEqual({ method: 'GET', path: '/usage', functionName: 'get-usage', authorized: true });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'usage' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
      ResourceId: { Ref: Match.stringLikeRegexp('usage') },
    });
    const env = environmentOf(stack, template, 'get-usage');
    expect(env).toMatchObject({ USAGE_RETENTION_DAYS: '90', ADMIN_GROUP: 'presence-admin' });
  });

  it('gives every function the metrics namespace the dashboard reads', () => {
    for (const name of FUNCTION_NAMES) {
      expect({ name, ns: environmentOf(stack, template, name).POWERTOOLS_METRICS_NAMESPACE }).toEqual({
        name,
        ns: 'PresenceApi/PresenceApiTest',
      });
    }
  });

  it('creates a dashboard charting every metric the functions write', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    expect(dashboard?.Properties.DashboardName).toBe('PresenceApiTest-operations');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const name of Object.keys(METRICS))
      expect({ name, charted: body.includes(`\\"${name}\\"`) }).toEqual({ name, charted: true });
    expect(body).toContain('PresenceApi/PresenceApiTest');
    expect(body).toContain('\\"service\\",\\"presence-api\\"');
  });

  it('alarms on delivery lag and sweep lag, notifying the alarm topic', () => {
    const topic = logicalIdOf(template, 'AWS::SNS::Topic', 'Presence API alarms');
    for (const [metric, threshold] of [
      ['DeliveryLag', 60_000],
      ['SweepLag', 15_000],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'PresenceApi/PresenceApiTest',
        Dimensions: [{ Name: 'service', Value: 'presence-api' }],
        Statistic: 'Maximum',
        Threshold: threshold,
        EvaluationPeriods: 3,
        AlarmActions: [{ Ref: topic }],
        OKActions: [{ Ref: topic }],
      });
    }
  });
});

describe('with WEBHOOK_URL', () => {
  it('POSTs every presence event there through a connection whose Authorization comes from a generated secret', () => {
    const { template } = build({ WEBHOOK_URL: 'https://hooks.example.com/presence' });
    const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret', 'Authorization header');
    const connection = logicalIdOf(template, 'AWS::Events::Connection', 'Authorization');
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: {
        ApiKeyAuthParameters: {
          ApiKeyName: 'Authorization',
          ApiKeyValue: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secret }, ':SecretString:::}}']] },
        },
      },
    });
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      ConnectionArn: { 'Fn::GetAtt': [connection, 'Arn'] },
      InvocationEndpoint: 'https://hooks.example.com/presence',
      HttpMethod: 'POST',
    });
    const bus = logicalIdOf(template, 'AWS::Events::EventBus', 'PresenceApiTest-presence');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: bus },
      EventPattern: { source: ['presence-api'], 'detail-type': ['Presence Changed'] },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WebhookDeadLetterQueue'), 'Arn'] } },
        }),
      ],
    });
    // EventBridge may put what it gives up on into the dead-letter queue (and nothing else may)
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('WebhookDeadLetterQueue') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('WebhookDeadLetterQueue'), 'QueueName'] } },
      ],
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
    template.hasOutput('WebhookAuthSecretArn', { Value: { Ref: secret } });
    template.hasOutput('WebhookDeadLetterQueueUrl', Match.anyValue());
  });

  it("takes the Authorization value from the operator's secret when WEBHOOK_AUTH_SECRET_ARN is set", () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:presence/webhook-AbCdEf';
    const { template } = build({ WEBHOOK_URL: 'https://hooks.example.com/presence', WEBHOOK_AUTH_SECRET_ARN: arn });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1); // the cache's AUTH token only
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthParameters: {
        ApiKeyAuthParameters: {
          ApiKeyName: 'Authorization',
          ApiKeyValue: `{{resolve:secretsmanager:${arn}:SecretString:::}}`,
        },
      },
    });
  });
});
