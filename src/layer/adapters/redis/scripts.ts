// Lua scripts of the presence store. Each touches the keys of one shard only (one hash slot), so each is atomic and
// runs unchanged on Redis Cluster, ElastiCache cluster mode and ElastiCache Serverless. Every state change that
// someone must be told about is written to the shard's outbox in the same script that makes it.
import { RATE_CAP_SCRIPT } from './rate-cap';

/**
 * Every per-user and per-shard script but the heartbeat (TOUCH, the hot path, has its own short list) takes the same
 * ten settings first (ARGV 1..10), so the store builds them once: now, timeout, grace, retention (s), rate, burst,
 * idle (0 = off), auth grace, lease deadline, context ttl (s).
 *
 * Connection record (one field of the user's connection hash): `a,hb,hi,tk,tr,rn,x,iu,id,ix,rs|{json}`. In front, as
 * plain numbers, what a heartbeat reads or writes: a last activity, hb last heartbeat, hi heartbeat interval, tk/tr/rn
 * rate limit (tokens, at time, last limited notice), x authorized until (0 none), iu last update-presence, id idle
 * (0|1), ix the deadline last written to the expiry index (0 unknown; the index may be behind it, never ahead), rs 1
 * when the user's standing choice may be unknown (state `ch` '?'), so the connection's heartbeats must look at the
 * state and answer resync, 0 when it is known. Every record of a user whose `ch` is '?' has rs 1 (each script that
 * finds the choice unknown flags all of the user's records, see flag_resync); a heartbeat that finds `ch` known again
 * clears its own rs, so the state is read only on the beats that may answer resync. After the `|`, a JSON object
 * with the rest: s connection status (online|away), u/t/d/h shared page (empty when not shared; h is the ASCII host),
 * act activity JSON ('' none), ts time of the last page/activity update, c connected at, q last seq, dt detail (f|s),
 * bt batch opt-in, gr subscribed groups. The liveness expiry e is not stored: it is always
 * `a + max(timeout, 2.5 hi)` (see setAliveUntil). So a heartbeat never decodes or encodes JSON: it rewrites the numbers in
 * front and keeps the rest as it is. Records written before this layout are read as they are and converted by their
 * next write: one JSON object with every field (e included, starting with `{`), or the numbers in front without rs
 * (read as rs 1).
 *
 * State hash: ch standing choice ('' none, busy, invisible, ? unknown), m message, v version, fv/ov views
 * [status, url, title, domain, message, activity], ls/lsp last seen (own/public), lu/lt/ld/lh latest shared page,
 * pu/pt/pd/ph/pa current page and activity (seeds a reconnect within grace).
 */
/** Lua: replaces a cached context from ARGV starting at `i` (ttl, mode, ids, info, n, domains..., groups). */
const WRITE_CONTEXT = `
local function write_context(key, argv, i)
  local nd = tonumber(argv[i + 4])
  redis.call('DEL', key)
  local fields = {'mode', argv[i + 1], 'ids', argv[i + 2], 'info', argv[i + 3], 'grp', argv[i + 5 + nd]}
  for j = 1, nd do
    fields[#fields + 1] = 'd:' .. argv[i + 4 + j]
    fields[#fields + 1] = '1'
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIRE', key, tonumber(argv[i]))
end
`;

/** A connection lives at most this long after its last activity, whatever its heartbeat interval (ms). */
const MAX_TIMEOUT_MS = 900_000;

// Lua shared by the heartbeat (which reads its own, shorter ARGV) and the other per-user scripts, so both apply one
// rule. They use the settings by name: NOW, TIMEOUT, RATE, BURST, IDLE, AUTH_GRACE, MAX_TIMEOUT. They compare instead
// of calling math.min / math.max: a call costs more than the comparison, on every heartbeat.

/** Lua statement: sets `d` to until when a connection is alive after activity at `a`: the timeout after it, and never
 * less than 2.5 of its heartbeat intervals `hi` (up to MAX_TIMEOUT). */
const setAliveUntil = (d: string, a: string, hi: string): string =>
  `${d} = ${hi} * 2.5
  if ${d} <= TIMEOUT then ${d} = TIMEOUT elseif ${d} > MAX_TIMEOUT then ${d} = MAX_TIMEOUT end
  ${d} = ${a} + ${d}`;

/** Lua statement: lowers the expiry `d` to the end of the authorization `x` (plus grace) and to the auto-away time
 * (idle flag `id`, last update-presence `iu`): the next time the sweep must look at the connection. */
const capDeadline = (d: string, x: string, id: string, iu: string): string =>
  `if ${x} > 0 and ${x} + AUTH_GRACE < ${d} then ${d} = ${x} + AUTH_GRACE end
  if IDLE > 0 and ${id} == 0 and ${iu} + IDLE < ${d} then ${d} = ${iu} + IDLE end`;

/** Lua statement: sets `left` to the rate-limit bucket's tokens now, from `tk` tokens left at time `tr`. */
const setTokensNow = (left: string, tk: string, tr: string): string =>
  `${left} = NOW - ${tr}
  if ${left} < 0 then ${left} = 0 end
  ${left} = ${tk} + ${left} * RATE / 1000
  if ${left} > BURST then ${left} = BURST end`;

/** Lua expression: whether the expiry index entry (at `ix`) is rewritten for the new deadline `d` (see TOUCH). */
const indexIsBehind = (ix: string, d: string): string => `${ix} > ${d} or (${ix} - NOW) * 2 < ${d} - NOW`;

/** Lua: the record layout (see the top of this file): `HOT_AT` reads the numbers in front, `hot_line` writes them. */
const RECORD_LINE = `
-- (rs is '' in a record written without it)
local HOT_AT = '^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,|]*),?([^|]*)()|'

local function hot_line(a, hb, hi, tk, tr, rn, x, iu, id, ix, rs)
  return a .. ',' .. hb .. ',' .. hi .. ',' .. tk .. ',' .. tr .. ',' .. rn .. ',' .. x .. ',' .. iu .. ',' .. id .. ','
    .. ix .. ',' .. rs
end
`;

/** Lua: `encode_record` writes a whole record (a table) in the current layout. */
const ENCODE_RECORD = `
local function encode_record(r)
  local line = hot_line(tonumber(r.a) or NOW, tonumber(r.hb) or 0, tonumber(r.hi) or 0, tonumber(r.tk) or BURST,
    tonumber(r.tr) or NOW, tonumber(r.rn) or 0, tonumber(r.x) or 0, tonumber(r.iu) or tonumber(r.c) or NOW,
    tonumber(r.id) or 0, tonumber(r.ix) or 0, tonumber(r.rs) or 1)
  local kept = {}
  for _, f in ipairs({'a', 'e', 'hb', 'hi', 'tk', 'tr', 'rn', 'x', 'iu', 'id', 'ix', 'rs'}) do
    kept[f] = r[f]; r[f] = nil
  end
  local json = cjson.encode(r)
  for f, v in pairs(kept) do r[f] = v end
  return line .. '|' .. json
end
`;

