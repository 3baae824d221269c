-- Images: PNG (gray, RGB, RGBA, 16-bit, palette) and PGM/PPM (binary and ASCII) read
-- as C x H x W, written back and read again, and the errors with file and position.
local torch = require 'torch'
local data = require 'ember.data'
local H = require 'helpers'

local F = debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'fixtures/'
local GRAY = {{{0, 100, 255}, {10, 20, 30}}}
local RGB = {{{255, 0, 0}, {1, 4, 7}}, {{0, 255, 0}, {2, 5, 8}}, {{0, 0, 255}, {3, 6, 9}}}

describe('readImage', function()
  it('reads PNG files as uint8 C x H x W', function()
    local g = data.readImage(F .. 'gray.png')
    assert.are.equal('torch.ByteTensor', g:type())
    assert.are.same(GRAY, g:totable())
    assert.are.same(RGB, data.readImage(F .. 'rgb.png'):totable())
    local a = data.readImage(F .. 'rgba.png')
    assert.are.same({4, 2, 3}, a:sizeTable())
    assert.are.same({{128, 255, 0}, {4, 8, 12}}, a[4]:totable())
    assert.are.same({{255, 0, 0}, {1, 5, 9}}, a[1]:totable())
    local p = data.readImage(F .. 'palette.png')                     -- indices 0 1 2 / 2 1 0
    assert.are.same({{{255, 0, 0}, {0, 0, 255}}, {{0, 255, 0}, {0, 255, 0}}, {{0, 0, 255}, {255, 0, 0}}},
                    p:totable())
  end)

  it('reads 16-bit PNG and PGM as int32', function()
    for _, f in ipairs{'gray16.png', 'gray16.pgm'} do
      local x = data.readImage(F .. f)
      assert.are.equal('torch.IntTensor', x:type())
      assert.are.same({{{0, 1000, 65535}, {1, 2, 3}}}, x:totable())
    end
  end)

  it('reads binary and ASCII PGM/PPM', function()
    assert.are.same(GRAY, data.readImage(F .. 'gray.pgm'):totable())
    assert.are.same(GRAY, data.readImage(F .. 'gray-ascii.pgm'):totable())
    assert.are.same(RGB, data.readImage(F .. 'rgb.ppm'):totable())
    assert.are.same(RGB, data.readImage(F .. 'rgb-ascii.ppm'):totable())
  end)

  it('writes PNG, PGM and PPM that read back equal', function()
    local rgb = data.readImage(F .. 'rgb.png')
    for _, case in ipairs{{'png', rgb}, {'ppm', rgb}, {'pgm', data.readImage(F .. 'gray.pgm')},
                          {'png', data.readImage(F .. 'rgba.png')}} do
      local path = os.tmpname() .. '.' .. case[1]
      data.writeImage(path, case[2])
      assert.are.same(case[2]:totable(), data.readImage(path):totable())
      os.remove(path)
    end
    local path = os.tmpname() .. '.png'                                -- H x W, transposed view
    data.writeImage(path, data.readImage(F .. 'gray.png')[1]:t())
    assert.are.same({{{0, 10}, {100, 20}, {255, 30}}}, data.readImage(path):totable())
    data.writeImage(path, torch.Tensor{{0, 0.5, 1}})                 -- float in [0, 1]
    assert.are.same({{{0, 128, 255}}}, data.readImage(path):totable())
    os.remove(path)
  end)

  it('reports errors with the file and the position', function()
    H.raises('truncated.pgm: truncated: expected 6 bytes of pixels from byte 11, the file has 4',
             data.readImage, F .. 'truncated.pgm')
    H.raises('bad-sample.pgm: byte 18: sample 200 exceeds the maximum value 100',
             data.readImage, F .. 'bad-sample.pgm')
    H.raises("bad-header.pgm: byte 5: expected the height, got 'x'", data.readImage, F .. 'bad-header.pgm')
    H.raises('not-an-image.bin: not a PNG, PGM or PPM file (it starts with 0x47 0x49)',
             data.readImage, F .. 'not-an-image.bin')
    H.raises({'truncated.png: PNG:'}, data.readImage, F .. 'truncated.png')
    H.raises('nope.png: cannot open', data.readImage, F .. 'nope.png')
    H.raises('writeImage: x.gif: unknown extension', data.writeImage, 'x.gif', torch.ByteTensor(1, 2, 2))
    H.raises('writePNG: expected a uint8 CPU image', data.writePNG, 'x.png', torch.ByteTensor(2, 2, 2, 2))
    H.raises('writePNG: cannot write an image of size 5x2x2', data.writePNG, 'x.png', torch.ByteTensor(5, 2, 2))
    H.raises('2-channel images have no PGM/PPM form', data.writePNM, 'x.pgm', torch.ByteTensor(2, 2, 2))
    H.raises('/nonexistent/dir/x.ppm: cannot open for writing', data.writePNM, '/nonexistent/dir/x.ppm',
             torch.ByteTensor(3, 2, 2))
  end)
end)
