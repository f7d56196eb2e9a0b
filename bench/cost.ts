// Cost model: AWS cost per 1,000 concurrent users per month from measured durations, with heartbeat interval as a parameter.
import type { HandlerFigure } from './handlers';

/** Public on-demand prices used by the model (us-east-1, first pricing tier). */
export const PRICES = {
  /** API Gateway WebSocket: per million messages (32 KB units; first billion a month). */
  wsMessagesPerMillion: 1.0,
  /** API Gateway WebSocket: per million connection minutes. */
  connectionMinutesPerMillion: 0.25,
  /** Lambda arm64: per GB-second. */
  lambdaGbSecondArm: 0.0000133334,
  /** Lambda: per million requests. */
  lambdaRequestsPerMillion: 0.2,
} as const;

/** Assumptions of the model (every one is printed in the report). */
export interface CostAssumptions {
  readonly users: number;
  readonly heartbeatSeconds: number;
  /** Page switches / status changes per user per hour, while connected. */
  readonly pageSwitchesPerHour: number;
  /** Online friends' connections each change is delivered to. */
  readonly onlineFriends: number;
  /** New connections per user per day (each: authorizer + connect, later close). */
  readonly reconnectsPerDay: number;
  /** Memory of each function, from lib/constructs/presence-function.ts. */
  readonly memoryMb: Readonly<Record<string, number>>;
  /** The sweep function runs this long every minute whatever the user count (SWEEP_WINDOW_SECONDS). */
  readonly sweepSecondsPerMinute: number;
}

/** One line of the cost model. */
export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** The model for one heartbeat interval. */
export interface CostModel {
  readonly heartbeatSeconds: number;
  readonly lines: CostLine[];
  readonly totalUsd: number;
  /** Without the fixed sweep cost (which does not scale with users). */
  readonly perThousandUsersUsd: number;
}

const HOURS_PER_MONTH = 730;

/** Defaults: always-connected users (the worst case), the load test's activity. */
export function defaultAssumptions(heartbeatSeconds: number): CostAssumptions {
  return {
    users: 1000,
    heartbeatSeconds,
    pageSwitchesPerHour: 120,
    onlineFriends: 20,
    reconnectsPerDay: 24,
    memoryMb: { authorizer: 512, connect: 512, heartbeat: 256, 'update-presence': 512, close: 512, timeout: 1024 },
    sweepSecondsPerMinute: 55,
  };
}

/** Billed milliseconds of a measured handler (p50, rounded up to 1 ms as Lambda bills). */
function billedMs(figures: readonly HandlerFigure[], handler: string, friends?: number): number {
  const candidates = figures.filter((f) => f.handler === handler);
  const exact = candidates.find((f) => friends === undefined || f.friends === friends);
  const figure = exact ?? candidates[candidates.length - 1];
  return Math.max(1, Math.ceil(figure?.latency.p50 ?? 1));
}

/** Computes the monthly cost. Durations: the warm p50 measured here (see the report for why AWS is slower). */
export function costModel(figures: readonly HandlerFigure[], a: CostAssumptions): CostModel {
  const seconds = HOURS_PER_MONTH * 3600;
  const heartbeats = (a.users * seconds) / a.heartbeatSeconds;
  const switches = a.users * HOURS_PER_MONTH * a.pageSwitchesPerHour;
  const connects = a.users * (HOURS_PER_MONTH / 24) * a.reconnectsPerDay;
  const fanout = (switches + connects * 2) * a.onlineFriends;
  const connectionMinutes = a.users * HOURS_PER_MONTH * 60;
  const sweepInvocations = HOURS_PER_MONTH * 60;
  const gbs = (count: number, ms: number, fn: string) => count * (ms / 1000) * ((a.memoryMb[fn] ?? 512) / 1024);
  const invocations: [string, number, number][] = [
    ['heartbeat', heartbeats, billedMs(figures, 'heartbeat')],
    ['update-presence', switches, billedMs(figures, 'update-presence', a.onlineFriends <= 0 ? 0 : 50)],
    ['authorizer', connects, billedMs(figures, 'authorizer')],
    ['connect', connects, billedMs(figures, 'connect')],
    ['close', connects, billedMs(figures, 'close')],
  ];
  const priced = (item: string, quantity: number, unit: string, perMillion: number): CostLine => ({
    item,
    quantity,
    unit,
    usd: (quantity / 1e6) * perMillion,
  });
  const lines: CostLine[] = [
    priced('API Gateway connection minutes', connectionMinutes, 'min', PRICES.connectionMinutesPerMillion),
    priced('API Gateway messages: heartbeats in', heartbeats, 'msg', PRICES.wsMessagesPerMillion),
    priced('API Gateway messages: updates in', switches, 'msg', PRICES.wsMessagesPerMillion),
    priced('API Gateway messages: fan-out out (@connections)', fanout, 'msg', PRICES.wsMessagesPerMillion),
  ];
  let requests = 0;
  for (const [fn, count, ms] of invocations) {
    requests += count;
    const g = gbs(count, ms, fn);
    lines.push({
      item: `Lambda ${fn} (${ms} ms billed, ${a.memoryMb[fn] ?? 512} MB)`,
      quantity: g,
      unit: 'GB-s',
      usd: g * PRICES.lambdaGbSecondArm,
    });
  }
  lines.push({
    item: 'Lambda requests',
    quantity: requests,
    unit: 'req',
    usd: (requests / 1e6) * PRICES.lambdaRequestsPerMillion,
  });
  const perThousand = lines.reduce((sum, l) => sum + l.usd, 0);
  const sweepGbs = sweepInvocations * a.sweepSecondsPerMinute * ((a.memoryMb.timeout ?? 1024) / 1024);
  const sweepUsd = sweepGbs * PRICES.lambdaGbSecondArm + (sweepInvocations / 1e6) * PRICES.lambdaRequestsPerMillion;
  lines.push({
    item: `Lambda timeout (sweep, fixed: ${a.sweepSecondsPerMinute} s every minute)`,
    quantity: sweepGbs,
    unit: 'GB-s',
    usd: sweepUsd,
  });
  return {
    heartbeatSeconds: a.heartbeatSeconds,
    lines,
    totalUsd: perThousand + sweepUsd,
    perThousandUsersUsd: perThousand,
  };
}