const PRELUDE = `#!lua
local NOW, TIMEOUT, GRACE, RETENTION = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local RATE, BURST, IDLE, AUTH_GRACE = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local LEASE, CTX_TTL = tonumber(ARGV[9]), tonumber(ARGV[10])
local MAX_TIMEOUT = ${MAX_TIMEOUT_MS}
local OUTBOX_AT = LEASE
local RANK = {busy = 3, online = 2, away = 1}
local OFFLINE = '["offline","","","","",""]'
local RECOVERY = RETENTION * 1000

local function liveness(r)
  local a, hi, d = tonumber(r.a) or NOW, tonumber(r.hi) or 0, 0
  ${setAliveUntil('d', 'a', 'hi')}
  return d
end

local function deadline(r)
  local d, x, id, iu = tonumber(r.e), tonumber(r.x) or 0, tonumber(r.id) or 0, tonumber(r.iu) or tonumber(r.c) or NOW
  ${capDeadline('d', 'x', 'id', 'iu')}
  return d
end

local function take_token(r)
  local tk = 0
  ${setTokensNow('tk', '(tonumber(r.tk) or BURST)', '(tonumber(r.tr) or NOW)')}
  r.tr = NOW
  if tk < 1 then
    r.tk = tk
    local notify = 0
    if NOW - (tonumber(r.rn) or 0) >= 1000 then r.rn = NOW; notify = 1 end
    return false, notify
  end
  r.tk = tk - 1
  return true, 0
end

-- Writes the connection's deadline to the expiry index and remembers it in the record (write the record after this).
local function index_connection(K, user, conn, r)
  r.ix = deadline(r)
  redis.call('ZADD', K[3], r.ix, 'c:' .. conn .. ':' .. user)
end
${RECORD_LINE}
${ENCODE_RECORD}
-- A whole connection record, in either layout (a record written before the numbers moved in front is JSON only).
-- Its expiry e is not stored: it is always the liveness of its last activity and heartbeat interval.
local function load_record(raw)
  if string.byte(raw, 1) == 123 then return cjson.decode(raw) end
  local a, hb, hi, tk, tr, rn, x, iu, id, ix, rs, bar = string.match(raw, HOT_AT)
  local r = cjson.decode(string.sub(raw, bar + 1))
  r.a = tonumber(a); r.hb = tonumber(hb); r.hi = tonumber(hi); r.tk = tonumber(tk); r.tr = tonumber(tr)
  r.rn = tonumber(rn); r.x = tonumber(x); r.iu = tonumber(iu); r.id = tonumber(id); r.ix = tonumber(ix)
  r.rs = rs == '0' and 0 or 1
  r.e = liveness(r)
  return r
end

local function clock_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function view_json(status, u, t, d, m, act)
  return cjson.encode({status, u, t, d, m, act})
end

local function new_record(status)
  return {s = status, u = '', t = '', d = '', h = '', act = '', ts = 0, a = NOW, hb = NOW, hi = 0, e = NOW + TIMEOUT,
    c = NOW, tk = BURST, tr = NOW, rn = 0, q = -1, dt = 'f', bt = 0, x = 0, iu = NOW, id = 0, rs = 1}
end

-- The user's standing choice is unknown ('?'): flags every record of theirs, so each connection's next heartbeat
-- looks at the state and answers resync (see rs at the top). Runs only while the choice is unknown (after a loss).
local function flag_resync(K)
  local all = redis.call('HGETALL', K[1])
  for i = 1, #all, 2 do
    local r = load_record(all[i + 1])
    -- (a record written without rs is read as flagged)
    if r.rs == 0 then
      r.rs = 1
      redis.call('HSET', K[1], all[i], encode_record(r))
    end
  end
end

-- Usage counters of the shard (users with a connection, open connections), exact because every change is atomic.
local function count(K, users, conns)
  if users ~= 0 then redis.call('HINCRBY', K[8], 'u', users) end
  if conns ~= 0 then redis.call('HINCRBY', K[8], 'n', conns) end
end

-- Whether the user's standing choice is known for a user without state: after a loss of this shard's data it is not.
local function choice_for_new_user(K)
  local mark = redis.call('HGET', K[8], 'f')
  if not mark then
    redis.call('HSET', K[8], 'f', NOW + RECOVERY)
    return '?'
  end
  if mark ~= 'fresh' and tonumber(mark) > NOW then return '?' end
  return ''
end

local function rollup(conns)
  local all = redis.call('HGETALL', conns)
  local n, rank, best, page, pts = 0, 0, 'offline', nil, -1
  for i = 1, #all, 2 do
    local r = load_record(all[i + 1])
    n = n + 1
    local st = r.s
    if (tonumber(r.id) or 0) == 1 then st = 'away' end
    local k = RANK[st] or 2
    if k > rank then rank = k; best = st end
    local ts = tonumber(r.ts) or 0
    if ts > pts then pts = ts; page = r end
  end
  return n, best, page
end

-- Is a page on host h shared under the cached settings? An entry matches the host or any parent at a label boundary.
local function shared_host(ctx, mode, h)
  if h == nil or h == '' then return false end
  local listed = false
  local cand = h
  local ip = string.match(h, '^[%d%.]+$') ~= nil or string.sub(h, 1, 1) == '['
  while cand and cand ~= '' do
    if redis.call('HEXISTS', ctx, 'd:' .. cand) == 1 then listed = true; break end
    if ip then break end
    local dot = string.find(cand, '.', 1, true)
    if not dot then break end
    cand = string.sub(cand, dot + 1)
  end
  if mode == 'default_all' then return not listed end
  return listed
end

${WRITE_CONTEXT}

-- Records (or coalesces into) the user's pending delivery: only the latest views are ever delivered, flags and
-- events accumulate until a deliverer acknowledges this version. snap: {ls, lsp, lu, lt, ld} as just written.
local function outbox_put(K, user, v, fv, ov, fch, och, sl, actor, ev, snap)
  local key = 'u:' .. user
  local old = redis.call('HGET', K[7], key)
  local b
  if old then b = cjson.decode(old) else b = {f = 0, o = 0, s = 0, e = {}} end
  b.ver = v; b.fv = fv; b.ov = ov
  b.ls = snap.ls; b.lsp = snap.lsp; b.lu = snap.lu; b.lt = snap.lt; b.ld = snap.ld
  if fch then b.f = 1 end
  if och then b.o = 1; b.x = actor or '' end
  if sl then b.s = 1 end
  if type(b.e) ~= 'table' then b.e = {} end
  if ev then b.e[#b.e + 1] = ev end
  redis.call('HSET', K[7], key, cjson.encode(b))
  redis.call('ZADD', K[6], OUTBOX_AT, key)
end

-- Rolls the user's connections up into the views friends and the user's own connections see; on a change, bumps the
-- version (Redis clock, never backwards), rewrites the friends' read model and records the delivery.
-- mode: 'active' (activity now), 'passive', 'pending' (no connection, grace running), 'final' (offline).
-- lastact: a last-activity time to fold into lastSeen (the connect/update time, or a removed connection's).
-- force: what friends see changed although the view did not (the latest page was withdrawn).
local function settle(K, user, n, best, page, mode, actor, lastact, force)
  local st, vk = K[2], K[5]
  local cur = redis.call('HMGET', st, 'fv', 'ov', 'm', 'ch', 'ls', 'lsp', 'lu', 'lt', 'ld', 'v')
  local oldfv, oldov, m, ch = cur[1] or OFFLINE, cur[2] or OFFLINE, cur[3] or '', cur[4] or ''
  local hidden = ch == 'invisible' or ch == '?'
  local snap = {ls = tonumber(cur[5]) or 0, lsp = tonumber(cur[6]) or 0, lu = cur[7] or '', lt = cur[8] or '',
    ld = cur[9] or ''}
  local v = tonumber(cur[10]) or 0
  if lastact and lastact > snap.ls then snap.ls = lastact; redis.call('HSET', st, 'ls', lastact) end
  local fv, ov
  if n > 0 then
    local status = best
    if ch == 'busy' then status = 'busy' end
    local u, t, d, h, act = '', '', '', '', ''
    if page then u = page.u or ''; t = page.t or ''; d = page.d or ''; h = page.h or ''; act = page.act or '' end
    redis.call('HSET', st, 'pu', u, 'pt', t, 'pd', d, 'ph', h, 'pa', act)
    if hidden then
      ov = view_json('invisible', u, t, d, m, act); fv = OFFLINE
    else
      ov = view_json(status, u, t, d, m, act); fv = ov
      if u ~= '' and u ~= snap.lu then
        snap.lu = u; snap.lt = t; snap.ld = d
        redis.call('HSET', st, 'lu', u, 'lt', t, 'ld', d, 'lh', h)
      end
    end
  elseif mode == 'pending' then
    -- friends keep the last view during grace, with the page as (re)checked against the settings
    if oldfv == OFFLINE then fv = OFFLINE else
      local a = cjson.decode(oldfv)
      local p = redis.call('HMGET', st, 'pu', 'pt', 'pd', 'pa')
      fv = view_json(a[1], p[1] or '', p[2] or '', p[3] or '', a[5] or '', p[4] or '')
    end
    ov = OFFLINE
  else
    redis.call('HSET', st, 'pu', '', 'pt', '', 'pd', '', 'ph', '', 'pa', '')
    fv = OFFLINE; ov = OFFLINE
  end
  local fch, och = fv ~= oldfv or force == true, ov ~= oldov
  -- what friends see of lastSeen moves with the versions (exact once offline)
  local lsp_moved = (fch or mode == 'final') and not hidden and snap.ls > snap.lsp
  if lsp_moved then snap.lsp = snap.ls; redis.call('HSET', st, 'lsp', snap.lsp) end
  local changed = nil
  if fch or och then
    redis.call('HDEL', st, 'un')
    changed = clock_ms()
    if changed <= v then changed = v + 1 end
    v = changed
    redis.call('HSET', st, 'v', v)
    if fch then redis.call('HSET', st, 'fv', fv) end
    if och then redis.call('HSET', st, 'ov', ov) end
    local sl, ev = false, nil
    if fch then
      local a, b = cjson.decode(oldfv), cjson.decode(fv)
      sl = a[1] ~= b[1] or a[5] ~= b[5]
      if a[1] ~= b[1] then ev = {s = b[1], p = a[1], v = v, at = NOW} end
    end
    outbox_put(K, user, v, fv, ov, fch, och, sl, actor, ev, snap)
  end
  redis.call('EXPIRE', st, RETENTION)
  if fch or lsp_moved then
    redis.call('SET', vk, cjson.encode({fv, snap.lsp, snap.lu, snap.lt, snap.ld, v}), 'EX', RETENTION)
  end
  return changed
end

-- The reply of a state change: {kind, v or '', friend ids JSON or '', has context, resync, change, group ids JSON}.
local function reply(K, kind, v, resync, user)
  local friends, groups, has = '', '', redis.call('EXISTS', K[4])
  if has == 1 then
    local c = redis.call('HMGET', K[4], 'ids', 'grp')
    friends = c[1] or ''; groups = c[2] or ''
  end
  local body = ''
  if v then body = redis.call('HGET', K[7], 'u:' .. user) or '' end
  return {kind, v and tostring(v) or '', friends, has, resync and 1 or 0, body, groups}
end

-- A standing choice from an explicit status: online clears it, busy/invisible set it; away only idles the connection.
local function apply_status(K, r, status)
  if status == 'online' then redis.call('HSET', K[2], 'ch', ''); r.s = 'online'
  elseif status == 'away' then
    r.s = 'away'
    if redis.call('HGET', K[2], 'ch') == '?' then redis.call('HSET', K[2], 'ch', '') end
  else redis.call('HSET', K[2], 'ch', status); r.s = 'online' end
end

-- Re-applies the (new) page settings to what is stored: a page they no longer share is cleared everywhere.
local function recheck_pages(K)
  local mode = redis.call('HGET', K[4], 'mode')
  if not mode then return false end
  local changed = false
  local all = redis.call('HGETALL', K[1])
  for i = 1, #all, 2 do
    local r = load_record(all[i + 1])
    if (r.u or '') ~= '' and not shared_host(K[4], mode, r.h) then
      r.u = ''; r.t = ''; r.d = ''; r.h = ''
      redis.call('HSET', K[1], all[i], encode_record(r))
      changed = true
    end
  end
  local ph = redis.call('HGET', K[2], 'ph')
  if (redis.call('HGET', K[2], 'pu') or '') ~= '' and not shared_host(K[4], mode, ph) then
    redis.call('HSET', K[2], 'pu', '', 'pt', '', 'pd', '', 'ph', '')
    changed = true
  end
  local lh = redis.call('HGET', K[2], 'lh')
  local lu = redis.call('HGET', K[2], 'lu')
  if lu and lu ~= '' and not shared_host(K[4], mode, lh) then
    redis.call('HSET', K[2], 'lu', '', 'lt', '', 'ld', '', 'lh', '')
    changed = true
  end
  return changed
end

local function has_shared_page(K)
  local lu = redis.call('HGET', K[2], 'lu')
  return lu ~= false and lu ~= nil and lu ~= ''
end
`;

