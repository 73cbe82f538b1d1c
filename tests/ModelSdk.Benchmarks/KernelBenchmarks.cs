using System.Diagnostics;
using System.Runtime.InteropServices;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;
using ModelSdk.Runtime.Kernels.Reference;

namespace ModelSdk.Benchmarks;

/// <summary>Single-thread kernel throughput for each vector width and the scalar reference, on stories15M's and TinyLlama's shapes.</summary>
internal static unsafe class KernelBenchmarks
{
    public static List<string[]> MatVecRows()
    {
        var table = new List<string[]>();
        (int Rows, int Cols)[] shapes = [(288, 288), (768, 288), (288, 768), (32000, 288), (2048, 2048), (5632, 2048)];
        foreach (var (rows, cols) in shapes)
        {
            var w = (float*)NativeMemory.AlignedAlloc((nuint)((long)rows * cols * 4), 64);
            var x = (float*)NativeMemory.AlignedAlloc((nuint)(cols * 4), 64);
            var y = (float*)NativeMemory.AlignedAlloc((nuint)(rows * 4), 64);
            try
            {
                new Span<float>(w, rows * cols).Fill(0.01f);
                new Span<float>(x, cols).Fill(0.5f);
                var bytes = (long)rows * cols * 4;
                var repeats = (int)Math.Clamp(4_000_000_000L / bytes, 3, 20000);
                var results = new List<string>();
                foreach (var width in VectorWidths.Accelerated.Append((VectorWidth)(-1)))
                {
                    Action run = width == (VectorWidth)(-1)
                        ? () => MatVecReference.Rows(w, x, y, cols, 0, rows, false)
                        : () => MatVec.Rows(w, x, y, cols, 0, rows, false, width);
                    var r = width == (VectorWidth)(-1) ? Math.Max(3, repeats / 20) : repeats;
                    for (var i = 0; i < Math.Min(r, 50); i++) run();
                    var watch = Stopwatch.StartNew();
                    for (var i = 0; i < r; i++) run();
                    var seconds = watch.Elapsed.TotalSeconds / r;
                    results.Add($"{(width == (VectorWidth)(-1) ? "reference" : width.ToString())} {bytes / seconds / 1e9:F1}");
                }
                table.Add([$"matvec {rows}x{cols} ({bytes / 1e6:F1} MB), GB/s by width", "1", string.Join(", ", results), "", ""]);
            }
            finally
            {
                NativeMemory.AlignedFree(w);
                NativeMemory.AlignedFree(x);
                NativeMemory.AlignedFree(y);
            }
        }
        return table;
    }
}
