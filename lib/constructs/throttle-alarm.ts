// Counts an API stage's throttled requests (429 in its access log) as a metric, and alarms when they persist.
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Properties of {@link throttledRequestsAlarm}. */
export interface ThrottledRequestsAlarmProps {
  /** The stage's JSON access log (its `status` field is the status API Gateway answered). */
  readonly accessLogs: ILogGroup;
  /** Name of the metric, e.g. `WebSocketThrottledRequests`. */
  readonly metricName: string;
  readonly description: string;
}

/**
 * The CloudWatch namespace of the stack's own metrics. It contains the stack name: metric names are not scoped to a
 * stack, and a second stack in the account (staging) must not feed this stack's alarms.
 */
export function stackMetricNamespace(scope: Construct): string {
  return `PresenceApi/${Stack.of(scope).stackName}`;
}

/**
 * API Gateway publishes no metric of throttled requests alone (REST folds them into 4XXError, WebSocket into
 * ClientError, both with authorizer denials), but it writes every throttled request to the access log with status
 * 429. A metric filter counts those, and the alarm fires when requests were throttled in 2 of 3 minutes.
 */
export function throttledRequestsAlarm(scope: Construct, id: string, props: ThrottledRequestsAlarmProps): Alarm {
  const filter = new MetricFilter(scope, `${id}Filter`, {
    logGroup: props.accessLogs,
    filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
    metricNamespace: stackMetricNamespace(scope),
    metricName: props.metricName,
    metricValue: '1',
    defaultValue: 0,
  });
  return new Alarm(scope, id, {
    alarmDescription: props.description,
    metric: filter.metric({ statistic: 'Sum', period: Duration.minutes(1) }),
    threshold: 1,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}
