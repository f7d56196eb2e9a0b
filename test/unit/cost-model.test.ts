// The standard activity profile of the cost model: the floor, and what interest saves, by arithmetic on the profile.
import { STANDARD_PROFILE, shippedClientHeartbeats, standardProfileCost } from '../../bench/cost';

const handler = (name: string, p50: number, friends: number | null = null) => ({
  handler: name,
  label: name,
  friends,
  latency: { n: 1, p50, p90: p50, p99: p50, max: p50, mean: p50 },
  redisRoundTrips: 1,
  postgresQueries: 0,
  posts: 0,
  cpuUs: 100,
  redisUs: 10,
});
const figures = [
  handler('heartbeat', 0.1),
  handler('update-presence', 20, 50),
  handler('authorizer', 0.1),
  handler('connect', 6),
  handler('close', 6),
];

it('prices the floor as connection minutes plus heartbeats in, for two connections all month', () => {
  // Act
  const model = standardProfileCost(figures, 60);
  // Assert: 2 x 730 h x 60 min at $0.25/M, plus 2 x 730 h x 60 beats at $1/M
  expect(model.floorUsd).toBeCloseTo(2 * 730 * 60 * 0.25e-6 + 2 * 730 * 60 * 1e-6, 6);
});

it('sends page switches only to the friends whose popup is open once they subscribe to status detail', () => {
  // Act
  const [today, interest, batches] = standardProfileCost(figures, 20).behaviours;
  // Assert: 30 switches an hour x 730 h to 20 friends x 2 connections today; with interest, to one connection of a
  // friend while that friend's popup is open (5% of their time), i.e. 30 x 730 x 20 x 0.05
  const switches = 30 * 730;
  const full = switches * STANDARD_PROFILE.onlineFriends * STANDARD_PROFILE.connectionsPerUser;
  const withInterest = switches * STANDARD_PROFILE.onlineFriends * STANDARD_PROFILE.popupOpenShare;
  expect((today?.messagesOut ?? 0) - (interest?.messagesOut ?? 0)).toBeCloseTo(full - withInterest, 3);
  expect(today?.floorMultiple).toBeGreaterThan(interest?.floorMultiple ?? Infinity);
  expect(batches?.messagesOut).toBe(interest?.messagesOut);
});

it('lets each update replace a little under half a heartbeat on average when the client beats after an interval of silence', () => {
  // Act
  const model = standardProfileCost(figures, 20);
  const batches = model.behaviours[2];
  const shipped = model.behaviours[3];
  // Assert: an update lands uniformly within an interval, so it saves half an interval's heartbeat on average; less,
  // as two updates within one interval save only once and a heartbeat is due two intervals after the previous one
  const updates = 30 * 730 + (6 / 8) * 730;
  expect(batches?.heartbeatsReplaced).toBe(0);
  expect(shipped?.heartbeatsReplaced).toBeGreaterThan(updates * 0.4);
  expect(shipped?.heartbeatsReplaced).toBeLessThan(updates * 0.5);
  expect(shipped?.messagesOut).toBe(batches?.messagesOut);
  expect(shipped?.usd).toBeLessThan(batches?.usd ?? 0);
});

it('simulates the client rule: one heartbeat per interval without updates, one per two intervals under constant updates', () => {
  // Act
  const idle = shippedClientHeartbeats(1e-9, 20, 3600);
  const busy = shippedClientHeartbeats(10, 20, 3600);
  // Assert
  expect(idle).toBe(180);
  expect(busy).toBe(90);
});

it("prices the contract's minimum: heartbeat requests, updates in, status changes and announcements out", () => {
  // Act
  const model = standardProfileCost(figures, 20);
  const shipped = model.behaviours[3];
  // Assert: one Lambda request ($0.20/M) per heartbeat sent; status changes (6 a day over 8 h online) and the two
  // announcements of each 8 h session, to 20 friends x 2 connections, at $1/M
  const beats = 2 * 730 * 180 - (shipped?.heartbeatsReplaced ?? 0);
  expect(model.contractMinimum.heartbeatRequests * model.floorUsd).toBeCloseTo(beats * 0.2e-6, 6);
  const statusOut = ((6 / 8) * 730 + (730 / 8) * 2) * 40;
  expect(model.contractMinimum.statusOut * model.floorUsd).toBeCloseTo(statusOut * 1e-6, 6);
  expect(model.contractMinimum.multiple).toBeLessThan(shipped?.floorMultiple ?? 0);
  expect(model.contractMinimum.multiple).toBeGreaterThan(1.2);
});
