using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ModelSdk.Runtime.Gpu.Kernels;

namespace ModelSdk.Runtime.Gpu;

/// <summary>
/// Compiles every kernel to PTX without a GPU (ILGPU's PTX backend needs no device), for a given architecture: CI
/// checks that each kernel compiles for the GPU and that the hot loops use 16-byte loads and warp shuffles; the
/// benchmark saves the listing next to its numbers.
/// </summary>
internal static class PtxListing
{
    /// <summary>Every kernel the backend launches, with its generic arguments bound.</summary>
    public static IEnumerable<(string Name, MethodInfo Method)> Kernels()
    {
        Type[] formats = [typeof(F32Weights), typeof(F16Weights)];
        Type[] epilogues = [typeof(QkvRope), typeof(AddRows), typeof(SwiGluRows), typeof(StoreRows)];
        var matVec = typeof(MatVecKernel).GetMethod(nameof(MatVecKernel.Run))!;
        var gemm = typeof(GemmKernel).GetMethod(nameof(GemmKernel.Run))!;
        foreach (var format in formats)
        {
            foreach (var epilogue in epilogues)
            {
                yield return ($"MatVec<{format.Name},{epilogue.Name}>", matVec.MakeGenericMethod(format, epilogue));
                yield return ($"Gemm<{format.Name},{epilogue.Name}>", gemm.MakeGenericMethod(format, epilogue));
            }
            yield return ($"Embedding<{format.Name}>", typeof(EmbeddingKernel).GetMethod(nameof(EmbeddingKernel.Run))!.MakeGenericMethod(format));
        }
        yield return ("AttentionPartial", typeof(AttentionKernel).GetMethod(nameof(AttentionKernel.Partial))!);
        yield return ("AttentionCombine", typeof(AttentionKernel).GetMethod(nameof(AttentionKernel.Combine))!);
        yield return ("RmsNorm", typeof(RmsNormKernel).GetMethod(nameof(RmsNormKernel.Run))!);
        yield return ("Argmax", typeof(ArgmaxKernel).GetMethod(nameof(ArgmaxKernel.Run))!);
        yield return ("SetState", typeof(StepState).GetMethod(nameof(StepState.Set))!);
    }

    /// <summary>PTX of each kernel for <paramref name="architecture"/> (sm_90: H100/H200).</summary>
    public static IEnumerable<(string Name, string Ptx)> Compile(CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var context = Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, architecture, instructionSet, null!);
        foreach (var (name, method) in Kernels())
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), new KernelSpecialization());
            yield return (name, compiled.PTXAssembly);
        }
    }
}