/** KEYS of a per-user script: conns, state, expiry, context, view, outbox, outbox bodies, shard, recheck. */
export const USER_KEY_COUNT = 9;

/**
 * KEYS per user. ARGV 11 user, 12 conn, 13 status ('' none), 14 detail (f|s), 15 batch (0|1), 16 authorized until,
 * 17 has context, 18.. context. Answers need-context (changing nothing) when the friend list is not cached.
 */
export const CONNECT = `${PRELUDE}
local user, conn = ARGV[11], ARGV[12]
local K = KEYS
if ARGV[17] == '1' then write_context(K[4], ARGV, 18) end
if redis.call('EXISTS', K[4]) == 0 then return {'need-context'} end
local existed = redis.call('EXISTS', K[2]) == 1
local gm = 'g:' .. user
local in_grace = redis.call('ZSCORE', K[3], gm)
local before = redis.call('HLEN', K[1])
-- What a refused $connect must put back (UNCONNECT): taken for a first connection with nothing waiting for delivery.
local undo = nil
if before == 0 and redis.call('HEXISTS', K[7], 'u:' .. user) == 0 then
  local s = redis.call('HMGET', K[2], 'fv', 'ov', 'ls', 'lsp', 'ch')
  undo = {c = conn, ex = existed and 1 or 0, fv = s[1] or false, ov = s[2] or false, ls = s[3] or false,
    lsp = s[4] or false, ch = s[5] or false, vm = redis.call('GET', K[5]) or false, g = in_grace or false}
end
local r = new_record('online')
r.dt = ARGV[14]; r.bt = tonumber(ARGV[15]); r.x = tonumber(ARGV[16]) or 0
if in_grace and before == 0 then
  -- reconnecting within grace: continue where the last connection left off, so nobody sees a flap
  local prev = redis.call('HMGET', K[2], 'pu', 'pt', 'pd', 'ph', 'pa')
  r.u = prev[1] or ''; r.t = prev[2] or ''; r.d = prev[3] or ''; r.h = prev[4] or ''; r.act = prev[5] or ''; r.ts = NOW
end
local resync = false
if ARGV[13] ~= '' then apply_status(K, r, ARGV[13])
elseif not existed then
  local ch = choice_for_new_user(K)
  redis.call('HSET', K[2], 'ch', ch)
  resync = ch == '?'
elseif redis.call('HGET', K[2], 'ch') == '?' then resync = true end
if resync then flag_resync(K) end
r.rs = resync and 1 or 0
r.e = liveness(r)
index_connection(K, user, conn, r)
if redis.call('HSET', K[1], conn, encode_record(r)) == 1 then count(K, before == 0 and 1 or 0, 1) end
if in_grace then redis.call('ZREM', K[3], gm) end
local n, best, page = rollup(K[1])
local v = settle(K, user, n, best, page, 'active', conn, NOW)
if undo and v then
  undo.v = tostring(v); undo.at = tostring(OUTBOX_AT)
  redis.call('HSET', K[2], 'un', cjson.encode(undo))
end
return reply(K, 'changed', v, resync, user)
`;

