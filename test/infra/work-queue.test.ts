// Infra tests of the queue-driven workers (SQS work queue, dead-letter queue, event source, alarms, producers' IAM)
// and of the one-time mark-fresh custom resource that runs when the stack is created.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { MARK_FRESH_PAYLOAD } from '../../lib/constructs/mark-fresh';
import { functionSizing } from '../../lib/constructs/presence-function';
import { DEFAULT_WORKER_MAX_CONCURRENCY } from '../../lib/deploy-config';
import type { PresenceApiStack } from '../../lib/presence-api-stack';
import { FUNCTION_NAMES, type FunctionName, SWEEP_FUNCTION, WEBSOCKET_ROUTES, WORKER_FUNCTION } from '../../src/routes';
import { buildStack, logicalIdOf } from './stack-fixture';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

let stack: PresenceApiStack;
let template: Template;
let resources: Record<string, Resource>;
const fnId = (name: FunctionName) => stack.getLogicalId(stack.functions[name].node.defaultChild as CfnFunction);
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const json = (value: unknown) => JSON.stringify(value);
/** The functions that deliver (and so may hand work to the workers): the WebSocket handlers, the sweep, the worker. */
const PRODUCERS = new Set<FunctionName>([
  ...WEBSOCKET_ROUTES.map((route) => route.functionName),
  SWEEP_FUNCTION,
  WORKER_FUNCTION,
]);

let queueId: string;
let deadLetterId: string;

beforeAll(() => {
  ({ stack, template } = buildStack({}, { bundle: false }));
  resources = template.toJSON().Resources;
  queueId = logicalIdOf(template, 'AWS::SQS::Queue', 'RedrivePolicy');
  deadLetterId = (resources[queueId] as Resource).Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
}, 120_000);

/** IAM statements attached to the role of one function. */
function statementsOf(name: FunctionName): Array<Record<string, any>> {
  const roleId = (resources[fnId(name)] as Resource).Properties.Role['Fn::GetAtt'][0] as string;
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) => json(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

describe('work queue', () => {
  it('is encrypted, and its visibility timeout is 6x the worker timeout; a message received 5 times is dead-lettered', () => {
    const workerTimeout = functionSizing(WORKER_FUNCTION, { SWEEP_WINDOW_SECONDS: 55 }).timeout.toSeconds();
    expect((resources[fnId(WORKER_FUNCTION)] as Resource).Properties.Timeout).toBe(workerTimeout);
    expect((resources[queueId] as Resource).Properties).toEqual({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * workerTimeout,
      MessageRetentionPeriod: 86_400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect((resources[deadLetterId] as Resource).Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
  });

  it('refuses every request without TLS, on the queue and on its dead-letter queue', () => {
    for (const id of [queueId, deadLetterId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            }),
          ]),
        },
      });
    }
  });

  it('drives the worker, one message per invocation, with partial batch failures and the default maximum concurrency', () => {
    expect(ofType('AWS::Lambda::EventSourceMapping')).toHaveLength(1);
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping')[0] as [string, Resource];
    expect(mapping.Properties).toEqual({
      FunctionName: { Ref: fnId(WORKER_FUNCTION) },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DEFAULT_WORKER_MAX_CONCURRENCY },
    });
    expect(DEFAULT_WORKER_MAX_CONCURRENCY).toBe(10);
  });

  it('takes the maximum concurrency from WORKER_MAX_CONCURRENCY', () => {
    const { template: scaled } = buildStack({ WORKER_MAX_CONCURRENCY: '40' }, { bundle: false, validate: false });
    scaled.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 40 },
    });
  }, 120_000);

  it('sizes the worker at 1024 MB, or at WORKER_MEMORY_MB (its vCPUs, and so its sender threads, follow), nothing else', () => {
    const memoryOf = (t: Template, name: FunctionName) =>
      (t.toJSON().Resources[fnId(name)] as Resource).Properties.MemorySize as number;
    expect(memoryOf(template, WORKER_FUNCTION)).toBe(1024);
    const { stack: big, template: bigTemplate } = buildStack(
      { WORKER_MEMORY_MB: '3538' },
      { bundle: false, validate: false },
    );
    const bigId = (name: FunctionName) => big.getLogicalId(big.functions[name].node.defaultChild as CfnFunction);
    const bigResources = bigTemplate.toJSON().Resources as Record<string, Resource>;
    expect((bigResources[bigId(WORKER_FUNCTION)] as Resource).Properties.MemorySize).toBe(3538);
    for (const name of FUNCTION_NAMES.filter((n) => n !== WORKER_FUNCTION))
      expect((bigResources[bigId(name)] as Resource).Properties.MemorySize).toBe(memoryOf(template, name));
    expect(() => buildStack({ WORKER_MEMORY_MB: '512' }, { bundle: false, validate: false })).toThrow(
      /WORKER_MEMORY_MB.*at least 1024/,
    );
  }, 120_000);

  it('lets only the worker receive and delete work messages', () => {
    for (const name of FUNCTION_NAMES) {
      const receives = statementsOf(name).filter((statement) => json(statement.Action).includes('sqs:ReceiveMessage'));
      if (name === WORKER_FUNCTION) {
        expect(receives).toEqual([
          expect.objectContaining({
            Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          }),
        ]);
      } else {
        expect(receives).toEqual([]);
      }
    }
  });

  it('gives WORK_QUEUE_URL and sqs:SendMessage (alone, on this queue) to exactly the functions that deliver', () => {
    // What the event source grants the worker to consume (CDK merges it with the worker's own SendMessage).
    const consume = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ];
    for (const name of FUNCTION_NAMES) {
      const variables = (resources[fnId(name)] as Resource).Properties.Environment.Variables as Record<string, unknown>;
      const onQueue = statementsOf(name).filter((statement) => json(statement.Resource).includes(`"${queueId}"`));
      for (const statement of onQueue) expect(statement.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
      const actions = onQueue.flatMap((statement) => [statement.Action].flat() as string[]).sort();
      const expected = PRODUCERS.has(name)
        ? [...(name === WORKER_FUNCTION ? consume : []), 'sqs:SendMessage'].sort()
        : [];
      expect({ name, actions, url: variables.WORK_QUEUE_URL }).toEqual({
        name,
        actions: expected,
        url: PRODUCERS.has(name) ? { Ref: queueId } : undefined,
      });
    }
    expect(PRODUCERS.has('get-presence')).toBe(false);
  });

  it('alarms on the first dead-lettered work message and on messages waiting over 5 minutes, to the alarm topic', () => {
    const [topicId] = ofType('AWS::SNS::Topic')[0] as [string, Resource];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
  });

  it('outputs the URLs of the work queue and its dead-letter queue', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.WorkQueueUrl?.Value).toEqual({ Ref: queueId });
    expect(outputs.WorkDeadLetterQueueUrl?.Value).toEqual({ Ref: deadLetterId });
  });
});

