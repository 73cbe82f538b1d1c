using System.Runtime.InteropServices;
using ModelSdk.Architecture;
using ModelSdk.Compression.Import;
using ModelSdk.Quantization;
using ModelSdk.Sparsity;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes;

/// <summary>
/// The model while passes transform it: the architecture and named tensors in the artifact's naming and order
/// (<see cref="Tensors.TensorNames"/>). Tensors start as views of the imported checkpoint (memory-mapped fp32) and are
/// replaced as passes produce new ones — fp32 arrays (<see cref="SetFloats"/>), fp16 (<see cref="SetHalf"/>) or packed
/// quantized matrices (<see cref="SetPacked"/>) — so the import is never modified and can serve as the reference.
/// The compiler writes the tensors into the artifact in <see cref="TensorNames"/> order.
/// </summary>
public sealed class WorkingModel : IDisposable
{
    private readonly List<string> _order = [];
    private readonly Dictionary<string, WorkingTensor> _tensors = new(StringComparer.Ordinal);
    private readonly IDisposable? _owner;

    public WorkingModel(LlamaConfig config, IEnumerable<WorkingTensor> tensors, IDisposable? owner = null)
    {
        Config = config;
        _owner = owner;
        foreach (var tensor in tensors)
        {
            if (!_tensors.TryAdd(tensor.Name, tensor)) throw new ArgumentException($"Tensor '{tensor.Name}' is listed twice.", nameof(tensors));
            _order.Add(tensor.Name);
        }
    }

    /// <summary>A working model over an import's tensors; the import stays owned by the caller (or by this model when <paramref name="ownsImport"/>).</summary>
    public static WorkingModel FromImported(ImportedModel imported, bool ownsImport = false)
        => new(imported.Config, imported.Tensors.Select(t => new WorkingTensor(t.Name, t.Type, t.Shape, t.Data)), ownsImport ? imported : null);

    /// <summary>The architecture; only <see cref="KeepLayers"/> changes it (the block count).</summary>
    public LlamaConfig Config { get; private set; }