/**
 * Undoes a `$connect` that was refused after its write went through (the reply was lost or came too late), so it
 * leaves no trace: no connection, no announcement, no event, no change of any view. Possible while the connection is
 * the user's only one, nothing changed since (same version) and no deliverer took the change (its outbox entry still
 * has the score the connect gave it); otherwise answers 'fallback' and the caller removes the connection normally
 * (friends may have been told; they are then told it is gone). KEYS per user. ARGV 11 user, 12 conn.
 */
export const UNCONNECT = `${PRELUDE}
local user, conn = ARGV[11], ARGV[12]
local K = KEYS
if redis.call('HEXISTS', K[1], conn) == 0 then return {'absent'} end
local raw = redis.call('HGET', K[2], 'un')
if not raw then return {'fallback'} end
local un = cjson.decode(raw)
local key = 'u:' .. user
local score = redis.call('ZSCORE', K[6], key)
if un.c ~= conn or redis.call('HLEN', K[1]) ~= 1 or redis.call('HGET', K[2], 'v') ~= un.v
  or not score or tonumber(score) ~= tonumber(un.at) then
  return {'fallback'}
end
redis.call('HDEL', K[7], key)
redis.call('ZREM', K[6], key)
redis.call('HDEL', K[1], conn)
redis.call('ZREM', K[3], 'c:' .. conn .. ':' .. user)
count(K, -1, -1)
if un.g then redis.call('ZADD', K[3], un.g, 'g:' .. user) end
if un.ex == 0 then
  redis.call('DEL', K[2])
else
  for _, f in ipairs({'fv', 'ov', 'ls', 'lsp', 'ch'}) do
    if un[f] then redis.call('HSET', K[2], f, un[f]) else redis.call('HDEL', K[2], f) end
  end
  redis.call('HDEL', K[2], 'un')
end
if un.vm then redis.call('SET', K[5], un.vm, 'EX', RETENTION) else redis.call('DEL', K[5]) end
return {'undone'}
`;

/**
 * The heartbeat: refreshes liveness and charges the rate limit, nothing else (no state, no read model). It reads and
 * writes only the numbers in front of the connection's record, as text, converting only those it needs; so it takes
 * its own short argument list, not the per-user one. It reads the state's `ch` only when the record's rs says the
 * user's choice may be unknown. KEYS 1 conns, 2 state, 3 expiry. ARGV 1 now, 2 timeout, 3 rate, 4 burst - 1 (what a
 * full bucket keeps after one message, as the record writes it), 5 idle (0 = off), 6 auth grace, 7 user, 8 conn,
 * 9 countOnly ('1': only charge the rate limit), 10 authorized until ('' unchanged). Answers one word (a string,
 * cheaper to reply than a table): `ok`, `resync`, `expired`, `limited` / `limited-notify` (rate limited; tell the
 * client), or `unknown` for a connection Redis does not know (the caller then runs {@link REVIVE}). A record in an
 * older layout is converted on the way.
 *
 * It runs on every heartbeat, so it avoids what costs most in Lua per call (measured: bench/counting-cost.ts):
 * another redis.call, a table as reply, tonumber (a string in arithmetic converts for less) and number to text (`..`
 * and tostring format a double; values that did not change are written back as the text they were read as, and an
 * integer goes through string.format('%d')).
 */
