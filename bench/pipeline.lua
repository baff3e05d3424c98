-- wrk script: 16 pipelined GET requests of the URL's path in every write.
-- wrk counts each response as one request, and sends the next 16 when all
-- 16 responses of the batch have arrived.
local depth = 16

init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET")
  end
  batch = table.concat(r)
end

request = function()
  return batch
end
