using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// A [rows, cols] weight matrix as the kernels read it: its storage type (the traits table, <see cref="TensorFormats"/>)
/// and native pointers to its planes (codes, fp16 scales, fp16 mins; see <see cref="TensorFormat"/> for the layout).
/// For f32 and f16 only <see cref="Data"/> is used. Valid as long as the memory it points at.
/// </summary>
internal readonly unsafe struct WeightMatrix
{
    public WeightMatrix(TensorType type, void* data, int rows, int cols)
    {
        Type = type;
        Data = (byte*)data;
        Rows = rows;
        Cols = cols;
        var format = TensorFormats.Of(type);
        Bits = format.Bits;
        Asymmetric = format.Scheme == QuantScheme.Asymmetric;
        if (format.Sparse24)
        {
            IsSparse24 = true;
            Positions = Data + Sparse24Layout.Of(format, rows, cols).PositionsOffset(0);
        }
        if (format.IsPacked)
        {
            var layout = format.Layout(rows, cols);
            GroupSize = layout.GroupSize;
            Int8Activations = format.Int8Activations;
            GroupsPerRow = (int)layout.GroupsPerRow;
            Scales = (ushort*)(Data + layout.ScalesOffset);
            Mins = Asymmetric ? (ushort*)(Data + layout.MinsOffset) : null;
            RowCodeBytes = (int)layout.RowCodeBytes;
        }
    }

    public static WeightMatrix F32(float* data, int rows, int cols) => new(TensorType.F32, data, rows, cols);

    public TensorType Type { get; }

    /// <summary>The tensor's first byte: fp32/fp16 values, or the codes plane of a packed type.</summary>
    public byte* Data { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int Bits { get; }

    public bool Asymmetric { get; }

    /// <summary>Values per full group of a row (the whole row for per-row types).</summary>
    public int GroupSize { get; }

    /// <summary>W8A8: the kernels quantize x to int8 per token (<see cref="Int8MatVec"/>), not to int16 per block.</summary>
    public bool Int8Activations { get; }

    public int GroupsPerRow { get; }

    public int RowCodeBytes { get; }

    /// <summary>fp16 scales, [rows][groups].</summary>
    public ushort* Scales { get; }

    /// <summary>fp16 mins, [rows][groups] (asymmetric types only).</summary>
    public ushort* Mins { get; }

    /// <summary>A 2:4 sparse matrix (<see cref="TensorFormat.Sparse24"/>): <see cref="Data"/> holds the kept values (fp32 or fp16 by <see cref="Bits"/>).</summary>
    public bool IsSparse24 { get; }

    /// <summary>2:4 positions, [rows][cols / 8] bytes (sparse types only).</summary>
    public byte* Positions { get; }

    public bool IsF32 => Type == TensorType.F32;

    public float* F32Data => (float*)Data;

    /// <summary>Total bytes of the matrix (what one matrix-vector product reads).</summary>
    public long ByteLength => TensorFormats.Of(Type).ByteLength([Rows, Cols])!.Value;
}