export const TOUCH = `#!lua
local NOW, TIMEOUT, RATE, FULL_LESS_ONE = ARGV[1] + 0, ARGV[2] + 0, ARGV[3] + 0, ARGV[4]
local BURST = FULL_LESS_ONE + 1
-- (numbers are converted only when needed: idle and the auth grace are usually off / not used)
local IDLE, AUTH_GRACE = 0, 0
if ARGV[5] ~= '0' then IDLE = ARGV[5] + 0 end
local MAX_TIMEOUT = ${MAX_TIMEOUT_MS}
local conn = ARGV[8]
${RECORD_LINE}
local raw = redis.call('HGET', KEYS[1], conn)
if not raw then
  if ARGV[9] == '1' then return 'ok' end
  return 'unknown'
end
if string.byte(raw, 1) == 123 then
  ${ENCODE_RECORD}
  raw = encode_record(cjson.decode(raw))
end
local a, hb, hi, tk, tr, rn, x, iu, id, ix, rs, bar = string.match(raw, HOT_AT)
if rs ~= '0' then rs = '1' end
local xn = 0
if x ~= '0' then xn = x + 0 end
if ARGV[10] ~= '' and ARGV[10] + 0 > xn then x = ARGV[10]; xn = x + 0 end
if xn > 0 then
  AUTH_GRACE = ARGV[6] + 0
  if NOW > xn + AUTH_GRACE then return 'expired' end
end
local tail = string.sub(raw, bar)
local left = 0
${setTokensNow('left', 'tk', 'tr')}
if left < 1 then
  local notify = 'limited'
  if NOW - rn >= 1000 then rn = ARGV[1]; notify = 'limited-notify' end
  redis.call('HSET', KEYS[1], conn, hot_line(a, hb, hi, left, ARGV[1], rn, x, iu, id, ix, rs) .. tail)
  return notify
end
-- a heartbeat usually finds its bucket full
local tk2 = FULL_LESS_ONE
if left < BURST then tk2 = left - 1 end
if ARGV[9] == '1' then
  redis.call('HSET', KEYS[1], conn, hot_line(a, hb, hi, tk2, ARGV[1], rn, x, iu, id, ix, rs) .. tail)
  return 'ok'
end
-- the interval: the time since the last heartbeat, or three quarters of the one before if that is more
local hbn, hin, d = hb + 0, hi + 0, 0
if hbn > 0 then
  local kept = hin * 0.75
  hin = NOW - hbn
  if kept - kept % 1 > hin then hin = kept - kept % 1 end
end
${setAliveUntil('d', 'NOW', 'hin')}
${capDeadline('d', 'xn', '(id + 0)', 'iu')}
-- The index may lag behind a deadline that only moved later: the sweep then finds the connection alive, indexes it
-- again and moves on. So it is rewritten only once half of the time to the new deadline is used up, which a connection
-- heartbeating within its timeout never lets the sweep see (its deadline is 2.5 intervals on or more).
local ixn = ix + 0
if ${indexIsBehind('ixn', 'd')} then
  -- in whole milliseconds (never after the deadline), as text once: the index and the record take the same digits
  ix = string.format('%d', d)
  redis.call('ZADD', KEYS[3], ix, 'c:' .. conn .. ':' .. ARGV[7])
end
local resync = false
if rs == '1' then
  resync = redis.call('HGET', KEYS[2], 'ch') == '?'
  if not resync then rs = '0' end
end
redis.call('HSET', KEYS[1], conn, ARGV[1] .. ',' .. ARGV[1] .. ',' .. string.format('%d', hin) .. ',' .. tk2 .. ',' ..
  ARGV[1] .. ',' .. rn .. ',' .. x .. ',' .. iu .. ',' .. id .. ',' .. ix .. ',' .. rs .. tail)
if resync then return 'resync' end
return 'ok'
`;

/**
 * A heartbeat from a live socket Redis does not know (reaped in a race, or data lost): brings the connection back.
 * With the user's state lost, their choice is unknown, so it comes back hidden and the client is asked to resend its
 * state. KEYS per user. ARGV 11 user, 12 conn, 13 authorized until ('' none). Answers `ok` when the connection is
 * known again by now (something else brought it back since the heartbeat looked).
 */
export const REVIVE = `${PRELUDE}
local user, conn = ARGV[11], ARGV[12]
local K = KEYS
if redis.call('HEXISTS', K[1], conn) == 1 then return {'ok'} end
local r = new_record('online')
r.c = 0
r.x = tonumber(ARGV[13]) or 0
local resync = false
if redis.call('EXISTS', K[2]) == 0 or redis.call('HGET', K[2], 'ch') == '?' then
  redis.call('HSET', K[2], 'ch', '?')
  resync = true
  flag_resync(K)
end
r.rs = resync and 1 or 0
r.e = liveness(r)
local before = redis.call('HLEN', K[1])
index_connection(K, user, conn, r)
redis.call('HSET', K[1], conn, encode_record(r))
count(K, before == 0 and 1 or 0, 1)
redis.call('ZREM', K[3], 'g:' .. user)
local n, best, page = rollup(K[1])
local v = settle(K, user, n, best, page, 'active', conn, NOW)
return reply(K, 'revived', v, resync, user)
`;

/**
 * KEYS per user. ARGV 11 user, 12 conn, 13 hasStatus, 14 status, 15 hasMessage, 16 message, 17 hasPage, 18 url,
 * 19 title, 20 domain, 21 host, 22 hasActivity, 23 activity JSON ('' clears), 24 seq ('' none), 25 authorized until
 * ('' unchanged), 26 hasContext, 27.. context.
 */
