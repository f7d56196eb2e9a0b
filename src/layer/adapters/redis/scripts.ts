// Lua scripts of the presence store. Each touches the keys of one shard only (one hash slot), so each is atomic
// and runs unchanged on Redis Cluster, ElastiCache cluster mode and ElastiCache Serverless.

/**
 * Shared functions. Connection record (JSON): s status, u/t/d shared page (empty when not shared), ts time of the
 * last page update, a last activity, e expiry, c connected at, tk/tr rate-limit tokens and refill time, rn time of the
 * last rate-limit notice. Views are JSON arrays [status, url, title, domain, message].
 */
const PRELUDE = `
local RANK = {invisible = 4, busy = 3, online = 2, away = 1}
local OFFLINE = '["offline","","","",""]'

local function view_json(status, u, t, d, m)
  return cjson.encode({status, u, t, d, m})
end

local function new_record(now, expiry, status, burst)
  return {s = status, u = '', t = '', d = '', ts = 0, a = now, e = expiry, c = now, tk = burst, tr = now, rn = 0}
end

local function take_token(r, now, rate, burst)
  local tk = math.min(burst, (r.tk or burst) + math.max(0, now - (r.tr or now)) * rate / 1000)
  r.tr = now
  if tk < 1 then
    r.tk = tk
    local notify = 0
    if now - (r.rn or 0) >= 1000 then r.rn = now; notify = 1 end
    return false, notify
  end
  r.tk = tk - 1
  return true, 0
end

local function rollup(conns)
  local all = redis.call('HGETALL', conns)
  local n, best, rank, page, pts, ids = 0, 'offline', 0, nil, -1, {}
  for i = 1, #all, 2 do
    local r = cjson.decode(all[i + 1])
    n = n + 1
    ids[#ids + 1] = all[i]
    local k = RANK[r.s] or 2
    if k > rank then rank = k; best = r.s end
    local ts = tonumber(r.ts) or 0
    if ts > pts then pts = ts; page = r end
  end
  return n, best, page, ids
end

-- The friends' read model: one string per user, [friend view, public last seen, latest url, title, domain], so a
-- friend list is read with one MGET instead of one HMGET per friend.
local function write_view(st, vk, retention)
  local v = redis.call('HMGET', st, 'fv', 'lsp', 'lu', 'lt', 'ld')
  redis.call('SET', vk, cjson.encode({v[1] or OFFLINE, v[2] or '', v[3] or '', v[4] or '', v[5] or ''}), 'EX', retention)
end

-- mode: 'active' (activity now), 'passive' (no activity), 'pending' (no connection, grace running), 'final' (offline)
local function settle(st, vk, n, status, page, now, mode, retention)
  local cur = redis.call('HMGET', st, 'fv', 'ov', 'm')
  local oldfv, oldov, m = cur[1] or OFFLINE, cur[2] or OFFLINE, cur[3] or ''
  local fv, ov
  if n > 0 then
    local u, t, d = '', '', ''
    if page then u = page.u or ''; t = page.t or ''; d = page.d or '' end
    redis.call('HSET', st, 's', status, 'rs', status, 'pu', u, 'pt', t, 'pd', d)
    if mode == 'active' then
      if status == 'invisible' then redis.call('HSET', st, 'ls', now)
      else redis.call('HSET', st, 'ls', now, 'lsp', now) end
    end
    if status ~= 'invisible' and u ~= '' then redis.call('HSET', st, 'lu', u, 'lt', t, 'ld', d) end
    ov = view_json(status, u, t, d, m)
    if status == 'invisible' then fv = OFFLINE else fv = ov end
  elseif mode == 'pending' then
    redis.call('HSET', st, 's', 'offline')
    fv = oldfv; ov = OFFLINE
  else
    redis.call('HSET', st, 's', 'offline', 'pu', '', 'pt', '', 'pd', '')
    fv = OFFLINE; ov = OFFLINE
  end
  local fch, och = fv ~= oldfv, ov ~= oldov
  if fch then redis.call('HSET', st, 'fv', fv) end
  if och then redis.call('HSET', st, 'ov', ov) end
  redis.call('EXPIRE', st, retention)
  write_view(st, vk, retention)
  return fch, och, fv, ov
end

-- {fch, och, fv, ov, ls, lsp, lu, lt, ld, friendIdsJson, hasContext, otherConnectionIds}
local function change(st, ctx, fch, och, fv, ov, ids, self_conn)
  local s = redis.call('HMGET', st, 'ls', 'lsp', 'lu', 'lt', 'ld')
  local friends, has = '', redis.call('EXISTS', ctx)
  if fch and has == 1 then friends = redis.call('HGET', ctx, 'ids') or '' end
  local others = {}
  if och then
    for _, id in ipairs(ids) do if id ~= self_conn then others[#others + 1] = id end end
  end
  return {fch and 1 or 0, och and 1 or 0, fv, ov, s[1] or '', s[2] or '', s[3] or '', s[4] or '', s[5] or '',
    friends, has, others}
end

local function write_context(key, argv, i)
  local ttl, nd = tonumber(argv[i]), tonumber(argv[i + 4])
  redis.call('DEL', key)
  local fields = {'mode', argv[i + 1], 'ids', argv[i + 2], 'info', argv[i + 3]}
  for j = 1, nd do
    fields[#fields + 1] = 'd:' .. argv[i + 4 + j]
    fields[#fields + 1] = '1'
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIRE', key, ttl)
end
`;

