using ModelSdk.Architecture;
using ModelSdk.Diagnostics;
using ModelSdk.Sparsity;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// <c>sparse24-storage</c>: stores every block matrix of a 2:4-pruned model in the compressed 2:4 layout
/// (<see cref="TensorFormat.Sparse24"/>: kept values + 2-bit positions, 0.53 of fp32's bytes, 0.56 of fp16's; int8: the
/// kept codes + positions + the same scales, 0.65 of q8_g32's bytes), which the runtime multiplies with its 2:4 kernels.
/// Not named by users: <see cref="PassRegistry.CreatePipeline"/> appends it when <c>Sparsity="2:4"</c> prunes every block
/// matrix and the weights stay fp32, become fp16, or become symmetric int8 by round-to-nearest (which keeps a pruned zero
/// code 0). Lossless (fp16 rounds as f16 does).
/// </summary>
public sealed class Sparse24StoragePass(TensorType valueType) : IModelPass
{
    public const string PassName = "sparse24-storage";

    /// <summary>The stored type: <see cref="TensorType.F32Sparse24"/>, <see cref="TensorType.F16Sparse24"/> or a q8_gN_sparse24.</summary>
    public TensorFormat Format { get; } = TensorFormats.Sparse24Of(TensorFormats.Of(valueType))
        ?? throw new ArgumentOutOfRangeException(nameof(valueType), valueType, "2:4 storage holds f32, f16 or symmetric int8 values.");

    public string Name => PassName;

    public int Version => 1;

    public IReadOnlyList<KeyValuePair<string, string>> Options => [new("Values", Format.Scheme == QuantScheme.None ? (Format.Bits == 16 ? "f16" : "f32") : Format.Name)];

    public bool NeedsCalibration => false;

    public TensorType? MatrixType => Format.Type;

    public void Validate(LlamaConfig config)
    {
        foreach (var (what, length) in new[] { ("dim", config.Dim), ("hidden_dim", config.HiddenDim) })
            if (length % Sparse24Layout.RowMultipleOf(Format) != 0)
                throw new ModelSdkException(DiagnosticCodes.SparsityGroupDoesNotDivide,
                    $"The compressed 2:4 layout {Format.Name} stores rows of a multiple of {Sparse24Layout.RowMultipleOf(Format)} values, but the model's {what} is {length}.");
    }

    public void Run(WorkingModel model, PassContext context)
    {
        var matrices = model.LayerMatrices;
        for (var i = 0; i < matrices.Count; i++)
        {
            var tensor = model[matrices[i]];
            if (Format.Scheme != QuantScheme.None)
            {
                var packed = tensor.Packed ?? throw new InvalidOperationException($"'{tensor.Name}' is {tensor.Type.ToManifestName()}, not the int8 matrix {Format.Name} stores.");
                model.SetSparse24(tensor.Name, Format, packed);
            }
            else
            {
                var values = model.GetFloats(tensor.Name);
                if (!Sparse24Codec.IsSparse24(values, tensor.Cols))
                    throw new InvalidOperationException($"'{tensor.Name}' is not 2:4 sparse: the pruning before this pass should have made it so.");
                model.SetSparse24(tensor.Name, Format, values);
            }
            context.ReportProgress(Name, (i + 1.0) / matrices.Count);
        }
    }
}
