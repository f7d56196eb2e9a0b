// The sweep driver: a one-minute EventBridge rule invoking the sweep, failures to an SQS dead-letter queue with alarms.
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue, firstMessageAlarm } from './dead-letters';

/** Properties of {@link SweepSchedule}. */
export interface SweepScheduleProps {
  /** The sweep function; it keeps sweeping for SWEEP_WINDOW_SECONDS, in passes SWEEP_INTERVAL_SECONDS apart. */
  readonly sweep: IFunction;
}

/**
 * Drives the sweep. EventBridge rules fire at most once a minute, so each invocation runs several passes
 * (55 s window, 10 s apart) and a dead connection is noticed within timeout + ~10 s. Runs may overlap for a few
 * seconds; the sweep is idempotent (leases in Redis), so no reserved concurrency is needed. Nothing retries a
 * failed run: the next one starts within a minute. Failed deliveries (rule target) and failed runs (Lambda
 * asynchronous invocation) land in one dead-letter queue, and an alarm fires on the first message.
 */
export class SweepSchedule extends Construct {
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  readonly errorAlarm: Alarm;
  /** Every alarm of the sweep (the stack sends them to its alarm topic). */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: SweepScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', 'the sweep schedule and of the sweep function');

    props.sweep.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(2),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.rule = new Rule(this, 'Rule', {
      description: 'Runs the presence sweep every minute (several passes per run)',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(props.sweep, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });

    this.deadLetterAlarm = firstMessageAlarm(
      this,
      'DeadLetterAlarm',
      this.deadLetterQueue,
      'A presence sweep run failed or could not be delivered: dead connections may stay online',
    );
    this.errorAlarm = new Alarm(this, 'ErrorAlarm', {
      alarmDescription: 'The presence sweep failed in 3 consecutive minutes',
      metric: props.sweep.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [this.deadLetterAlarm, this.errorAlarm];
  }
}
