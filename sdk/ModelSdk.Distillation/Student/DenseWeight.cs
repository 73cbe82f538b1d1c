using ModelSdk.Compression.Passes;
using ModelSdk.Quantization;
using ModelSdk.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelSdk.Distillation.Student;

/// <summary>An fp32 or fp16 tensor: every value is a parameter; fp16 tensors are rounded back to fp16 on export.</summary>
public sealed class DenseWeight : StudentWeight
{
    private readonly TensorType _type;
    private readonly TorchSharp.Modules.Parameter _value;

    public DenseWeight(string name, TensorType type, long[] shape, float[] values, bool trainable) : base(name)
    {
        if (type is not (TensorType.F32 or TensorType.F16)) throw new ArgumentException($"{name} is {type.ToManifestName()}, not fp32 or fp16.", nameof(type));
        _type = type;
        using var data = tensor(values, shape);
        _value = new TorchSharp.Modules.Parameter(data.clone(), requires_grad: trainable);
        Parameters = trainable ? [_value] : [];
    }

    public override IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    public override Tensor Value() => _value;

    public override void ExportTo(WorkingModel model)
    {
        var values = _value.detach().cpu().data<float>().ToArray();
        if (_type == TensorType.F32) model.SetFloats(Name, values);
        else model.SetHalf(Name, Array.ConvertAll(values, HalfBits.FromFloat));
    }

    public override void Dispose() => _value.Dispose();
}
