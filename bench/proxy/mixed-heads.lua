-- wrk script (bench/proxy/alloc.sh WRK_SCRIPT=...): one request in MIXED_EVERY (default 4) has a
-- browser-sized head (~700 B: user-agent, accept, accept-language, a 400 B cookie), the others are
-- wrk's own ~40 B head. A keep-alive connection's adaptive receive buffer shrinks to the small heads,
-- so a large one is read in parts (decision 0037, addendum 16): the split-head path under load.
local small, big, every
local n = 0

init = function(args)
  every = tonumber(os.getenv("MIXED_EVERY") or "4")
  small = wrk.format("GET", wrk.path)
  big = wrk.format("GET", wrk.path, {
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ["Accept-Language"] = "en-GB,en;q=0.5",
    ["Cookie"] = "session=" .. string.rep("0123456789abcdef", 25),
  })
end

request = function()
  n = n + 1
  if n % every == 0 then
    return big
  end
  return small
end
