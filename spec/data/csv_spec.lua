-- CSV reader: values, header detection, quoting, separators, missing values, and every
-- error with file, line and field.
local data = require 'ember.data'
local H = require 'helpers'

local F = debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'fixtures/'

describe('readCSV', function()
  it('reads numbers under a detected header', function()
    local x, names = data.readCSV(F .. 'good.csv')
    assert.are.equal('torch.FloatTensor', x:type())
    assert.are.same({{1, 2, 3}, {4.5, -5, 600}, {7, 8, 9}}, x:totable())
    assert.are.same({'a', 'b', 'c'}, names)
  end)

  it('reads a file without header, CRLF line ends, float64 on request', function()
    local x, names = data.readCSV(F .. 'noheader.csv', {dtype = 'float64'})
    assert.are.equal('torch.DoubleTensor', x:type())
    assert.are.same({{1, 2}, {3, 4}}, x:totable())
    assert.is_nil(names)
  end)

  it('header = false makes a text first row an error; header = true skips a numeric one', function()
    H.raises('good.csv:1:1: not a number: "a"', data.readCSV, F .. 'good.csv', {header = false})
    local x, names = data.readCSV(F .. 'noheader.csv', {header = true})
    assert.are.same({{3, 4}}, x:totable())
    assert.are.same({'1', '2'}, names)
  end)

  it('unquotes fields', function()
    local x, names = data.readCSV(F .. 'quoted.csv')
    assert.are.same({{1.5, 2}, {3, 4}}, x:totable())
    assert.are.same({'x', 'y "quoted"'}, names)
  end)

  it('takes another separator', function()
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, data.readCSV(F .. 'semicolon.csv', {sep = ';'}):totable())
  end)

  it('fills missing values when asked', function()
    local x = data.readCSV(F .. 'missing.csv', {missing = -1})
    assert.are.same({{1, 2, 3, 4}, {5, -1, 7, 8}}, x:totable())
  end)

  it('reads an empty file as an empty tensor', function()
    local x, names = data.readCSV(F .. 'empty.csv')
    assert.are.equal(0, x:nElement())
    assert.is_nil(names)
  end)

  it('reports errors with file, line and field', function()
    H.raises('missing.csv:3:2: missing value', data.readCSV, F .. 'missing.csv')
    H.raises('missing-last.csv:2:3: missing value', data.readCSV, F .. 'missing-last.csv')
    H.raises('ragged.csv:7: ragged row: line 7 has 3 fields, expected 4', data.readCSV, F .. 'ragged.csv')
    H.raises('notnum.csv:3:2: not a number: "abc"', data.readCSV, F .. 'notnum.csv')
    H.raises('unterminated.csv:2:1: unterminated quoted field', data.readCSV, F .. 'unterminated.csv')
    H.raises('nope.csv: cannot open', data.readCSV, F .. 'nope.csv')
    H.raises('dtype must be float32 or float64', data.readCSV, F .. 'good.csv', {dtype = 'int64'})
    H.raises('separator must be one character', data.readCSV, F .. 'good.csv', {sep = ';;'})
  end)
end)
