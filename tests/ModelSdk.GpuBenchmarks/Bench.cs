using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ModelSdk.Architecture;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Llama;

namespace ModelSdk.GpuBenchmarks;

/// <summary>Lines as they come (stdout), a table of results printed last, and results.md when an output folder is given.</summary>
internal sealed class Report(string? outDir)
{
    private readonly List<string> _lines = [];
    private readonly List<string> _table = [];

    public int Failures { get; set; }

    public void Line(string text)
    {
        Console.WriteLine(text);
        _lines.Add(text);
    }

    public void Row(params object[] cells) => _table.Add($"| {string.Join(" | ", cells)} |");

    public void Summary()
    {
        var text = new List<string>
        {
            "",
            "| shape | weights | MB/token | prefill (512; 128 for stories15M): tok/s | prefill ms/token | decode ms/token (graph) | decode ms/token (launches) | device ms/step | decode tok/s | weight GB/s | % of copy | prefill speedup per token |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        };
        text.AddRange(_table);
        foreach (var line in text) Console.WriteLine(line);
        if (outDir is not null) File.WriteAllLines(Path.Combine(outDir, "results.md"), [.. _lines, .. text]);
    }
}

internal static class Bench
{
    public static void Guard(Report report, string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            report.Failures++;
            report.Line($"FAILED {what}: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine(e);
        }
    }

