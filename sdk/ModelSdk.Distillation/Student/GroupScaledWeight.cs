using ModelSdk.Compression.Passes;
using ModelSdk.Quantization;
using ModelSdk.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelSdk.Distillation.Student;

/// <summary>
/// A packed (quantized) matrix: the integer codes stay as they are; each group's scale (and, for asymmetric formats,
/// its minimum) is a parameter. value = code' · scale[row, group] (+ min[row, group]) with code' the code as the format
/// decodes it at scale 1 — exactly what the kernels compute, so the export (scales rounded to fp16 as stored) runs as trained.
/// </summary>
public sealed class GroupScaledWeight : StudentWeight
{
    private readonly PackedTensor _packed;
    private readonly Tensor _codes, _groupOfColumn;
    private readonly TorchSharp.Modules.Parameter _scales;
    private readonly TorchSharp.Modules.Parameter? _mins;

    public GroupScaledWeight(string name, PackedTensor packed, bool trainable) : base(name)
    {
        _packed = packed;
        int rows = packed.Rows, cols = packed.Cols, groups = packed.GroupsPerRow, groupSize = packed.Layout.GroupSize;
        var asymmetric = packed.Format.Scheme == QuantScheme.Asymmetric;
        var codes = new float[(long)rows * cols];
        var scales = new float[rows * groups];
        var mins = new float[rows * groups];
        var unit = new GroupParams(1f);
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++) codes[(long)r * cols + c] = GroupQuantizer.Decode(packed.Format, packed.GetCode(r, c), unit);
            for (var g = 0; g < groups; g++)
            {
                var p = packed.GetParams(r, g);
                scales[r * groups + g] = p.Scale;
                mins[r * groups + g] = p.Min;
            }
        }
        _codes = tensor(codes, [rows, cols]);
        _groupOfColumn = tensor(Enumerable.Range(0, cols).Select(c => (long)(c / groupSize)).ToArray(), [cols]);
        using (var s = tensor(scales, [rows, groups])) _scales = new TorchSharp.Modules.Parameter(s.clone(), requires_grad: trainable);
        if (asymmetric)
            using (var m = tensor(mins, [rows, groups]))
                _mins = new TorchSharp.Modules.Parameter(m.clone(), requires_grad: trainable);
        Parameters = !trainable ? [] : _mins is null ? [_scales] : [_scales, _mins];
    }

    public override IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    public override Tensor Value()
    {
        var value = _codes * _scales.index_select(1, _groupOfColumn);
        return _mins is null ? value : value + _mins.index_select(1, _groupOfColumn);
    }

    public override void ExportTo(WorkingModel model)
    {
        var scales = _scales.detach().data<float>().ToArray();
        var mins = _mins?.detach().data<float>().ToArray();
        var result = new PackedTensor(_packed.Format, _packed.Rows, _packed.Cols);
        _packed.Data.CopyTo(result.Data, 0);
        var codes = new int[_packed.Layout.GroupSize];
        for (var r = 0; r < _packed.Rows; r++)
            for (var g = 0; g < _packed.GroupsPerRow; g++)
            {
                var length = _packed.GroupLength(g);
                for (var i = 0; i < length; i++) codes[i] = _packed.GetCode(r, g * _packed.Layout.GroupSize + i);
                var at = r * _packed.GroupsPerRow + g;
                result.SetGroup(r, g, codes.AsSpan(0, length), new GroupParams(scales[at], mins?[at] ?? 0f));
            }
        model.SetPacked(Name, result);
    }

    public override void Dispose()
    {
        _codes.Dispose();
        _groupOfColumn.Dispose();
        _scales.Dispose();
        _mins?.Dispose();
    }
}
