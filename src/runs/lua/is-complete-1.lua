--[[
  Reads whether a run is complete (read only).

  Input:
    KEYS[1] run hash

  Output:
    1 when the run is complete and still running, else 0
]]
--- @include "complete.lua"
return complete(KEYS[1])