    /// <summary>Device-to-device copy of <paramref name="bytes"/>, 10 back to back after a warm-up; GB/s counts bytes read plus written.</summary>
    public static double CopyBandwidth(Accelerator acc, long bytes, Report report)
    {
        var n = bytes / sizeof(float);
        using var a = acc.Allocate1D<float>(n);
        using var b = acc.Allocate1D<float>(n);
        using var stream = acc.CreateStream();
        a.MemSet(stream, 1, 0, a.LengthInBytes);
        b.MemSet(stream, 2, 0, b.LengthInBytes);
        a.View.CopyTo(stream, b.View);
        stream.Synchronize();
        var times = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            const int copies = 10;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < copies; i++)
            {
                if (i % 2 == 0) a.View.CopyTo(stream, b.View);
                else b.View.CopyTo(stream, a.View);
            }
            stream.Synchronize();
            times.Add(watch.Elapsed.TotalSeconds / copies);
        }
        var t = times.Order().ElementAt(times.Count / 2);
        var gbs = 2.0 * bytes / t / 1e9;
        report.Line($"device-to-device copy of {bytes >> 20} MiB: {t * 1e3:F3} ms, {gbs:F0} GB/s (read + write; rounds: {string.Join(", ", times.Select(x => $"{2.0 * bytes / x / 1e9:F0}"))})");
        return gbs;
    }

    public static NativeLlamaWeights Weights(LlamaConfig config, ulong seed, float embeddingScale = 1f)
        => new(config, (name, destination, fanIn) =>
        {
            NativeLlamaWeights.FillRandom(name, destination, fanIn, seed);
            if (embeddingScale != 1f && (name == "tok_embeddings" || name == "output"))
                foreach (ref var v in destination) v *= embeddingScale;
        });

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>Prefill and decode speed of one shape, fp32 and fp16, with the prefill checked against decode.</summary>
    public static void Speed(GpuDevice device, string name, LlamaConfig config, int promptTokens, int decodeSteps, double copyGBs, Report report)
    {
        report.Line("");
        report.Line($"## {name} shape: dim {config.Dim}, hidden {config.HiddenDim}, {config.Layers} layers, {config.Heads} heads / {config.KvHeads} kv, vocab {config.VocabSize}, seq {config.ContextLength}");
        var watch = Stopwatch.StartNew();
        using var weights = Weights(config, seed: 42);
        report.Line($"synthetic weights generated on the host in {watch.Elapsed.TotalSeconds:F1} s");
        var random = new Random(1);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(3, config.VocabSize)).ToArray();

        foreach (var format in new[] { GpuWeightFormat.F32, GpuWeightFormat.F16 })
        {
            watch.Restart();
            using var backend = new GpuBackend(device, weights, format, ownsDevice: false);
            var mb = backend.Weights.BytesPerToken / 1e6;
            report.Line($"{format}: uploaded and compiled in {watch.Elapsed.TotalSeconds:F1} s; {mb:F1} MB of weights per token");

            // Prefill: one warm-up, then the median of 3.
            using var session = backend.CreateGpuSession();
            session.Prefill(prompt, 0, computeLogits: true, CancellationToken.None);
            var prefillTimes = new List<double>();
            for (var r = 0; r < 3; r++)
            {
                watch.Restart();
                session.Prefill(prompt, 0, computeLogits: true, CancellationToken.None);
                session.Synchronize();
                prefillTimes.Add(watch.Elapsed.TotalSeconds);
            }
            var prefill = Median(prefillTimes);
            var prefillLogits = session.Logits().ToArray();

            // The same prompt token by token: the batched path must give the same logits.
            using (var check = backend.CreateGpuSession())
            {
                for (var i = 0; i < prompt.Length; i++) check.Forward(prompt[i], i, computeLogits: i == prompt.Length - 1);
                var nmse = Nmse(prefillLogits, check.Logits());
                report.Line($"  prefill {promptTokens} tokens: {prefill * 1e3:F2} ms ({promptTokens / prefill:F0} tok/s); logits vs token-by-token decode NMSE {nmse:E1}");
                if (!(nmse < (format == GpuWeightFormat.F16 ? 1e-4 : 1e-8))) { report.Failures++; report.Line("  FAILED: prefill and decode disagree"); }
            }

            // Decode after the prompt, greedy with the pick on the device: per step Forward + Argmax (4 bytes back).
            double Decode(GpuSession s, out double deviceStep)
            {
                var token = s.Argmax();
                var pos = promptTokens;
                for (var i = 0; i < 4; i++, pos++) { s.Forward(token, pos, true); token = s.Argmax(); } // warm-up, graph capture
                var times = new List<double>();
                for (var i = 0; i < decodeSteps && pos < config.ContextLength; i++, pos++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    s.Forward(token, pos, true);
                    token = s.Argmax();
                    times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
                // The device's own rate: steps queued back to back, one sync (no host round trip per token).
                var steps = Math.Min(decodeSteps, config.ContextLength - promptTokens - 4);
                var w = Stopwatch.StartNew();
                for (var i = 0; i < steps; i++) s.Forward(token, promptTokens + 4 + i, true);
                s.Synchronize();
                deviceStep = w.Elapsed.TotalSeconds / steps;
                return Median(times);
            }

            session.Prefill(prompt, 0, computeLogits: true, CancellationToken.None);
            var graphStep = Decode(session, out var graphDevice);
            var graphNote = session.UsesGraph ? "graph" : $"no graph ({session.GraphFailure ?? "not CUDA"})";
            backend.UseGraphs = false;
            double launchStep, launchDevice;
            using (var plain = backend.CreateGpuSession())
            {
                plain.Prefill(prompt, 0, computeLogits: true, CancellationToken.None);
                launchStep = Decode(plain, out launchDevice);
            }
            var best = Math.Min(graphStep, launchStep);
            var gbs = backend.Weights.BytesPerToken / best / 1e9;
            report.Line($"  decode at pos {promptTokens}..: {graphStep * 1e3:F3} ms/token ({graphNote}; device {graphDevice * 1e3:F3} ms/step), " +
                $"{launchStep * 1e3:F3} ms/token with plain launches (device {launchDevice * 1e3:F3} ms/step); {gbs:F0} GB/s of weights" +
                (copyGBs > 0 ? $" = {100 * gbs / copyGBs:F0}% of the copy bandwidth" : ""));
            var speedup = best / (prefill / promptTokens);
            report.Line($"  prefill per token {prefill / promptTokens * 1e3:F4} ms = {speedup:F1}x faster than decode per token");
            report.Row(name, format, $"{mb:F0}", $"{promptTokens / prefill:F0}", $"{prefill / promptTokens * 1e3:F4}", $"{graphStep * 1e3:F3}",
                $"{launchStep * 1e3:F3}", $"{Math.Min(graphDevice, launchDevice) * 1e3:F3}", $"{1 / best:F0}", $"{gbs:F0}",
                copyGBs > 0 ? $"{100 * gbs / copyGBs:F0}%" : "-", $"{speedup:F1}x");
        }
    }

    public static double Nmse(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double error = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = (double)actual[i] - expected[i];
            error += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return double.IsFinite(error) ? error / norm : double.PositiveInfinity;
    }
}

