// The operator's CloudWatch dashboard (users online, connections, deliveries, lags, rate-cap waits) and the alarms
// where an operator must act: delivery lag and sweep lag.
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  SingleValueWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS_SERVICE, type MetricName } from '../../src/layer/shared/metrics';
import { stackMetricNamespace } from './throttle-alarm';

/** Properties of {@link OperationsDashboard}. */
export interface OperationsDashboardProps {
  /** Every alarm of the stack, shown at the top. */
  readonly alarms: readonly Alarm[];
  /** Delivery lag (maximum over a minute) that alarms when it persists 3 minutes (default 60 s). */
  readonly deliveryLagThreshold?: Duration;
  /** Sweep lag (maximum over a minute) that alarms when it persists 3 minutes (default 15 s). */
  readonly sweepLagThreshold?: Duration;
}

/**
 * The functions write their metrics in embedded metric format under {@link stackMetricNamespace} with the Powertools
 * `service` dimension; this reads the same names (src/layer/shared/metrics.ts documents them).
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;
  readonly deliveryLagAlarm: Alarm;
  readonly sweepLagAlarm: Alarm;
  readonly alarms: readonly Alarm[];
  /** The namespace the functions must write to (POWERTOOLS_METRICS_NAMESPACE). */
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    this.namespace = stackMetricNamespace(this);
    const metric = (name: MetricName, statistic: string, label?: string) =>
      new Metric({
        namespace: this.namespace,
        metricName: name,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic,
        period: Duration.minutes(1),
        ...(label ? { label } : {}),
      });
    const deliveryLag = props.deliveryLagThreshold ?? Duration.seconds(60);
    const sweepLag = props.sweepLagThreshold ?? Duration.seconds(15);
    this.deliveryLagAlarm = new Alarm(this, 'DeliveryLagAlarm', {
      alarmDescription: `Presence changes reached friends more than ${deliveryLag.toSeconds()} s late in 3 consecutive minutes: @connections failing or throttled, the rate cap saturated, or the sweep/workers behind`,
      metric: metric('DeliveryLag', 'Maximum'),
      threshold: deliveryLag.toMilliseconds(),
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.sweepLagAlarm = new Alarm(this, 'SweepLagAlarm', {
      alarmDescription: `Sweep passes finished more than ${sweepLag.toSeconds()} s after they were due in 3 consecutive minutes: users who left are reported offline late (raise SWEEP_BATCH_SIZE, add workers, or check Redis)`,
      metric: metric('SweepLag', 'Maximum'),
      threshold: sweepLag.toMilliseconds(),
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [this.deliveryLagAlarm, this.sweepLagAlarm];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms, ...this.alarms], width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Now',
        metrics: [metric('UsersOnline', 'Maximum', 'users online'), metric('ConnectionsOpen', 'Maximum', 'connections')],
        width: 6,
        height: 6,
      }),
      new GraphWidget({
        title: 'Users online and connections open',
        left: [metric('UsersOnline', 'Maximum', 'users online'), metric('ConnectionsOpen', 'Maximum', 'connections')],
        width: 18,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Deliveries (@connections POSTs per minute)',
        left: [metric('DeliveriesSent', 'Sum', 'sent'), metric('DeliveriesFailed', 'Sum', 'failed (retried)')],
        right: [metric('RateCapWaits', 'Sum', 'waited for the rate cap')],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Delivery lag (ms)',
        left: [metric('DeliveryLag', 'p99', 'p99'), metric('DeliveryLag', 'Maximum', 'max')],
        leftAnnotations: [{ value: deliveryLag.toMilliseconds(), label: 'alarm' }],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Sweep lag (ms)',
        left: [metric('SweepLag', 'Maximum', 'max')],
        leftAnnotations: [{ value: sweepLag.toMilliseconds(), label: 'alarm' }],
        width: 8,
        height: 6,
      }),
    );
  }
}
