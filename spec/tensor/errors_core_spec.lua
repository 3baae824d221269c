-- Bad arguments to the core tensor functions raise Lua errors that name the function
-- and the offending sizes or values, and leave the inputs as they were.
local torch = require 'torch'
local H = require 'helpers'

describe('core errors', function()
  local x
  before_each(function() x = torch.Tensor({{1, 2, 3}, {4, 5, 6}}) end)

  local function unchanged()
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, x:totable())
    assert.are.same({2, 3}, x:sizeTable())
  end

  it('rejects non-tensors where a tensor is expected', function()
    H.raises({'copy', 'torch.Tensor expected, got number'}, function() return x:copy(3) end)
    H.raises({'torch.Tensor expected'}, function() return x.size(nil) end)
    H.raises({"bad argument #1 to 'narrow'"}, function() return x.narrow({}, 1, 1, 1) end)
    unchanged()
  end)

  it('checks sizes on creation', function()
    H.raises({'Tensor: size -1 of dimension 1 is negative'}, function() return torch.Tensor(-1, 2) end)
    H.raises({'zeros: size -2 of dimension 2 is negative'}, function() return torch.zeros(1, -2) end)
    H.raises({"unknown dtype 'float33'"}, function() return torch.zeros(2, 'float33') end)
    H.raises({'size must be an integer'}, function() return torch.Tensor(2.5) end)
    H.raises({'ragged', 'has 1 elements, expected 2'}, function() return torch.Tensor({{1, 2}, {3}}) end)
    H.raises({'expected numbers', 'string'}, function() return torch.Tensor({'a'}) end)
    H.raises({'expected sizes, a table or a tensor'}, function() return torch.Tensor(2, 'x') end)
    H.raises({'too many elements'}, function() return torch.Tensor(2^40, 2^40) end)
  end)

  it('checks dimensions and ranges of views', function()
    H.raises({'narrow', 'dimension 3 out of range for a 2-dimensional tensor'}, function() return x:narrow(3, 1, 1) end)
    H.raises({'narrow: range [2, 4] out of bounds for dimension 2 of size 3'}, function() return x:narrow(2, 2, 3) end)
    H.raises({'select', 'index 3 out of range for a dimension of size 2'}, function() return x:select(1, 3) end)
    H.raises({'transpose', 'dimension 0 out of range'}, function() return x:transpose(0, 1) end)
    H.raises({'permute', '3 dimensions given for a 2-dimensional tensor'}, function() return x:permute(1, 2, 3) end)
    H.raises({'permute: not a permutation of 2 dimensions'}, function() return x:permute(1, 1) end)
    H.raises({'unsqueeze', 'dimension 4 out of range'}, function() return x:unsqueeze(4) end)
    H.raises({'sub: range [1, 4] out of bounds for dimension 2 of size 3'}, function() return x:sub(1, 2, 1, 4) end)
    H.raises({'unfold: size 4 and step 1 invalid for dimension 2 of size 3'}, function() return x:unfold(2, 4, 1) end)
    H.raises({'t: expected a 2-dimensional tensor, got 2x3x1'}, function() return x:view(2, 3, 1):t() end)
    unchanged()
  end)

  it('checks view, reshape and expand shapes', function()
    H.raises({'view: shape 4x2 has 8 elements, the tensor (2x3) has 6'}, function() return x:view(4, 2) end)
    H.raises({'view: only one size may be -1'}, function() return x:view(-1, -1) end)
    H.raises({'view: cannot infer size -1 for 6 elements (shape 2x3)'}, function() return x:view(-1, 4) end)
    H.raises({'view: shape 6 is not compatible', 'non-contiguous 3x2'}, function() return x:t():view(6) end)
    H.raises({'reshape: shape 8 has 8 elements, the tensor (2x3) has 6'}, function() return x:reshape(8) end)
    H.raises({'reshape: shape 4 has 4 elements, the tensor (3x2) has 6'}, function() return x:t():reshape(4) end)
    H.raises({'expand: cannot expand a 2x3 tensor to 2x4'}, function() return x:expand(2, 4) end)
    H.raises({'expand: cannot expand a 2x3 tensor to 3'}, function() return x:expand(3) end)
    unchanged()
  end)

  it('checks copy sizes and leaves the destination unchanged', function()
    H.raises({'copy: sizes 2x3 and 4 have different numbers of elements (6 and 4)'},
             function() return x:copy(torch.zeros(4)) end)
    unchanged()
  end)

  it('checks element access', function()
    H.raises({'index: index 3 out of range for a dimension of size 2'}, function() return x[3] end)
    H.raises({'index: index -3 out of range'}, function() return x[-3] end)
    H.raises({'index: 3 indices for a 2-dimensional tensor'}, function() return x[{1, 1, 1}] end)
    H.raises({'index: range {2, 5} out of bounds for dimension 2 of size 3'}, function() return x[{1, {2, 5}}] end)
    H.raises({'index: entry 1 of the index table is a string'}, function() return x[{'a'}] end)
    H.raises({'index: indexing an empty tensor'}, function() return torch.Tensor()[1] end)
    H.raises({'index: index 4 out of range'}, function() x[1][4] = 1 end)
    H.raises({'number expected, got string'}, function() x[1][1] = 'a' end)
    H.raises({'copy: sizes 3 and 2 have different numbers of elements'}, function() x[1] = torch.zeros(2) end)
    H.raises({'item: tensor of size 2x3 has 6 elements, expected 1'}, function() return x:item() end)
    unchanged()
  end)

  it('checks set and type conversions', function()
    H.raises({'set: dtypes float32 and int64 differ'}, function() return x:set(torch.LongTensor(2)) end)
    H.raises({"unknown dtype 'torch.NopeTensor'"}, function() return x:type('torch.NopeTensor') end)
    H.raises({'Tensor: cannot view a torch.FloatTensor tensor as torch.LongTensor'},
             function() return torch.LongTensor(x) end)
    unchanged()
  end)
end)
