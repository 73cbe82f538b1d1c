using System.Diagnostics;
using System.Globalization;
using ILGPU.Runtime.Cuda;
using ModelSdk.Architecture;
using ModelSdk.GpuBenchmarks;
using ModelSdk.Runtime.Gpu;

// ModelSdk GPU backend benchmark. Usage (see RESULTS.md):
//   ModelSdk.GpuBenchmarks [--out DIR] [--ptx DIR] [--emulator] [--decode-steps N] [--agreement-steps N] [--skip-tinyllama]
// On a CUDA device it measures, in one run: device-to-device copy bandwidth; CUDA vs CPU agreement on a synthetic model
// of stories15M's shape (greedy tokens and logits, fp32 and fp16); then for stories15M's and TinyLlama-1.1B's shapes,
// fp32 and fp16: prefill of a 512-token prompt (checked against decode), decode ms/token with and without CUDA graphs,
// achieved weight GB/s and its ratio to the copy bandwidth. --emulator runs the same code on ILGPU's CPU accelerator with
// tiny shapes (a smoke test of the program, not a measurement). --out DIR also writes results.md; --ptx DIR writes each
// kernel's PTX (one file per kernel, for ptxas -v).

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? outDir = null;
string? ptxDir = null;
var emulator = false;
var decodeSteps = 128;
var agreementSteps = 256;
var tinyLlama = true;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out": outDir = args[++i]; break;
        case "--ptx": ptxDir = args[++i]; break;
        case "--emulator": emulator = true; break;
        case "--decode-steps": decodeSteps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--agreement-steps": agreementSteps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--skip-tinyllama": tinyLlama = false; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'.");
            return 2;
    }
}
if (outDir is not null) Directory.CreateDirectory(outDir);

var report = new Report(outDir);
var total = Stopwatch.StartNew();
using var device = emulator ? GpuDevice.CreateEmulator(warpSize: 4, warpsPerGroup: 4, multiprocessors: Math.Min(4, Environment.ProcessorCount)) : GpuDevice.TryCreateCuda();
if (device is null)
{
    Console.Error.WriteLine("No CUDA device found (use --emulator for a smoke test on ILGPU's CPU accelerator).");
    return 3;
}
var acc = device.Accelerator;
report.Line($"# ModelSdk GPU benchmark");
report.Line($"{device.Name}; {acc.NumMultiprocessors} multiprocessors, warp {acc.WarpSize}, {acc.MemorySize / (1 << 20)} MiB; " +
    $"host: {Environment.ProcessorCount} CPUs, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
if (acc is CudaAccelerator cuda) report.Line($"CUDA: compute {cuda.Architecture}, PTX ISA {cuda.InstructionSet}, driver {cuda.DriverVersion}");
report.Line("");

if (ptxDir is not null)
{
    Bench.Guard(report, "PTX listing", () =>
    {
        Directory.CreateDirectory(ptxDir);
        foreach (var (name, ptx) in PtxListing.Compile(CudaArchitecture.SM_90, CudaInstructionSet.ISA_80))
            File.WriteAllText(Path.Combine(ptxDir, new string(name.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray()) + ".ptx"), ptx);
    });
}

// 1. The ceiling: a device-to-device copy, counting bytes read plus written.
var copyGBs = 0.0;
Bench.Guard(report, "copy bandwidth", () => copyGBs = Bench.CopyBandwidth(acc, emulator ? 64L << 20 : 2L << 30, report));

var stories = new LlamaConfig { Dim = 288, HiddenDim = 768, Layers = 6, Heads = 6, KvHeads = 6, VocabSize = 32000, ContextLength = 256, SharedClassifier = true };
var tiny = new LlamaConfig { Dim = 2048, HiddenDim = 5632, Layers = 22, Heads = 32, KvHeads = 4, VocabSize = 32000, ContextLength = 2048, SharedClassifier = false };
if (emulator)
{
    stories = stories with { Dim = 64, HiddenDim = 96, Layers = 2, Heads = 4, KvHeads = 4, VocabSize = 512, ContextLength = 64 };
    tiny = tiny with { Dim = 64, HiddenDim = 176, Layers = 2, Heads = 8, KvHeads = 2, VocabSize = 512, ContextLength = 128 };
    decodeSteps = Math.Min(decodeSteps, 8);
    agreementSteps = Math.Min(agreementSteps, stories.ContextLength);
}

// 2. CUDA vs CPU on the stories15M shape.
Bench.Guard(report, "agreement", () => Agreement.Run(device, stories, agreementSteps, report));

// 3. Speed.
var prompt = emulator ? 24 : 512;
Bench.Guard(report, "stories15M shape", () => Bench.Speed(device, "stories15M", stories, Math.Min(prompt, stories.ContextLength / 2), decodeSteps, copyGBs, report));
if (tinyLlama) Bench.Guard(report, "TinyLlama-1.1B shape", () => Bench.Speed(device, "TinyLlama-1.1B", tiny, prompt, decodeSteps, copyGBs, report));

report.Line("");
report.Line($"total {total.Elapsed.TotalSeconds:F0} s");
report.Summary();
return report.Failures == 0 ? 0 : 1;
