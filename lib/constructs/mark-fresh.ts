// The one-time "mark fresh" of a new deployment: when the stack is created (never on an update), invokes the sweep
// function with {"markFresh":true}, so the brand-new store does not put its first users through a data-loss resync.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';

/** The payload the sweep function answers with markFreshIfNew (events/timeout-mark-fresh.json). */
export const MARK_FRESH_PAYLOAD = JSON.stringify({ markFresh: true });

/** Properties of {@link MarkFresh}. */
export interface MarkFreshProps {
  /** The sweep function (`timeout`), which handles {"markFresh":true}. */
  readonly sweep: IFunction;
  /** What must exist before the invocation can reach the store (the cache and its security group rules). */
  readonly after: readonly IDependable[];
  readonly logRetention: RetentionDays;
}

/**
 * Invokes the sweep function once, synchronously, with {"markFresh":true}, on stack creation only (`onCreate`, no
 * `onUpdate`/`onDelete`): an update must never mark a store that holds data. The function itself refuses a store that
 * holds data or has noticed a loss (markFreshIfNew), so even this one call cannot hide a loss. Its outcome is in the
 * sweep function's log ("mark fresh: marked" / "mark fresh refused"); a failed call leaves the store unmarked, which
 * fails closed (users are asked to resync once). docs/deployment.md says how to run it by hand.
 */
export class MarkFresh extends Construct {
  readonly resource: AwsCustomResource;

  constructor(scope: Construct, id: string, props: MarkFreshProps) {
    super(scope, id);
    const invoke: AwsSdkCall = {
      service: 'Lambda',
      action: 'Invoke',
      parameters: {
        FunctionName: props.sweep.functionArn,
        InvocationType: 'RequestResponse',
        Payload: MARK_FRESH_PAYLOAD,
      },
      physicalResourceId: PhysicalResourceId.of('presence-mark-fresh'),
      // Only the status code: the response data of a custom resource is limited to 4 KB.
      outputPaths: ['StatusCode'],
    };
    this.resource = new AwsCustomResource(this, 'Invoke', {
      onCreate: invoke,
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.sweep.functionArn] }),
      ]),
      installLatestAwsSdk: false,
      logGroup: new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
    });
    this.resource.node.addDependency(...props.after);
    acknowledgeProviderFindings(this);
  }
}

/** cdk-nag findings of the AwsCustomResource provider (one singleton function per stack), each with its reason. */
function acknowledgeProviderFindings(scope: Construct): void {
  const stack = Stack.of(scope);
  const provider = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
  if (!provider) throw new Error('the AwsCustomResource provider function was not found in the stack');
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The CDK AwsCustomResource provider logs through the AWS-maintained policy granting only CreateLogGroup/CreateLogStream/PutLogEvents, the minimum for Lambda logging; its only other grant is lambda:InvokeFunction on the sweep function.',
  });
}

/** Construct id of the provider function AwsCustomResource creates once per stack (aws-cdk-lib's fixed UUID). */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';