export const UPDATE = `${PRELUDE}
local user, conn = ARGV[11], ARGV[12]
local K = KEYS
if ARGV[26] == '1' then write_context(K[4], ARGV, 27) end
local raw = redis.call('HGET', K[1], conn)
local r
if raw then r = load_record(raw) end
local seq = tonumber(ARGV[24])
if r and seq and (tonumber(r.q) or -1) >= seq then return {'stale'} end
local mode = redis.call('HGET', K[4], 'mode')
if not mode then return {'need-context'} end
local known_state = redis.call('EXISTS', K[2]) == 1
local before = redis.call('HLEN', K[1])
if not r then r = new_record('online'); r.c = 0 end
local x = tonumber(r.x) or 0
if ARGV[25] ~= '' then x = math.max(x, tonumber(ARGV[25])); r.x = x end
if raw and x > 0 and NOW > x + AUTH_GRACE then return {'expired'} end
local ok, notify = take_token(r)
if not ok then
  if raw then redis.call('HSET', K[1], conn, encode_record(r)) end
  return {'limited', notify}
end
if seq then r.q = seq end
local resync = false
if ARGV[13] == '1' then apply_status(K, r, ARGV[14])
elseif not known_state or redis.call('HGET', K[2], 'ch') == '?' then
  redis.call('HSET', K[2], 'ch', '?')
  resync = true
  flag_resync(K)
end
-- the choice is known again after a status (apply_status), or still unknown
r.rs = resync and 1 or 0
if ARGV[15] == '1' then
  if ARGV[16] == '' then redis.call('HDEL', K[2], 'm') else redis.call('HSET', K[2], 'm', ARGV[16]) end
end
if ARGV[17] == '1' then
  if ARGV[18] ~= '' and shared_host(K[4], mode, ARGV[21]) then
    r.u = ARGV[18]; r.t = ARGV[19]; r.d = ARGV[20]; r.h = ARGV[21]
    redis.call('ZADD', K[9], 'NX', NOW + CTX_TTL * 1000, user)
  else
    r.u = ''; r.t = ''; r.d = ''; r.h = ''
  end
  r.ts = NOW
end
if ARGV[22] == '1' then r.act = ARGV[23]; r.ts = NOW end
r.a = NOW; r.iu = NOW; r.id = 0
r.e = liveness(r)
index_connection(K, user, conn, r)
redis.call('HSET', K[1], conn, encode_record(r))
if not raw then count(K, before == 0 and 1 or 0, 1) end
redis.call('ZREM', K[3], 'g:' .. user)
if ARGV[26] == '1' then recheck_pages(K) end
local n, best, page = rollup(K[1])
local v = settle(K, user, n, best, page, 'active', conn, NOW)
return reply(K, 'changed', v, resync, user)
`;

/**
 * KEYS per user. ARGV 11 user, 12 conn, 13 detail ('' unchanged), 14 groups JSON ('' unchanged), 15 authorized until
 * ('' unchanged). Sets what the connection receives; answers absent for a connection Redis does not know, else
 * {'ok', detail, previous groups JSON, batch, connected at} (what the group subscriber indexes need).
 */
export const SUBSCRIBE = `${PRELUDE}
local conn = ARGV[12]
local raw = redis.call('HGET', KEYS[1], conn)
if not raw then return {'absent'} end
local r = load_record(raw)
local previous = '[]'
if type(r.gr) == 'table' and #r.gr > 0 then previous = cjson.encode(r.gr) end
if ARGV[13] ~= '' then r.dt = ARGV[13] end
if ARGV[15] ~= '' then r.x = math.max(tonumber(r.x) or 0, tonumber(ARGV[15])) end
if ARGV[14] ~= '' then
  local g = cjson.decode(ARGV[14])
  if #g == 0 then r.gr = nil else r.gr = g end
end
-- a renewed token moves the connection's authorization deadline in the expiry index
if ARGV[15] ~= '' then index_connection(KEYS, ARGV[11], conn, r) end
redis.call('HSET', KEYS[1], conn, encode_record(r))
return {'ok', r.dt, previous, tonumber(r.bt) or 0, tonumber(r.c) or 0}
`;

/**
 * KEYS the group's cache hash. ARGV ttl, known (1|0), name, ids JSON, info JSON, then the member ids. Replaces the
 * cached group (or caches it as unknown), with one `m:{id}` field per member for membership checks.
 */
export const GROUP_SAVE = `
local key = KEYS[1]
redis.call('DEL', key)
if ARGV[2] == '0' then
  redis.call('HSET', key, 'unknown', '1')
else
  redis.call('HSET', key, 'name', ARGV[3], 'ids', ARGV[4], 'info', ARGV[5])
  local fields = {}
  for j = 6, #ARGV do
    fields[#fields + 1] = 'm:' .. ARGV[j]
    fields[#fields + 1] = '1'
    -- HSET in chunks: Lua's unpack has a stack limit
    if #fields >= 1000 then redis.call('HSET', key, unpack(fields)); fields = {} end
  end
  if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
end
redis.call('EXPIRE', key, tonumber(ARGV[1]))
return 1
`;

/**
 * KEYS 1 the group's cache hash, 2 its subscriber index. ARGV 1 the member who changed, 2 the index's TTL (s, renewed
 * while it is used). Answers {'none'} (no subscriber,
 * or the user is not a served member), {'need-group'} (subscribers, but the group is not cached), or {'ok', conn,
 * owner, batch, connectedAt, ...} for the subscribers whose owner is a member; the others are dropped from the index.
 */
