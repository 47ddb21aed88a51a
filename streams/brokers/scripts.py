"""The Lua scripts of the Redis broker: each call is one atomic step on one key.

Keys per channel key: ``<prefix>:<channel>:meta:<key>``, a hash holding the
epoch and the top offset, and ``<prefix>:<channel>:log:<key>``, a Stream whose
entry ids are ``<offset>-0``. The meta hash outlives the log (its expiry is
longer), so offsets keep counting after the log expired and a resume from
before that gets ``Reset``. A new epoch is drawn (server time, hex) whenever
the meta hash is missing (after a restart without persistence, or expiry),
and when it was written before a restart of a server without AOF: an RDB
snapshot (or a promoted replica) may be older than what clients have seen.
"""

from __future__ import annotations

_ENSURE_EPOCH = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if epoch and redis.call('HGET', KEYS[1], 'run') ~= run then
  -- Written before the server restarted. Without AOF it came back from an RDB
  -- snapshot (or a replica) that may be older: its offsets would be reused.
  if string.find(redis.call('INFO', 'persistence'), 'aof_enabled:1', 1, true) then
    redis.call('HSET', KEYS[1], 'run', run)
  else
    epoch = false
  end
end
if not epoch then
  local now = redis.call('TIME')
  epoch = string.format('%x%05x', tonumber(now[1]), tonumber(now[2]))
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'top', 0, 'run', run)
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
"""

PUBLISH = (
    _ENSURE_EPOCH
    + """
-- ARGV: meta ttl ms, data, history, log ttl ms, live channel
local top = redis.call('HINCRBY', KEYS[1], 'top', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], top .. '-0', 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[5], epoch .. ' ' .. top .. ' ' .. ARGV[2])
return {epoch, top}
"""
)
"""Next offset, append to the bounded log, refresh both expiries, broadcast: atomically."""

READ = (
    _ENSURE_EPOCH
    + """
-- ARGV: meta ttl ms, after, limit
local top = tonumber(redis.call('HGET', KEYS[1], 'top'))
local after = tonumber(ARGV[2])
local entries = {}
if tonumber(ARGV[3]) > 0 and after < top then
  entries = redis.call('XRANGE', KEYS[2], (after + 1) .. '-0', '+', 'COUNT', ARGV[3])
end
return {epoch, top, entries}
"""
)
"""The epoch, the top offset and a page of the log after an offset (one consistent view)."""
