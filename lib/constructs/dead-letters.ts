// A dead-letter queue and the alarm on its first message: what the sweep schedule, the work queue and the webhook
// rule each keep their failures in.
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * An encrypted, TLS-only queue kept 14 days (`queueId`, in `scope`), acknowledged as a dead-letter queue itself
 * (`whose`: what it is the dead-letter queue of).
 */
export function deadLetterQueue(scope: Construct, queueId: string, whose: string): Queue {
  const queue = new Queue(scope, queueId, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${whose}.`,
  });
  return queue;
}

/** An alarm (`alarmId`, in `scope`) on the first message visible in `queue`. */
export function firstMessageAlarm(scope: Construct, alarmId: string, queue: Queue, description: string): Alarm {
  return new Alarm(scope, alarmId, {
    alarmDescription: description,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}