describe('mark fresh on stack creation', () => {
  const customResource = () => {
    const found = ofType('Custom::AWS');
    expect(found).toHaveLength(1);
    return found[0] as [string, Resource];
  };
  /** The SDK call of a Custom::AWS phase, with the function ARN token replaced by a placeholder. */
  const call = (value: unknown) => {
    const [, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const tokens = parts.filter((part) => typeof part !== 'string');
    const text = parts.map((part) => (typeof part === 'string' ? part : '<token>')).join('');
    return { call: JSON.parse(text) as { parameters: Record<string, string> } & Record<string, unknown>, tokens };
  };

  it('invokes the sweep function synchronously with {"markFresh":true} on create, and never on update or delete', () => {
    const [, resource] = customResource();
    expect(resource.Properties.Update).toBeUndefined();
    expect(resource.Properties.Delete).toBeUndefined();
    expect(resource.Properties.InstallLatestAwsSdk).toBe(false);
    const { call: create, tokens } = call(resource.Properties.Create);
    expect(create).toMatchObject({
      service: 'Lambda',
      action: 'Invoke',
      parameters: { FunctionName: '<token>', InvocationType: 'RequestResponse' },
    });
    expect(tokens).toEqual([{ 'Fn::GetAtt': [fnId(SWEEP_FUNCTION), 'Arn'] }]);
    expect(JSON.parse(create.parameters.Payload as string)).toEqual({ markFresh: true });
  });

  it('sends the payload of events/timeout-mark-fresh.json, the event the timeout handler tests use', () => {
    const event = JSON.parse(readFileSync(join(__dirname, '..', '..', 'events', 'timeout-mark-fresh.json'), 'utf8'));
    expect(JSON.parse(MARK_FRESH_PAYLOAD)).toEqual(event);
  });

  it('may invoke the sweep function and nothing else', () => {
    const invokes = ofType('AWS::IAM::Policy').flatMap(([, policy]) =>
      (policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>).filter((statement) =>
        json(statement.Action).includes('lambda:'),
      ),
    );
    expect(invokes).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId(SWEEP_FUNCTION), 'Arn'] } },
    ]);
  });

  it('runs once the cache and the security group rule that lets the functions reach it exist', () => {
    const [, resource] = customResource();
    const cacheId = ofType('AWS::ElastiCache::ReplicationGroup')[0]?.[0] as string;
    const redisIngress = ofType('AWS::EC2::SecurityGroupIngress')
      .filter(([, rule]) => rule.Properties.FromPort === 6380)
      .map(([id]) => id);
    expect(redisIngress).toHaveLength(1);
    expect(resource.DependsOn).toEqual(expect.arrayContaining([cacheId, ...redisIngress]));
  });
});