/** KEYS conns, state, expiry, context, view. ARGV user, conn, now, expiry, status ('' = default), burst, retention. */
export const CONNECT = `${PRELUDE}
local user, conn, now, expiry = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local gm = 'g:' .. user
local in_grace = redis.call('ZSCORE', KEYS[3], gm)
local r = new_record(now, expiry, 'online', tonumber(ARGV[6]))
if in_grace and redis.call('HLEN', KEYS[1]) == 0 then
  -- reconnecting within grace: continue where the last connection left off, so nobody sees a flap
  local prev = redis.call('HMGET', KEYS[2], 'rs', 'pu', 'pt', 'pd')
  if prev[1] and prev[1] ~= 'offline' then r.s = prev[1] end
  r.u = prev[2] or ''; r.t = prev[3] or ''; r.d = prev[4] or ''; r.ts = now
end
if ARGV[5] ~= '' then r.s = ARGV[5] end
redis.call('HSET', KEYS[1], conn, cjson.encode(r))
redis.call('ZADD', KEYS[3], expiry, 'c:' .. conn .. ':' .. user)
if in_grace then redis.call('ZREM', KEYS[3], gm) end
local n, best, page, ids = rollup(KEYS[1])
local fch, och, fv, ov = settle(KEYS[2], KEYS[5], n, best, page, now, 'active', tonumber(ARGV[7]))
return change(KEYS[2], KEYS[4], fch, och, fv, ov, ids, conn)
`;

/**
 * KEYS conns, state, expiry, context, view. ARGV user, conn, now, expiry, rate, burst, retention, countOnly ('1': only
 * charge the rate limit, for messages that are rejected and must change nothing else).
 */
export const TOUCH = `${PRELUDE}
local user, conn, now, expiry = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local rate, burst, retention, count_only = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local raw = redis.call('HGET', KEYS[1], conn)
if not raw and count_only then return {'ok'} end
if not raw then
  -- a live socket Redis does not know (reaped in a race, or data lost): bring it back
  local r = new_record(now, expiry, 'online', burst)
  r.tk = burst - 1
  redis.call('HSET', KEYS[1], conn, cjson.encode(r))
  redis.call('ZADD', KEYS[3], expiry, 'c:' .. conn .. ':' .. user)
  redis.call('ZREM', KEYS[3], 'g:' .. user)
  local n, best, page, ids = rollup(KEYS[1])
  local fch, och, fv, ov = settle(KEYS[2], KEYS[5], n, best, page, now, 'active', retention)
  local c = change(KEYS[2], KEYS[4], fch, och, fv, ov, ids, conn)
  table.insert(c, 1, 'revived')
  return c
end
local r = cjson.decode(raw)
local ok, notify = take_token(r, now, rate, burst)
if not ok then
  redis.call('HSET', KEYS[1], conn, cjson.encode(r))
  return {'limited', notify}
end
if count_only then
  redis.call('HSET', KEYS[1], conn, cjson.encode(r))
  return {'ok'}
end
r.a = now; r.e = expiry
redis.call('HSET', KEYS[1], conn, cjson.encode(r))
redis.call('ZADD', KEYS[3], expiry, 'c:' .. conn .. ':' .. user)
if redis.call('HGET', KEYS[2], 's') == 'invisible' then redis.call('HSET', KEYS[2], 'ls', now)
else
  redis.call('HSET', KEYS[2], 'ls', now, 'lsp', now)
  write_view(KEYS[2], KEYS[5], retention)
end
redis.call('EXPIRE', KEYS[2], retention)
return {'ok'}
`;

