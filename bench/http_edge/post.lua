-- wrk script: 1 KiB JSON POSTs (the webhook ingest shape) on kept-alive connections.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"pad":"' .. string.rep("a", 1024 - 10) .. '"}'
