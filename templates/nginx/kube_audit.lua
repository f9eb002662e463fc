-- kube_audit: one JSON line per request through the audit proxy (installed by rig, tasks/audit-proxy.ts).
-- Bodies are captured up to a cap; the Authorization header, any bearer token and the data/stringData of a Secret
-- (in a request or a response) are redacted before anything is written.
local M = {}

local REDACTED = "[REDACTED]"
local SECRET_HEADERS = { authorization = true, ["proxy-authorization"] = true, cookie = true, ["set-cookie"] = true }

local function json_string(s)
  s = tostring(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    if c == '\n' then return '\\n' end
    if c == '\r' then return '\\r' end
    if c == '\t' then return '\\t' end
    return string.format('\\u%04x', c:byte())
  end)
  return '"' .. s .. '"'
end

local function json_value(v)
  local t = type(v)
  if t == "table" then
    if v[1] ~= nil or next(v) == nil and getmetatable(v) == "array" then
      local out = {}
      for i = 1, #v do out[i] = json_value(v[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = json_string(k) .. ":" .. json_value(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  elseif t == "number" then return tostring(v)
  elseif t == "boolean" then return v and "true" or "false"
  elseif v == nil then return "null"
  end
  return json_string(v)
end

local function redact_tokens(s)
  return (s:gsub("([Bb][Ee][Aa][Rr][Ee][Rr])%s+[%w%-%._~%+/]+=*", "%1 " .. REDACTED))
end

-- Replace the value of every "data" / "stringData" object in a Secret body by "[REDACTED]", also inside the escaped
-- JSON of kubectl's last-applied-configuration annotation. A body cut by the cap inside such an object is cut before it.
local SECRET_OBJECTS = {
  { '"data"%s*:%s*{', '"' .. REDACTED .. '"' },
  { '"stringData"%s*:%s*{', '"' .. REDACTED .. '"' },
  { '\\"data\\"%s*:%s*{', '\\"' .. REDACTED .. '\\"' },
  { '\\"stringData\\"%s*:%s*{', '\\"' .. REDACTED .. '\\"' },
}

local function next_secret_object(body, pos)
  local bs, be, rep
  for _, p in ipairs(SECRET_OBJECTS) do
    local s, e = body:find(p[1], pos)
    if s and (not bs or s < bs) then bs, be, rep = s, e, p[2] end
  end
  return bs, be, rep
end

local function redact_secret(body)
  if not (body:find('"kind\\?"%s*:%s*\\?"Secret')) then return body end
  local out, pos = {}, 1
  while true do
    local s, e, rep = next_secret_object(body, pos)
    if not s then out[#out + 1] = body:sub(pos); break end
    local open = e
    local bs, be = body:find("%b{}", open)
    out[#out + 1] = body:sub(pos, open - 1)
    if bs ~= open then
      out[#out + 1] = rep .. " [truncated]"
      return table.concat(out)
    end
    out[#out + 1] = rep
    pos = be + 1
  end
  return table.concat(out)
end

local function clean_body(body)
  if not body then return nil end
  return redact_secret(redact_tokens(body))
end

local function clean_headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    local name = tostring(k):lower()
    if type(v) == "table" then v = table.concat(v, ", ") end
    if SECRET_HEADERS[name] then out[name] = REDACTED else out[name] = redact_tokens(tostring(v)) end
  end
  return out
end

-- access phase: read the request body (kept in memory up to client_body_buffer_size).
function M.access(cap)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  local ctx = ngx.ctx
  if body then
    ctx.req_truncated = #body > cap
    ctx.req_body = body:sub(1, cap)
  elseif ngx.req.get_body_file() then
    ctx.req_body, ctx.req_truncated = "[body larger than the buffer, not captured]", true
  end
end

-- body filter: keep the first `cap` bytes of the response.
function M.body_filter(cap)
  local ctx = ngx.ctx
  local chunk = ngx.arg[1]
  if not chunk or chunk == "" then return end
  local have = ctx.resp_len or 0
  if have < cap then
    ctx.resp_parts = ctx.resp_parts or {}
    ctx.resp_parts[#ctx.resp_parts + 1] = chunk:sub(1, cap - have)
  end
  ctx.resp_len = have + #chunk
  if ctx.resp_len > cap then ctx.resp_truncated = true end
end

-- log phase: write one JSON line.
function M.log(path, cluster)
  local ctx = ngx.ctx
  local line = json_value({
    time = ngx.utctime(),
    cluster = cluster,
    client = ngx.var.remote_addr,
    server_name = ngx.var.server_name,
    method = ngx.req.get_method(),
    uri = ngx.var.request_uri,
    status = ngx.status,
    duration_ms = math.floor((ngx.now() - ngx.req.start_time()) * 1000 + 0.5),
    upstream = ngx.var.upstream_addr,
    request_headers = clean_headers(ngx.req.get_headers(100)),
    request_body = clean_body(ctx.req_body),
    request_body_truncated = ctx.req_truncated or false,
    response_headers = clean_headers(ngx.resp.get_headers(100)),
    response_body = clean_body(ctx.resp_parts and table.concat(ctx.resp_parts) or nil),
    response_body_truncated = ctx.resp_truncated or false,
  })
  local f, err = io.open(path, "a")
  if not f then ngx.log(ngx.ERR, "kube_audit: cannot open ", path, ": ", err); return end
  f:write(line, "\n")
  f:close()
end

return M
