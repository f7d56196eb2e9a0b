// Where the stack's alarms notify: an existing SNS topic, or one the stack creates, optionally subscribed by email.
import { Validations } from 'aws-cdk-lib';
import type { AlarmBase } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of {@link AlarmNotifications}. */
export interface AlarmNotificationsProps {
  /** ALARM_TOPIC_ARN: an existing topic (for example the team's on-call topic); without it the stack creates one. */
  readonly topicArn: string | undefined;
  /** ALARM_EMAIL: subscribed to the topic (AWS sends a confirmation mail first). */
  readonly email: string | undefined;
}

/**
 * One SNS topic for every alarm of the stack (sweep, cache memory, API throttling). {@link watch} sends both the
 * ALARM and the OK transition there, so a notification also says when the condition cleared.
 */
export class AlarmNotifications extends Construct {
  readonly topic: ITopic;
  /** Whether the topic was created by this stack (its ARN is then an output). */
  readonly created: boolean;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps) {
    super(scope, id);
    if (props.topicArn) {
      this.topic = Topic.fromTopicArn(this, 'Topic', props.topicArn);
      this.created = false;
    } else {
      const topic = new Topic(this, 'Topic', { displayName: 'Presence API alarms', enforceSSL: true });
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'The topic carries only CloudWatch alarm state changes (alarm name, metric, threshold), no user data; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key would add a key policy and a monthly key charge for no protected content.',
      });
      this.topic = topic;
      this.created = true;
    }
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /** Notifies the topic when any of `alarms` goes into ALARM and when it returns to OK. */
  watch(...alarms: AlarmBase[]): void {
    for (const alarm of alarms) {
      alarm.addAlarmAction(this.action);
      alarm.addOkAction(this.action);
    }
  }
}
