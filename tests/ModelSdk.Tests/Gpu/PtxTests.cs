using ILGPU.Runtime.Cuda;
using ModelSdk.Runtime.Gpu;

namespace ModelSdk.Tests.Gpu;

/// <summary>
/// Every kernel compiles to PTX for Hopper (an sm_90 device) with ILGPU's PTX backend, which needs no GPU; and the decode matvec's
/// hot loop has what makes it bandwidth-bound rather than instruction-bound: 16-byte global loads and warp shuffles,
/// with nothing spilled to local memory.
/// </summary>
public sealed class PtxTests
{
    [Fact]
    public void EveryKernelCompilesForSm90()
    {
        var listing = PtxListing.Compile(CudaArchitecture.SM_90, CudaInstructionSet.ISA_80).ToDictionary(k => k.Name, k => k.Ptx);
        Assert.Equal(PtxListing.Kernels().Count(), listing.Count);
        foreach (var (name, ptx) in listing)
        {
            // ILGPU targets the lowest architecture with the features it uses (sm_80 here); the driver JIT-compiles
            // that PTX into the device's own machine code (sm_90 on an H100) when the module loads.
            Assert.Contains(".target sm_", ptx);
            Assert.DoesNotContain(".local", ptx); // no register arrays or spills in local memory
        }
        foreach (var format in new[] { "F32Weights", "F16Weights" })
        {
            var matVec = listing[$"MatVec<{format},AddRows>"];
            Assert.Contains("ld.global.v4.b32", matVec);
            Assert.Contains("shfl.sync.bfly", matVec);
            Assert.Contains("ld.global.v4.b32", listing[$"Gemm<{format},SwiGluRows>"]);
        }
        Assert.Contains("cvt.f32.f16", listing["MatVec<F16Weights,AddRows>"]);
    }
}
