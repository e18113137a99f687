-- wrk script: POST /b with realistic beacons, each a new page view.
--
--   wrk -t4 -c4 -d10s -s tests/load/beacon.lua http://127.0.0.1:8080/b
--
-- Environment: SITE (default "shop"), ORIGIN (default https://shop.example),
-- DELAY_MS (each connection waits this long before each request: a fixed
-- rate of connections x 1000 / DELAY_MS requests/s, for the soak test),
-- and ACK_DIR: when set, each thread appends the id of every beacon answered
-- 204 to ACK_DIR/acked-<thread>.txt. That record is exact only with one
-- connection per thread (-c equal to -t), as the durability test runs it.

local site = os.getenv("SITE") or "shop"
local origin = os.getenv("ORIGIN") or "https://shop.example"
local ack_dir = os.getenv("ACK_DIR")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "")

if delay_ms then
  function delay()
    return delay_ms
  end
end
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
end

local paths = { "/", "/products/42", "/cart?step=2", "/search?q=shoes", "/blog/fast-pages", "/checkout" }
local types = { "4g", "4g", "4g", "3g", "slow-2g" }
local last_id = nil
local ack = nil
local run = 0

function init(args)
  run = os.time() % 0xffffffff
  math.randomseed(run * 1000 + thread_number)
  if ack_dir then
    ack = io.open(ack_dir .. "/acked-" .. thread_number .. ".txt", "a")
  end
end

local function beacon(id, start)
  local ttfb = math.random(40, 900)
  local fcp = ttfb + math.random(100, 1500)
  local lcp = fcp + math.random(0, 3000)
  local load = lcp + math.random(0, 1500)
  return string.format(
    '{"v":1,"site":"%s","id":"%s","seq":%d,"url":"%s","referrer_host":"www.example.com",' ..
    '"start":%d,"nav_type":"navigate","ttfb_ms":%d.5,"fcp_ms":%d,"lcp_ms":%d,"cls":0.0%d,"inp_ms":%d,' ..
    '"dcl_ms":%d,"load_ms":%d,"lcp_element":"main>img.hero","lcp_url":"https://cdn.example/hero.jpg",' ..
    '"lcp_subparts":{"ttfb":%d,"load_delay":120,"load_duration":340,"render_delay":40},' ..
    '"inp_target":"button#buy","inp_subparts":{"input_delay":8,"processing":60,"presentation":32},' ..
    '"response_status":200,"visible_ms":%d,"left_at_ms":%d,"effective_type":"%s","downlink_mbps":10,' ..
    '"rtt_ms":50,"save_data":false,"device_memory":8,"cpu_cores":8,"errors":0,"tags":{"ab":"b"}}',
    site, id, 1, paths[math.random(#paths)], start, ttfb, fcp, lcp, math.random(0, 9), math.random(16, 600),
    fcp + 50, load, ttfb, load + 20000, load + 30000, types[math.random(#types)])
end

function request()
  -- The page began up to a minute ago; its id is made as the loader makes
  -- them: that time in ms (12 hex digits), then 20 random hex digits.
  local start = os.time() * 1000 - math.random(1000, 60000)
  last_id = string.format("%012x", start)
  for _ = 1, 5 do
    last_id = last_id .. string.format("%04x", math.random(0, 65535))
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["Origin"] = origin,
    ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  }, beacon(last_id, start))
end

function response(status, headers, body)
  if ack and status == 204 then
    ack:write(last_id, "\n")
    ack:flush()
  end
end
