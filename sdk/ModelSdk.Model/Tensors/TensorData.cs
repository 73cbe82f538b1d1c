using System.Runtime.InteropServices;

namespace ModelSdk.Tensors;

/// <summary>Receives a tensor's bytes in order, in as many pieces as the source likes.</summary>
public delegate void ByteSink(ReadOnlySpan<byte> bytes);

/// <summary>The bytes of one tensor, wherever they live (managed array, memory-mapped input file, ...).</summary>
public abstract class TensorData
{
    public abstract long Length { get; }

    public abstract void WriteTo(ByteSink sink);

    public static TensorData FromBytes(byte[] bytes) => new ArrayData<byte>(bytes);

    public static TensorData FromFloats(float[] values) => new ArrayData<float>(values);

    /// <summary>Bytes at a native address that the caller keeps alive (e.g. a memory-mapped checkpoint).</summary>
    public static unsafe TensorData FromPointer(byte* pointer, long length) => new PointerData(pointer, length);

    private sealed class ArrayData<T>(T[] values) : TensorData where T : unmanaged
    {
        public override long Length => (long)values.Length * Marshal.SizeOf<T>();

        public override void WriteTo(ByteSink sink) => sink(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private sealed unsafe class PointerData(byte* pointer, long length) : TensorData
    {
        public override long Length => length;

        public override void WriteTo(ByteSink sink)
        {
            const int chunk = 1 << 24;
            for (long at = 0; at < length; at += chunk)
                sink(new ReadOnlySpan<byte>(pointer + at, (int)Math.Min(chunk, length - at)));
        }
    }
}
