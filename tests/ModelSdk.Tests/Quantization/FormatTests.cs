using ModelSdk.Quantization;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Quantization;

/// <summary>The traits table and the quantizers, one loop over every format (ggml's test-quantize-fns idea).</summary>
public sealed class FormatTests
{
    public static TheoryData<string> PackedFormats => [.. TensorFormats.All.Where(f => f.IsPacked).Select(f => f.Name)];

    private static TensorFormat Format(string name)
    {
        Assert.True(TensorTypeExtensions.TryParse(name, out var type));
        return TensorFormats.Of(type);
    }

    [Fact]
    public void Table_CoversEveryType_OnceEach_WithUniqueNames()
    {
        Assert.Equal(Enum.GetValues<TensorType>().Order(), TensorFormats.All.Select(f => f.Type).Order());
        Assert.Equal(TensorFormats.All.Count, TensorFormats.All.Select(f => f.Name).Distinct().Count());
        foreach (var format in TensorFormats.All)
        {
            Assert.Same(format, TensorFormats.Of(format.Type));
            Assert.Equal(format.Name, format.Type.ToManifestName());
        }
    }

    [Fact]
    public void BlockSizes_MatchGgml()
    {
        // ggml: block_q8_0 = 2 + 32 bytes, block_q4_0 = 2 + 16, block_q4_1 = 4 + 16.
        Assert.Equal(34, TensorFormats.Of(TensorType.Q8G32).BytesPerGroup);
        Assert.Equal(18, TensorFormats.Of(TensorType.Q4G32Sym).BytesPerGroup);
        Assert.Equal(20, TensorFormats.Of(TensorType.Q4G32Asym).BytesPerGroup);
        Assert.Equal(4.5, TensorFormats.Of(TensorType.Q4G32Sym).BitsPerWeight);
        Assert.Equal(4.125, TensorFormats.Of(TensorType.Q4G128Sym).BitsPerWeight);
        Assert.Equal(16, TensorFormats.Of(TensorType.F16).BitsPerWeight);
    }

    [Theory]
    [MemberData(nameof(PackedFormats))]
    public void ByteLength_IsCodesPlusParameters_AndRaggedRowsAreAllowed(string name)
    {
        var f = Format(name);
        foreach (var cols in new long[] { 32, 64, 96, 128, 288, 768, 2048 })
        {
            var groupSize = f.PerRow ? cols : f.GroupSize;
            var groups = (cols + groupSize - 1) / groupSize;
            Assert.Equal(groups, f.GroupsPerRow(cols));
            Assert.Equal(7 * (cols * f.Bits / 8 + groups * f.ParamBytesPerGroup), f.ByteLength([7, cols]));
            var layout = f.Layout(7, cols);
            Assert.Equal(f.ByteLength([7, cols]), layout.TotalBytes);
            Assert.Equal(cols - (groups - 1) * groupSize, layout.GroupLength(groups - 1));
        }
        Assert.Null(f.ByteLength([7, 48]));
        Assert.Null(f.ByteLength([7, 0]));
        Assert.Null(f.ByteLength([]));
        Assert.Equal(long.MaxValue, f.ByteLength([long.MaxValue / 2, 64]));
    }

    [Fact]
    public void Q8Row_HasOneScalePerRow_WhateverTheRowLength()
    {
        var f = TensorFormats.Of(TensorType.Q8Row);
        Assert.True(f.PerRow && f.Int8Activations);
        Assert.Equal(8, f.BitsPerWeight);
        Assert.Equal(3 * (288 + 2), f.ByteLength([3, 288]));
        Assert.Equal(3 * (768 + 2), f.ByteLength([3, 768]));
        Assert.Null(TensorFormats.Find(8, 0, QuantScheme.Symmetric)); // Find looks up group formats only
        Assert.All(TensorFormats.All.Where(g => g.Type != TensorType.Q8Row), g => Assert.False(g.Int8Activations || g.PerRow));

        // Each row's scale is its own max|w| / 127: a large row does not coarsen a small one.
        var values = new float[2 * 64];
        for (var i = 0; i < 64; i++) { values[i] = (i - 32) / 32f; values[64 + i] = (i - 32) / 3200f; }
        var packed = PackedTensor.QuantizeRtn(f, values, 2, 64);
        Assert.Equal(1, packed.GroupsPerRow);
        Assert.Equal(HalfBits.Round(1f / 127), packed.GetParams(0, 0).Scale);
        Assert.Equal(HalfBits.Round(0.01f / 127), packed.GetParams(1, 0).Scale);
        Assert.Equal(-127, packed.GetCode(0, 0));
        Assert.Equal(-127, packed.GetCode(1, 0));
    }

