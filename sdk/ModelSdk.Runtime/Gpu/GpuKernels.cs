using ILGPU;
using ILGPU.Runtime;
using ModelSdk.Runtime.Gpu.Kernels;

namespace ModelSdk.Runtime.Gpu;

/// <summary>
/// Every kernel of the forward pass, compiled once per backend for one weight format (<typeparamref name="TFormat"/>)
/// and held as launch delegates; a step only launches them.
/// </summary>
internal sealed class GpuKernels<TFormat> where TFormat : struct, IWeightFormat
{
    public GpuKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        MatVecQkv = accelerator.LoadKernel<MatVecArgs, QkvRope>(MatVecKernel.Run<TFormat, QkvRope>);
        MatVecAdd = accelerator.LoadKernel<MatVecArgs, AddRows>(MatVecKernel.Run<TFormat, AddRows>);
        MatVecSwiGlu = accelerator.LoadKernel<MatVecArgs, SwiGluRows>(MatVecKernel.Run<TFormat, SwiGluRows>);
        MatVecStore = accelerator.LoadKernel<MatVecArgs, StoreRows>(MatVecKernel.Run<TFormat, StoreRows>);
        GemmQkv = accelerator.LoadKernel<GemmArgs, QkvRope>(GemmKernel.Run<TFormat, QkvRope>);
        GemmAdd = accelerator.LoadKernel<GemmArgs, AddRows>(GemmKernel.Run<TFormat, AddRows>);
        GemmSwiGlu = accelerator.LoadKernel<GemmArgs, SwiGluRows>(GemmKernel.Run<TFormat, SwiGluRows>);
        GemmStore = accelerator.LoadKernel<GemmArgs, StoreRows>(GemmKernel.Run<TFormat, StoreRows>);
        Embedding = accelerator.LoadKernel<EmbeddingArgs>(EmbeddingKernel.Run<TFormat>);
        AttentionPartial = accelerator.LoadKernel<AttentionArgs>(AttentionKernel.Partial);
        AttentionCombine = accelerator.LoadKernel<AttentionArgs, ArrayView<float>>(AttentionKernel.Combine);
        RmsNorm = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(RmsNormKernel.Run);
        Argmax = accelerator.LoadKernel<ArrayView<float>, int, ArrayView<int>>(ArgmaxKernel.Run);
        SetState = accelerator.LoadKernel<ArrayView<int>, int, int>(StepState.Set);

        var warp = accelerator.WarpSize;
        GroupSize = Math.Max(warp, Math.Min(256, accelerator.MaxNumThreadsPerGroup) / warp * warp);
        AttentionGroupSize = Math.Max(warp, Math.Min(128, accelerator.MaxNumThreadsPerGroup) / warp * warp);
        GemmThreadsY = 1 << (int)(Math.Log2(GroupSize) / 2);
        GemmThreadsX = GroupSize / GemmThreadsY;
        MaxMatVecGroups = accelerator.NumMultiprocessors * Math.Max(1, accelerator.MaxNumThreadsPerMultiprocessor / GroupSize);
    }

    public Accelerator Accelerator { get; }

    public Action<AcceleratorStream, KernelConfig, MatVecArgs, QkvRope> MatVecQkv { get; }
    public Action<AcceleratorStream, KernelConfig, MatVecArgs, AddRows> MatVecAdd { get; }
    public Action<AcceleratorStream, KernelConfig, MatVecArgs, SwiGluRows> MatVecSwiGlu { get; }
    public Action<AcceleratorStream, KernelConfig, MatVecArgs, StoreRows> MatVecStore { get; }
    public Action<AcceleratorStream, KernelConfig, GemmArgs, QkvRope> GemmQkv { get; }
    public Action<AcceleratorStream, KernelConfig, GemmArgs, AddRows> GemmAdd { get; }
    public Action<AcceleratorStream, KernelConfig, GemmArgs, SwiGluRows> GemmSwiGlu { get; }
    public Action<AcceleratorStream, KernelConfig, GemmArgs, StoreRows> GemmStore { get; }
    public Action<AcceleratorStream, KernelConfig, EmbeddingArgs> Embedding { get; }
    public Action<AcceleratorStream, KernelConfig, AttentionArgs> AttentionPartial { get; }
    public Action<AcceleratorStream, KernelConfig, AttentionArgs, ArrayView<float>> AttentionCombine { get; }
    public Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> RmsNorm { get; }
    public Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, ArrayView<int>> Argmax { get; }
    public Action<AcceleratorStream, KernelConfig, ArrayView<int>, int, int> SetState { get; }

    /// <summary>Threads per block of the matrix, norm, argmax and embedding kernels (256 on CUDA).</summary>
    public int GroupSize { get; }

    /// <summary>Threads per attention block (128 on CUDA).</summary>
    public int AttentionGroupSize { get; }

    /// <summary>GEMM thread grid (16 × 16 on CUDA: 64 × 64 tiles).</summary>
    public int GemmThreadsX { get; }
    public int GemmThreadsY { get; }

    /// <summary>Blocks that fit the device at once: a matvec's grid-stride loop uses at most this many.</summary>
    public int MaxMatVecGroups { get; }

    public KernelConfig MatVecConfig(GpuMatrix w)
    {
        var warpsPerGroup = GroupSize / Accelerator.WarpSize;
        var pairs = (w.Rows + 1) / 2;
        var groups = Math.Clamp((pairs + warpsPerGroup - 1) / warpsPerGroup, 1, MaxMatVecGroups);
        return new KernelConfig(new Index1D(groups), new Index1D(GroupSize),
            SharedMemoryConfig.RequestDynamic<float>(w.RowChunks * default(TFormat).ElementsPerChunk));
    }

    public KernelConfig GemmConfig(GpuMatrix w, int tokens)
    {
        int tileM = 4 * GemmThreadsY, tileN = 4 * GemmThreadsX;
        return new KernelConfig(new Index3D((w.Rows + tileN - 1) / tileN, (tokens + tileM - 1) / tileM, 1), new Index3D(GroupSize, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(GemmKernel.TileK * (tileM + tileN)));
    }

    public GemmArgs Gemm(GpuMatrix w, ArrayView<float> a, int tokens)
        => new() { W = w.View, Rows = w.Rows, RowChunks = w.RowChunks, Cols = w.Cols, A = a, Tokens = tokens, ThreadsX = GemmThreadsX, ThreadsY = GemmThreadsY };

    public static MatVecArgs MatVec(GpuMatrix w, ArrayView<float> x, ArrayView<float> norm, float eps)
        => new() { W = w.View, Rows = w.Rows, RowChunks = w.RowChunks, Cols = w.Cols, X = x, Norm = norm, Normalize = norm.IsValid ? 1 : 0, Eps = eps };
}