    /// <summary>Every tensor's name, in artifact order.</summary>
    public IReadOnlyList<string> TensorNames => _order;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public WorkingTensor this[string name]
        => _tensors.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"The model has no tensor '{name}'.");

    /// <summary>The seven matrices of every layer (wq, wk, wv, wo, w1, w2, w3), layer by layer.</summary>
    public IReadOnlyList<string> LayerMatrices
    {
        get
        {
            var names = new List<string>();
            for (var l = 0; l < Config.Layers; l++)
                names.AddRange([Tensors.TensorNames.Wq(l), Tensors.TensorNames.Wk(l), Tensors.TensorNames.Wv(l), Tensors.TensorNames.Wo(l),
                    Tensors.TensorNames.W1(l), Tensors.TensorNames.W2(l), Tensors.TensorNames.W3(l)]);
            return names;
        }
    }

    /// <summary>
    /// The [vocab, dim] matrices: the token embedding, and the classifier when it is not shared (a shared classifier
    /// <i>is</i> the embedding: quantizing one quantizes both; the runtime dequantizes embedding rows on lookup).
    /// </summary>
    public IReadOnlyList<string> VocabularyMatrices
        => Config.SharedClassifier ? [Tensors.TensorNames.TokenEmbedding] : [Tensors.TensorNames.TokenEmbedding, Tensors.TensorNames.Classifier];

    /// <summary>A tensor's values as a new fp32 array, whatever it is stored as (packed types are dequantized).</summary>
    public float[] GetFloats(string name)
    {
        var tensor = this[name];
        if (tensor.Packed is { } packed) return packed.Dequantize();
        if (TensorFormats.Of(tensor.Type) is { Sparse24: true } sparse)
        {
            var bytes = new byte[checked((int)sparse.ByteLength(tensor.Shape)!.Value)];
            ReadInto(tensor.Data, bytes);
            return Sparse24Codec.Decode(sparse, bytes, tensor.Rows, tensor.Cols);
        }
        var values = new float[checked((int)tensor.ElementCount)];
        switch (tensor.Type)
        {
            case TensorType.F32:
                ReadInto(tensor.Data, values);
                break;
            case TensorType.F16:
            {
                var bits = new ushort[values.Length];
                ReadInto(tensor.Data, bits);
                for (var i = 0; i < values.Length; i++) values[i] = HalfBits.ToFloat(bits[i]);
                break;
            }
            default:
                throw new InvalidOperationException($"Tensor '{name}' is {tensor.Type.ToManifestName()}, which has no fp32 values.");
        }
        return values;
    }

    private static void ReadInto<T>(TensorData data, T[] destination) where T : unmanaged
    {
        var at = 0;
        data.WriteTo(chunk =>
        {
            chunk.CopyTo(MemoryMarshal.AsBytes(destination.AsSpan())[at..]);
            at += chunk.Length;
        });
    }

    /// <summary>Replaces a tensor by fp32 values of the same shape.</summary>
    public void SetFloats(string name, float[] values)
    {
        var old = this[name];
        if (values.LongLength != old.ElementCount)
            throw new ArgumentException($"Tensor '{name}' has {old.ElementCount} elements, not {values.LongLength}.", nameof(values));
        _tensors[name] = new WorkingTensor(name, TensorType.F32, old.Shape, TensorData.FromFloats(values));
    }

    /// <summary>Replaces a tensor by fp16 values (bits, see <see cref="HalfBits"/>) of the same shape.</summary>
    public void SetHalf(string name, ushort[] bits)
    {
        var old = this[name];
        if (bits.LongLength != old.ElementCount)
            throw new ArgumentException($"Tensor '{name}' has {old.ElementCount} elements, not {bits.LongLength}.", nameof(bits));
        var bytes = new byte[bits.Length * 2];
        MemoryMarshal.AsBytes(bits.AsSpan()).CopyTo(bytes);
        _tensors[name] = new WorkingTensor(name, TensorType.F16, old.Shape, TensorData.FromBytes(bytes));
    }

    /// <summary>Replaces a [rows, cols] matrix by a packed one of the same shape.</summary>
    public void SetPacked(string name, PackedTensor packed)
    {
        var old = this[name];
        if (old.Shape.Length != 2 || old.Shape[0] != packed.Rows || old.Shape[1] != packed.Cols)
            throw new ArgumentException($"Tensor '{name}' is [{string.Join(", ", old.Shape)}], not [{packed.Rows}, {packed.Cols}].", nameof(packed));
        _tensors[name] = new WorkingTensor(name, packed.Format.Type, old.Shape, TensorData.FromBytes(packed.Data)) { Packed = packed };
    }

    /// <summary>Replaces a [rows, cols] 2:4 sparse matrix by its compressed form (<see cref="TensorFormat.Sparse24"/>); the values stay the same (fp16 rounds them).</summary>
    public void SetSparse24(string name, TensorFormat format, float[] values)
    {
        var old = this[name];
        if (old.Shape.Length != 2 || values.LongLength != old.ElementCount)
            throw new ArgumentException($"Tensor '{name}' is [{string.Join(", ", old.Shape)}], not a matrix of {values.LongLength} values.", nameof(values));
        _tensors[name] = new WorkingTensor(name, format.Type, old.Shape, TensorData.FromBytes(Sparse24Codec.Encode(format, values, old.Rows, old.Cols)));
    }

    /// <summary>
    /// Replaces a [rows, cols] matrix by the low-rank product of <paramref name="factors"/>: the artifact stores the two
    /// factors (<see cref="Tensors.TensorNames.LowRankA"/>, <see cref="Tensors.TensorNames.LowRankB"/>, fp32) and the runtime
    /// multiplies by them in turn. The tensor's data is their dense fp32 product, so later passes read it like any matrix
    /// (distillation trains the factors, so the product keeps its rank); a pass that sets the tensor again (quantization,
    /// pruning) drops the factors and the artifact then stores that pass's dense matrix.
    /// </summary>
    /// <param name="storeFactors">False stores the dense product in the artifact (still with the factors for later passes); null keeps the tensor's choice (factors for a tensor that was not low-rank).</param>
    public void SetLowRank(string name, Structural.LowRankFactors factors, bool? storeFactors = null)
    {
        var old = this[name];
        if (old.Shape.Length != 2 || old.Rows != factors.Rows || old.Cols != factors.Cols)
            throw new ArgumentException($"Tensor '{name}' is [{string.Join(", ", old.Shape)}], not [{factors.Rows}, {factors.Cols}].", nameof(factors));
        _tensors[name] = new WorkingTensor(name, TensorType.F32, old.Shape, TensorData.FromFloats(factors.Product()))
        {
            LowRank = factors,
            StoresFactors = storeFactors ?? (old.LowRank is null || old.StoresFactors),
        };
    }

    /// <summary>
    /// Keeps only the blocks <paramref name="layers"/> (distinct, ascending) and numbers them 0, 1, ... in that order:
    /// their tensors keep their values and formats under the new names, the other blocks' tensors are gone, and
    /// <see cref="Config"/> gets the new block count. Depth pruning; everything downstream (artifact, manifest, generated
    /// class, runtime) reads the block count from the config.
    /// </summary>
    public void KeepLayers(IReadOnlyList<int> layers)
    {
        if (layers.Count == 0) throw new ArgumentException("At least one block must stay.", nameof(layers));
        for (var i = 0; i < layers.Count; i++)
            if (layers[i] < 0 || layers[i] >= Config.Layers || (i > 0 && layers[i] <= layers[i - 1]))
                throw new ArgumentException($"Blocks to keep must be distinct, ascending and below {Config.Layers}: {string.Join(", ", layers)}.", nameof(layers));
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal); // old name -> new name of every kept block tensor
        var blockTensors = new HashSet<string>(StringComparer.Ordinal);
        for (var layer = 0; layer < Config.Layers; layer++)
        {
            var index = IndexOf(layers, layer);
            foreach (var (oldName, newName) in BlockTensorNames(layer).Zip(BlockTensorNames(Math.Max(index, 0))))
            {
                blockTensors.Add(oldName);
                if (index >= 0) renamed[oldName] = newName;
            }
        }
        var order = new List<string>();
        var tensors = new Dictionary<string, WorkingTensor>(StringComparer.Ordinal);
        foreach (var name in _order)
        {
            if (!blockTensors.Contains(name))
            {
                order.Add(name);
                tensors[name] = _tensors[name];
            }
            else if (renamed.TryGetValue(name, out var newName))
            {
                order.Add(newName);
                tensors[newName] = _tensors[name] with { Name = newName };
            }
        }
        // Kept tensors stay where they were relative to each other and kept blocks are ascending, so the renumbered order
        // is the canonical one for the smaller model (llama2.c's: each kind for every block in turn).
        _order.Clear();
        _order.AddRange(order);
        _tensors.Clear();
        foreach (var (name, tensor) in tensors) _tensors[name] = tensor;
        Config = Config with { Layers = layers.Count };
    }

    private static int IndexOf(IReadOnlyList<int> list, int value)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] == value) return i;
        return -1;
    }

    /// <summary>The nine tensors of block <paramref name="layer"/>.</summary>
    private static IEnumerable<string> BlockTensorNames(int layer) =>
    [
        Tensors.TensorNames.AttentionNorm(layer), Tensors.TensorNames.Wq(layer), Tensors.TensorNames.Wk(layer), Tensors.TensorNames.Wv(layer),
        Tensors.TensorNames.Wo(layer), Tensors.TensorNames.FfnNorm(layer), Tensors.TensorNames.W1(layer), Tensors.TensorNames.W2(layer),
        Tensors.TensorNames.W3(layer),
    ];

    /// <summary>Replaces a packed int8 matrix with at most 2 non-zero codes in every group of 4 by its compressed 2:4 form (same codes and scales).</summary>
    public void SetSparse24(string name, TensorFormat format, PackedTensor dense)
    {
        var old = this[name];
        if (old.Shape.Length != 2 || old.Shape[0] != dense.Rows || old.Shape[1] != dense.Cols)
            throw new ArgumentException($"Tensor '{name}' is [{string.Join(", ", old.Shape)}], not [{dense.Rows}, {dense.Cols}].", nameof(dense));
        _tensors[name] = new WorkingTensor(name, format.Type, old.Shape, TensorData.FromBytes(Sparse24Codec.Encode(format, dense)));
    }

    public void Dispose() => _owner?.Dispose();
}

/// <summary>One tensor of a <see cref="WorkingModel"/>: its type, shape and bytes (as the artifact stores them).</summary>
public sealed record WorkingTensor(string Name, TensorType Type, long[] Shape, TensorData Data)
{
    /// <summary>The packed matrix when <see cref="Type"/> is a quantized type.</summary>
    public PackedTensor? Packed { get; init; }

    /// <summary>The factors when the low-rank pass made this matrix (its data is then their product; the artifact stores the factors).</summary>
    public Structural.LowRankFactors? LowRank { get; init; }

    /// <summary>Whether the artifact stores <see cref="LowRank"/>'s factors (true) or the dense product (LowRankStorage="dense").</summary>
    public bool StoresFactors { get; init; }

    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    /// <summary>Rows of a matrix (the product of all but the last dimension).</summary>
    public int Rows => checked((int)(ElementCount / Shape[^1]));

    /// <summary>Row length (the last dimension: a matrix's input dimension).</summary>
    public int Cols => checked((int)Shape[^1]);
}