/// <summary>
/// CUDA vs CPU in one process on a synthetic model of stories15M's shape. Random weights make a degenerate greedy
/// sequence with a tied classifier (a token's own embedding wins: the same token forever), so this model has its own
/// classifier, and embedding and classifier are scaled ×4 so logits spread over a few units: 256 greedy steps then visit
/// ~30 distinct tokens with a smallest top-1/top-2 gap of ~2e-3 (measured on the CPU), far above fp32 rounding. From
/// BOS, each step feeds both backends the CPU's greedy token and compares the GPU's pick and logits with the CPU's;
/// equal picks at every step = the same greedy sequence.
/// </summary>
internal static class Agreement
{
    public static void Run(GpuDevice device, LlamaConfig config, int steps, Report report)
    {
        report.Line("");
        report.Line($"## CUDA vs CPU agreement: stories15M shape, synthetic weights, {steps} greedy steps");
        config = config with { SharedClassifier = false };
        using var weights = Bench.Weights(config, seed: 7, embeddingScale: 4f);
        using var cpu = new LlamaTransformer(weights, Math.Max(1, Environment.ProcessorCount), ownsWeights: false);
        var cpuLogits = new float[steps][];
        var cpuTokens = new int[steps];
        using (var cpuSession = cpu.CreateSession())
        {
            var token = 1;
            for (var pos = 0; pos < steps; pos++)
            {
                cpuSession.Forward(token, pos, computeLogits: true);
                cpuLogits[pos] = cpuSession.LogitsSpan.ToArray();
                token = cpuTokens[pos] = ArgmaxOf(cpuLogits[pos]);
            }
        }
        var spread = cpuLogits.Select(l => Std(l)).Average();
        var gap = cpuLogits.Min(l => { var top = l.OrderDescending().Take(2).ToArray(); return top[0] - top[1]; });
        report.Line($"CPU logits: mean per-step standard deviation {spread:F2}, {cpuTokens.Distinct().Count()} distinct greedy tokens, smallest top-1/top-2 gap {gap:E2}");

        foreach (var format in new[] { GpuWeightFormat.F32, GpuWeightFormat.F16 })
        {
            using var backend = new GpuBackend(device, weights, format, ownsDevice: false);
            using var session = backend.CreateGpuSession();
            int same = 0, firstDifference = -1;
            double maxAbs = 0, maxRel = 0, nmseSum = 0;
            for (var pos = 0; pos < steps; pos++)
            {
                session.Forward(pos == 0 ? 1 : cpuTokens[pos - 1], pos, computeLogits: true);
                var pick = session.Argmax();
                var logits = session.Logits();
                var expected = cpuLogits[pos];
                double abs = 0, scale = 0;
                for (var i = 0; i < expected.Length; i++)
                {
                    abs = Math.Max(abs, Math.Abs(logits[i] - expected[i]));
                    scale = Math.Max(scale, Math.Abs(expected[i]));
                }
                maxAbs = Math.Max(maxAbs, abs);
                maxRel = Math.Max(maxRel, abs / scale);
                nmseSum += Bench.Nmse(logits, expected);
                if (pick == cpuTokens[pos]) same++;
                else if (firstDifference < 0) firstDifference = pos;
            }
            var verdict = same == steps ? "the same greedy tokens at every step" : $"{same}/{steps} greedy tokens equal, first difference at step {firstDifference}";
            report.Line($"{format}: {verdict}; logits max |Δ| {maxAbs:E2}, max |Δ| / max |logit| {maxRel:E2}, mean NMSE {nmseSum / steps:E2}");
            if (format == GpuWeightFormat.F32 && (same != steps || maxRel > 1e-4))
            {
                report.Failures++;
                report.Line("FAILED: fp32 CUDA and CPU disagree beyond rounding");
            }
        }
    }

    private static int ArgmaxOf(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    private static double Std(float[] values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
    }
}
