// Networking: the VPC (new, or an existing one named by ids) and the security group of the in-VPC functions.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { NetworkConfig } from '../deploy-config';
import type { FunctionPlacement } from './presence-function';

/** Properties of {@link PresenceNetwork}. */
export interface PresenceNetworkProps {
  readonly config: NetworkConfig;
  readonly logRetention: RetentionDays;
}

/**
 * The VPC the data-path functions, the cache and RDS Proxy live in.
 *
 * A new VPC has public subnets (NAT gateways only), private subnets with egress for the functions, and isolated
 * subnets for the cache and the proxy. The functions reach the `@connections` management API and Secrets Manager
 * through NAT: an `execute-api` interface endpoint only serves *private* REST APIs, and with private DNS on it
 * would capture every `*.execute-api` name in the VPC and break calls to this public WebSocket API.
 *
 * An existing VPC is imported from explicit ids (no lookup, so `cdk synth` needs no credentials); its private
 * subnets must already route to a NAT gateway.
 */
export class PresenceNetwork extends Construct {
  readonly vpc: IVpc;
  /** Subnets for the functions (need egress). */
  readonly functionSubnets: SubnetSelection;
  /** Subnets for the cache and RDS Proxy (no egress needed). */
  readonly dataSubnets: SubnetSelection;
  /** The security group of every in-VPC function: HTTPS out, plus the ports the bind helpers open. */
  readonly functionSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: PresenceNetworkProps) {
    super(scope, id);
    const { config } = props;
    if (config.kind === 'new') {
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: config.maxAzs,
        natGateways: config.natGateways,
        restrictDefaultSecurityGroup: false,
        subnetConfiguration: [
          { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'functions', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
          { name: 'data', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ],
      });
      vpc.addFlowLog('FlowLog', {
        trafficType: FlowLogTrafficType.REJECT,
        destination: FlowLogDestination.toCloudWatchLogs(
          new LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
        ),
      });
      this.vpc = vpc;
      this.functionSubnets = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
      this.dataSubnets = { subnetType: SubnetType.PRIVATE_ISOLATED };
    } else {
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: config.vpcId,
        availabilityZones: [...config.availabilityZones],
        privateSubnetIds: [...config.privateSubnetIds],
        isolatedSubnetIds: [...config.dataSubnetIds],
      });
      this.functionSubnets = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
      this.dataSubnets = { subnetType: SubnetType.PRIVATE_ISOLATED };
      Validations.of(this.vpc).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason:
          'The stack only places resources in the imported subnets; it never reads or changes their route tables.',
      });
    }
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Presence API functions: HTTPS to AWS APIs via NAT, Redis and RDS Proxy ports to their groups',
      allowAllOutbound: false,
    });
    this.functionSecurityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      'AWS APIs (@connections, Secrets Manager) via NAT',
    );
  }

  /** Placement of an in-VPC function. */
  get functionPlacement(): FunctionPlacement {
    return { vpc: this.vpc, subnets: this.functionSubnets, securityGroup: this.functionSecurityGroup };
  }
}
