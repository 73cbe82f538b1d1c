using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Benchmarks;

/// <summary>
/// What the memory system delivers, measured in the same run as the model so ratios are meaningful: a multi-threaded
/// vectorized sum over a 1 GiB buffer (read bandwidth, the ceiling of a memory-bound decode step) and a multi-threaded
/// copy of 512 MiB (reported as bytes copied per second; the memory moves twice that).
/// </summary>
internal static unsafe class MemoryBandwidth
{
    public static double Read(int threads, long bytes = 1L << 30, int repeats = 5)
    {
        var buffer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            var count = bytes / sizeof(float);
            Parallel.For(0, threads, t =>
            {
                var (start, end) = Slice(count, t, threads);
                new Span<float>(buffer + start, (int)(end - start)).Fill(1e-3f);
            });
            var best = double.MaxValue;
            var sink = 0f;
            for (var r = 0; r < repeats; r++)
            {
                var sums = new float[threads];
                var watch = Stopwatch.StartNew();
                RunOnThreads(threads, t =>
                {
                    var (start, end) = Slice(count, t, threads);
                    sums[t] = Sum(buffer + start, end - start);
                });
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
                sink += sums.Sum();
            }
            GC.KeepAlive(sink);
            return bytes / best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    public static double Copy(int threads, long bytes = 512L << 20, int repeats = 5)
    {
        var source = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        var destination = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            NativeMemory.Fill(source, (nuint)bytes, 1);
            NativeMemory.Fill(destination, (nuint)bytes, 2);
            var best = double.MaxValue;
            for (var r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                RunOnThreads(threads, t =>
                {
                    var (start, end) = Slice(bytes, t, threads);
                    Buffer.MemoryCopy(source + start, destination + start, end - start, end - start);
                });
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            return bytes / best;
        }
        finally
        {
            NativeMemory.AlignedFree(source);
            NativeMemory.AlignedFree(destination);
        }
    }

    private static (long Start, long End) Slice(long count, int t, int threads)
        => (count * t / threads / 64 * 64, t == threads - 1 ? count : count * (t + 1) / threads / 64 * 64);

    /// <summary>Runs one body per dedicated thread and waits (no thread-pool warm-up effects).</summary>
    private static void RunOnThreads(int threads, Action<int> body)
    {
        if (threads == 1)
        {
            body(0);
            return;
        }
        var workers = Enumerable.Range(1, threads - 1).Select(t => new Thread(() => body(t))).ToArray();
        foreach (var w in workers) w.Start();
        body(0);
        foreach (var w in workers) w.Join();
    }

    /// <summary>The widest accelerated vectors (an unaccelerated Vector512 would be emulated and measure the CPU, not memory).</summary>
    private static float Sum(float* p, long n)
    {
        long i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a = default, b = default, c = default, d = default;
            for (; i + 64 <= n; i += 64)
            {
                a += Vector512.Load(p + i);
                b += Vector512.Load(p + i + 16);
                c += Vector512.Load(p + i + 32);
                d += Vector512.Load(p + i + 48);
            }
            sum = Vector512.Sum(a + b + c + d);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = default, b = default, c = default, d = default;
            for (; i + 32 <= n; i += 32)
            {
                a += Vector256.Load(p + i);
                b += Vector256.Load(p + i + 8);
                c += Vector256.Load(p + i + 16);
                d += Vector256.Load(p + i + 24);
            }
            sum = Vector256.Sum(a + b + c + d);
        }
        else
        {
            Vector128<float> a = default, b = default, c = default, d = default;
            for (; i + 16 <= n; i += 16)
            {
                a += Vector128.Load(p + i);
                b += Vector128.Load(p + i + 4);
                c += Vector128.Load(p + i + 8);
                d += Vector128.Load(p + i + 12);
            }
            sum = Vector128.Sum(a + b + c + d);
        }
        for (; i < n; i++) sum += p[i];
        return sum;
    }
}
