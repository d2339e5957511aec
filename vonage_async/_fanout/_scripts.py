"""The Lua scripts of the fan-out: each runs atomically in Redis."""

from __future__ import annotations

# Stream ids compared as (milliseconds, sequence).
_BEFORE = """
local function before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
"""

# KEYS: lease, epoch. ARGV: holder, ttl ms. The new epoch, or false when the lease is held.
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
"""

# KEYS: lease, epoch. ARGV: holder, epoch, ttl ms. 1 renewed, 0 the lease is not ours.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""

# KEYS: lease. ARGV: holder.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: lease, epoch, stream, state, last id, last publish id.
# ARGV: holder, epoch, maxlen, state JSON, publish id, n, then n pairs (key, event JSON).
# {0} fenced: nothing written. {1, last id} published. {2, last id} this publish was done
# already (a retry after a lost answer): nothing written twice.
PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return {0}
end
if redis.call('GET', KEYS[6]) == ARGV[5] then
  return {2, redis.call('GET', KEYS[5])}
end
local prev = redis.call('GET', KEYS[5]) or '0-0'
local n = tonumber(ARGV[6])
for i = 0, n - 1 do
  prev = redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[3], '*',
    'k', ARGV[7 + 2 * i], 'e', ARGV[8 + 2 * i], 'p', prev, 'ep', ARGV[2])
end
redis.call('SET', KEYS[4], ARGV[4])
redis.call('SET', KEYS[5], prev)
redis.call('SET', KEYS[6], ARGV[5])
return {1, prev}
"""

# KEYS: stream, state, last id. ARGV: group.
# Creates the group at the stored state's last id: {1, state, last id}; {0} if it existed.
CREATE_GROUP = """
local found = redis.call('MGET', KEYS[2], KEYS[3])
local at = found[2] or '0'
local ok = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], at, 'MKSTREAM')
if type(ok) == 'table' and ok.err then
  if string.find(ok.err, 'BUSYGROUP') then return {0} end
  return ok
end
return {1, found[1] or false, at}
"""

# KEYS: stream, state, last id. ARGV: group, consumer, count.
# {'resync', state, last id} when entries the group had not read were trimmed away (the
# group then continues after the state); {'read', entries} with new entries; {'idle', last id}.
GROUP_READ = (
    _BEFORE
    + """
local delivered
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] end
    if g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  if name == ARGV[1] then delivered = last end
end
if not delivered then return {'nogroup'} end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #first > 0 then
  local fields, prev = first[1][2], '0-0'
  for i = 1, #fields, 2 do
    if fields[i] == 'p' then prev = fields[i + 1] end
  end
  if before(delivered, prev) then
    local found = redis.call('MGET', KEYS[2], KEYS[3])
    if found[2] then
      redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], found[2])
      return {'resync', found[1] or false, found[2]}
    end
  end
end
local got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
  'STREAMS', KEYS[1], '>')
if got and #got > 0 and #got[1][2] > 0 then
  return {'read', got[1][2]}
end
return {'idle', redis.call('GET', KEYS[3]) or '0-0'}
"""
)

# KEYS: window. ARGV: calls, period ms, member. 0 when a call may start now (and it is
# counted), else the milliseconds to wait. Redis's clock: one clock for every replica.
RATE_LIMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + period - now)
"""

# KEYS: lock. ARGV: token. Releases a lock only if it is still ours.
UNLOCK = RELEASE
