using ModelSdk.Compression.Passes;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelSdk.Distillation.Student;

/// <summary>
/// One tensor of a <see cref="TorchLlama"/>: how its fp32 value is computed from the parameters that training may
/// change, and how those parameters go back into a <see cref="WorkingModel"/> in the tensor's own storage format.
/// Only what the format can store exactly is trainable, so the exported model computes what the trained one did.
/// </summary>
public abstract class StudentWeight : IDisposable
{
    protected StudentWeight(string name) => Name = name;

    /// <summary>The tensor's name in the working model.</summary>
    public string Name { get; }

    /// <summary>The parameters training updates (empty for a frozen weight).</summary>
    public abstract IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    /// <summary>The fp32 value (part of the autograd graph when trainable).</summary>
    public abstract Tensor Value();

    /// <summary>Writes the trained parameters into <paramref name="model"/>'s tensor of the same name, in its format.</summary>
    public abstract void ExportTo(WorkingModel model);

    /// <summary>
    /// The weight for a working model's tensor: packed ones train their group parameters, low-rank ones their two factors,
    /// fp32/fp16 ones their values.
    /// </summary>
    public static StudentWeight From(WorkingModel model, string name, bool trainable)
        => model[name] switch
        {
            { Packed: { } packed } => new GroupScaledWeight(name, packed, trainable),
            { LowRank: { } factors } => new LowRankWeight(name, factors, trainable),
            var tensor => new DenseWeight(name, tensor.Type, tensor.Shape, model.GetFloats(name), trainable),
        };

    public abstract void Dispose();
}
