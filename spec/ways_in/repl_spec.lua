-- The ember REPL driven as a person would, through a pseudo-terminal: tmux types the
-- keys and the spec reads the screen (capture-pane). Covers results printing,
-- multi-line input, Tab completion, Ctrl-C (running code and at the prompt),
-- persistent history and `?` help.
local W = require 'ways_in.util'

-- Each test gets its own tmux server (socket), so a server still shutting down after
-- one test never swallows the next test's session.
local socket
local tmp = W.tmpdir()
local history = tmp .. '/history'

local function tmux(args) return W.sh(('tmux -L %s -f /dev/null %s'):format(socket, args)) end

-- Starts the REPL in a fresh 100x40 session and waits for its first prompt.
local function start()
  local cmd = ('env EMBER_HISTORY=%s LUA_PATH=%s %s'):format(
    W.q(history), W.q(os.getenv('LUA_PATH') or ''), W.q(W.exe))
  socket = ('ember-repl-spec-%d-%d'):format(os.time(), math.random(1, 1e9))
  tmux('new-session -d -s repl -x 100 -y 40 ' .. W.q(cmd))
end

local function screen() return tmux('capture-pane -p -t repl') end

-- Polls the screen until it contains text (plain), or fails after a few seconds.
local function wait_for(text, seconds)
  local waited = 0
  repeat
    local s = screen()
    if s:find(text, 1, true) then return s end
    W.sleep(0.05)
    waited = waited + 0.05
  until waited > (seconds or 5)
  error(('screen never showed %q; it shows:\n%s'):format(text, screen()), 2)
end

-- Waits until the screen's last line is a bare prompt (`>` or `>>`): as a person
-- does, so that nothing is typed while the previous line still runs.
local function wait_prompt()
  for _ = 1, 100 do
    local last = screen():match('([^\n]*%S[^\n]*)%s*$') or ''
    if last:match('^>>?%s*$') then return end
    W.sleep(0.05)
  end
  error('no prompt; the screen shows:\n' .. screen(), 2)
end

local function type_text(s) tmux('send-keys -t repl -l ' .. W.q(s)) end
local function keys(k) tmux('send-keys -t repl ' .. k) end
local function at_prompt(s) wait_prompt(); type_text(s) end
local function line(s) at_prompt(s); keys('Enter') end

describe('the ember REPL (through tmux)', function()
  before_each(function()
    start()
    wait_for('Ctrl-D quits', 15)
  end)
  after_each(function() tmux('kill-server 2>/dev/null') end)
  teardown(function() W.sh('rm -rf ' .. W.q(tmp)) end)

  it('prints expression results: numbers, nested tables, tensors', function()
    line('1 + 41')
    wait_for('\n42')
    line('{1, 2, name = "x", sub = {a = 3}}')
    wait_for('{1, 2, name = "x", sub = {a = 3}}')
    line('torch.zeros(2, 3)')
    wait_for('2x3')
    line('torch.range(1, 100000)')           -- long tensors are summarised
    local s = wait_for('of size 100000')
    assert.truthy(s:find('...', 1, true))
    assert.falsy(s:find('50000', 1, true))
    line('local t = {} for i = 1, 100 do t[i] = i end return t')
    s = wait_for('(70 more)')
    assert.truthy(s:find('1, 2, 3, 4', 1, true))
  end)

  it('continues incomplete input on the next line', function()
    line('for i = 1, 3 do')
    wait_for('\n>>')
    line('io.write(i * 10, " ")')
    line('end')
    wait_for('10 20 30')
  end)

  it('completes globals, table fields and tensor methods with Tab', function()
    line('x = torch.ones(2, 3)')
    at_prompt('y = torch.zeros_l')
    keys('Tab')
    wait_for('> y = torch.zeros_like(')
    type_text('x)')
    keys('Enter')
    at_prompt('y:siz')
    keys('Tab')
    keys('Tab')                          -- two candidates: the second Tab lists them
    local s = wait_for('y:sizeTable')
    assert.truthy(s:find('> y:size', 1, true))
    keys('C-u')
    line('mytable = {alpha = {beta = 5}}')
    at_prompt('mytab')
    keys('Tab')
    type_text('.al')
    keys('Tab')
    type_text('.be')
    keys('Tab')
    keys('Enter')
    wait_for('> mytable.alpha.beta\n5')
  end)

  it('stops a running loop on Ctrl-C and keeps the session', function()
    line('n = 0 while true do n = n + 1 end')
    W.sleep(0.2)
    keys('C-c')
    wait_for('interrupted!')
    line('n > 0')
    wait_for('\ntrue')
  end)

  it('clears the line on Ctrl-C at the prompt', function()
    at_prompt('this is not lua')
    keys('C-c')
    line('2 + 3')
    local s = wait_for('\n5')
    assert.falsy(s:find('syntax error', 1, true))
    line('for i = 1, 2 do')
    wait_for('\n>>')
    keys('C-c')                          -- drops the pending lines too
    line('"fresh"')
    s = wait_for('\nfresh')
    assert.falsy(s:find('unexpected', 1, true))
  end)

  it('keeps history across sessions', function()
    line('history_marker = 12345')
    wait_prompt()
    keys('C-d')
    W.sleep(0.2)
    start()
    wait_for('Ctrl-D quits')
    wait_prompt()
    keys('Up')
    wait_for('> history_marker = 12345')
  end)

  it('shows short help with ?name and help(f)', function()
    line('?torch.zeros')
    wait_for('torch.zeros(sizes... [, dtype])')
    line('x = torch.ones(2)')
    line('?x:view')
    wait_for('x:view(sizes...)')
    line('help(torch.ones)')
    wait_for('torch.ones(sizes... [, dtype])')
  end)
end)