    [Fact]
    public void ElementSize_IsRefusedForPackedTypes()
    {
        Assert.Equal(4, TensorType.F32.ElementSize());
        Assert.Equal(2, TensorType.F16.ElementSize());
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorType.Q4G32Sym.ElementSize());
    }

    [Theory]
    [MemberData(nameof(PackedFormats))]
    public void Rtn_RoundTrip_ErrorIsAtMostHalfAStep(string name)
    {
        var f = Format(name);
        const int rows = 5, cols = 288; // 288 = 4·64 + 32 = 2·128 + 32: ragged last groups for g64 and g128
        var values = Numerics.Random(rows * cols, 42, 0.1f);
        values[3] = 0.9f; // an outlier sets its group's scale
        var packed = PackedTensor.QuantizeRtn(f, values, rows, cols);
        Assert.Equal(f.ByteLength([rows, cols]), packed.Data.Length);
        var decoded = packed.Dequantize();
        for (var r = 0; r < rows; r++)
        for (var g = 0; g < packed.GroupsPerRow; g++)
        {
            var p = packed.GetParams(r, g);
            // Half a quantization step (a whole one on Q4_0's clamped side: codes reach −8·d but only +7·d), plus what
            // fp16 rounding of the scale (2^-11 relative) moves the largest code, and of the min.
            var steps = f.Bits == 4 && f.Scheme == QuantScheme.Symmetric ? 1f : 0.5f;
            var bound = MathF.Abs(p.Scale) * (steps + f.MaxCode / 2048f) + MathF.Abs(p.Min) / 2048f + 1e-7f;
            for (var i = 0; i < packed.GroupLength(g); i++)
            {
                var c = g * f.GroupSize + i;
                Assert.True(MathF.Abs(decoded[r * cols + c] - values[r * cols + c]) <= bound,
                    $"{name} row {r} col {c}: {values[r * cols + c]} -> {decoded[r * cols + c]} (scale {p.Scale})");
            }
        }
        // q8_row: the outlier sets the step of its whole row (288 values), not of a group of 32.
        var maxNmse = f.Bits == 8 ? (f.PerRow ? 1e-3 : 1e-4) : 5e-2;
        Assert.True(Numerics.Nmse(decoded, values) < maxNmse, $"NMSE {Numerics.Nmse(decoded, values)}");
    }

    [Theory]
    [MemberData(nameof(PackedFormats))]
    public void CodesAndParams_RoundTripThroughTheLayout(string name)
    {
        var f = Format(name);
        var packed = new PackedTensor(f, 3, 96);
        var random = new Random(7);
        var codes = new int[3, 96];
        for (var r = 0; r < 3; r++)
        for (var g = 0; g < packed.GroupsPerRow; g++)
        {
            var group = new int[packed.GroupLength(g)];
            for (var i = 0; i < group.Length; i++) group[i] = codes[r, g * f.GroupSize + i] = random.Next(f.MinCode, f.MaxCode + 1);
            packed.SetGroup(r, g, group, new GroupParams(0.5f + r + g, f.Scheme == QuantScheme.Asymmetric ? -1.25f * g : 0));
        }
        for (var r = 0; r < 3; r++)
        for (var c = 0; c < 96; c++)
            Assert.Equal(codes[r, c], packed.GetCode(r, c));
        var last = packed.GroupsPerRow - 1;
        Assert.Equal(new GroupParams(1.5f + last, f.Scheme == QuantScheme.Asymmetric ? -1.25f * last : 0), packed.GetParams(1, last));
        Assert.Throws<ArgumentOutOfRangeException>(() => packed.SetCode(0, 0, f.MaxCode + 1));
    }

    [Fact]
    public void Int4_NibbleOrder_IsGgmlQ4_0_InEveryBlockOfAGroup()
    {
        var packed = new PackedTensor(TensorFormats.Of(TensorType.Q4G64Sym), 1, 64);
        var codes = Enumerable.Range(0, 64).Select(i => i % 16).ToArray();
        packed.SetGroup(0, 0, codes, new GroupParams(1f));
        // Block 0 (values 0..31): byte j = value j | value j+16 << 4; block 1 (values 32..63) follows at byte 16.
        for (var j = 0; j < 16; j++)
        {
            Assert.Equal((byte)(codes[j] | codes[j + 16] << 4), packed.Data[j]);
            Assert.Equal((byte)(codes[32 + j] | codes[48 + j] << 4), packed.Data[16 + j]);
        }
    }

    [Fact]
    public void Q4Sym_FollowsGgmlQ4_0_TheLargestMagnitudeIsCodeZero()
    {
        var f = TensorFormats.Of(TensorType.Q4G32Sym);
        var group = Numerics.Random(32, 3, 0.5f);
        group[5] = -2f;
        var codes = new int[32];
        var p = GroupQuantizer.QuantizeGroup(f, group, codes);
        Assert.Equal(HalfBits.Round(-2f / -8f), p.Scale);
        Assert.Equal(0, codes[5]);
        Assert.Equal(-2f, GroupQuantizer.Decode(f, codes[5], p));
        group[5] = 2f; // positive extreme: scale negative, code 0 again
        p = GroupQuantizer.QuantizeGroup(f, group, codes);
        Assert.Equal(-0.25f, p.Scale);
        Assert.Equal(0, codes[5]);
    }

    [Fact]
    public void Q4Asym_FollowsGgmlQ4_1_MinAndMaxAreExact()
    {
        var f = TensorFormats.Of(TensorType.Q4G32Asym);
        var group = Enumerable.Range(0, 32).Select(i => -1f + i * (3f / 31)).ToArray(); // -1 .. 2
        var codes = new int[32];
        var p = GroupQuantizer.QuantizeGroup(f, group, codes);
        Assert.Equal(0, codes[0]);
        Assert.Equal(15, codes[31]);
        Assert.Equal(-1f, p.Min);
        Assert.Equal(HalfBits.Round(3f / 15), p.Scale);
    }

    [Theory]
    [MemberData(nameof(PackedFormats))]
    public void FindParamsEncodeDecode_IsWhatGptqNeeds_ConsistentWithTheStoredValues(string name)
    {
        var f = Format(name);
        var length = f.GroupSizeFor(96); // a per-row type's group is the row
        var group = Numerics.Random(length, 11, 0.2f);
        var p = GroupQuantizer.FindParams(f, group);
        Assert.Equal(p, p.Rounded()); // already as stored
        var packed = new PackedTensor(f, 1, length);
        var codes = group.Select(v => GroupQuantizer.Encode(f, v, p)).ToArray();
        packed.SetGroup(0, 0, codes, p);
        var row = new float[length];
        packed.DequantizeRow(0, row);
        for (var i = 0; i < length; i++)
        {
            Assert.InRange(codes[i], f.MinCode, f.MaxCode);
            Assert.Equal(GroupQuantizer.Decode(f, codes[i], p), row[i]);
            var steps = f.Bits == 4 && f.Scheme == QuantScheme.Symmetric ? 1f : 0.5f; // Q4_0's clamped side
            Assert.True(MathF.Abs(row[i] - group[i]) <= MathF.Abs(p.Scale) * steps + 1e-6f, $"{group[i]} -> {row[i]}");
        }
        Assert.Equal(f.ZeroCode, GroupQuantizer.Encode(f, 0.3f, new GroupParams(0f))); // a zero scale encodes everything as 0
    }

    [Fact]
    public void HalfBits_MatchesSystemHalf_IncludingSubnormals()
    {
        for (var bits = 0; bits < 0x10000; bits++)
        {
            var exponent = (bits >> 10) & 0x1f;
            if (exponent == 0x1f) continue; // inf/NaN never occur in packed tensors
            Assert.Equal((float)BitConverter.UInt16BitsToHalf((ushort)bits), HalfBits.ToFloat((ushort)bits));
        }
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)0.1f), HalfBits.FromFloat(0.1f));
    }
}
