-- Vocal Automix in Ardour, driven by Ardour's headless Lua interpreter (ardour7-lua). The Rust
-- tests (tests/daw/ardour.rs) put this library in front of each scenario's few lines and read
-- what it prints: "param<TAB>name<TAB>value" lines, and Ardour's and the plug-in's log.
--
-- Globals the scenario sets before calling: SESSION (folder), SNAPSHOT (name), OUT (export
-- folder), PRESET (the export preset's id: 32-bit float WAV at the session's rate).
--
-- One export per Ardour process: Ardour 7.3 corrupts its heap on a second `simple_export()` in the
-- same run now and then (2 crashes in 10 runs without any plug-in; 0 in 16 with one export, ours
-- inserted), so a scenario that renders twice saves and opens the session again in between.

function open_session()
  AudioEngine:set_backend("None (Dummy)", "", "")
  local s = load_session(SESSION, SNAPSHOT)
  assert(s, "Ardour could not load " .. SESSION)
  return s
end

function plugin(s)
  local p = s:route_by_name("Vocal"):nth_plugin(0)
  assert(not p:isnil(), "no plug-in on the Vocal track")
  return p
end

-- The plug-in on the vocal track, fed by a pre-fader send from the backing track into its
-- sidechain (unless `sidechain` is false); the vocal track to the master bus, the backing track
-- nowhere, so an export holds the processed vocal alone.
function insert_plugin(s, sidechain)
  local vocal, backing = s:route_by_name("Vocal"), s:route_by_name("Backing")
  local p = ARDOUR.LuaAPI.new_plugin(s, "Vocal Automix", ARDOUR.PluginType.VST3, "")
  assert(not p:isnil(), "Ardour did not find the Vocal Automix VST3 (scanned?)")
  assert(vocal:add_processor_by_index(p, 0, nil, true) == 0, "cannot insert the plug-in")
  if sidechain then
    assert(vocal:add_sidechain(p), "cannot add a sidechain input")
    local send = ARDOUR.LuaAPI.new_send(s, backing, backing:amp())
    assert(not send:isnil(), "cannot add a send to the backing track")
    local from, to = send:to_send():output(), p:to_plugininsert():sidechain_input()
    for i = 0, 1 do
      assert(from:nth(i):connect(to:nth(i):name()) == 0, "cannot connect the send")
    end
  end
  -- auto-connect happens later, on a thread: the script connects what the test needs now
  vocal:output():disconnect_all(nil)
  backing:output():disconnect_all(nil)
  local master = s:master_out():input()
  for i = 0, 1 do
    assert(vocal:output():nth(i):connect(master:nth(i):name()) == 0, "cannot reach the master")
  end
  return p
end

function param_index(p, name)
  local plug = p:to_insert():plugin(0)
  for j = 0, plug:parameter_count() - 1 do
    if plug:parameter_label(j) == name then
      return j
    end
  end
  error("the plug-in has no parameter named " .. name)
end

function set_param(p, name, value)
  assert(ARDOUR.LuaAPI.set_processor_param(p, param_index(p, name), value), "cannot set " .. name)
end

function params(p)
  local plug, t = p:to_insert():plugin(0), {}
  for j = 0, plug:parameter_count() - 1 do
    t[plug:parameter_label(j)] = ARDOUR.LuaAPI.get_processor_param(p, j, true)
  end
  return t
end

function print_params(p)
  local plug = p:to_insert():plugin(0)
  for j = 0, plug:parameter_count() - 1 do
    local v = ARDOUR.LuaAPI.get_processor_param(p, j, true)
    print(string.format("param\t%s\t%.9g", plug:parameter_label(j), v))
  end
end

-- The session from start to end, in freewheel, as OUT/<name>.wav.
function export(s, name)
  local e = s:simple_export()
  assert(e:set_preset(PRESET), "no export preset " .. PRESET)
  e:set_folder(OUT)
  e:set_name(name)
  assert(e:run_export(), "the export of " .. name .. " failed")
end

local function now()
  return ARDOUR.LuaAPI.monotonic_time() / 1e6
end

-- Analyze & Mix as a user presses it: on, the song played (an export), off; then the analysis
-- on the plug-in's thread, and its suggestion applied as parameter changes, which Ardour sees.
-- Returns once the parameters changed and then held for a second (at most `timeout` seconds).
function analyze_and_mix(s, p, timeout)
  set_param(p, "Analyze & Mix", 1)
  sleep(0.2)
  export(s, "listen")
  set_param(p, "Analyze & Mix", 0)
  local before, started, changed = params(p), now(), nil
  while now() - started < timeout do
    sleep(0.1)
    local differs = false
    for k, v in pairs(params(p)) do
      if v ~= before[k] then
        differs = true
      end
    end
    if differs and not changed then
      changed = now()
    end
    if changed and now() - changed > 1 then
      print(string.format("mixed after %.1f s", changed - started))
      return
    end
  end
  print("no suggestion arrived")
end

-- Saves a "probe" snapshot every half second until `file` exists (the test makes it when the
-- probe shows what it waits for), at most `timeout` seconds.
function save_until(s, file, timeout)
  local started = now()
  while now() - started < timeout do
    s:save_state("probe", false, false, false, false, false)
    if ARDOUR.LuaAPI.file_test(file, ARDOUR.LuaAPI.FileTest.Exists) then
      return true
    end
    sleep(0.5)
  end
  return false
end

function save(s)
  s:save_state("", false, false, false, false, false)
end

-- A step of `name` from `from` to `to` at sample `at` (the value before it held from the start).
function automate_step(p, name, at, from, to)
  local _, cl, _ = ARDOUR.LuaAPI.plugin_automation(p, param_index(p, name))
  assert(not cl:isnil(), "no automation for " .. name)
  cl:add(Temporal.timepos_t(0), from, false, false)
  cl:add(Temporal.timepos_t(at - 1), from, false, false)
  cl:add(Temporal.timepos_t(at), to, false, false)
  local ac = p:to_automatable():automation_control(
    Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, param_index(p, name)), false)
  ac:set_automation_state(ARDOUR.AutoState.Play)
end