/**
 * KEYS conns, state, expiry, context, view. ARGV 1 user, 2 conn, 3 now, 4 expiry, 5 rate, 6 burst, 7 retention,
 * 8 hasStatus, 9 status, 10 hasMessage, 11 message, 12 hasPage, 13 url, 14 title, 15 domain, 16 hasContext,
 * 17.. context (ttl, mode, ids, info, n, domains...).
 */
export const UPDATE = `${PRELUDE}
local user, conn, now, expiry = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local rate, burst, retention = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if ARGV[16] == '1' then write_context(KEYS[4], ARGV, 17) end
local shared = false
if ARGV[12] == '1' and ARGV[15] ~= '' then
  local mode = redis.call('HGET', KEYS[4], 'mode')
  if not mode then return {'need-context'} end
  local listed = redis.call('HEXISTS', KEYS[4], 'd:' .. ARGV[15]) == 1
  if mode == 'default_all' then shared = not listed else shared = listed end
end
local raw = redis.call('HGET', KEYS[1], conn)
local r
if raw then r = cjson.decode(raw) else r = new_record(now, expiry, 'online', burst) end
local ok, notify = take_token(r, now, rate, burst)
if not ok then
  if raw then redis.call('HSET', KEYS[1], conn, cjson.encode(r)) end
  return {'limited', notify}
end
if ARGV[8] == '1' then r.s = ARGV[9] end
if ARGV[12] == '1' then
  if shared then r.u = ARGV[13]; r.t = ARGV[14]; r.d = ARGV[15] else r.u = ''; r.t = ''; r.d = '' end
  r.ts = now
end
r.a = now; r.e = expiry
redis.call('HSET', KEYS[1], conn, cjson.encode(r))
redis.call('ZADD', KEYS[3], expiry, 'c:' .. conn .. ':' .. user)
redis.call('ZREM', KEYS[3], 'g:' .. user)
if ARGV[10] == '1' then
  if ARGV[11] == '' then redis.call('HDEL', KEYS[2], 'm') else redis.call('HSET', KEYS[2], 'm', ARGV[11]) end
end
local n, best, page, ids = rollup(KEYS[1])
local fch, och, fv, ov = settle(KEYS[2], KEYS[5], n, best, page, now, 'active', retention)
local c = change(KEYS[2], KEYS[4], fch, och, fv, ov, ids, conn)
table.insert(c, 1, 'changed')
return c
`;

/** KEYS conns, state, expiry, context, view. ARGV user, conn, now, grace, retention, defer ('1' leaves the announcement to the sweep). */
export const REMOVE = `${PRELUDE}
local user, conn, now, grace = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local retention, defer = tonumber(ARGV[5]), ARGV[6] == '1'
if redis.call('HDEL', KEYS[1], conn) == 0 then return {'absent'} end
redis.call('ZREM', KEYS[3], 'c:' .. conn .. ':' .. user)
local n, best, page, ids = rollup(KEYS[1])
local gm = 'g:' .. user
local mode = 'passive'
if n == 0 then
  if grace > 0 or defer then
    redis.call('ZADD', KEYS[3], now + grace, gm)
    mode = 'pending'
  else
    redis.call('ZREM', KEYS[3], gm)
    mode = 'final'
  end
elseif defer then
  redis.call('ZADD', KEYS[3], now, gm)
  return {'deferred'}
end
local fch, och, fv, ov = settle(KEYS[2], KEYS[5], n, best, page, now, mode, retention)
if defer then return {'deferred'} end
local c = change(KEYS[2], KEYS[4], fch, och, fv, ov, ids, conn)
table.insert(c, 1, 'removed')
return c
`;

