using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ModelSdk.Tests.Runtime.Support;

/// <summary>
/// Derives a grouped-query-attention model from a multi-head llama2.c checkpoint: every <c>group</c> consecutive K heads
/// (and V heads) are replaced by their mean, so 6 heads over 6 kv heads become 6 heads over 3 kv heads. The result is a
/// real llama2.c file (legacy version 0) that run.c reads as well; its greedy output is recorded in Data/.
/// </summary>
internal static class GqaCheckpoint
{
    public static void Derive(string source, string destination, int group = 2)
    {
        var bytes = File.ReadAllBytes(source);
        var header = MemoryMarshal.Cast<byte, int>(bytes.AsSpan(0, 28)).ToArray();
        int dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kvHeads = header[4], seq = header[6];
        var vocab = Math.Abs(header[5]);
        if (kvHeads % group != 0) throw new ArgumentException($"{kvHeads} kv heads cannot be pooled in groups of {group}.");
        int headSize = dim / heads, kvDim = headSize * kvHeads, newKvHeads = kvHeads / group, newKvDim = headSize * newKvHeads;
        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(28)).ToArray();

        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write);
        var newHeader = (int[])header.Clone();
        newHeader[4] = newKvHeads;
        var headerBytes = new byte[28];
        for (var i = 0; i < newHeader.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(headerBytes.AsSpan(i * 4), newHeader[i]);
        output.Write(headerBytes);

        var at = 0;
        void Copy(long count)
        {
            output.Write(MemoryMarshal.AsBytes(floats.AsSpan(at, checked((int)count))));
            at += checked((int)count);
        }
        void Pool()
        {
            // [layers, kvDim, dim] → [layers, newKvDim, dim]: new head j, row r = mean over g of old head (j·group + g), row r.
            var pooled = new float[newKvDim * dim];
            for (var l = 0; l < layers; l++)
            {
                var layer = floats.AsSpan(at + l * kvDim * dim, kvDim * dim);
                for (var j = 0; j < newKvHeads; j++)
                for (var r = 0; r < headSize; r++)
                for (var c = 0; c < dim; c++)
                {
                    var sum = 0f;
                    for (var g = 0; g < group; g++) sum += layer[((j * group + g) * headSize + r) * dim + c];
                    pooled[(j * headSize + r) * dim + c] = sum / group;
                }
                output.Write(MemoryMarshal.AsBytes(pooled.AsSpan()));
            }
            at += layers * kvDim * dim;
        }

        Copy((long)vocab * dim);               // token_embedding
        Copy((long)layers * dim);              // rms_att
        Copy((long)layers * dim * dim);        // wq
        Pool();                                // wk
        Pool();                                // wv
        Copy((long)layers * dim * dim);        // wo
        Copy((long)layers * dim);              // rms_ffn
        Copy((long)layers * hidden * dim);     // w1
        Copy((long)layers * dim * hidden);     // w2
        Copy((long)layers * hidden * dim);     // w3
        Copy(dim);                             // rms_final
        Copy((long)seq * headSize);            // freq_cis_real + freq_cis_imag (seq × headSize/2 each)
        if (header[5] < 0) Copy((long)vocab * dim); // wcls
        if (at != floats.Length) throw new InvalidDataException($"{source}: {floats.Length - at} floats left over; not a version-0 checkpoint.");
    }
}
