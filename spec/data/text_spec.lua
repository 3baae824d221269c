-- Text: character vocabularies over UTF-8, byte vocabularies, encode/decode round
-- trips, and the errors for invalid UTF-8 and characters outside the vocabulary.
local torch = require 'torch'
local data = require 'ember.data'
local H = require 'helpers'

local F = debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'fixtures/'

describe('readText', function()
  it('builds a sorted character vocabulary and 1-based ids', function()
    local ids, v = data.readText(F .. 'text.txt')          -- "héllo wörld\n"
    assert.are.same({'\n', ' ', 'd', 'h', 'l', 'o', 'r', 'w', 'é', 'ö'}, v.itos)
    assert.are.equal(10, v.size)
    assert.are.equal(9, v.stoi['é'])
    assert.are.equal('torch.LongTensor', ids:type())
    assert.are.same({4, 9, 5, 5, 6, 2, 8, 10, 7, 5, 3, 1}, ids:totable())
    assert.are.equal('héllo wörld\n', v:decode(ids))
    assert.are.same({5, 10, 7, 3}, v:encode('lörd'):totable())
  end)

  it('byte mode: 256 tokens, id = byte + 1', function()
    local ids, v = data.readText(F .. 'text.txt', 'byte')
    assert.are.equal(256, v.size)
    assert.are.equal(14, ids:nElement())                     -- é and ö take two bytes
    assert.are.same({('h'):byte() + 1, 0xC3 + 1}, ids:narrow(1, 1, 2):totable())
    assert.are.equal('héllo wörld\n', v:decode(ids))
    assert.are.same({('a'):byte() + 1}, v:encode('a'):totable())
    local bad = data.readText(F .. 'bad-utf8.txt', 'byte')
    assert.are.equal(0xFF + 1, bad[4])
  end)

  it('readBytes gives the raw bytes', function()
    local b = data.readBytes(F .. 'text.txt')
    assert.are.equal('torch.ByteTensor', b:type())
    assert.are.same({0x68, 0xC3, 0xA9}, b:narrow(1, 1, 3):totable())
  end)

  it('reports invalid UTF-8, unknown characters, bad ids and modes', function()
    H.raises('bad-utf8.txt: invalid UTF-8 at byte 3', data.readText, F .. 'bad-utf8.txt')
    local _, v = data.readText(F .. 'text.txt')
    H.raises('character U+0061 at byte 1 is not in the vocabulary', v.encode, v, 'ha')
    H.raises('decode: id 11 at position 2 is out of range 1..10', v.decode, v, torch.LongTensor{1, 11})
    H.raises("mode must be 'char' or 'byte'", data.readText, F .. 'text.txt', 'word')
    H.raises('nope.txt: cannot open', data.readText, F .. 'nope.txt')
  end)
end)