/** KEYS expiry. ARGV now, lease score, limit. Moves up to `limit` due entries to the lease score and returns them. */
export const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return due
`;

/**
 * KEYS 1 expiry, then per user (conns, state, context, view). ARGV 1 now, 2 lease, 3 grace, 4 retention, 5 n users,
 * 6..5+n user ids, then the claimed members. Acts only on members still under this lease.
 * Returns {reaped (user, conn, user, conn...), changes ({user, ...change}...)}.
 */
export const COMMIT = `${PRELUDE}
local now, lease, grace, retention = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local nu = tonumber(ARGV[5])
local idx = {}
for i = 1, nu do idx[ARGV[5 + i]] = i end
local touched, order, ended, reaped = {}, {}, {}, {}
for j = 6 + nu, #ARGV do
  local m = ARGV[j]
  local sc = redis.call('ZSCORE', KEYS[1], m)
  if sc and tonumber(sc) == lease then
    local user
    if string.sub(m, 1, 2) == 'c:' then
      local rest = string.sub(m, 3)
      local p = string.find(rest, ':', 1, true)
      local conn = string.sub(rest, 1, p - 1)
      user = string.sub(rest, p + 1)
      local conns = KEYS[2 + 4 * (idx[user] - 1)]
      local raw = redis.call('HGET', conns, conn)
      local rec = raw and cjson.decode(raw)
      if rec and (tonumber(rec.e) or 0) > now then
        redis.call('ZADD', KEYS[1], rec.e, m)
        user = nil
      else
        redis.call('ZREM', KEYS[1], m)
        if rec then
          redis.call('HDEL', conns, conn)
          reaped[#reaped + 1] = user
          reaped[#reaped + 1] = conn
        end
      end
    else
      user = string.sub(m, 3)
      redis.call('ZREM', KEYS[1], m)
      ended[user] = true
    end
    if user and not touched[user] then touched[user] = true; order[#order + 1] = user end
  end
end
local changes = {}
for _, user in ipairs(order) do
  local base = 2 + 4 * (idx[user] - 1)
  local conns, st, ctx, vk = KEYS[base], KEYS[base + 1], KEYS[base + 2], KEYS[base + 3]
  local n, best, page, ids = rollup(conns)
  local mode = 'passive'
  if n == 0 then
    if ended[user] or grace == 0 then
      mode = 'final'
    else
      redis.call('ZADD', KEYS[1], now + grace, 'g:' .. user)
      mode = 'pending'
    end
  end
  local fch, och, fv, ov = settle(st, vk, n, best, page, now, mode, retention)
  if fch or och then
    local c = change(st, ctx, fch, och, fv, ov, ids, nil)
    table.insert(c, 1, user)
    changes[#changes + 1] = c
  end
end
return {reaped, changes}
`;

/** KEYS context. ARGV ttl, mode, ids, info, n, domains... Replaces a cached context. */
export const SAVE_CONTEXT = `${PRELUDE}
write_context(KEYS[1], ARGV, 1)
return 1
`;

/** KEYS connection hashes. One JSON text with, per key, its connection ids. */
export const CONNECTIONS_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  local ids = redis.call('HKEYS', key)
  if #ids == 0 then out[i] = false else out[i] = ids end
end
return cjson.encode(out)
`;

/** Script names (ioredis custom commands) and their sources. */
export const SCRIPTS = {
  presenceConnect: CONNECT,
  presenceTouch: TOUCH,
  presenceUpdate: UPDATE,
  presenceRemove: REMOVE,
  presenceClaim: CLAIM,
  presenceCommit: COMMIT,
  presenceSaveContext: SAVE_CONTEXT,
  presenceConnectionsMany: CONNECTIONS_MANY,
} as const;

/** A script's command name. */
export type ScriptName = keyof typeof SCRIPTS;
