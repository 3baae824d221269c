-- nn.Graph(inputs, outputs): modules wired into a directed acyclic graph (Torch7's
-- nngraph gModule; nn.gModule is another name for it). Nodes come from nn.Input() and
-- from calling a module on nodes:
--   local x = nn.Input()
--   local h = nn.Tanh()(nn.Linear(4, 8)(x))
--   local y = nn.CAddTable()({ h, nn.Linear(4, 8)(x) })
--   local g = nn.Graph({ x }, { y })   -- or nn.Graph(x, y)
-- With one input node the graph's input is that node's (a tensor, or any table), with
-- several it is the table of theirs; the same for outputs (nngraph's convention).
-- Forward runs the nodes in topological order; backward runs them in reverse, summing
-- the gradients that reach a node used by several others. self.modules holds the nodes'
-- modules in that order, so parameters(), getParameters(), type() and clone() see them.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils
local accumulate = require('nn.ConcatTable').accumulate

-- A node: {module = m or nil, inputs = {nodes}, tableInput = whether m takes a table}.
local Node = {}
Node.__index = Node
function Node:__tostring() return ('nn.Node(%s)'):format(self.module and tostring(self.module) or 'input') end

local function isNode(x) return getmetatable(x) == Node end

-- nn.Input(): a placeholder for one of the graph's inputs.
function nn.Input() return setmetatable({ inputs = {} }, Node) end

-- module(node) or module({node1, node2, ...}): a node applying the module to node's
-- output, or to the table of the nodes' outputs. module() is an input node applying it.
function nn.Module:__call__(inputs)
  local tableInput = type(inputs) == 'table' and not isNode(inputs)
  local list = tableInput and inputs or { inputs }
  for i, n in ipairs(list) do
    if not isNode(n) then
      error(('%s: calling a module builds an nn.Graph node, so it takes nodes (nn.Input() or '
             .. "another module's node), got %s%s; run a module with module:forward(input)")
            :format(torch.type(self), torch.type(n), tableInput and ' at position ' .. i or ''), 3)
    end
  end
  if tableInput and #list == 0 then error(torch.type(self) .. ': called on an empty table', 3) end
  return setmetatable({ module = self, inputs = list, tableInput = tableInput }, Node)
end

local Graph, parent = nn.class('nn.Graph', nn.Container)
nn.gModule = Graph

local function fail(fmt, ...) error(('nn.Graph: ' .. fmt):format(...), 0) end   -- wiring errors

-- x (a node or a non-empty list of nodes) as a list
local function nodeList(what, x)
  local list = isNode(x) and { x } or x
  if type(list) ~= 'table' or #list == 0 then fail('%s must be a node or a list of nodes', what) end
  for i, n in ipairs(list) do
    if not isNode(n) then fail('%s %d is a %s, not a graph node', what, i, torch.type(n)) end
  end
  return list
end

-- The nodes the outputs depend on, inputs first (depth first from each output), and
-- each one's position in that order. inputIndex maps the given input nodes to 1, 2, ...
local function sortNodes(outputNodes, inputIndex)
  local order, position, active = {}, {}, {}
  local function visit(n, output)
    if position[n] then return end
    if active[n] then fail('the nodes form a cycle through %s', tostring(n)) end
    if #n.inputs == 0 and not inputIndex[n] then
      fail('output %d depends on %s, an input node missing from the inputs', output, tostring(n))
    end
    active[n] = true
    for _, src in ipairs(n.inputs) do visit(src, output) end
    active[n] = nil
    order[#order + 1] = n
    position[n] = #order
  end
  for i, n in ipairs(outputNodes) do visit(n, i) end
  return order, position
end

-- Sorts the nodes and checks the wiring: no cycle, no input node missing from inputs,
-- no input left unconnected, no module used twice. self.nodes[k] = {module = index in
-- self.modules or nil, input = index in inputs or nil, sources = positions of its
-- input nodes, tableInput}; self.outputNodes = the outputs' positions.
function Graph:__init(inputs, outputs)
  parent.__init(self)
  local inputNodes, outputNodes = nodeList('input', inputs), nodeList('output', outputs)
  local inputIndex = {}
  for i, n in ipairs(inputNodes) do
    if #n.inputs > 0 then fail('input %d is not an input node (make one with nn.Input())', i) end
    if inputIndex[n] then fail('input %d is input %d again', i, inputIndex[n]) end
    inputIndex[n] = i
  end
  local order, position = sortNodes(outputNodes, inputIndex)
  for i, n in ipairs(inputNodes) do
    if not position[n] then fail('input %d is not connected to any output', i) end
  end
  local used = {}
  self.nodes, self.outputNodes = {}, {}
  for k, n in ipairs(order) do
    local node = { input = inputIndex[n], sources = {}, tableInput = n.tableInput }
    for j, src in ipairs(n.inputs) do node.sources[j] = position[src] end
    if n.module then
      if used[n.module] then
        fail("%s is used by two nodes; give each node its own module (a clone may share the "
             .. "weights: m:clone('weight', 'bias', 'gradWeight', 'gradBias'))", tostring(n.module))
      end
      used[n.module] = true
      self.modules[#self.modules + 1] = n.module
      node.module = #self.modules
    end
    self.nodes[k] = node
  end
  for i, n in ipairs(outputNodes) do self.outputNodes[i] = position[n] end
  self.nInputs = #inputNodes
  self.singleInput, self.singleOutput = #inputNodes == 1, #outputNodes == 1
  if not self.singleOutput then self.output = {} end
  if not self.singleInput then self.gradInput = {} end
end

-- The graph's inputs as a list, checked against the number of input nodes.
local function inputList(self, input)
  if self.singleInput then return { input } end
  if type(input) ~= 'table' or torch.isTensor(input) or #input ~= self.nInputs then
    error(('nn.Graph: expected a table of %d inputs, got %s'):format(self.nInputs,
          torch.isTensor(input) and 'a tensor of size ' .. utils.sizeStr(input)
          or type(input) == 'table' and #input .. ' entries' or type(input)), 0)
  end
  return input
end

-- input (a tensor, or a table of one per input node) -> output (one per output node)
function Graph:updateOutput(input)
  local inputs, ins, outs = inputList(self, input), {}, {}
  for k, node in ipairs(self.nodes) do
    local x
    if node.input then x = inputs[node.input]
    elseif node.tableInput then
      x = {}
      for j, src in ipairs(node.sources) do x[j] = outs[src] end
    else x = outs[node.sources[1]] end
    ins[k] = x
    local m = node.module
    outs[k] = m and self:rethrowErrors(self.modules[m], m, 'updateOutput', x) or x
  end
  self.nodeInput, self.nodeOutput, self.nodeGrad = ins, outs, nil
  if self.singleOutput then
    self.output = outs[self.outputNodes[1]]
  else
    for i, k in ipairs(self.outputNodes) do self.output[i] = outs[k] end
  end
  return self.output
end

-- Runs fname ('updateGradInput' or 'backward') on the nodes in reverse order. A node's
-- gradient is borrowed from its one consumer, or summed into a buffer of its own
-- (self.gradBuffer[k]) when several consumers reach it.
local function backwards(self, fname, gradOutput, scale)
  if not self.nodeOutput then error(('nn.Graph: %s called before forward'):format(fname), 3) end
  self.gradBuffer = self.gradBuffer or {}
  local grads, owned, buffers = {}, {}, self.gradBuffer
  local function add(k, g)
    if grads[k] == nil then grads[k] = g; return end
    if not owned[k] then
      buffers[k] = accumulate(buffers[k], grads[k], true)
      grads[k], owned[k] = buffers[k], true
    end
    accumulate(grads[k], g, false)
  end
  local gradOutputs = self.singleOutput and { gradOutput } or gradOutput
  local n = #self.outputNodes
  if type(gradOutputs) ~= 'table' or torch.isTensor(gradOutputs) or #gradOutputs ~= n then
    error(('nn.Graph: gradOutput must be a table of %d tensors (one per output)'):format(n), 3)
  end
  for i, k in ipairs(self.outputNodes) do add(k, gradOutputs[i]) end
  for k = #self.nodes, 1, -1 do
    local node, g = self.nodes[k], grads[k]
    local m = node.module
    if m then g = self:rethrowErrors(self.modules[m], m, fname, self.nodeInput[k], g, scale) end
    if node.input then
      if self.singleInput then self.gradInput = g else self.gradInput[node.input] = g end
    elseif node.tableInput then
      for j, src in ipairs(node.sources) do add(src, g[j]) end
    else
      add(node.sources[1], g)
    end
  end
  self.nodeGrad = grads
  return self.gradInput
end

-- gradOutput (like output) -> gradInput (like input)
function Graph:updateGradInput(input, gradOutput)
  return backwards(self, 'updateGradInput', gradOutput)
end

function Graph:backward(input, gradOutput, scale)
  return backwards(self, 'backward', gradOutput, scale or 1)
end

-- Needs the nodes' gradients, so it follows backward (or updateGradInput).
function Graph:accGradParameters(input, gradOutput, scale)
  if not self.nodeGrad then
    error('nn.Graph: accGradParameters called before backward (or updateGradInput)', 2)
  end
  for k = #self.nodes, 1, -1 do
    local m = self.nodes[k].module
    if m then
      local input_, gradOutput_ = self.nodeInput[k], self.nodeGrad[k]
      self:rethrowErrors(self.modules[m], m, 'accGradParameters', input_, gradOutput_, scale or 1)
    end
  end
end

-- The state of the last pass borrows the modules' tensors: drop it.
local function dropPass(self)
  self.nodeInput, self.nodeOutput, self.nodeGrad, self.gradBuffer = nil, nil, nil, nil
end

function Graph:type(typename, cache)
  if typename then dropPass(self) end
  return parent.type(self, typename, cache)
end

function Graph:clearState()
  dropPass(self)
  return parent.clearState(self)
end

-- nn.Graph {
--   (1): nn.Linear(4 -> 8) <- input 1
--   (2): nn.CAddTable <- {(1), input 1}
--   output: (2)
-- }
function Graph:__tostring__()
  local names, lines = {}, { 'nn.Graph {' }
  local function list(positions, braces)
    local parts = {}
    for i, k in ipairs(positions) do parts[i] = names[k] end
    local s = table.concat(parts, ', ')
    return braces and '{' .. s .. '}' or s
  end
  for k, node in ipairs(self.nodes) do
    local from = node.input and 'input ' .. node.input or list(node.sources, node.tableInput)
    if node.module then
      names[k] = ('(%d)'):format(node.module)
      local body = tostring(self.modules[node.module]):gsub('\n', '\n  ')
      lines[#lines + 1] = ('  %s: %s <- %s'):format(names[k], body, from)
    else
      names[k] = from
    end
  end
  lines[#lines + 1] = '  output: ' .. list(self.outputNodes, not self.singleOutput)
  lines[#lines + 1] = '}'
  return table.concat(lines, '\n')
end

return Graph