export const GROUP_TARGETS = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {'none'} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'need-group'} end
if redis.call('HEXISTS', KEYS[1], 'm:' .. ARGV[1]) == 0 then return {'none'} end
local all = redis.call('HGETALL', KEYS[2])
local out = {'ok'}
for i = 1, #all, 2 do
  local e = cjson.decode(all[i + 1])
  if redis.call('HEXISTS', KEYS[1], 'm:' .. e[1]) == 1 then
    out[#out + 1] = all[i]; out[#out + 1] = e[1]; out[#out + 1] = e[2]; out[#out + 1] = e[3]
  else
    redis.call('HDEL', KEYS[2], all[i])
  end
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return out
`;

/**
 * KEYS per user. ARGV 11 user, 12 conn, 13 protect ('1': keep a connection whose $connect completed less than
 * 14 ms ago: API Gateway answers 410 until then). Removes exactly this connection of this user; the last one starts
 * the grace window (or ends the presence at once when GRACE is 0).
 */
export const REMOVE = `${PRELUDE}
local user, conn = ARGV[11], ARGV[12]
local K = KEYS
local raw = redis.call('HGET', K[1], conn)
if not raw then return {'absent'} end
local r = load_record(raw)
if ARGV[13] == '1' and NOW - (tonumber(r.c) or 0) < tonumber(ARGV[14]) then return {'protected'} end
redis.call('HDEL', K[1], conn)
redis.call('ZREM', K[3], 'c:' .. conn .. ':' .. user)
local n, best, page = rollup(K[1])
count(K, n == 0 and -1 or 0, -1)
local gm = 'g:' .. user
local mode = 'passive'
if n == 0 then
  if GRACE > 0 then
    redis.call('ZADD', K[3], NOW + GRACE, gm)
    mode = 'pending'
  else
    redis.call('ZREM', K[3], gm)
    mode = 'final'
  end
end
local v = settle(K, user, n, best, page, mode, nil, tonumber(r.a))
return reply(K, 'removed', v, false, user)
`;

/**
 * KEYS per user. ARGV 11 user, 12 has context, 13.. context. Caches the (fresh) settings and re-applies them to the
 * pages friends see; keeps the user on the recheck schedule while they have a shared page.
 */
export const RECHECK = `${PRELUDE}
local user = ARGV[11]
local K = KEYS
if ARGV[12] == '1' then write_context(K[4], ARGV, 13) end
local changed = recheck_pages(K)
local v = nil
if changed then
  local n, best, page = rollup(K[1])
  local mode = 'passive'
  if n == 0 then
    if redis.call('ZSCORE', K[3], 'g:' .. user) then mode = 'pending' else mode = 'final' end
  end
  v = settle(K, user, n, best, page, mode, nil, nil, true)
end
if has_shared_page(K) or redis.call('HLEN', K[1]) > 0 then
  redis.call('ZADD', K[9], NOW + CTX_TTL * 1000, user)
else
  redis.call('ZREM', K[9], user)
end
return {v and tostring(v) or ''}
`;

/** KEYS a sorted set. ARGV now, lease deadline, limit. Moves up to `limit` due members to the lease score and returns them. */
export const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return due
`;

/**
 * The sweep's step for claimed expiry entries. KEYS 1 expiry, 2 outbox, 3 outbox bodies, 4 shard, 5 recheck, then
 * per user (conns, state, context, view). ARGV 1..10 settings (ARGV 9: this pass's lease), 11 n users, 12..11+n user
 * ids, then the claimed members. Acts only on members still under this lease: reaps expired connections and those
 * whose authorization ended, ends grace windows, marks idle connections away.
 * Returns {reaped ({user, conn, reason}...), changed users, those of them without a cached context}.
 */
export const COMMIT = `${PRELUDE}
OUTBOX_AT = NOW
local nu = tonumber(ARGV[11])
local idx = {}
for i = 1, nu do idx[ARGV[11 + i]] = i end
local function keys_of(user)
  local b = 6 + 4 * (idx[user] - 1)
  return {KEYS[b], KEYS[b + 1], KEYS[1], KEYS[b + 2], KEYS[b + 3], KEYS[2], KEYS[3], KEYS[4], KEYS[5]}
end
local touched, order, ended, reaped, lastact, lost = {}, {}, {}, {}, {}, {}
for j = 12 + nu, #ARGV do
  local m = ARGV[j]
  local sc = redis.call('ZSCORE', KEYS[1], m)
  if sc and tonumber(sc) == LEASE then
    local user
    if string.sub(m, 1, 2) == 'c:' then
      local rest = string.sub(m, 3)
      local p = string.find(rest, ':', 1, true)
      local conn = string.sub(rest, 1, p - 1)
      user = string.sub(rest, p + 1)
      local K = keys_of(user)
      local raw = redis.call('HGET', K[1], conn)
      local r = raw and load_record(raw)
      local reason = nil
      if r then
        local x = tonumber(r.x) or 0
        if tonumber(r.e) <= NOW then reason = 'expired'
        elseif x > 0 and x + AUTH_GRACE <= NOW then reason = 'token' end
      end
      if r and not reason then
        if IDLE > 0 and (tonumber(r.id) or 0) == 0 and (tonumber(r.iu) or 0) + IDLE <= NOW then
          r.id = 1
          r.ix = deadline(r)
          redis.call('HSET', K[1], conn, encode_record(r))
        else
          user = nil
        end
        -- (a connection that only heartbeats keeps its old ix: its next heartbeat rewrites the index again)
        redis.call('ZADD', KEYS[1], deadline(r), m)
      else
        redis.call('ZREM', KEYS[1], m)
        if r then
          redis.call('HDEL', K[1], conn)
          count(K, 0, -1)
          reaped[#reaped + 1] = user
          reaped[#reaped + 1] = conn
          reaped[#reaped + 1] = reason
          lost[user] = true
          local a = tonumber(r.a) or 0
          if a > (lastact[user] or 0) then lastact[user] = a end
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
local changed, uncached = {}, {}
for _, user in ipairs(order) do
  local K = keys_of(user)
  local n, best, page = rollup(K[1])
  local mode = 'passive'
  if n == 0 then
    -- the user stops counting as online when this commit took their last connection (not on a grace end alone)
    if lost[user] then count(K, -1, 0) end
    if ended[user] or GRACE == 0 then
      mode = 'final'
    else
      redis.call('ZADD', KEYS[1], NOW + GRACE, 'g:' .. user)
      mode = 'pending'
    end
  end
  local v = settle(K, user, n, best, page, mode, nil, lastact[user])
  if v then
    changed[#changed + 1] = user
    if redis.call('EXISTS', K[4]) == 0 then uncached[#uncached + 1] = user end
  end
end
return {reaped, changed, uncached}
`;

/** KEYS context. ARGV ttl, mode, ids, info, n, domains..., groups. Replaces a cached context. */
export const SAVE_CONTEXT = `${WRITE_CONTEXT}
write_context(KEYS[1], ARGV, 1)
return 1
`;

/**
 * KEYS connection hashes. One JSON text with, per key, its connections as [id, detail, batch, connectedAt, groups]
 * (read with patterns, not decoded: this runs for every fan-out).
 */
export const CONNECTIONS_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  local all = redis.call('HGETALL', key)
  if #all == 0 then out[i] = false else
    local list = {}
    for j = 1, #all, 2 do
      local raw = all[j + 1]
      list[#list + 1] = {all[j], string.match(raw, '"dt":"(%a)"') or 'f', tonumber(string.match(raw, '"bt":(%d)') or '0'),
        tonumber(string.match(raw, '"c":(%d+)') or '0'), string.match(raw, '"gr":(%b[])') or ''}
    end
    out[i] = list
  end
end
return cjson.encode(out)
`;

/**
 * KEYS outbox, outbox bodies. ARGV now, lease deadline, limit. Leases up to `limit` due deliveries and returns
 * {member, body, ...}.
 */
export const OUTBOX_CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, m in ipairs(due) do
  local body = redis.call('HGET', KEYS[2], m)
  if body then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m)
    out[#out + 1] = m
    out[#out + 1] = body
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`;

/**
 * KEYS outbox, outbox bodies. ARGV triples (member, version, retry at: '' = done). Forgets a delivery only if no
 * newer change replaced it meanwhile (then the newer one's writer owns it); otherwise reschedules it.
 */
export const OUTBOX_ACK = `
local done = 0
for i = 1, #ARGV, 3 do
  local m, v, at = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local body = redis.call('HGET', KEYS[2], m)
  if body and string.match(body, '"ver":(%d+)') == v then
    if at == '' then
      redis.call('HDEL', KEYS[2], m)
      redis.call('ZREM', KEYS[1], m)
      done = done + 1
    else
      redis.call('ZADD', KEYS[1], at, m)
    end
  end
end
return done
`;

/**
 * KEYS 1 the shard's mailbox index, then one mailbox hash per connection. ARGV due, then per mailbox (connection,
 * owner, connectedAt, batch, n, then n x (from user, version, payload)). A mailbox keeps, per source user, only the
 * newest message (`v:{from}` / `p:{from}`), so adding one costs the same however many are waiting.
 */
export const MAILBOX_PUT = `
local due = ARGV[1]
local i = 2
for k = 2, #KEYS do
  local box, conn, n = KEYS[k], ARGV[i], tonumber(ARGV[i + 4])
  redis.call('HSETNX', box, '#o', ARGV[i + 1])
  redis.call('HSETNX', box, '#c', ARGV[i + 2])
  redis.call('HSETNX', box, '#b', ARGV[i + 3])
  redis.call('HSETNX', box, '#n', 0)
  i = i + 5
  for _ = 1, n do
    local from, v = ARGV[i], tonumber(ARGV[i + 1])
    local cur = tonumber(redis.call('HGET', box, 'v:' .. from) or '-1')
    if v > cur then redis.call('HSET', box, 'v:' .. from, v, 'p:' .. from, ARGV[i + 2]) end
    i = i + 3
  end
  redis.call('ZADD', KEYS[1], 'NX', due, conn)
end
return 1
`;

/** KEYS mailbox index. ARGV now, lease deadline, limit. Leases up to `limit` due connections and returns their ids. */
export const MAILBOX_CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return due
`;

/**
 * KEYS 1 mailbox index, then the claimed mailboxes. ARGV per mailbox (connection, outcome sent|retry|gone, retry at,
 * delivered JSON [[from, v]...]). Drops what was delivered (a newer message that arrived meanwhile stays and is due
 * at once); `gone` drops the mailbox.
 */
export const MAILBOX_ACK = `
local i = 1
for k = 2, #KEYS do
  local box, conn, outcome, at = KEYS[k], ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if outcome == 'gone' then
    redis.call('DEL', box)
    redis.call('ZREM', KEYS[1], conn)
  else
    for _, d in ipairs(cjson.decode(ARGV[i + 3])) do
      local cur = redis.call('HGET', box, 'v:' .. d[1])
      if cur and tonumber(cur) <= tonumber(d[2]) then redis.call('HDEL', box, 'v:' .. d[1], 'p:' .. d[1]) end
    end
    -- only the four meta fields left: nothing waits
    if redis.call('HLEN', box) <= 4 then
      redis.call('DEL', box)
      redis.call('ZREM', KEYS[1], conn)
    elseif redis.call('EXISTS', box) == 1 then
      if outcome == 'retry' then redis.call('HINCRBY', box, '#n', 1) else redis.call('HSET', box, '#n', 0); at = '0' end
      redis.call('ZADD', KEYS[1], at, conn)
    end
  end
  i = i + 4
end
return 1
`;

/** KEYS shard hash. ARGV 'fresh' marks the shard's data as complete (a new store); returns {users, connections}. */
export const SHARD_INFO = `
if ARGV[1] == 'fresh' then redis.call('HSETNX', KEYS[1], 'f', 'fresh') end
local r = redis.call('HMGET', KEYS[1], 'u', 'n')
return {tonumber(r[1] or '0'), tonumber(r[2] or '0')}
`;

/**
 * KEYS shard hash. Where the shard stands for a deploy-time "mark fresh": 'fresh' (marked before), 'recovering' (a
 * loss of its data was detected: users without state are asked to resync), 'data' (unmarked but holding users or
 * connections), 'new' (unmarked and empty). With ARGV[1] 'mark', a 'new' shard is marked fresh and 'marked' returned;
 * every other state is left as it is, so the mark never hides a loss the store has already noticed.
 */
export const SHARD_MARK_FRESH = `
local mark = redis.call('HGET', KEYS[1], 'f')
if mark == 'fresh' then return 'fresh' end
if mark then return 'recovering' end
local r = redis.call('HMGET', KEYS[1], 'u', 'n')
if tonumber(r[1] or '0') ~= 0 or tonumber(r[2] or '0') ~= 0 then return 'data' end
if ARGV[1] ~= 'mark' then return 'new' end
redis.call('HSET', KEYS[1], 'f', 'fresh')
return 'marked'
`;

/**
 * KEYS 1 minute record, 2 hour record. ARGV 1 minute start, 2 hour start, 3 users, 4 connections, 5 keep minutes from,
 * 6 keep hours from, 7 ttl (s). Each bucket keeps the highest counts recorded in it (several sweeps may record one
 * minute); points older than the retention are dropped.
 */
export const USAGE_RECORD = `
local function merge(key, t, o, n)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, t, t)) do
    local a, b = string.match(m, '^%d+:(%d+):(%d+)$')
    if a then o = math.max(o, tonumber(a)); n = math.max(n, tonumber(b)) end
    redis.call('ZREM', key, m)
  end
  redis.call('ZADD', key, t, t .. ':' .. o .. ':' .. n)