/** The standard activity profile, per user (every figure printed in the report). */
export interface StandardProfile {
  readonly hoursOnlinePerDay: number;
  readonly connectionsPerUser: number;
  /** Tab switches per hour while online (one every 2 minutes). */
  readonly tabSwitchesPerHour: number;
  readonly onlineFriends: number;
  readonly statusChangesPerDay: number;
  /** Share of the time the popup (a `full` subscription) is open. */
  readonly popupOpenShare: number;
}

export const STANDARD_PROFILE: StandardProfile = {
  hoursOnlinePerDay: 8,
  connectionsPerUser: 2,
  tabSwitchesPerHour: 30,
  onlineFriends: 20,
  statusChangesPerDay: 6,
  popupOpenShare: 0.05,
};

/** One behaviour priced under the standard profile, per concurrent user per month. */
export interface ProfileCost {
  readonly behaviour: string;
  readonly usd: number;
  /** `usd` as a multiple of the API Gateway floor (connection minutes plus heartbeats in). */
  readonly floorMultiple: number;
  /** Heartbeats a month the client did not send because an update had just kept the connection alive. */
  readonly heartbeatsReplaced: number;
  /** The USD of each part (Lambda in all, and the heartbeats' share of it). */
  readonly parts: {
    readonly connectionMinutes: number;
    readonly heartbeatsIn: number;
    readonly updatesIn: number;
    readonly messagesOut: number;
    readonly lambda: number;
    readonly heartbeatLambda: number;
  };
  readonly messagesOut: number;
}

/** The standard profile at one heartbeat interval: the floor and three behaviours. */
export interface ProfileModel {
  readonly heartbeatSeconds: number;
  readonly floorUsd: number;
  readonly behaviours: ProfileCost[];
  /**
   * What any implementation of the contract pays at least, as a multiple of the floor, with the shipped client's
   * heartbeats: connection minutes and heartbeats in, one Lambda request per heartbeat (the contract's `heartbeat`
   * handler; requests only, no duration), the updates in, and every status change and online/offline announcement out
   * to every friend connection (status detail receives them). Page switches out and all other Lambda cost excluded.
   */
  readonly contractMinimum: {
    readonly multiple: number;
    readonly heartbeatRequests: number;
    readonly updatesIn: number;
    readonly statusOut: number;
  };
}

/**
 * Heartbeats the shipped client sends in `seconds` with updates arriving as a Poisson process of `rate` per second: a
 * heartbeat after `interval` s without a message, and never later than two intervals after the previous heartbeat
 * (src/client/presence-client.ts). Simulated with a fixed seed, so the model is the same on every run.
 */
export function shippedClientHeartbeats(rate: number, interval: number, seconds: number): number {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed + 0.5) / 2147483648;
  };
  let beats = 0;
  let lastMessage = 0;
  let lastBeat = 0;
  let nextUpdate = -Math.log(random()) / rate;
  for (;;) {
    const beatAt = Math.min(lastMessage + interval, lastBeat + 2 * interval);
    if (Math.min(beatAt, nextUpdate) > seconds) return beats;
    if (beatAt <= nextUpdate) {
      beats += 1;
      lastMessage = beatAt;
      lastBeat = beatAt;
    } else {
      lastMessage = nextUpdate;
      nextUpdate += -Math.log(random()) / rate;
    }
  }
}

/**
 * Cost per concurrent user per month (a user slot online 730 h a month, e.g. three users online 8 h a day each)
 * under the standard profile. Floor: API Gateway connection minutes plus the heartbeats in. On top: tab switches in,
 * the messages out to friends' connections, and Lambda (requests and billed GB-s at the warm p50 measured above).
 * Behaviours: today's (`full` everywhere, one message per change), `status` detail while the popup is closed (page
 * switches reach a friend's connection only while its popup is open), and with batches as well (only changes that
 * are ready at once share a message, as after a sweep pass; the profile's changes are single and spread over time, so
 * no saving is modelled).
 */
