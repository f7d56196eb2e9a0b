// Where the token of a request is read: WebSocket $connect (query, subprotocol, header) and REST (header only).
import { extractToken } from '../../src/layer/shared/auth';

const connect = { eventType: 'CONNECT' };

describe('extractToken', () => {
  it('WebSocket $connect: the Authorization or token query parameter, then the subprotocol, then the header', () => {
    expect(extractToken({ requestContext: connect, queryStringParameters: { Authorization: ' q1 ' } })).toBe('q1');
    expect(extractToken({ requestContext: connect, queryStringParameters: { token: 'q2' } })).toBe('q2');
    expect(extractToken({ requestContext: connect, headers: { 'sec-websocket-protocol': 'presence.v1, sp' } })).toBe(
      'sp',
    );
    expect(extractToken({ requestContext: connect, headers: { Authorization: 'Bearer h' } })).toBe('h');
  });

  it('REST: the Authorization header only; a token in the query string is ignored', () => {
    const rest = {
      requestContext: { eventType: undefined },
      queryStringParameters: { Authorization: 'q', token: 'q' },
    };
    expect(extractToken(rest)).toBeUndefined();
    expect(extractToken({ ...rest, headers: { Authorization: 'Bearer h' } })).toBe('h');
    expect(extractToken({ queryStringParameters: { Authorization: 'q' } })).toBeUndefined();
  });

  it('REST: a subprotocol header carries no token', () => {
    expect(extractToken({ headers: { 'Sec-WebSocket-Protocol': 'presence.v1, sp' } })).toBeUndefined();
  });
});
