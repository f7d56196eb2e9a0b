// The workers' queue: an SQS queue driving the `worker` function (sweep passes and deliveries), with a dead-letter queue
// and alarms; functions that hand work to the workers are bound to it (WORK_QUEUE_URL + sqs:SendMessage).
import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue, firstMessageAlarm } from './dead-letters';

/**
 * AWS asks for a visibility timeout of at least six times the function timeout on a Lambda event source (the poller
 * may retry a throttled invocation of a batch several times before the message would otherwise reappear).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Receives of one message before it moves to the dead-letter queue (AWS suggests at least 5 for Lambda sources). */
export const MAX_RECEIVE_COUNT = 5;

/** The oldest-message alarm fires when a message waits this long, 3 minutes running (workers too few or failing). */
export const OLDEST_MESSAGE_ALARM_SECONDS = 300;

/** Properties of {@link WorkQueue}. */
export interface WorkQueueProps {
  /** The queue-driven worker; its timeout sizes the visibility timeout. */
  readonly worker: LambdaFunction;
  /** WORKER_MAX_CONCURRENCY: at most this many worker invocations at once (2-1000). */
  readonly maxConcurrency: number;
}

/**
 * The workers' queue. Messages name shards with work due (`{"shards":[...],"sweep":bool}`): hints, not the work
 * itself, which stays in Redis (the outbox, the expiry index), so a lost, duplicated or dead-lettered message loses
 * nothing; the scheduled sweep finds everything due on its own.
 *
 * One message per invocation (batch size 1, no batching window): the worker processes a batch's messages one after
 * the other against one deadline, so larger batches would put sweep passes that should run side by side into one
 * invocation. A message that fails is reported back (ReportBatchItemFailures), reappears after the visibility
 * timeout, and after {@link MAX_RECEIVE_COUNT} receives moves to the dead-letter queue.
 */
export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly eventSource: SqsEventSource;
  readonly deadLetterAlarm: Alarm;
  readonly oldestMessageAlarm: Alarm;
  /** Every alarm of the queue (the stack sends them to its alarm topic). */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const workerTimeout = props.worker.timeout ?? Duration.seconds(3);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', 'the work queue (work messages received 5 times)');
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      // Work messages are hints that the sweep re-derives every pass: a day-old one is of no use.
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.eventSource = new SqsEventSource(this.queue, {
      batchSize: 1,
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency,
    });
    props.worker.addEventSource(this.eventSource);

    this.deadLetterAlarm = firstMessageAlarm(
      this,
      'DeadLetterAlarm',
      this.deadLetterQueue,
      'A work message failed 5 times and was dead-lettered: the workers keep failing (see the worker logs); the sweep still covers the work',
    );
    this.oldestMessageAlarm = new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `Work messages wait over ${OLDEST_MESSAGE_ALARM_SECONDS} s: sweeps and deliveries lag (raise WORKER_MAX_CONCURRENCY, or look at the worker's errors and throttles)`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: OLDEST_MESSAGE_ALARM_SECONDS,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [this.deadLetterAlarm, this.oldestMessageAlarm];
  }

  /** Lets `fn` hand work to the workers: WORK_QUEUE_URL, and sqs:SendMessage on this queue only. */
  bindProducer(fn: LambdaFunction): void {
    fn.addEnvironment('WORK_QUEUE_URL', this.queue.queueUrl);
    // SendMessage alone: the adapter sends to the URL it is given (no GetQueueUrl / GetQueueAttributes).
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
  }
}