end
local o, n = tonumber(ARGV[3]), tonumber(ARGV[4])
merge(KEYS[1], ARGV[1], o, n)
merge(KEYS[2], ARGV[2], o, n)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[7])
return 1
`;

/** Script names (ioredis custom commands) and their sources. */
export const SCRIPTS = {
  presenceRateCap: RATE_CAP_SCRIPT,
  presenceConnect: CONNECT,
  presenceTouch: TOUCH,
  presenceRevive: REVIVE,
  presenceUpdate: UPDATE,
  presenceSubscribe: SUBSCRIBE,
  presenceRemove: REMOVE,
  presenceUnconnect: UNCONNECT,
  presenceRecheck: RECHECK,
  presenceClaim: CLAIM,
  presenceCommit: COMMIT,
  presenceSaveContext: SAVE_CONTEXT,
  presenceConnectionsMany: CONNECTIONS_MANY,
  presenceOutboxClaim: OUTBOX_CLAIM,
  presenceOutboxAck: OUTBOX_ACK,
  presenceMailboxPut: MAILBOX_PUT,
  presenceMailboxClaim: MAILBOX_CLAIM,
  presenceMailboxAck: MAILBOX_ACK,
  presenceShardInfo: SHARD_INFO,
  presenceShardMarkFresh: SHARD_MARK_FRESH,
  presenceUsageRecord: USAGE_RECORD,
  presenceGroupSave: GROUP_SAVE,
  presenceGroupTargets: GROUP_TARGETS,
} as const;

/** A script's command name. */
export type ScriptName = keyof typeof SCRIPTS;