export function standardProfileCost(
  figures: readonly HandlerFigure[],
  heartbeatSeconds: number,
  p: StandardProfile = STANDARD_PROFILE,
  memoryMb: Readonly<Record<string, number>> = defaultAssumptions(heartbeatSeconds).memoryMb,
): ProfileModel {
  const hours = HOURS_PER_MONTH;
  const perMillion = (n: number, price: number) => (n / 1e6) * price;
  const connectionMinutes = p.connectionsPerUser * hours * 60;
  const heartbeats = (p.connectionsPerUser * hours * 3600) / heartbeatSeconds;
  const floorUsd =
    perMillion(connectionMinutes, PRICES.connectionMinutesPerMillion) +
    perMillion(heartbeats, PRICES.wsMessagesPerMillion);
  const switches = p.tabSwitchesPerHour * hours;
  const statusChanges = (p.statusChangesPerDay / p.hoursOnlinePerDay) * hours;
  const sessions = hours / p.hoursOnlinePerDay;
  const targets = p.onlineFriends * p.connectionsPerUser;
  const lambda = (fn: string, count: number, friends?: number) =>
    perMillion(count, PRICES.lambdaRequestsPerMillion) +
    count * (billedMs(figures, fn, friends) / 1000) * ((memoryMb[fn] ?? 512) / 1024) * PRICES.lambdaGbSecondArm;
  const lambdaUsd = (beats: number) =>
    lambda('heartbeat', beats) +
    lambda('update-presence', switches + statusChanges, 50) +
    lambda('authorizer', sessions * p.connectionsPerUser) +
    lambda('connect', sessions * p.connectionsPerUser) +
    lambda('close', sessions * p.connectionsPerUser);
  // The client's heartbeat rule on the connection the user is active in (the other one beats every interval).
  const seconds = hours * 3600;
  const replacedBeats =
    heartbeats / p.connectionsPerUser -
    shippedClientHeartbeats((switches + statusChanges) / seconds, heartbeatSeconds, seconds);
  const price = (behaviour: string, messagesOut: number, beatsReplaced = 0): ProfileCost => {
    const beats = heartbeats - beatsReplaced;
    const parts = {
      connectionMinutes: perMillion(connectionMinutes, PRICES.connectionMinutesPerMillion),
      heartbeatsIn: perMillion(beats, PRICES.wsMessagesPerMillion),
      updatesIn: perMillion(switches + statusChanges, PRICES.wsMessagesPerMillion),
      messagesOut: perMillion(messagesOut, PRICES.wsMessagesPerMillion),
      lambda: lambdaUsd(beats),
      heartbeatLambda: lambda('heartbeat', beats),
    };
    const usd = parts.connectionMinutes + parts.heartbeatsIn + parts.updatesIn + parts.messagesOut + parts.lambda;
    return { behaviour, usd, floorMultiple: usd / floorUsd, messagesOut, heartbeatsReplaced: beatsReplaced, parts };
  };
  // Announcements: online when the first connection opens, offline when the last one closes or is reaped.
  const announcements = sessions * 2 * targets;
  const full = (switches + statusChanges) * targets + announcements;
  // A page switch reaches a friend's connection only while that friend's popup is open, and a person has one popup
  // open at a time: 5% of a friend's time means one of their connections at `full` 5% of the time, not each of them.
  const statusOut = statusChanges * targets + announcements;
  const interest = switches * p.onlineFriends * p.popupOpenShare + statusOut;
  // Batches merge only changes ready for a connection at once (a sweep pass, a burst). In this profile every change
  // is a single user's, spread over time, so batching saves no message: modelled as none rather than guessed.
  const batched = interest;
  const shipped = price(
    '... and a page switch replaces the next heartbeat (the client as shipped)',
    batched,
    replacedBeats,
  );
  const minimum = {
    heartbeatRequests: perMillion(heartbeats - replacedBeats, PRICES.lambdaRequestsPerMillion),
    updatesIn: shipped.parts.updatesIn,
    statusOut: perMillion(statusOut, PRICES.wsMessagesPerMillion),
  };
  return {
    heartbeatSeconds,
    floorUsd,
    contractMinimum: {
      multiple:
        (shipped.parts.connectionMinutes +
          shipped.parts.heartbeatsIn +
          minimum.heartbeatRequests +
          minimum.updatesIn +
          minimum.statusOut) /
        floorUsd,
      heartbeatRequests: minimum.heartbeatRequests / floorUsd,
      updatesIn: minimum.updatesIn / floorUsd,
      statusOut: minimum.statusOut / floorUsd,
    },
    behaviours: [
      price("today's behaviour (full detail everywhere)", full),
      price('status detail while the popup is closed', interest),
      price('status detail and batches', batched),
      shipped,
    ],
  };
}
